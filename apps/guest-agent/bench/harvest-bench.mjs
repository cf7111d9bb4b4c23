// Benchmark of what one harvest costs kvp-agent on a large pool 0: a real agent process
// (`kvp-agent run`, the built bundle) against pool files written here directly (no daemon:
// the figures are the agent's own). `pnpm exec turbo run build` first.
//   env -u NODE_EXTRA_CA_CERTS node bench/harvest-bench.mjs [--bundle dist/kvp-agent.cjs] [--records 40960]
//        [--value-bytes 2000] [--changes 20] [--interval-ms 1000] [--node-args "ARGS"]
//        [--host-files-max-bytes N]
// Writes pool 0 with --records records (key `kNNNNN`, an ASCII value of --value-bytes; the
// defaults fill a 100 MiB pool file with 80 MiB of values), starts the agent, waits for its
// first harvest, then changes ONE byte of one record's value per --interval-ms, --changes
// times (in place, as a pwrite, under no lock: the agent only reads). Measures, from /proc:
//   - peak RSS (VmHWM) after the first harvest and at the end;
//   - bytes the agent wrote (/proc/PID/io wchar: state files, logs, its pool-1 records) for
//     the first harvest, and per single-key change;
//   - CPU (utime+stime of /proc/PID/stat) over the changes, as % of the wall time;
//   - first harvest time; the state directory's size.
// host.json and host.env hold the whole pool: past the config's hostFilesMaxBytes (default
// 4 MiB; the default pool is past it) the agent does not write them. --host-files-max-bytes
// 1073741824 measures an agent that does (paced: see the README's "What a change costs").
// --bundle runs another build (e.g. main's, from a separate worktree) for a before/after.
import { spawn } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const appDir = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = resolve(appDir, arg("bundle", "dist/kvp-agent.cjs"));
const RECORDS = Number(arg("records", 40960));
const VALUE_BYTES = Number(arg("value-bytes", 2000));
const CHANGES = Number(arg("changes", 20));
const INTERVAL_MS = Number(arg("interval-ms", 1000));

const KEY_BYTES = 512;
const VALUE_FIELD = 2048;
const RECORD = KEY_BYTES + VALUE_FIELD;

const work = mkdtempSync(join(tmpdir(), "kvp-harvest-bench-"));
const poolDir = join(work, "pools");
const state = join(work, "state");
mkdirSync(poolDir);
const HOST_FILES_MAX = arg("host-files-max-bytes");
writeFileSync(
  join(work, "config.json"),
  JSON.stringify({
    hooksDir: join(work, "hooks.d"),
    safetyNetSeconds: 3600,
    ...(HOST_FILES_MAX ? { hostFilesMaxBytes: Number(HOST_FILES_MAX) } : {}),
  }),
);

const recordValue = (i, variant) => {
  const head = `v${i}-${variant}-`;
  return head + "x".repeat(Math.max(0, VALUE_BYTES - head.length));
};
// Pool 0 in chunks: the bench itself stays small.
{
  const fd = openSync(join(poolDir, ".kvp_pool_0"), "w");
  const chunk = Buffer.alloc(RECORD * 256);
  for (let first = 0; first < RECORDS; first += 256) {
    const n = Math.min(256, RECORDS - first);
    chunk.fill(0);
    for (let j = 0; j < n; j++) {
      const i = first + j;
      chunk.write(`k${String(i).padStart(5, "0")}`, j * RECORD, "utf8");
      chunk.write(recordValue(i, 0), j * RECORD + KEY_BYTES, "utf8");
    }
    writeSync(fd, chunk, 0, n * RECORD);
  }
  closeSync(fd);
}
for (const p of [1, 2, 3, 4]) writeFileSync(join(poolDir, `.kvp_pool_${p}`), "");
const poolBytes = statSync(join(poolDir, ".kvp_pool_0")).size;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// --node-args "--max-semi-space-size=1": node options for the agent (the launcher's, or trials).
const nodeArgs = arg("node-args", "").split(" ").filter(Boolean);
const agent = spawn(
  process.execPath,
  [...nodeArgs, BUNDLE, "--config", join(work, "config.json"), "--dir", poolDir, "--state-dir", state, "run"],
  // The agent never needs this workplace's extra CA file, whose load costs every node start.
  { stdio: ["ignore", "ignore", "pipe"], env: withoutExtraCaCerts(process.env) },
);
let agentLog = "";
agent.stderr.setEncoding("utf8").on("data", (s) => {
  if (process.env.BENCH_TIMING)
    process.stderr.write(
      s
        .split("\n")
        .filter((l) => l.startsWith("TIMING"))
        .map((l) => `${l}\n`)
        .join(""),
    );
  agentLog = (agentLog + s).slice(-20_000);
});

