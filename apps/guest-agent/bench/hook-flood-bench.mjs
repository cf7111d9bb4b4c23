// Hook flood: the host changes KEYS keys RATE times a second for SECONDS seconds while a hook
// that takes HOOK_SECONDS runs for every change; measures the agent's RSS over the run (it must
// stay flat: the hook queue merges what changes while a hook runs). Pool 0 is written here
// under the daemon's lock, as hv_kvp_daemon writes it (no daemon needed).
//   pnpm exec turbo run build --filter=@hyperv-kvp/guest-agent
//   env -u NODE_EXTRA_CA_CERTS node bench/hook-flood-bench.mjs [--seconds 60] [--keys 50] [--rate 50] [--hook-seconds 5] [--bundle dist/kvp-agent.cjs]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { poolTarget, setRecords } from "@hyperv-kvp/pool-file";

const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const SECONDS = Number(option("seconds", 60));
const KEYS = Number(option("keys", 50));
const RATE = Number(option("rate", 50));
const HOOK_SECONDS = Number(option("hook-seconds", 5));
const appDir = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = resolve(appDir, option("bundle", "dist/kvp-agent.cjs"));

const work = mkdtempSync(join(tmpdir(), "kvp-agent-flood-"));
const pools = join(work, "pools");
const state = join(work, "state");
const runs = join(work, "runs");
mkdirSync(pools);
for (const n of [0, 1, 3]) writeFileSync(join(pools, poolFileName(n)), encodePool([]));
const config = join(work, "config.json");
writeFileSync(
  config,
  JSON.stringify({
    // --hook-seconds -1: no hook, for what the harvest alone costs.
    hooks:
      HOOK_SECONDS < 0
        ? []
        : [
            {
              name: "slow",
              command: ["/bin/sh", "-c", `echo run >> "$0"; sleep ${HOOK_SECONDS}`, runs],
              keys: [option("hook-keys", "*")],
            },
          ],
    hooksDir: join(work, "hooks.d"),
    hookTimeoutSeconds: HOOK_SECONDS + 30,
  }),
);
writeFileSync(runs, "");

// --node-args "--max-old-space-size=40": tells a leak (the agent dies) from a lazy GC (it stays bounded).
const nodeArgs = option("node-args", "").split(" ").filter(Boolean);
const agent = spawn(
  process.execPath,
  [...nodeArgs, BUNDLE, "--config", config, "--dir", pools, "--state-dir", state, "run"],
  {
    stdio: ["ignore", "ignore", "pipe"],
  },
);
let log = "";
agent.stderr.setEncoding("utf8").on("data", (s) => {
  log = (log + s).slice(-4000);
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMB = () => {
  const status = readFileSync(`/proc/${agent.pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
};

try {
  for (let i = 0; ; i++) {
    try {
      if (JSON.parse(readFileSync(join(state, "agent-status.json"), "utf8")).status === "ready") break;
    } catch {}
    if (i > 1000) throw new Error(`agent not ready\n${log}`);
    await sleep(10);
  }
  const target = poolTarget(0, pools);
  const start = rssMB();
  const samples = [];
  let writes = 0;
  const t0 = performance.now();
  let nextSample = t0 + 1000;
  while (performance.now() - t0 < SECONDS * 1000 && agent.exitCode === null && agent.signalCode === null) {
    const tick = performance.now();
    writes++;
    await setRecords(
      target,
      Array.from({ length: KEYS }, (_, k) => ({ key: `key-${k}`, value: `value-${writes}` })),
      { force: true },
    );
    if (performance.now() >= nextSample && agent.exitCode === null) {
      samples.push(rssMB().rss);
      nextSample += 1000;
    }
    const wait = 1000 / RATE - (performance.now() - tick);
    if (wait > 0) await sleep(wait);
  }
  const elapsed = (performance.now() - t0) / 1000;
  // An agent that died (out of memory under --node-args "--max-old-space-size=…") says so.
  const died = agent.exitCode !== null || agent.signalCode !== null;
  const end = died ? { rss: Number.NaN, hwm: Number.NaN } : rssMB();
  if (!died) {
    const closed = new Promise((r) => agent.once("close", r));
    agent.kill("SIGTERM");
    await closed;
  }
  const fmt = (x) => Number(x.toFixed(1));
  console.log(
    JSON.stringify(
      {
        seconds: fmt(elapsed),
        ...(died ? { agentDied: { code: agent.exitCode, signal: agent.signalCode, log: log.slice(-300) } } : {}),
        keys: KEYS,
        poolWritesPerSecond: fmt(writes / elapsed),
        keyChanges: writes * KEYS,
        hookSeconds: HOOK_SECONDS,
        hookRuns: readFileSync(runs, "utf8").split("\n").length - 1,
        rssMB: {
          start: fmt(start.rss),
          after10s: fmt(samples[9] ?? Number.NaN),
          end: fmt(end.rss),
          max: fmt(Math.max(...samples, ...(died ? [] : [end.rss]))),
          peak: fmt(end.hwm),
          // Every 5 s.
          series: samples.filter((_, i) => i % 5 === 4).map(fmt),
        },
        node: process.version,
      },
      null,
      2,
    ),
  );
} finally {
  if (agent.exitCode === null) agent.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
