import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECORD_BYTES } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LockedPool } from "./pool-io.js";
import type { PlannedWrite } from "./record-write-plan.js";
import { ShiftWriter } from "./shift-writer.js";

const sent = vi.hoisted(() => [] as { offset: number; length: number }[]);

vi.mock("./pool-io.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./pool-io.js")>();
  return {
    ...actual,
    applyWrites: (pool: LockedPool, writes: readonly PlannedWrite[]) => {
      for (const w of writes) sent.push({ offset: w.offset, length: w.bytes.length });
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
});
