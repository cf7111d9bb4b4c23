import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DecodedRecord,
  KEY_FIELD_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_OFFSET,
  decodePool,
  decodeUtf8,
  encodePool,
  encodeUtf8,
  utf8BoundaryAtOrBefore,
} from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { deleteRecord, setRecords } from "./pool-store.js";
import { poolTarget } from "./pool-target.js";
import { PAGE_BYTES, type PlannedWrite } from "./record-write-plan.js";

// A SIGKILL can stop a writer between any two of its writes (each stays inside one page, so
// none is torn itself). These tests record every write a delete or a set makes, replay them
// one by one onto the original file, and check what a reader would find after each: the
// state a killed writer leaves behind. The interop suite (apps/pool-tools/src/interop/
// crash.test.ts) kills real processes; this covers every intermediate state exactly.

const recorded = vi.hoisted(() => [] as PlannedWrite[]);

vi.mock("./pool-io.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./pool-io.js")>();
  return {
    ...actual,
    applyWrites: (pool: Parameters<typeof actual.applyWrites>[0], writes: readonly PlannedWrite[]) => {
      for (const w of writes) recorded.push({ offset: w.offset, bytes: w.bytes.slice() });
      actual.applyWrites(pool, writes);
    },
  };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pool-store-crash-"));
  recorded.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = () => join(dir, ".kvp_pool_1");

/** Twelve records whose long values cross the page boundaries inside them. */
const records = Array.from({ length: 12 }, (_, i) => ({
  key: `key-${i}`,
  value: `${i}:${"€é😀".repeat(100 + 10 * i)}`,
}));

/** The value a record at `index` reads as while pool-file's provisional cut of `value` is in place. */
function provisionalCut(value: string, index: number): string | undefined {
  const split = PAGE_BYTES - ((index * RECORD_BYTES) % PAGE_BYTES);
  if (split >= RECORD_BYTES || split <= KEY_FIELD_BYTES) return undefined;
  const bytes = encodeUtf8(value);
  return decodeUtf8(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, split - VALUE_FIELD_OFFSET - 1))).text;
}

/**
 * Replays the recorded writes onto `original` and calls `check` with every record a reader
 * sees after each one, and after each page end inside one (all of them whole, terminated,
 * valid UTF-8): a SIGKILL stops a write only between pages, so those are the states a killed
 * writer can leave. `step` names the write and, for a cut one, how many bytes of it landed.
 */
function eachIntermediate(original: Uint8Array, check: (records: DecodedRecord[], step: string) => void) {
  const state = original.slice();
  const inspect = (step: string) => {
    const { records: now } = decodePool(state.subarray(0, state.length - (state.length % RECORD_BYTES)));
    for (const r of now) {
      // expect() only on failure: thousands of states are checked.
      if (!(r.keyTerminated && r.valueTerminated && r.validUtf8))
        expect.fail(`step ${step}: record ${r.index} is torn`);
    }
    check(now, step);
  };
  recorded.forEach((w, step) => {
    const saved = state.slice(w.offset, w.offset + w.bytes.length);
    for (
      let end = (Math.floor(w.offset / PAGE_BYTES) + 1) * PAGE_BYTES;
      end < w.offset + w.bytes.length;
      end += PAGE_BYTES
    ) {
      state.set(w.bytes.subarray(0, end - w.offset), w.offset);
      inspect(`${step} (cut after ${end - w.offset} of ${w.bytes.length} bytes)`);
      state.set(saved, w.offset);
    }
    state.set(w.bytes, w.offset);
    inspect(String(step));
  });
}

