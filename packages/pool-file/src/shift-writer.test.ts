import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECORD_BYTES, encodeRecord } from "@hyperv-kvp/kvp-core";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LockedPool } from "./pool-io.js";
import { type PlannedWrite, keyPageShiftEndsKeyFirst, planChangedShift } from "./record-write-plan.js";
import { ShiftWriter } from "./shift-writer.js";

const sent = vi.hoisted(() => [] as { offset: number; length: number; bytes: Uint8Array }[]);

vi.mock("./pool-io.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./pool-io.js")>();
  return {
    ...actual,
    applyWrites: (pool: LockedPool, writes: readonly PlannedWrite[]) => {
      for (const w of writes) sent.push({ offset: w.offset, length: w.bytes.length, bytes: w.bytes.slice() });
      actual.applyWrites(pool, writes);
    },
  };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "shift-writer-"));
  sent.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ShiftWriter", () => {
  it("sends a full buffer between whole records, even when its first write began inside one", () => {
    const file = join(dir, "pool");
    const count = 400;
    writeFileSync(file, new Uint8Array((count + 1) * RECORD_BYTES));
    const fd = openSync(file, "r+");
    try {
      const writer = new ShiftWriter({ fd } as LockedPool);
      // Slot 1 (offset 2560) through a plan whose one write is its tail (from 4096 on): the
      // gathered bytes start inside the slot, 1536 bytes past a record boundary.
      const before = new Uint8Array(RECORD_BYTES);
      const after = new Uint8Array(RECORD_BYTES).fill(1);
      after.fill(0, 0, 1536);
      writer.addPlan(RECORD_BYTES, before, after, [{ offset: 4096, bytes: after.subarray(1536) }]);
      const records = new Uint8Array((count - 1) * RECORD_BYTES).fill(2);
      writer.addRecords(2 * RECORD_BYTES, records);
      writer.flush();
      expect(sent.length).toBeGreaterThan(1);
      for (const w of sent) expect((w.offset + w.length) % RECORD_BYTES, `write at ${w.offset}`).toBe(0);
      const bytes = new Uint8Array(readFileSync(file));
      expect(bytes.subarray(RECORD_BYTES, 2 * RECORD_BYTES)).toEqual(after);
      expect(bytes.subarray(2 * RECORD_BYTES, (count + 1) * RECORD_BYTES).every((b) => b === 2)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it("writes a slot whose key fills the first page's part by addKeyPageShift exactly as addPlan does with its plan", () => {
    const file = join(dir, "pool");
    const text = fc.string({ unit: fc.constantFrom("a", "b", "é", "😀"), minLength: 1, maxLength: 300 });
    const slot = 3 * RECORD_BYTES; // 512 bytes before the page end at 8192
    fc.assert(
      fc.property(text, text, text, text, fc.boolean(), (k1, v1, k2, v2, after) => {
        const before = encodeRecord({ key: k1, value: v1 });
        const next = encodeRecord({ key: k2, value: v2 });
        fc.pre(keyPageShiftEndsKeyFirst(before, next));
        const neighbour = new Uint8Array(3 * RECORD_BYTES).fill(7);
        const run = (add: (writer: ShiftWriter) => void) => {
          writeFileSync(file, new Uint8Array(6 * RECORD_BYTES));
          sent.length = 0;
          const fd = openSync(file, "r+");
          try {
            const writer = new ShiftWriter({ fd } as LockedPool);
            writer.addRecords(0, neighbour); // gathered before the slot
            add(writer);
            if (after) writer.addRecords(slot + RECORD_BYTES, neighbour.subarray(0, RECORD_BYTES));
            writer.flush();
          } finally {
            closeSync(fd);
          }
          return {
            writes: sent.map((w) => ({ offset: w.offset, bytes: Buffer.from(w.bytes) })),
            file: readFileSync(file),
          };
        };
        const byPlan = run((w) => w.addPlan(slot, before, next, planChangedShift(slot, before, next)));
        const direct = run((w) => w.addKeyPageShift(slot, before, next));
        // Compared here: toEqual walks big buffers byte by byte.
        const same =
          direct.file.equals(byPlan.file) &&
          direct.writes.length === byPlan.writes.length &&
          direct.writes.every(
            (w, i) => w.offset === byPlan.writes[i]!.offset && w.bytes.equals(byPlan.writes[i]!.bytes),
          );
        return same && byPlan.writes.length > 1;
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
