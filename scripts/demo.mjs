// The quick-start demo (README: `npm run demo`): a simulated Hyper-V host drives the real
// hv_kvp_daemon (or, without hyperv-daemons installed, the TypeScript model of it) in a
// temporary directory, and the guest side is kvp-pool, run as a user would run it.
// Nothing outside the temporary directory is touched; no Hyper-V, no root needed for the model.
import { execFile, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve, startSimulatedHost } from "../packages/hyperv-sim/dist/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "apps/pool-tools/dist/kvp-pool.cjs");
const agentCli = join(root, "apps/guest-agent/dist/kvp-agent.cjs");
const hostCli = join(root, "apps/host-cli/dist/kvp-host.cjs");
const want = process.argv.includes("--model") ? "model" : process.argv.includes("--real") ? "real" : "auto";

const bold = (s) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);
const step = (title) => console.log(`\n${bold(`── ${title}`)}`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A system VM's boot arguments as CloudStack's management server passes them in
 * cloudstack-vm-userdata: kernel-command-line arguments, one line, with a leading space
 * (apps/guest-agent/README.md#cloudstack).
 */
const BOOT_ARGS =
  " template=domP type=router name=r-1-VM eth0ip=10.1.1.1 eth0mask=255.255.255.0 gateway=10.1.1.254 dns1=8.8.8.8 zone=1 pod=1";
/** A router's, with the base64 of an SSH key the size of a 4096-bit RSA one: longer than one KVP item. */
const ROUTER_ARGS = `${BOOT_ARGS} authorized_key=${Buffer.from(`ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAACAQ${"Cx".repeat(350)} root@cloud-mgmt`).toString("base64")}`;
/** The CloudStack recipe shipped with kvp-agent. */
const recipe = join(root, "apps/guest-agent/packaging/examples/cloudstack");

/** Runs a command without blocking this process's event loop (the simulated host lives in it). */
function run(args, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: "utf8", env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Act 1, the main job: a Hyper-V administrator pushes user data into a VM with kvp-host over
 * WS-Management as WinRM ships (plain HTTP, NTLM, every message sealed) and the guest agent in the VM turns it into configuration and
 * reports back, all through the real daemon behind the simulated host.
 */
async function hostToGuest() {
  // What `hyperv-sim serve --vms r-1-VM --daemon …` starts: sealed HTTP with NTLM, as WinRM ships.
  const sim = await serve(
    { port: 0, https: false, allowUnencrypted: false, user: "Administrator", vms: ["r-1-VM"], daemon: want },
    { write() {} },
  );
  const vm = sim.info.vms[0];
  const agentWork = join(vm.poolDir, "..", "agent-act1");
  let agent;
  try {
    console.log(
      `${bold("Act 1: host → guest over WMI")}\nSimulated Hyper-V host at ${sim.info.endpoint} (HTTP with NTLM sealing, as WinRM ships), VM ${vm.name} ${vm.guid}, ${vm.daemon === "real" ? "real hv_kvp_daemon" : "TypeScript model of hv_kvp_daemon (install hyperv-daemons for the real one)"} in the guest`,
    );
    const kvpHost = async (...args) => {
      console.log(
        `$ kvp-host ${args
          .map((a) => (a.length > 160 ? `${a.slice(0, 120)}…${a.slice(-16)}` : a))
          .map((a) => (/[\s;"'$=]/.test(a) && !a.startsWith("--") ? `'${a}'` : a))
          .join(" ")}`,
      );
      const r = await run([hostCli, "--endpoint", sim.info.endpoint, "--user", sim.info.user, ...args], {
        KVP_HOST_PASSWORD: sim.info.password,
      });
      process.stdout.write(r.stdout);
      if (r.status !== 0) console.log(`  (exit ${r.status}) ${r.stderr}`);
      return r;
    };

    step("The guest agent starts in the VM (kvp-agent run), watching its pools");
    mkdirSync(agentWork, { recursive: true });
    // The CloudStack recipe: the cmdline decoder, and its hook writing var/cache/cloud/cmdline under agentWork.
    const recipeConfig = JSON.parse(readFileSync(join(recipe, "config.json"), "utf8"));
    recipeConfig.hooks[0].command = [join(recipe, "kvp-cloudstack-hook"), agentWork];
    writeFileSync(join(agentWork, "config.json"), JSON.stringify(recipeConfig));
    agent = spawn(
      process.execPath,
      [
        agentCli,
        "--config",
        join(agentWork, "config.json"),
        "--dir",
        vm.poolDir,
        "--state-dir",
        join(agentWork, "state"),
        "run",
      ],
      {
        stdio: "ignore",
      },
    );
    const decodedFile = join(agentWork, "state", "host-decoded.json");
    const waitFor = async (what, test) => {
      for (let i = 0; i < 100; i++) {
        try {
          if (await test()) return;
        } catch {}
        await sleep(50);
      }
      throw new Error(`demo: ${what} did not happen within 5 s`);
    };
    await waitFor("the agent's start", () => readFileSync(join(agentWork, "state", "host.json"), "utf8").length > 0);
    await kvpHost("vms");

    step(
      `CloudStack sends a router its boot arguments (${ROUTER_ARGS.length} characters: more than one item, so in parts; AddKvpItems)`,
    );
    await kvpHost("set", vm.name, `cloudstack-vm-userdata=${ROUTER_ARGS}`);
    await kvpHost("set", "--chunk", vm.name, `cloudstack-vm-userdata=${ROUTER_ARGS}`);
    const cmdline = join(agentWork, "var", "cache", "cloud", "cmdline");
    await waitFor("the recipe's hook", () => readFileSync(cmdline, "utf8") === `${ROUTER_ARGS.trim()}\n`);
    const { authorized_key: key, ...fields } = JSON.parse(readFileSync(decodedFile, "utf8"))["cloudstack-vm-userdata"]
      .value;
    console.log(
      `in the VM, /run/kvp-agent/host-decoded.json (decoder cmdline): ${JSON.stringify({ ...fields, authorized_key: `${key.slice(0, 24)}… (${key.length} characters)` })}`,
    );
    console.log(
      `in the VM, /var/cache/cloud/cmdline (the recipe's hook, once the value was whole): ${readFileSync(cmdline, "utf8").length} bytes, one line, as the system VM's boot scripts read it`,
    );

    step("The agent's report comes back to the host (GuestExchangeItems)");
    await waitFor("the report", async () => (await kvpHostQuiet(sim, vm, "kvp-agent/status")) === "ready");
    await kvpHost("list", vm.name, "--source", "guest");
  } finally {
    if (agent) {
      const exited = new Promise((resolve) => agent.on("exit", resolve));
      agent.kill("SIGTERM");
      await exited;
    }
    await sim.close();
    rmSync(agentWork, { recursive: true, force: true });
  }
}

async function kvpHostQuiet(sim, vm, key) {
  const r = await run(
    [hostCli, "--endpoint", sim.info.endpoint, "--user", sim.info.user, "get", vm.name, key, "--source", "guest"],
    {
      KVP_HOST_PASSWORD: sim.info.password,
    },
  );
  return r.status === 0 ? r.stdout.trim() : undefined;
}

try {
  await hostToGuest();
} catch (error) {
  console.error(`demo: ${error.message}`);
  process.exit(3);
}

console.log(`\n${bold("Act 2: the pools up close, with kvp-pool")}`);
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
  const shown = args.map((a) =>
    a.length > 60 ? `"$(head -c ${a.length} /dev/zero | tr '\\0' ${a[0]})"` : /[\s;"'$]/.test(a) ? `'${a}'` : a,
  );
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
  const r = spawnSync(
    process.execPath,
    [agentCli, "--config", join(work, "config.json"), "--dir", dir, "--state-dir", join(work, "state"), ...args],
    {
      encoding: "utf8",
    },
  );
  process.stdout.write(r.stdout);
  if (r.status !== 0) console.log(`  (exit ${r.status}) ${r.stderr}`);
  return r;
}

function showHost(title, result) {
  console.log(
    `host sees ${title} (status ${result.complete ? "complete" : `stopped: 0x${(result.status >>> 0).toString(16)}`}):`,
  );
  for (const r of result.records) console.log(`  ${r.key} = ${r.value}`);
}

try {
  console.log(
    host.daemon === "real"
      ? `Simulated Hyper-V host driving the real hv_kvp_daemon; guest pools in ${dir}`
      : `Simulated Hyper-V host driving the TypeScript model of hv_kvp_daemon (install hyperv-daemons for the real one); guest pools in ${dir}`,
  );

  step("1. The host sends its facts (pool 3) and a system VM's boot arguments (pool 0), as AddKvpItems does");
  await host.sendHostFacts({ VirtualMachineName: "r-1-VM" });
  await host.set(0, "cloudstack-vm-userdata", BOOT_ARGS);
  await host.set(0, "Environment", "staging");
  kvpPool("list", "--pool", "external");
  kvpPool("get", "VirtualMachineName", "--pool", "auto-external");

  step("2. A boot script reads the boot arguments: exact text, no sleep, no sed, no NULs");
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
    JSON.stringify({ decoders: { "cloudstack-vm-userdata": "cmdline" }, hooksDir: join(work, "hooks.d") }, null, 2),
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
  await host.set(0, "cloudstack-vm-userdata", " type=router");
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