describe("a writer killed between any two writes", () => {
  it.each(records.map((_, i) => i))(
    "deleting record %i leaves no key with a value that was not its own (a copy, a cut, or an emptied key at most)",
    async (index) => {
      writeFileSync(file(), encodePool(records));
      const original = new Uint8Array(readFileSync(file()));
      const removed = records[index]!;
      await deleteRecord(poolTarget(1, dir), removed.key);
      expect(decodePool(readFileSync(file())).records.map((r) => r.key)).toEqual(
        records.filter((r) => r !== removed).map((r) => r.key),
      );
      eachIntermediate(original, (now, step) => {
        const seen = new Set<string>();
        for (const r of now) {
          if (r.key === "") continue; // a key emptied before its record was replaced
          const own = records.find((o) => o.key === r.key)!.value;
          expect(
            r.value === own || r.value === provisionalCut(own, r.index),
            `step ${step}: ${r.key} at record ${r.index} reads ${r.value.slice(0, 12)}…, not its own value`,
          ).toBe(true);
          // The first copy of a key is what lookups find: the removed key's own, or none.
          if (!seen.has(r.key) && r.key === removed.key) expect(r.value, `step ${step}`).toBe(own);
          seen.add(r.key);
        }
      });
    },
  );

  it("deleting with --all moves records past several gaps just as safely", async () => {
    const doubled = records.map((r, i) => (i % 4 === 3 ? { key: "x", value: r.value } : r));
    writeFileSync(file(), encodePool(doubled));
    const original = new Uint8Array(readFileSync(file()));
    await deleteRecord(poolTarget(1, dir), "x", { all: true });
    expect(decodePool(readFileSync(file())).records.map((r) => r.key)).toEqual(
      doubled.filter((r) => r.key !== "x").map((r) => r.key),
    );
    eachIntermediate(original, (now, step) => {
      for (const r of now) {
        if (r.key === "" || r.key === "x") continue;
        const own = doubled.find((o) => o.key === r.key)!.value;
        expect([own, provisionalCut(own, r.index)], `step ${step}: ${r.key} at ${r.index}`).toContain(r.value);
      }
    });
  });

  it.each([
    ["record 5", "big-5", false, false],
    ["record 250 (its neighbours in two reads of the file)", "big-250", false, false],
    ["a key stored at six places, with --all", "twin", true, false],
    // Bytes after the NULs differ between neighbours: records whose text ends before the page
    // end inside them are written whole though their tails change.
    ["record 5, garbage after every NUL,", "big-5", false, true],
  ])(
    "deleting %s from 300 records leaves every other key present with its own value, a writer killed at any page end",
    async (_, key, all, garbage) => {
      // Long values that cross the page ends inside their records, short ones, and neighbours
      // with the same value text: every kind of plan a shift makes.
      const big = Array.from({ length: 300 }, (_, i) => ({
        key: i % 50 === 7 ? "twin" : `big-${i}`,
        value: i % 3 === 0 ? `${i}:${"€é😀".repeat(40 + (i % 50))}` : i % 3 === 1 ? `short ${i}` : `short ${i - 1}`,
      }));
      const bytes = encodePool(big);
      if (garbage) withGarbageAfterNuls(bytes);
      writeFileSync(file(), bytes);
      const original = new Uint8Array(readFileSync(file()));
      await deleteRecord(poolTarget(1, dir), key, { all });
      const kept = all ? big.filter((r) => r.key !== key) : big.filter((r) => r !== big.find((o) => o.key === key));
      expect(decodePool(readFileSync(file())).records.map((r) => [r.key, r.value])).toEqual(
        kept.map((r) => [r.key, r.value]),
      );
      expect(recorded.length).toBeGreaterThan(0);
      const keptKeys = new Set(kept.map((r) => r.key).filter((k) => k !== key));
      const valuesOf = new Map<string, string[]>();
      for (const r of big) valuesOf.set(r.key, [...(valuesOf.get(r.key) ?? []), r.value]);
      eachIntermediate(original, (now, step) => {
        const present = new Set<string>();
        for (const r of now) {
          if (r.key === "") continue; // a key emptied before its record was replaced
          const own = valuesOf.get(r.key) ?? [];
          if (!own.some((v) => r.value === v || r.value === provisionalCut(v, r.index))) {
            expect.fail(
              `step ${step}: ${r.key} at record ${r.index} reads ${r.value.slice(0, 12)}…, not its own value`,
            );
          }
          present.add(r.key);
        }
        // A record moves up only after the one before it has: none is ever missing.
        for (const k of keptKeys) if (!present.has(k)) expect.fail(`step ${step}: ${k} is missing`);
      });
    },
    60_000,
  );

  it("setting many values leaves every key reading its old value, its new one or a cut of the new one", async () => {
    writeFileSync(file(), encodePool(records));
    const original = new Uint8Array(readFileSync(file()));
    const changes = records.map((r, i) => ({
      key: r.key,
      value: i % 2 ? "short" : `${i}:${"ßx中".repeat(150 + 13 * i)}`,
    }));
    await setRecords(poolTarget(1, dir), changes);
    eachIntermediate(original, (now, step) => {
      for (const r of now) {
        const old = records.find((o) => o.key === r.key)!.value;
        const next = changes.find((o) => o.key === r.key)!.value;
        expect([old, next, provisionalCut(next, r.index)], `step ${step}: ${r.key}`).toContain(r.value);
      }
    });
  });
});

/** Fills every field of `pool` after its NUL with bytes that differ from record to record (never NUL), as old writes leave them. */
function withGarbageAfterNuls(pool: Uint8Array): void {
  for (let at = 0; at < pool.length; at += RECORD_BYTES) {
    const noise = 1 + ((at / RECORD_BYTES) % 250);
    for (const [start, end] of [
      [at, at + KEY_FIELD_BYTES],
      [at + VALUE_FIELD_OFFSET, at + RECORD_BYTES],
    ] as const) {
      for (let i = pool.indexOf(0, start) + 1; i < end; i++) pool[i] = noise;
    }
  }
}
