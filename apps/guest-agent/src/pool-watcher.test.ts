// Unit tests of the pool directory watch: real inotify on a temporary directory, pool files
// rewritten the way hv_kvp_daemon does (in place: truncate, then write) and through pool-file.
import { closeSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { encodePool, type KvpRecord, type PoolNumber, poolFileName } from "@hyperv-kvp/kvp-core";
import { poolTarget, setRecords } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { type PoolDirWatch, watchPoolDir } from "./pool-watcher.js";
import { tempDir, writePools } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** Watches `dir` for pools 0, 1 and 3 and keeps every reported set, sorted. */
function watch(dir: string, safetyNetMs = 60_000): { changes: number[][]; watch: PoolDirWatch } {
  const changes: number[][] = [];
  const w = watchPoolDir({
    dir,
    pools: [0, 1, 3],
    debounceMs: 5,
    safetyNetMs,
    onChange: (pools) => changes.push([...pools].sort()),
  });
  cleanups.push(() => w.close());
  return { changes, watch: w };
}

function setup() {
  const { dir, cleanup } = tempDir("watch");
  cleanups.push(cleanup);
  const pools = join(dir, "pools");
  return { dir, pools };
}

/** Rewrites a pool file in place as hv_kvp_daemon does: same inode, truncated, then written. */
function rewriteInPlace(dir: string, pool: PoolNumber, records: KvpRecord[]): void {
  const fd = openSync(join(dir, poolFileName(pool)), "r+");
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, encodePool(records));
  } finally {
    closeSync(fd);
  }
}

/** Lets pending inotify events and the debounce run out, so a test can say nothing more came. */
const settle = () => new Promise((r) => setTimeout(r, 100));