const proc = (file) => readFileSync(`/proc/${agent.pid}/${file}`, "utf8");
const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(proc("status"))?.[1] ?? 0) * 1024;
const wchar = () => Number(/^wchar:\s+(\d+)/m.exec(proc("io"))[1]);
const ticks = () => {
  const fields = proc("stat").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
};
const CLK = 100; // USER_HZ on Linux
const statusOf = () => {
  try {
    return JSON.parse(readFileSync(join(state, "agent-status.json"), "utf8"));
  } catch {
    return undefined;
  }
};
const dirBytes = (dir) => {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    total += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return total;
};
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

try {
  const t0 = performance.now();
  for (;;) {
    const s = statusOf();
    if (s?.status === "ready" && s.items === RECORDS) break;
    if (agent.exitCode !== null) throw new Error(`agent exited ${agent.exitCode}\n${agentLog}`);
    if (performance.now() - t0 > 300_000) throw new Error(`no first harvest in 300 s\n${agentLog.slice(-2000)}`);
    await sleep(20);
  }
  const firstHarvestMs = performance.now() - t0;
  await sleep(2000); // anything the first harvest deferred
  const afterFirst = { hwm: kb("VmHWM"), rss: kb("VmRSS"), wchar: wchar() };
  // On stderr at once: these hold even when a later step fails.
  console.error(
    `first harvest: ${Math.round(firstHarvestMs)} ms, peak RSS ${mb(afterFirst.hwm)} MB (${(afterFirst.hwm / poolBytes).toFixed(2)}x the ${mb(poolBytes)} MB pool)`,
  );

  const fd = openSync(join(poolDir, ".kvp_pool_0"), "r+");
  const cpu0 = ticks();
  const w0 = wchar();
  const c0 = performance.now();
  let last = "";
  for (let n = 1; n <= CHANGES; n++) {
    const i = (n * 7919) % RECORDS;
    last = `k${String(i).padStart(5, "0")}`;
    // One byte: the variant digit of the value's head.
    const value = recordValue(i, n % 10);
    writeSync(fd, Buffer.from(value, "utf8"), 0, Buffer.byteLength(value), i * RECORD + KEY_BYTES);
    await sleep(INTERVAL_MS);
  }
  closeSync(fd);
  const wallS = (performance.now() - c0) / 1000;
  const cpuS = (ticks() - cpu0) / CLK;
  const changeBytes = wchar() - w0;
  // Wait for the state files to show the last change (a deferred write included), when the
  // agent writes host.env at all.
  const settle0 = performance.now();
  const hostFilesOff = statusOf()?.hostFilesOff ?? null;
  for (; hostFilesOff === null; ) {
    const text = readFileSync(join(state, "host.env"), "utf8");
    if (text.includes(`kvp_${last}='${recordValue(Number(last.slice(1)), CHANGES % 10)}'`)) break;
    // host.json/host.env may wait up to a minute after their last write (wholeFileDelayMs).
    if (performance.now() - settle0 > 150_000)
      throw new Error(`last change not in host.env after 150 s\n${agentLog.slice(-2000)}`);
    await sleep(50);
  }
  const settledMs = performance.now() - settle0;

  const result = {
    bundle: BUNDLE,
    pool0: { records: RECORDS, valueBytes: VALUE_BYTES, fileMB: mb(poolBytes) },
    firstHarvest: {
      ms: Math.round(firstHarvestMs),
      peakRssMB: mb(afterFirst.hwm),
      peakRssPerPoolSize: (afterFirst.hwm / poolBytes).toFixed(2),
      writtenMB: mb(afterFirst.wchar),
    },
    changes: {
      count: CHANGES,
      intervalMs: INTERVAL_MS,
      cpuPercent: ((100 * cpuS) / wallS).toFixed(1),
      writtenPerChangeKB: (changeBytes / CHANGES / 1024).toFixed(1),
      writtenTotalMB: mb(changeBytes),
      lastChangeInHostEnvAfterMs:
        hostFilesOff === null ? Math.round(settledMs) : "host.env not written (past hostFilesMaxBytes)",
    },
    end: { peakRssMB: mb(kb("VmHWM")), rssMB: mb(kb("VmRSS")), stateDirMB: mb(dirBytes(state)) },
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  if (agent.exitCode === null) {
    agent.kill("SIGTERM");
    await Promise.race([new Promise((r) => agent.once("close", r)), sleep(5000)]);
    if (agent.exitCode === null) agent.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
}

function withoutExtraCaCerts(env) {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return rest;
}
