import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChunkProblem, type DecodedRecord, decodePool, encodePool } from "@hyperv-kvp/kvp-core";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PoolFileError } from "./errors.js";
import { deleteRecord, setRecords } from "./pool-store.js";
import { setLogicalValues } from "./pool-update.js";
import { poolTarget } from "./pool-target.js";
import { type PoolChange, diffPools, snapshotPool, watchPool } from "./watch-pool.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "watch-pool-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Collects changes and lets a test wait for the next batch, with a deadline. */
function collector() {
  const batches: PoolChange[][] = [];
  const errors: PoolFileError[] = [];
  const problems: ChunkProblem<DecodedRecord>[][] = [];
  let wake: (() => void) | undefined;
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  return {
    batches,
    errors,
    problems,
    isReady,
    onReady: () => ready(),
    onChunkProblems: (found: ChunkProblem<DecodedRecord>[]) => {
      problems.push(found);
    },
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
      writeFileSync(
        file,
        encodePool([
          { key: "k", value: "new" },
          { key: "n", value: "1" },
        ]),
      );
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

describe("watchPool with a callback that throws", () => {
  it("delivers each change once, reports what onChange threw through onError, and keeps watching", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([{ key: "a", value: "1" }]));
    const c = collector();
    let calls = 0;
    const watch = watchPool(poolTarget(1, dir), {
      ...c,
      debounceMs: 20,
      onChange: (changes) => {
        c.onChange(changes);
        calls++;
        if (calls === 1) throw new TypeError("consumer bug");
      },
    });
    try {
      await c.isReady;
      await setRecords(poolTarget(1, dir), [{ key: "a", value: "2" }]);
      await c.next(2); // the batch, then the error
      expect(c.errors.map((e) => [e.code, e.message])).toEqual([
        ["callback", `watching ${join(dir, ".kvp_pool_1")}: onChange threw TypeError: consumer bug`],
      ]);
      expect((c.errors[0]!.cause as Error).message).toBe("consumer bug");
      // The next write is reported on its own: the change the consumer choked on is not
      // delivered again, and the watch goes on.
      await setRecords(poolTarget(1, dir), [{ key: "b", value: "x" }]);
      await c.next(3);
      expect(c.batches).toEqual([
        [{ type: "changed", key: "a", value: "2", previous: "1", index: 0 }],
        [{ type: "added", key: "b", value: "x", index: 1 }],
      ]);
      expect(c.errors).toHaveLength(1);
    } finally {
      watch.close();
    }
  });

  it("calls a throwing onReady once and keeps its baseline", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([{ key: "a", value: "1" }]));
    const c = collector();
    let readies = 0;
    const watch = watchPool(poolTarget(1, dir), {
      ...c,
      debounceMs: 20,
      onReady: () => {
        readies++;
        c.onReady();
        throw new Error("ready bug");
      },
    });
    try {
      await c.isReady;
      await setRecords(poolTarget(1, dir), [{ key: "b", value: "2" }]);
      await c.next(2);
      expect(c.errors.map((e) => e.code)).toEqual(["callback"]);
      expect(c.batches).toEqual([[{ type: "added", key: "b", value: "2", index: 1 }]]);
      expect(readies).toBe(1);
    } finally {
      watch.close();
    }
  });

  it("without onError, throws what a callback threw outside the watch, once, and keeps watching", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([]));
    // The error is an uncaught exception on purpose; catch it here instead of the runner.
    const runners = process.rawListeners("uncaughtException") as ((error: Error) => void)[];
    process.removeAllListeners("uncaughtException");
    const uncaught: unknown[] = [];
    const catcher = (error: Error) => uncaught.push(error);
    process.on("uncaughtException", catcher);
    const batches: PoolChange[][] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const watch = watchPool(poolTarget(1, dir), {
      debounceMs: 20,
      onReady: () => ready(),
      onChange: (changes) => {
        batches.push(changes);
        if (batches.length === 1) throw new RangeError("nobody listens");
      },
    });
    try {
      await isReady;
      await setRecords(poolTarget(1, dir), [{ key: "a", value: "1" }]);
      await waitFor(() => uncaught.length === 1, "the uncaught error");
      expect((uncaught[0] as Error).message).toBe("nobody listens");
      await setRecords(poolTarget(1, dir), [{ key: "b", value: "2" }]);
      await waitFor(() => batches.length === 2, "the second batch");
      expect(batches).toEqual([
        [{ type: "added", key: "a", value: "1", index: 0 }],
        [{ type: "added", key: "b", value: "2", index: 1 }],
      ]);
      expect(uncaught).toHaveLength(1);
    } finally {
      watch.close();
      process.off("uncaughtException", catcher);
      for (const listener of runners) process.on("uncaughtException", listener);
    }
  });
});

