import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePool } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PoolFileError } from "./errors.js";
import { deleteRecord, setRecords } from "./pool-store.js";
import { poolTarget } from "./pool-target.js";
import { type PoolChange, watchPool } from "./watch-pool.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "watch-pool-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Collects changes and lets a test wait for the next batch, with a deadline. */
function collector() {
  const batches: PoolChange[][] = [];
  const errors: PoolFileError[] = [];
  let wake: (() => void) | undefined;
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  return {
    batches,
    errors,
    isReady,
    onReady: () => ready(),
    onChange: (changes: PoolChange[]) => {
      batches.push(changes);
      wake?.();
    },
    onError: (error: PoolFileError) => {
      errors.push(error);
      wake?.();
    },
    async next(count = batches.length + 1, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (batches.length + errors.length < count) {
        if (Date.now() > deadline) throw new Error(`no change within ${ms} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

describe("watchPool", () => {
  it("reports added, changed and removed keys after writes", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([{ key: "a", value: "1" }]));
    const c = collector();
    const watch = watchPool(poolTarget(1, dir), { ...c, debounceMs: 20 });
    try {
      await c.isReady;
      await setRecords(poolTarget(1, dir), [
        { key: "a", value: "2" },
        { key: "b", value: "x" },
      ]);
      await c.next(1);
      expect(c.batches[0]).toEqual([
        { type: "changed", key: "a", value: "2", previous: "1", index: 0 },
        { type: "added", key: "b", value: "x", index: 1 },
      ]);
      await deleteRecord(poolTarget(1, dir), "a");
      await c.next(2);
      expect(c.batches[1]).toEqual([{ type: "removed", key: "a", previous: "2", index: 0 }]);
    } finally {
      watch.close();
    }
  });

  it("sees a pool rewritten whole, as the daemon does (truncate and write)", async () => {
    const file = join(dir, ".kvp_pool_0");
    writeFileSync(file, encodePool([{ key: "k", value: "old" }]));
    const c = collector();
    const watch = watchPool(poolTarget(0, dir), { ...c, debounceMs: 20 });
    try {
      await c.isReady;
      writeFileSync(file, encodePool([{ key: "k", value: "new" }, { key: "n", value: "1" }]));
      await c.next(1);
      expect(c.batches[0]!.map((ch) => [ch.type, ch.key])).toEqual([
        ["changed", "k"],
        ["added", "n"],
      ]);
    } finally {
      watch.close();
    }
  });

  it("says once that the directory is missing, and recovers when it appears", async () => {
    const missing = join(dir, "hyperv");
    const c = collector();
    const watch = watchPool(poolTarget(1, missing), { ...c, debounceMs: 20, safetyNetMs: 100 });
    try {
      await c.next(1);
      expect(c.errors[0]?.code).toBe("daemon-absent");
      await new Promise((resolve) => setTimeout(resolve, 350));
      // Several safety-net ticks have passed; the same problem is not repeated.
      expect(c.errors).toHaveLength(1);
      mkdirSync(missing);
      writeFileSync(join(missing, ".kvp_pool_1"), encodePool([]));
      await c.isReady;
      writeFileSync(join(missing, ".kvp_pool_1"), encodePool([{ key: "late", value: "v" }]));
      await c.next(2);
      expect(c.batches[0]).toEqual([{ type: "added", key: "late", value: "v", index: 0 }]);
    } finally {
      watch.close();
    }
  });

  it("stops on abort", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([]));
    const controller = new AbortController();
    const c = collector();
    watchPool(poolTarget(1, dir), { ...c, debounceMs: 10, signal: controller.signal });
    await c.isReady;
    controller.abort();
    await setRecords(poolTarget(1, dir), [{ key: "after", value: "abort" }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(c.batches).toEqual([]);
  });
});
