// The quick-start demo (README: `npm run demo`): a simulated Hyper-V host drives the real
// hv_kvp_daemon (or, without hyperv-daemons installed, the TypeScript model of it) in a
// temporary directory, and the guest side is kvp-pool, run as a user would run it.
// Nothing outside the temporary directory is touched; no Hyper-V, no root needed for the model.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSimulatedHost } from "../packages/hyperv-sim/dist/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "apps/pool-tools/dist/kvp-pool.cjs");
const agentCli = join(root, "apps/guest-agent/dist/kvp-agent.cjs");
const want = process.argv.includes("--model") ? "model" : process.argv.includes("--real") ? "real" : "auto";

const bold = (s) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);
const step = (title) => console.log(`\n${bold(`── ${title}`)}`);

let host;
try {
  host = await startSimulatedHost({ daemon: want });
} catch (error) {
  console.error(`demo: cannot start the simulated host: ${error.message}`);
  process.exit(3);
}
const dir = host.poolDir;

/** Runs kvp-pool against the simulated guest's pool directory and shows it like a terminal. */
function kvpPool(...args) {
  const shown = args.map((a) => (a.length > 60 ? `"$(head -c ${a.length} /dev/zero | tr '\\0' ${a[0]})"` : /[\s;"'$]/.test(a) ? `'${a}'` : a));
  console.log(`$ kvp-pool ${shown.join(" ")}`);
  const r = spawnSync(process.execPath, [cli, "--dir", dir, ...args], { encoding: "utf8" });
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr.replace(/^/gm, "  stderr: ").replace(/ {2}stderr: $/, ""));
  if (r.status !== 0) console.log(`  (exit ${r.status})`);
  return r;
}

/** Runs kvp-agent against the same pools, with the demo's own config and state directory. */
function kvpAgent(work, ...args) {
  console.log(`$ kvp-agent ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [agentCli, "--config", join(work, "config.json"), "--dir", dir, "--state-dir", join(work, "state"), ...args], {
    encoding: "utf8",
  });
  process.stdout.write(r.stdout);
  if (r.status !== 0) console.log(`  (exit ${r.status}) ${r.stderr}`);
  return r;
}

function showHost(title, result) {
  console.log(`host sees ${title} (status ${result.complete ? "complete" : `stopped: 0x${(result.status >>> 0).toString(16)}`}):`);
  for (const r of result.records) console.log(`  ${r.key} = ${r.value}`);
}

try {
  console.log(
    host.daemon === "real"
      ? `Simulated Hyper-V host driving the real hv_kvp_daemon; guest pools in ${dir}`
      : `Simulated Hyper-V host driving the TypeScript model of hv_kvp_daemon (install hyperv-daemons for the real one); guest pools in ${dir}`,
  );

  step("1. The host sends its facts (pool 3) and a VM's user data (pool 0), as AddKvpItems does");
  await host.sendHostFacts({ VirtualMachineName: "r-1-VM" });
  await host.set(0, "cloudstack-vm-userdata", "type=router;name=r-1;eth0ip=10.1.1.1;template=systemvm");
  await host.set(0, "Environment", "staging");
  kvpPool("list", "--pool", "external");
  kvpPool("get", "VirtualMachineName", "--pool", "auto-external");

  step("2. A boot script reads the user data: exact text, no sleep, no sed");
  kvpPool("get", "cloudstack-vm-userdata", "--pool", "external");

  step("3. The guest reports back through pool 1; the host enumerates GuestExchangeItems");
  kvpPool("set", "ReadyState", "ready");
  spawnSync(process.execPath, [cli, "--dir", dir, "set", "--from-file", "-"], {
    input: "Role=router\nBootSeconds=4.2\nGreeting=Grüße aus dem Gast 👋\n",
  });
  console.log("$ printf 'Role=router\\nBootSeconds=4.2\\nGreeting=…' | kvp-pool set --from-file -");
  showHost("pool 1", await host.enumerate(1));

  step("4. The guest agent harvests the user data into files and a hook, and reports back");
  const work = join(dir, "..", "agent");
  mkdirSync(join(work, "hooks.d"), { recursive: true });
  const hook = join(work, "hooks.d", "10-show");
  writeFileSync(hook, '#!/bin/sh\necho "hook: $KVP_EVENT $KVP_KEY" >&2\n');
  chmodSync(hook, 0o755);
  writeFileSync(
    join(work, "config.json"),
    JSON.stringify({ decoders: { "cloudstack-vm-userdata": "pairs" }, hooksDir: join(work, "hooks.d") }, null, 2),
  );
  kvpAgent(work, "once");
  const decoded = JSON.parse(readFileSync(join(work, "state", "host-decoded.json"), "utf8"));
  console.log(`state/host-decoded.json: ${JSON.stringify(decoded["cloudstack-vm-userdata"])}`);
  console.log(`state/host.env:\n${readFileSync(join(work, "state", "host.env"), "utf8").replace(/^/gm, "  ")}`);
  showHost("pool 1", await host.enumerate(1));

  step("5. The host asks for the intrinsic items (pool 2): the daemon synthesises them");
  showHost("pool 2", await host.enumerate(2));
  kvpPool("list", "--pool", "auto");

  step("6. The host shortens a value: the daemon leaves the old tail after the NUL");
  await host.set(0, "cloudstack-vm-userdata", "type=router");
  kvpPool("get", "cloudstack-vm-userdata", "--pool", "external");
  kvpPool("check", "--pool", "external", "--verbose");

  step("7. The host removes an item; the guest deletes one of its own");
  await host.delete(0, "Environment");
  kvpPool("list", "--pool", "external", "--json");
  kvpPool("delete", "BootSeconds");
  showHost("pool 1", await host.enumerate(1));

  step("8. What the host would lose is refused before it is written, or sent in parts");
  kvpPool("set", "Notes", "x".repeat(1100));
  kvpPool("set", "Notes", "x".repeat(1100), "--chunk");
  showHost("pool 1", await host.enumerate(1));
  kvpPool("list", "--pool", "guest");
  kvpPool("check", "--all-pools");
} finally {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, "..", "agent"), { recursive: true, force: true });
}
