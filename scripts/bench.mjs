// Benchmarks for the figures in the root README's Figures section, each run side by side with its baseline in one
// process and reported as a ratio (medians of repeated runs). Run: `pnpm bench` after
// `npm run setup`. Nothing here is a pass/fail test; it prints numbers.
//
//   decode   readPool() of a 10,000-record pool (25.6 MB) vs a plain readFile of it
//   upsert   setRecords() of one key in that pool vs rewriting the whole file (the daemon's way)
//   commands kvp-pool get (small pool; 10,000 records), list, set, delete (10,000 records),
//            kvp-agent once (small pools) and kvp-host --help, each vs `node -e ""`
//            (BENCH_RUNS=20 runs each, medians), with the compile cache a first run leaves;
//            and kvp-pool get without it (what the first run after an install pays).
//            BENCH_ONLY=WORD keeps the command rows whose name holds WORD (e.g. list)
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodePool, encodePool } from "../packages/kvp-core/dist/index.js";
import { poolTarget, readPool, setRecords } from "../packages/pool-file/dist/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "apps/pool-tools/dist/kvp-pool.cjs");
const agentCli = join(root, "apps/guest-agent/dist/kvp-agent.cjs");
const hostCli = join(root, "apps/host-cli/dist/kvp-host.cjs");
const RECORDS = 10_000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Alternates the two so drift in machine load hits both alike. */
async function pair(baseline, subject, runs) {
  await baseline();
  await subject();
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await baseline();
    a.push(performance.now() - t0);
    t0 = performance.now();
    await subject();
    b.push(performance.now() - t0);
  }
  return [median(a), median(b)];
}