describe("watchPool with reassemble", () => {
  const guest = () => poolTarget(1, dir);
  // Every write below takes the pool's write lock, as the daemon does for each host SET and
  // DELETE, so each read sees the state between two operations, never a half-written file.
  const set = (key: string, value: string) => setRecords(guest(), [{ key, value }]);
  const del = (key: string) => deleteRecord(guest(), key);

  it("reports a value written part by part once, when whole, and holds it while a part is missing", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([{ key: "a", value: "1" }]));
    const c = collector();
    const watch = watchPool(guest(), { ...c, debounceMs: 20, reassemble: true });
    try {
      await c.isReady;
      // As the daemon applies a host's parts: one SET at a time.
      await set("big#1/3", "AA");
      await waitFor(() => c.problems.length === 1, "the first problem");
      await set("big#2/3", "BB");
      await set("big#3/3", "C");
      await c.next(1);
      expect(c.batches).toEqual([[{ type: "added", key: "big", value: "AABBC", index: 1, parts: 3 }]]);
      expect(c.problems.flat().map((p) => [p.key, p.reason])).toEqual([["big", "incomplete"]]);

      // A part goes missing: "big" keeps its value, said once as a problem, never as a change.
      await del("big#2/3");
      await waitFor(() => c.problems.length === 2, "the second problem");
      await set("a", "2");
      await c.next(2);
      expect(c.batches[1]).toEqual([{ type: "changed", key: "a", value: "2", previous: "1", index: 0 }]);
      expect(c.problems.flat().map((p) => [p.key, p.reason])).toEqual([
        ["big", "incomplete"],
        ["big", "incomplete"],
      ]);

      // Rewritten whole under one lock with a new split: one change of the logical key, from
      // the value last reported (the held one), never from the half-written state.
      const long = "x".repeat(1500);
      await setLogicalValues(guest(), [{ key: "big", value: long }]);
      await c.next(3);
      expect(c.batches[2]).toEqual([
        { type: "changed", key: "big", value: long, previous: "AABBC", index: 1, parts: 2 },
      ]);

      // Parts removed one by one: held, then removed once the last is gone.
      await del("big#1/2");
      await waitFor(() => c.problems.length === 3, "the third problem");
      await del("big#2/2");
      await c.next(4);
      expect(c.batches[3]).toEqual([{ type: "removed", key: "big", previous: long, index: 1 }]);
      expect(c.batches).toHaveLength(4);
      expect(c.errors).toEqual([]);
    } finally {
      watch.close();
    }
  });

  it("is off by default: every part is a key of its own", async () => {
    writeFileSync(join(dir, ".kvp_pool_1"), encodePool([]));
    const c = collector();
    const watch = watchPool(guest(), { ...c, debounceMs: 20 });
    try {
      await c.isReady;
      await setRecords(guest(), [
        { key: "big#1/2", value: "A" },
        { key: "big#2/2", value: "B" },
      ]);
      await c.next(1);
      expect(c.batches[0]).toEqual([
        { type: "added", key: "big#1/2", value: "A", index: 0 },
        { type: "added", key: "big#2/2", value: "B", index: 1 },
      ]);
      expect(c.problems).toEqual([]);
    } finally {
      watch.close();
    }
  });
});

