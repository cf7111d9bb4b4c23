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
 * sees after each one (all of them whole, terminated, valid UTF-8).
 */
function eachIntermediate(original: Uint8Array, check: (records: DecodedRecord[], step: number) => void) {
  const state = original.slice();
  recorded.forEach((w, step) => {
    state.set(w.bytes, w.offset);
    const { records: now } = decodePool(state.subarray(0, state.length - (state.length % RECORD_BYTES)));
    for (const r of now) {
      expect(r.keyTerminated && r.valueTerminated && r.validUtf8, `step ${step}: record ${r.index} is whole`).toBe(
        true,
      );
    }
    check(now, step);
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