const dir = mkdtempSync(join(tmpdir(), "kvp-bench-"));
const rows = [];
try {
  const records = Array.from({ length: RECORDS }, (_, i) => ({
    key: `bench-key-${String(i).padStart(5, "0")}`,
    value: `value ${i} `.repeat(1 + (i % 12)),
  }));
  const poolFile = join(dir, ".kvp_pool_1");
  writeFileSync(poolFile, encodePool(records));
  const target = poolTarget(1, dir);

  // 1. Decode
  const [readMs, decodeMs] = await pair(
    () => readFile(poolFile),
    () => readPool(target),
    25,
  );
  rows.push({
    figure: "decode 10,000-record pool (readPool: lock + read + decode)",
    baseline: "fs.readFile of the same file",
    baselineMs: readMs,
    ms: decodeMs,
    ratio: decodeMs / readMs,
    target: "≤ 20 ms and ≤ 4× readFile",
  });

  // 2. Upsert one key (in the middle) vs whole-file rewrite
  let n = 0;
  const rewriteWhole = async () => {
    const pool = decodePool(readFileSync(poolFile)).records.map((r) => ({ key: r.key, value: r.value }));
    const i = pool.findIndex((r) => r.key === "bench-key-05000");
    pool[i] = { key: pool[i].key, value: `rewritten ${n++}` };
    writeFileSync(poolFile, encodePool(pool));
  };
  const upsertOne = () => setRecords(target, [{ key: "bench-key-05000", value: `upserted ${n++}` }]);
  const [rewriteMs, upsertMs] = await pair(rewriteWhole, upsertOne, 25);
  rows.push({
    figure: "upsert one key in a 10,000-record pool (setRecords)",
    baseline: "read, decode, change, encode, rewrite whole file",
    baselineMs: rewriteMs,
    ms: upsertMs,
    ratio: upsertMs / rewriteMs,
    target: "≤ 5 ms and ≥ 10× faster (ratio ≤ 0.1)",
  });

  // 3. Whole commands against `node -e ""`, each pair alternated run by run so drift in the
  // machine's load hits both alike. Both sides start without NODE_EXTRA_CA_CERTS: set on these
  // machines, it adds ~30 ms to every node start and would flatter the ratios.
  // The programs' compile cache (packages/cli-kit/src/compile-cache.ts) in a directory of the
  // bench's own: each row's first, unmeasured run writes it, as a user's first run would; the
  // "first run" row measures a start without it.
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: undefined, KVP_COMPILE_CACHE: join(dir, "compile-cache") };
  const small = join(dir, "small");
  mkdirSync(small);
  for (const p of [0, 1, 2, 3, 4])
    writeFileSync(join(small, `.kvp_pool_${p}`), p === 3 ? "" : encodePool(records.slice(0, 10)));
  const bigBytes = readFileSync(poolFile);
  const agentState = join(dir, "agent-state");
  const agentConfig = join(dir, "agent.json");
  writeFileSync(agentConfig, JSON.stringify({ hooksDir: join(dir, "no-hooks.d") }));
  const node =
    (args, extraEnv = {}) =>
    () => {
      const r = spawnSync(process.execPath, args, {
        env: { ...env, ...extraEnv },
        stdio: ["ignore", "ignore", "pipe"],
      });
      if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
    };
  const restoreBig = () => writeFileSync(poolFile, bigBytes);
  const commands = [
    { figure: "kvp-pool get KEY, small pool", run: node([cli, "--dir", small, "get", "bench-key-00003"]), target: 1.3 },
    {
      figure: "kvp-pool get KEY, 10,000 records (25.6 MB), key near the start",
      run: node([cli, "--dir", dir, "get", "bench-key-00000"]),
      target: 1.5,
    },
    { figure: "kvp-pool list, 10,000 records", run: node([cli, "--dir", dir, "list", "--pool", "1"]), target: 2.0 },
    {
      figure: "kvp-pool set of record 9,990, 10,000 records",
      run: node([cli, "--dir", dir, "set", "bench-key-09990", "a new value"]),
      before: restoreBig,
      target: 1.5,
    },
    {
      figure: "kvp-pool delete of record 10, 10,000 records, order kept",
      run: node([cli, "--dir", dir, "delete", "bench-key-00010"]),
      before: restoreBig,
      target: 2.5,
    },
    {
      // Not a target: the floor under the row above (every later record moved, nothing else).
      figure: "bare shift of the same records (read and write, no page-safe plans, no lock), the floor under delete",
      run: node([join(root, "scripts/lib/shift-floor.cjs"), poolFile, "10"]),
      before: restoreBig,
      target: undefined,
    },
    {
      figure: "kvp-agent once, small pools",
      run: node([agentCli, "--dir", small, "--state-dir", agentState, "--config", agentConfig, "once"]),
      target: 1.3,
    },
    { figure: "kvp-host --help", run: node([hostCli, "--help"]), target: 1.3 },
    {
      figure: "kvp-pool get KEY, small pool, without the compile cache (a first run)",
      run: node([cli, "--dir", small, "get", "bench-key-00003"], { KVP_COMPILE_CACHE: "off" }),
      target: 1.3,
    },
  ];
  const runNode = node(["-e", ""]);
  const RUNS = Number(process.env.BENCH_RUNS ?? 20);
  // BENCH_ONLY=list (a word of the rows' names, case ignored) measures only the rows it names:
  // one row's ratio in a minute, beside the same on main.
  const only = process.env.BENCH_ONLY?.toLowerCase();
  for (const c of commands.filter((c) => !only || c.figure.toLowerCase().includes(only))) {
    c.before?.();
    c.run();
    const base = [];
    const subject = [];
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      runNode();
      base.push(performance.now() - t0);
      c.before?.();
      t0 = performance.now();
      c.run();
      subject.push(performance.now() - t0);
    }
    const baselineMs = median(base);
    const ms = median(subject);
    rows.push({
      figure: `${c.figure} (wall time)`,
      baseline: 'node -e ""',
      baselineMs,
      ms,
      ratio: ms / baselineMs,
      target: c.target === undefined ? "none: a floor" : `≤ ${c.target}× node -e ""`,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv.includes("--json")) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  for (const r of rows) {
    console.log(
      `\n${r.figure}\n  ${r.ms.toFixed(2)} ms vs ${r.baseline}: ${r.baselineMs.toFixed(2)} ms\n  ratio ${r.ratio.toFixed(3)}  (target ${r.target})`,
    );
  }
}
