import { describe, expect, it } from "vitest";
import {
  KEY_BYTES,
  RECORD_SIZE,
  concatBytes,
  expectedPool,
  freshRecord,
  fromHex,
  knownMismatches,
  knownRecord,
  rawRecord,
  toHex,
} from "./pool-bytes.js";
import { thrown } from "./thrown.js";

describe("pool bytes", () => {
  it("places key and value at their offsets, zeros elsewhere", () => {
    const record = rawRecord("k\0x", fromHex("ff 00 01"));
    expect(record.length).toBe(RECORD_SIZE);
    expect(toHex(record.subarray(0, 4))).toBe("6b007800");
    expect(toHex(record.subarray(KEY_BYTES, KEY_BYTES + 4))).toBe("ff000100");
    expect(record.filter((b) => b !== 0).length).toBe(4);
  });

  it("refuses fields that do not fit, and hex that is not hex", () => {
    expect(thrown(() => rawRecord("k".repeat(KEY_BYTES + 1)), Error).message).toBe("field too long");
    expect(thrown(() => fromHex("abc"), Error).message).toBe("bad hex: abc");
    expect(thrown(() => fromHex("zz"), Error).message).toBe("bad hex: zz");
  });

  it("ignores unknown bytes of fresh records and reports determined ones by record and byte", () => {
    const expected = expectedPool(knownRecord("a", "1"), freshRecord("b\0", "2\0"));
    const actual = concatBytes(rawRecord("a", "1"), rawRecord("b\0garbage", "2\0garbage"));
    expect(knownMismatches(actual, expected)).toEqual([]);
    actual[RECORD_SIZE + KEY_BYTES] = 0x33;
    expect(knownMismatches(actual, expected)).toEqual([
      `offset ${RECORD_SIZE + KEY_BYTES} (record 1 byte 512): 0x33, want 0x32`,
    ]);
    expect(knownMismatches(actual.subarray(0, RECORD_SIZE), expected)[0]).toBe(
      `length ${RECORD_SIZE}, want ${2 * RECORD_SIZE}`,
    );
  });
});