describe("watchPoolDir", () => {
  const writers: { name: string; pool: PoolNumber; write: (dir: string) => Promise<void> | void }[] = [
    {
      name: "pool 0 rewritten in place by the daemon",
      pool: 0,
      write: (dir) => rewriteInPlace(dir, 0, [{ key: "k", value: "v" }]),
    },
    { name: "pool 3 truncated to empty", pool: 3, write: (dir) => rewriteInPlace(dir, 3, []) },
    {
      name: "pool 1 written with pool-file's setRecords",
      pool: 1,
      write: async (dir) => {
        await setRecords(poolTarget(1, dir), [{ key: "kvp-agent/status", value: "ready" }]);
      },
    },
  ];
  it.each(writers)("reports a change of exactly that pool: $name", async ({ pool, write }) => {
    const { pools } = setup();
    mkdirSync(pools);
    writePools(pools, {});
    const { changes } = watch(pools);
    await write(pools);
    await waitFor(() => changes.length > 0, `a change of pool ${pool}`, 5000);
    await settle();
    expect(changes).toEqual([[pool]]);
  });

  it("ignores files that are not watched pools", async () => {
    const { pools } = setup();
    mkdirSync(pools);
    writePools(pools, {});
    const { changes } = watch(pools);
    writeFileSync(join(pools, "unrelated"), "x");
    rewriteInPlace(pools, 2, [{ key: "os", value: "linux" }]);
    writeFileSync(join(pools, `${poolFileName(0)}.bak`), "x");
    // Events arrive in order: had the others counted, they would show up in this batch or an earlier one.
    rewriteInPlace(pools, 3, [{ key: "HostName", value: "h" }]);
    await waitFor(() => changes.length > 0, "a change of pool 3", 5000);
    await settle();
    expect(changes).toEqual([[3]]);
  });

  it("merges a burst of writes into one report", async () => {
    const { pools } = setup();
    mkdirSync(pools);
    writePools(pools, {});
    const w = watchPoolDir({
      dir: pools,
      pools: [0, 1, 3],
      debounceMs: 200,
      safetyNetMs: 60_000,
      onChange: (p) => changes.push([...p].sort()),
    });
    const changes: number[][] = [];
    cleanups.push(() => w.close());
    for (let i = 0; i < 20; i++) rewriteInPlace(pools, i % 2 === 0 ? 0 : 1, [{ key: "n", value: String(i) }]);
    await waitFor(() => changes.length > 0, "the merged change", 5000);
    await settle();
    expect(changes).toEqual([[0, 1]]);
  });

  it("picks up a pool directory that appears after the start (no polling), and reports that once", async () => {
    const { pools } = setup();
    // Safety net far beyond the test: recovery has to come from the watch of the parent.
    const { changes } = watch(pools);
    await settle();
    expect(changes).toEqual([]);
    // As the daemon starts: the directory, then its pool files. Built aside and renamed in, so the directory appears whole.
    const staging = `${pools}.new`;
    mkdirSync(staging);
    writePools(staging, {});
    renameSync(staging, pools);
    await waitFor(() => changes.length > 0, "the recovery report", 5000);
    await settle();
    expect(changes).toEqual([[0, 1, 3]]);
    // From now on the directory itself is watched: a pool change is one report of that pool.
    rewriteInPlace(pools, 0, [{ key: "k", value: "v" }]);
    await waitFor(() => changes.length > 1, "a change of pool 0 after recovery", 5000);
    await settle();
    expect(changes).toEqual([[0, 1, 3], [0]]);
  });

  it("picks up a pool directory created empty and filled later", async () => {
    const { pools } = setup();
    const { changes } = watch(pools);
    mkdirSync(pools);
    await waitFor(() => changes.length > 0, "the report of the new directory", 5000);
    writePools(pools, {});
    rewriteInPlace(pools, 3, [{ key: "HostName", value: "h" }]);
    await waitFor(
      () => changes.some((c, i) => i > 0 && c.includes(3)),
      "a report of the pool files written into it",
      5000,
    );
    await settle();
    // Unrelated names in the parent never count; the directory's own appearance counts once.
    expect(changes[0]).toEqual([0, 1, 3]);
    expect(changes.slice(1).every((c) => c.every((p) => [0, 1, 3].includes(p)))).toBe(true);
  });

  it("ignores other entries of the parent while waiting for the directory", async () => {
    const { dir, pools } = setup();
    const { changes } = watch(pools);
    writeFileSync(join(dir, "pools-not"), "x");
    mkdirSync(join(dir, "other"));
    await settle();
    expect(changes).toEqual([]);
  });

  it("after the directory is removed and re-created, rearm watches the new one", async () => {
    const { pools } = setup();
    mkdirSync(pools);
    writePools(pools, {});
    const { changes, watch: w } = watch(pools);
    rmSync(pools, { recursive: true });
    await waitFor(() => changes.length > 0, "the removal to be reported", 5000);
    // What the agent does when a read finds the pools gone.
    w.rearm();
    mkdirSync(pools);
    writePools(pools, {});
    await waitFor(() => changes.length > 1, "the new directory to be reported", 5000);
    await settle();
    const before = changes.length;
    rewriteInPlace(pools, 1, [{ key: "x", value: "y" }]);
    await waitFor(() => changes.length > before, "a change in the new directory", 5000);
    await settle();
    expect(changes.at(-1)).toEqual([1]);
  });

  it("without any event, the safety net reports every pool", async () => {
    const { pools } = setup();
    mkdirSync(pools);
    writePools(pools, {});
    const { changes } = watch(pools, 50);
    await waitFor(() => changes.length >= 2, "two safety-net reports", 5000);
    expect(changes.slice(0, 2)).toEqual([
      [0, 1, 3],
      [0, 1, 3],
    ]);
  });

  it("reports nothing after close", async () => {
    const { pools } = setup();
    mkdirSync(pools);
    writePools(pools, {});
    const { changes, watch: w } = watch(pools, 30);
    rewriteInPlace(pools, 0, []);
    w.close();
    await settle();
    expect(changes).toEqual([]);
  });
});
