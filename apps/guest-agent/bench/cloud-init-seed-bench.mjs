// Benchmark of the NoCloud seed from KVP against the simulated host in front of the REAL
// hv_kvp_daemon (needs hyperv-daemons, cc, and built packages: `pnpm exec turbo run build` first).
//   node bench/cloud-init-seed-bench.mjs [--runs 20]
// Measures, p50/p99 over --runs, from the host's first SET of a seed (user-data of ~3 KB in
// parts, network-config, meta-data last) until the seed's meta-data and user-data hold it:
//   - boot: `kvp-agent cloud-init-seed`, already waiting (first boot), writes the seed;
//   - running: `kvp-agent run` rewrites the seed when the host sends a new one.
// Also: how long the host's SETs themselves took (the floor of both).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOUD_INIT_KEYS, splitValue } from "@hyperv-kvp/kvp-core";
import { startSimulatedHost } from "@hyperv-kvp/hyperv-sim";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 20);
const BUNDLE = fileURLToPath(new URL("../dist/kvp-agent.cjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "kvp-agent-seed-bench-"));
const poolDir = join(work, "pools");
const host = await startSimulatedHost({ daemon: "real", poolDir });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const read = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};
async function until(cond, what, ms = 20_000) {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timeout: ${what}`);
    await sleep(1);
  }
}
const documents = (n) => ({
  "user-data": `#cloud-config\n# run ${n}\n${"# some configuration that fills a few parts\n".repeat(70)}`,
  "network-config": "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
  "meta-data": `instance-id: iid-bench-${n}\nlocal-hostname: bench-${n}\n`,
});
const sent = new Set();
/** Sends a seed as a host would (meta-data last); returns the ms the SETs took. */
async function send(docs) {
  for (const key of sent) await host.delete(0, key);
  sent.clear();
  const start = performance.now();
  for (const name of ["user-data", "network-config", "meta-data"])
    for (const item of splitValue(CLOUD_INIT_KEYS[name], docs[name])) {
      if ((await host.set(0, item.key, item.value)) !== 0) throw new Error(`SET ${item.key} failed`);
      sent.add(item.key);
    }
  return { start, setsMs: performance.now() - start };
}
const seedHas = (dir, docs) =>
  read(join(dir, "meta-data")) === docs["meta-data"] && read(join(dir, "user-data")) === docs["user-data"];
const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const line = (name, values) =>
  console.log(
    `${name}: p50 ${pct(values, 50).toFixed(1)} ms, p99 ${pct(values, 99).toFixed(1)} ms (n=${values.length})`,
  );

// The agents never need this workplace's extra CA file, whose load costs every node start
// (the figures start after the processes have, but a slower start shifts the first run).
const { NODE_EXTRA_CA_CERTS: _unused, ...agentEnv } = process.env;
const boot = [];
const running = [];
const sets = [];
try {
  for (let n = 0; n < RUNS; n++) {
    const seedDir = join(work, `boot-${n}`, "nocloud");
    const config = join(work, `boot-${n}.json`);
    writeFileSync(config, JSON.stringify({ cloudInit: { enabled: true, seedDir, firstBootWaitSeconds: 30 } }));
    for (const key of sent) await host.delete(0, key);
    sent.clear();
    const child = spawn(process.execPath, [BUNDLE, "--config", config, "--dir", poolDir, "cloud-init-seed"], {
      stdio: "ignore",
      env: agentEnv,
    });
    const exited = new Promise((r) => child.once("close", r));
    await sleep(500); // started and watching: the step waits at first boot
    const docs = documents(n);
    const { start, setsMs } = await send(docs);
    await until(() => seedHas(seedDir, docs), "boot step seed");
    boot.push(performance.now() - start);
    sets.push(setsMs);
    if ((await exited) !== 0) throw new Error("cloud-init-seed failed");
  }

  const seedDir = join(work, "running", "nocloud");
  const config = join(work, "running.json");
  writeFileSync(config, JSON.stringify({ cloudInit: { enabled: true, seedDir } }));
  const agent = spawn(
    process.execPath,
    [BUNDLE, "--config", config, "--dir", poolDir, "--state-dir", join(work, "state"), "run"],
    {
      stdio: "ignore",
      env: agentEnv,
    },
  );
  try {
    await sleep(1000);
    for (let n = 0; n < RUNS; n++) {
      const docs = documents(1000 + n);
      const { start } = await send(docs);
      await until(() => seedHas(seedDir, docs), "running agent seed");
      running.push(performance.now() - start);
    }
  } finally {
    agent.kill("SIGTERM");
  }
} finally {
  await host.close();
  rmSync(work, { recursive: true, force: true });
}
const parts = splitValue(CLOUD_INIT_KEYS["user-data"], documents(0)["user-data"]).length;
console.log(
  `seed: user-data ${documents(0)["user-data"].length} bytes in ${parts} parts, network-config, meta-data: ${parts + 2} host SETs`,
);
line("host SETs themselves", sets);
line("host first SET → seed written by the boot step (cloud-init-seed)", boot);
line("host first SET → seed rewritten by the running agent", running);