describe("snapshotPool", () => {
  const records = (list: [string, string][]) =>
    decodePool(encodePool(list.map(([key, value]) => ({ key, value })))).records;
  const entries = (list: [string, string][], reassemble = true) => {
    const snapshot = snapshotPool(records(list), { reassemble });
    return {
      entries: [...snapshot.entries],
      held: [...snapshot.held],
      problems: snapshot.problems.map((p) => [p.key, p.reason]),
    };
  };

  it.each([
    {
      name: "a complete group is one key, at its first part",
      pool: [
        ["a", "1"],
        ["k#2/2", "B"],
        ["k#1/2", "A"],
      ],
      entries: [
        ["a", { value: "1", index: 0 }],
        ["k", { value: "AB", index: 1, parts: 2 }],
      ],
      held: [],
      problems: [],
    },
    {
      name: "an incomplete group has no value and is held",
      pool: [
        ["k#1/3", "A"],
        ["k#3/3", "C"],
        ["b", "2"],
      ],
      entries: [["b", { value: "2", index: 2 }]],
      held: ["k"],
      problems: [["k", "incomplete"]],
    },
    {
      name: "mixed splits are held",
      pool: [
        ["k#1/2", "A"],
        ["k#2/3", "B"],
      ],
      entries: [],
      held: ["k"],
      problems: [["k", "conflicting-totals"]],
    },
    {
      name: "a plain record beside parts is the value (as lookups see it); nothing held",
      pool: [
        ["k#1/2", "A"],
        ["k", "plain"],
        ["k#2/2", "B"],
      ],
      entries: [["k", { value: "plain", index: 1 }]],
      held: [],
      problems: [["k", "plain-beside-parts"]],
    },
    {
      name: "a duplicated part: the first copy counts, the stray copy is no key",
      pool: [
        ["k#1/2", "A"],
        ["k#2/2", "B"],
        ["k#1/2", "old"],
      ],
      entries: [["k", { value: "AB", index: 0, parts: 2 }]],
      held: [],
      problems: [["k", "duplicate-part"]],
    },
    {
      name: "keys that only look like parts are ordinary keys; the first record of a key wins",
      pool: [
        ["k#1/1", "x"],
        ["k#01/2", "y"],
        ["d", "first"],
        ["d", "second"],
      ],
      entries: [
        ["k#1/1", { value: "x", index: 0 }],
        ["k#01/2", { value: "y", index: 1 }],
        ["d", { value: "first", index: 2 }],
      ],
      held: [],
      problems: [],
    },
  ] as const)("$name", ({ pool, entries: want, held, problems }) => {
    expect(entries(pool.map(([k, v]) => [k, v]))).toEqual({ entries: want, held, problems });
  });

  it("without reassemble keeps every stored key", () => {
    expect(
      entries(
        [
          ["k#1/3", "A"],
          ["k#1/3", "B"],
        ],
        false,
      ),
    ).toEqual({ entries: [["k#1/3", { value: "A", index: 0 }]], held: [], problems: [] });
  });
});

describe("diffPools", () => {
  it("reports parts only for reassembled values, and ignores a change of split or position alone", () => {
    const before = new Map([
      ["k", { value: "AB", index: 0, parts: 2 }],
      ["p", { value: "1", index: 1 }],
      ["gone", { value: "x", index: 2, parts: 2 }],
    ]);
    const after = new Map([
      ["p", { value: "1", index: 0 }],
      ["k", { value: "AB", index: 3 }],
      ["n", { value: "new", index: 5, parts: 3 }],
    ]);
    expect(diffPools(before, after)).toEqual([
      { type: "added", key: "n", value: "new", index: 5, parts: 3 },
      { type: "removed", key: "gone", previous: "x", index: 2 },
    ]);
  });
});
