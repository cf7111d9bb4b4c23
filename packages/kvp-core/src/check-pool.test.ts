/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CheckOptions,
  DEFAULT_MAX_DIAGNOSTICS_PER_CODE,
  type PoolDiagnostic,
  PoolChecker,
  checkPool,
  garbageAfterNul,
} from "./check-pool.js";
import { RECORD_BYTES, VALUE_FIELD_OFFSET } from "./layout.js";
import { encodeRecord } from "./record.js";
import { concatBytes, fromHex, rawRecord, repeatByte } from "@hyperv-kvp/test-support";
import { readSample } from "../test-support/samples.js";

const GRIN = "\u{1F600}";
const rec = (key: string, value = "v") => encodeRecord({ key, value });
const at = (index: number, within = 0) => index * RECORD_BYTES + within;

/** The diagnostics without their messages, for compact comparisons. */
function brief(diagnostics: readonly PoolDiagnostic[]) {
  return diagnostics.map(({ message: _message, ...rest }) => rest);
}

const MSG = {
  unterminatedKey: "key field has no NUL in its 512 bytes (the kernel reads past it)",
  unterminatedValue: "value field has no NUL in its 2048 bytes (the kernel reads past it)",
  hostStops: ": the host gets an error here and stops enumerating the pool",
  emptyKey: "empty key: the host sees an item with an empty name",
  emptyRecord:
    "empty key and empty value (an all-zero record is one): not a deletion, the host sees an item with an empty name",
};

describe("checkPool on the sample pools", () => {
  it.each([
    { name: "fedoravm", key: "Hostname", keyGarbage: 8, valueGarbage: 177 },
    { name: "centosvm", key: "Hostname", keyGarbage: 64, valueGarbage: 103 },
  ] as const)(
    "$name: garbage after the NULs as NOTICE.md counts it (key $keyGarbage, value $valueGarbage)",
    ({ name, key, keyGarbage, valueGarbage }) => {
      const report = checkPool(readSample(name));
      const total = keyGarbage + valueGarbage;
      expect(report).toEqual({
        records: 1,
        trailingBytes: 0,
        visibleToHost: 1,
        errors: 0,
        warnings: 0,
        diagnostics: [
          {
            code: "garbage-after-nul",
            severity: "info",
            index: 0,
            offset: 0,
            key,
            count: total,
            message: `${total} non-zero byte(s) after the NULs (key ${keyGarbage}, value ${valueGarbage}): ignored, as the daemon leaves old data there`,
          },
        ],
      });
    },
  );

  it("testpool: clean, nothing to report", () => {
    expect(checkPool(readSample("testpool"))).toEqual({
      records: 2,
      trailingBytes: 0,
      visibleToHost: 2,
      errors: 0,
      warnings: 0,
      diagnostics: [],
    });
  });

  it("an empty pool", () => {
    expect(checkPool(new Uint8Array(0))).toEqual({
      records: 0,
      trailingBytes: 0,
      visibleToHost: 0,
      errors: 0,
      warnings: 0,
      diagnostics: [],
    });
  });
});

describe("garbageAfterNul", () => {
  it.each([
    { name: "clean field", bytes: "61 00 00 00", start: 0, size: 4, text: 1, count: 0 },
    { name: "no NUL at all", bytes: "61 62 63", start: 0, size: 3, text: 3, count: 0 },
    { name: "old value's tail", bytes: "61 00 62 00 63", start: 0, size: 5, text: 1, count: 2 },
    {
      name: "zeros among the garbage are not counted",
      bytes: "00 ff 00 00 ff 00",
      start: 0,
      size: 6,
      text: 0,
      count: 2,
    },
    { name: "the NUL itself is not garbage", bytes: "6b 00 00", start: 0, size: 3, text: 1, count: 0 },
    { name: "a field inside a larger array", bytes: "ff ff 00 ff 41 00 ff", start: 2, size: 4, text: 0, count: 2 },
    { name: "a field running past the array", bytes: "61 00 ff", start: 0, size: 10, text: 1, count: 1 },
  ])("$name → $count", ({ bytes, start, size, text, count }) => {
    expect(garbageAfterNul(fromHex(bytes), start, size, text)).toBe(count);
  });

  it("counts a shortened value's leftover tail", () => {
    // The daemon writes "short\0" over "short-longer-value\0": the tail keeps 13 old bytes.
    const record = rawRecord("k", "short\0-longer-value");
    const report = checkPool(record);
    expect(brief(report.diagnostics)).toEqual([
      { code: "garbage-after-nul", severity: "info", index: 0, offset: 0, key: "k", count: 13 },
    ]);
    expect(report.diagnostics[0]!.message).toContain("(key 0, value 13)");
  });
});

describe("checkPool: each diagnostic", () => {
  it("trailing-fragment: index and offset where the next record would start", () => {
    const report = checkPool(concatBytes(readSample("testpool"), repeatByte(0x41, 77)));
    expect(report.records).toBe(2);
    expect(report.trailingBytes).toBe(77);
    expect(report.diagnostics).toEqual([
      {
        code: "trailing-fragment",
        severity: "warning",
        index: 2,
        offset: 5120,
        count: 77,
        message:
          "trailing fragment of 77 bytes after the last whole record (ignored by the daemon, dropped at its next rewrite)",
      },
    ]);
    expect([report.errors, report.warnings, report.visibleToHost]).toEqual([0, 1, 2]);
  });

  it("trailing-fragment on its own: record 0, offset 0", () => {
    const report = checkPool(new Uint8Array(100));
    expect(brief(report.diagnostics)).toEqual([
      { code: "trailing-fragment", severity: "warning", index: 0, offset: 0, count: 100 },
    ]);
    expect(report.records).toBe(0);
  });

  it("unterminated-key (and the host truncation that comes with 512 units)", () => {
    const report = checkPool(concatBytes(rec("ok"), rawRecord(repeatByte(0x6b, 512), "v")));
    expect(report.diagnostics).toEqual([
      {
        code: "unterminated-key",
        severity: "error",
        index: 1,
        offset: at(1),
        key: "k".repeat(512),
        message: MSG.unterminatedKey,
      },
      {
        code: "host-truncated-key",
        severity: "warning",
        index: 1,
        offset: at(1),
        key: "k".repeat(512),
        message: "key is 512 UTF-16 units: the host sees only the first 254",
      },
    ]);
    expect([report.errors, report.warnings]).toEqual([1, 1]);
  });

  it("unterminated-value, located at the value field", () => {
    const report = checkPool(concatBytes(rec("a"), rec("b"), rawRecord("k", repeatByte(0x76, 2048))), {
      hostReads: false,
    });
    expect(report.diagnostics).toEqual([
      {
        code: "unterminated-value",
        severity: "error",
        index: 2,
        offset: at(2, 512),
        key: "k",
        message: MSG.unterminatedValue,
      },
    ]);
  });

  it("invalid-utf8 in a key: offset of the bad byte, then hidden-from-host for the records after it", () => {
    const pool = concatBytes(rec("first"), rawRecord(fromHex("61 62 ff 63 64"), "v"), rec("third"), rec("fourth"));
    const report = checkPool(pool);
    expect(report.diagnostics).toEqual([
      {
        code: "invalid-utf8",
        severity: "error",
        index: 1,
        offset: at(1, 2),
        key: "ab\uFFFDcd",
        message: "key is not valid UTF-8 (byte 0xff)" + MSG.hostStops,
      },
      {
        code: "hidden-from-host",
        severity: "error",
        index: 2,
        offset: at(2),
        count: 2,
        message:
          "2 record(s) after the invalid UTF-8 in record 1 are invisible to the host (it stops enumerating there)",
      },
    ]);
    expect(report.visibleToHost).toBe(1);
    expect([report.errors, report.warnings]).toEqual([2, 0]);
  });

  it.each([
    { name: "overlong C0 80", value: "76 61 6c 75 65 c0 80", bad: 5, byte: "0xc0" },
    { name: "encoded surrogate ED A0 80", value: "ed a0 80", bad: 0, byte: "0xed" },
    { name: "past U+10FFFF", value: "41 f4 90 80 80", bad: 1, byte: "0xf4" },
    { name: "stray continuation", value: "c3 a9 a9", bad: 2, byte: "0xa9" },
    { name: "sequence cut by the NUL", value: "41 42 e2 82", bad: 2, byte: "0xe2" },
  ])("invalid-utf8 in a value ($name): offset points at the bad byte", ({ value, bad, byte }) => {
    const report = checkPool(concatBytes(rec("a"), rawRecord("k", fromHex(value))));
    expect(brief(report.diagnostics)).toEqual([
      { code: "invalid-utf8", severity: "error", index: 1, offset: at(1, VALUE_FIELD_OFFSET + bad), key: "k" },
    ]);
    expect(report.diagnostics[0]!.message).toBe(`value is not valid UTF-8 (byte ${byte})` + MSG.hostStops);
    const bytes = concatBytes(rec("a"), rawRecord("k", fromHex(value)));
    expect(bytes[report.diagnostics[0]!.offset]!.toString(16)).toBe(byte.slice(2));
    expect(report.visibleToHost).toBe(1);
  });

  it("invalid-utf8 in both fields: one finding, at the key", () => {
    const report = checkPool(rawRecord(fromHex("6b ff"), fromHex("ff")));
    expect(brief(report.diagnostics)).toEqual([
      { code: "invalid-utf8", severity: "error", index: 0, offset: 1, key: "k\uFFFD" },
    ]);
  });

  it("hidden-from-host counts every record after the first invalid one, whatever follows", () => {
    const bad = rawRecord(fromHex("ff"));
    const report = checkPool(concatBytes(bad, rec("a"), bad, rec("b"), repeatByte(1, 10)));
    const codes = report.diagnostics.map((d) => [d.code, d.index, d.offset, d.count]);
    expect(codes).toEqual([
      ["invalid-utf8", 0, 0, undefined],
      ["hidden-from-host", 1, at(1), 3],
      ["invalid-utf8", 2, at(2), undefined],
      ["trailing-fragment", 4, at(4), 10],
    ]);
    expect(report.visibleToHost).toBe(0);
    expect(report.diagnostics[1]!.message).toBe(
      "3 record(s) after the invalid UTF-8 in record 0 are invisible to the host (it stops enumerating there)",
    );
  });

  it("invalid UTF-8 past the host's cut is a warning: the kernel never reaches it", () => {
    // 1022 ASCII units fill the host's value limit; the bad byte after them is never converted.
    const value = new Uint8Array(1100).fill(0x61);
    value[1050] = 0xff;
    const bad = rawRecord("k", value);
    const report = checkPool(concatBytes(bad, rec("after")));
    expect(report.diagnostics.map((d) => [d.code, d.severity, d.offset])).toEqual([
      ["host-truncated-value", "warning", VALUE_FIELD_OFFSET],
      ["invalid-utf8", "warning", VALUE_FIELD_OFFSET + 1050],
    ]);
    expect(report.visibleToHost).toBe(2);
    // One byte earlier, the kernel meets it before the cut and the host stops there.
    const early = new Uint8Array(1100).fill(0x61);
    early[1000] = 0xff;
    const stopped = checkPool(concatBytes(rawRecord("k", early), rec("after")));
    expect(stopped.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["invalid-utf8", "error"],
      ["hidden-from-host", "error"],
    ]);
    expect(stopped.visibleToHost).toBe(0);
  });

  it("no hidden-from-host when the invalid record is the last one", () => {
    const report = checkPool(concatBytes(rec("a"), rec("b"), rawRecord("c", fromHex("ff"))));
    expect(report.diagnostics.map((d) => d.code)).toEqual(["invalid-utf8"]);
    expect(report.visibleToHost).toBe(2);
  });

  it("hostReads false: invalid UTF-8 is still an error, but nothing is said about the host", () => {
    const report = checkPool(concatBytes(rawRecord("a", fromHex("ff")), rec("b")), { hostReads: false });
    expect(report.diagnostics).toEqual([
      {
        code: "invalid-utf8",
        severity: "error",
        index: 0,
        offset: 512,
        key: "a",
        message: "value is not valid UTF-8 (byte 0xff)",
      },
    ]);
  });

  it("empty-key, for a key with a value and for an all-zero record", () => {
    const report = checkPool(concatBytes(rec("a"), rawRecord("", "value"), new Uint8Array(RECORD_BYTES)));
    expect(report.diagnostics).toEqual([
      { code: "empty-key", severity: "warning", index: 1, offset: at(1), key: "", message: MSG.emptyKey },
      { code: "empty-key", severity: "warning", index: 2, offset: at(2), key: "", message: MSG.emptyRecord },
    ]);
    // Not a deletion: the record is still counted and visible.
    expect([report.records, report.visibleToHost, report.warnings]).toEqual([3, 3, 2]);
  });

  it("empty keys are not reported as duplicates of each other", () => {
    const zero = new Uint8Array(RECORD_BYTES);
    expect(checkPool(concatBytes(zero, zero)).diagnostics.map((d) => [d.code, d.index])).toEqual([
      ["empty-key", 0],
      ["empty-key", 1],
    ]);
  });

  it("duplicate-key with firstIndex", () => {
    const report = checkPool(concatBytes(rec("A"), rec("B"), rec("A", "other")));
    expect(report.diagnostics).toEqual([
      {
        code: "duplicate-key",
        severity: "warning",
        index: 2,
        offset: at(2),
        key: "A",
        firstIndex: 0,
        message: "duplicate key (first at record 0): lookups see only the first, the host enumerates both",
      },
    ]);
  });

  it("duplicate-key-case with firstIndex, and exact duplicates of a case variant", () => {
    const report = checkPool(concatBytes(rec("Host"), rec("host"), rec("HOST"), rec("host"), rec("other")));
    expect(brief(report.diagnostics)).toEqual([
      { code: "duplicate-key-case", severity: "warning", index: 1, offset: at(1), key: "host", firstIndex: 0 },
      { code: "duplicate-key-case", severity: "warning", index: 2, offset: at(2), key: "HOST", firstIndex: 0 },
      { code: "duplicate-key", severity: "warning", index: 3, offset: at(3), key: "host", firstIndex: 1 },
    ]);
    expect(report.diagnostics[0]!.message).toBe(
      "key differs only in case from record 0: case-insensitive readers see only one of them",
    );
  });

  it("a valid key with an invalid value still counts for duplicates", () => {
    const report = checkPool(concatBytes(rawRecord("k", fromHex("ff")), rec("K"), rec("k")));
    expect(brief(report.diagnostics)).toEqual([
      { code: "invalid-utf8", severity: "error", index: 0, offset: 512, key: "k" },
      { code: "duplicate-key-case", severity: "warning", index: 1, offset: at(1), key: "K", firstIndex: 0 },
      { code: "hidden-from-host", severity: "error", index: 1, offset: at(1), count: 2 },
      { code: "duplicate-key", severity: "warning", index: 2, offset: at(2), key: "k", firstIndex: 0 },
    ]);
  });

  it("keys with invalid UTF-8 are never duplicates (their text is only an approximation)", () => {
    const report = checkPool(concatBytes(rawRecord(fromHex("61 ff")), rawRecord(fromHex("61 fe")), rec("a\uFFFD")));
    expect(report.diagnostics.map((d) => d.code)).toEqual(["invalid-utf8", "hidden-from-host", "invalid-utf8"]);
  });

  const hostCases: { name: string; key: string; value: string; code?: string; offset?: number; message?: string }[] = [
    { name: "key of 254 units", key: "k".repeat(254), value: "v" },
    {
      name: "key of 255 units",
      key: "k".repeat(255),
      value: "v",
      code: "host-truncated-key",
      offset: 0,
      message: "key is 255 UTF-16 units: the host sees only the first 254",
    },
    { name: "key of 127 surrogate pairs (254 units)", key: GRIN.repeat(127), value: "v" },
    {
      name: "key of 127 surrogate pairs + 1 (255 units)",
      key: GRIN.repeat(127) + "k",
      value: "v",
      code: "host-truncated-key",
      offset: 0,
      message: "key is 255 UTF-16 units: the host sees only the first 254",
    },
    { name: "value of 1022 units", key: "k", value: "v".repeat(1022) },
    {
      name: "value of 1023 units",
      key: "k",
      value: "v".repeat(1023),
      code: "host-truncated-value",
      offset: 512,
      message: "value is 1023 UTF-16 units: the host sees only the first 1022",
    },
    { name: "value of 511 surrogate pairs (1022 units)", key: "k", value: GRIN.repeat(511) },
    {
      name: "value of 511 surrogate pairs + 1 (1023 units)",
      key: "k",
      value: GRIN.repeat(511) + "v",
      code: "host-truncated-value",
      offset: 512,
      message: "value is 1023 UTF-16 units: the host sees only the first 1022",
    },
  ];

  it.each(hostCases)("host limits: $name", ({ key, value, code, offset, message }) => {
    const bytes = encodeRecord({ key, value });
    for (const options of [{}, { hostReads: true }] as CheckOptions[]) {
      const report = checkPool(bytes, options);
      if (code === undefined) {
        expect(report.diagnostics).toEqual([]);
      } else {
        expect(report.diagnostics).toEqual([{ code, severity: "warning", index: 0, offset, key, message }]);
      }
    }
    // Pools the host writes are only checked for format.
    expect(checkPool(bytes, { hostReads: false }).diagnostics).toEqual([]);
  });

  it("diagnostics come sorted by offset, with errors and warnings counted", () => {
    const pool = concatBytes(rawRecord("k", repeatByte(0x76, 2048)), rawRecord(""), rec("k"), repeatByte(9, 3));
    const report = checkPool(pool);
    const offsets = report.diagnostics.map((d) => d.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(report.diagnostics.map((d) => d.code)).toEqual([
      "unterminated-value",
      "host-truncated-value",
      "empty-key",
      "duplicate-key",
      "trailing-fragment",
    ]);
    expect([report.errors, report.warnings]).toEqual([1, 4]);
  });
});

/** A pool with one of almost everything, and a trailing fragment of 77 bytes. */
function messyPool(): Uint8Array {
  return concatBytes(
    rec("Hostname", "x"), // 0
    rec("hostname", "y"), // 1 duplicate-key-case of 0
    rawRecord(repeatByte(0x6b, 512), "v"), // 2 unterminated-key + host-truncated-key
    rawRecord("a", fromHex("61 ff")), // 3 invalid-utf8 → 4..8 hidden from the host
    new Uint8Array(RECORD_BYTES), // 4 empty-key (all zero)
    rec("Hostname", "z"), // 5 duplicate-key of 0
    rawRecord(fromHex("6b 00 41 42 00 43"), fromHex("76 00 ff")), // 6 garbage: key 3, value 1
    rawRecord("v", repeatByte(0x76, 2048)), // 7 unterminated-value + host-truncated-value
    rec("long", "x".repeat(1023)), // 8 host-truncated-value
    repeatByte(0x5a, 77),
  );
}

describe("checkPool: a pool with every kind of finding", () => {
  it("reports each with its record index, byte offset and counts", () => {
    const report = checkPool(messyPool());
    expect(brief(report.diagnostics)).toEqual([
      { code: "duplicate-key-case", severity: "warning", index: 1, offset: at(1), key: "hostname", firstIndex: 0 },
      { code: "unterminated-key", severity: "error", index: 2, offset: at(2), key: "k".repeat(512) },
      { code: "host-truncated-key", severity: "warning", index: 2, offset: at(2), key: "k".repeat(512) },
      { code: "invalid-utf8", severity: "error", index: 3, offset: at(3, 513), key: "a" },
      { code: "empty-key", severity: "warning", index: 4, offset: at(4), key: "" },
      { code: "hidden-from-host", severity: "error", index: 4, offset: at(4), count: 5 },
      { code: "duplicate-key", severity: "warning", index: 5, offset: at(5), key: "Hostname", firstIndex: 0 },
      { code: "garbage-after-nul", severity: "info", index: 6, offset: at(6), key: "k", count: 4 },
      { code: "unterminated-value", severity: "error", index: 7, offset: at(7, 512), key: "v" },
      { code: "host-truncated-value", severity: "warning", index: 7, offset: at(7, 512), key: "v" },
      { code: "host-truncated-value", severity: "warning", index: 8, offset: at(8, 512), key: "long" },
      { code: "trailing-fragment", severity: "warning", index: 9, offset: at(9), count: 77 },
    ]);
    expect(report.diagnostics.find((d) => d.code === "garbage-after-nul")!.message).toContain("(key 3, value 1)");
    expect(report.records).toBe(9);
    expect(report.trailingBytes).toBe(77);
    expect(report.visibleToHost).toBe(3);
    expect([report.errors, report.warnings]).toEqual([4, 7]);
  });

  it("with hostReads false, drops the host findings only", () => {
    const report = checkPool(messyPool(), { hostReads: false });
    expect(report.diagnostics.map((d) => d.code)).toEqual([
      "duplicate-key-case",
      "unterminated-key",
      "invalid-utf8",
      "empty-key",
      "duplicate-key",
      "garbage-after-nul",
      "unterminated-value",
      "trailing-fragment",
    ]);
  });
});

describe("PoolChecker", () => {
  const pool = messyPool();
  const whole = Math.floor(pool.length / RECORD_BYTES) * RECORD_BYTES;

  /** Feeds `pool` in chunks cut at the given record boundaries; the last chunk carries the fragment. */
  function checkInChunks(cuts: number[], options?: CheckOptions) {
    const checker = new PoolChecker(options);
    const bounds = [0, ...cuts.map((c) => c * RECORD_BYTES), pool.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      checker.addChunk(pool.subarray(bounds[i], bounds[i + 1]), bounds[i]! / RECORD_BYTES);
    }
    return checker.finish(pool.length - whole);
  }

  it.each([1, 2, 3, 4, 5, 9, 20])("fed %i record(s) at a time gives the same report as checkPool", (size) => {
    const cuts: number[] = [];
    for (let c = size; c < 9; c += size) cuts.push(c);
    expect(checkInChunks(cuts)).toEqual(checkPool(pool));
    expect(checkInChunks(cuts, { hostReads: false })).toEqual(checkPool(pool, { hostReads: false }));
  });

  it("with empty chunks in between, too", () => {
    expect(checkInChunks([0, 3, 3, 3, 7, 9])).toEqual(checkPool(pool));
  });

  it("any split at record boundaries gives the same report", () => {
    const expected = checkPool(pool);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 8 }), (cuts) => {
        expect(checkInChunks([...cuts].sort((a, b) => a - b))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it("finish can be called twice without repeating findings", () => {
    const checker = new PoolChecker();
    checker.addChunk(pool, 0);
    const first = checker.finish(77);
    const second = checker.finish(77);
    expect(second).toEqual(first);
    expect(second.diagnostics).not.toBe(first.diagnostics);
  });
});

describe("checkPool: properties", () => {
  const segment = fc.oneof(
    fc.string({ unit: "binary", maxLength: 12 }).map((s) => new TextEncoder().encode(s)),
    fc.uint8Array({ maxLength: 6 }),
    fc.integer({ min: 1, max: 900 }).map((n) => new Uint8Array(n)),
    fc.constantFrom(fromHex("ff"), fromHex("c0 80"), fromHex("ed a0 80"), fromHex("e2 82")),
  );
  const anyPool = fc.oneof(
    fc.uint8Array({ maxLength: 3 * RECORD_BYTES + 100 }),
    fc.array(segment, { maxLength: 60 }).map((parts) => concatBytes(...parts)),
  );

  it("never throws on arbitrary bytes, and its report is self-consistent", () => {
    fc.assert(
      fc.property(anyPool, fc.boolean(), (bytes, hostReads) => {
        const report = checkPool(bytes, { hostReads });
        expect(report.records * RECORD_BYTES + report.trailingBytes).toBe(bytes.length);
        expect(report.visibleToHost).toBeLessThanOrEqual(report.records);
        expect(report.errors).toBe(report.diagnostics.filter((d) => d.severity === "error").length);
        expect(report.warnings).toBe(report.diagnostics.filter((d) => d.severity === "warning").length);
        const offsets = report.diagnostics.map((d) => d.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        for (const d of report.diagnostics) {
          // Every finding lies inside its record (a fragment starts where its record would).
          expect(d.offset).toBeGreaterThanOrEqual(d.index * RECORD_BYTES);
          expect(d.offset).toBeLessThan(d.index * RECORD_BYTES + RECORD_BYTES);
          if (d.code === "invalid-utf8") expect(bytes[d.offset]).toBeGreaterThanOrEqual(0x80);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("bounded findings", () => {
  const zeros = (records: number) => new Uint8Array(records * RECORD_BYTES);

  it("lists at most maxDiagnosticsPerCode findings of a code and counts the rest", () => {
    const report = checkPool(zeros(5), { maxDiagnosticsPerCode: 2 });
    expect(report.diagnostics.map((d) => [d.code, d.index])).toEqual([
      ["empty-key", 0],
      ["empty-key", 1],
    ]);
    expect(report).toMatchObject({ records: 5, warnings: 5, errors: 0, omitted: { "empty-key": 3 } });
  });

  it(`lists ${DEFAULT_MAX_DIAGNOSTICS_PER_CODE} per code by default, so a huge pool of all-zero records stays small`, () => {
    const report = checkPool(zeros(DEFAULT_MAX_DIAGNOSTICS_PER_CODE + 7));
    expect(report.diagnostics).toHaveLength(DEFAULT_MAX_DIAGNOSTICS_PER_CODE);
    expect(report.warnings).toBe(DEFAULT_MAX_DIAGNOSTICS_PER_CODE + 7);
    expect(report.omitted).toEqual({ "empty-key": 7 });
  });

  it("counts omitted errors as errors, and lists findings once per code", () => {
    const bad = new Uint8Array(RECORD_BYTES).fill(0x61); // neither field has a NUL
    const report = checkPool(new Uint8Array([...bad, ...bad, ...bad]), { maxDiagnosticsPerCode: 1 });
    expect(report.diagnostics.map((d) => [d.code, d.index])).toEqual([
      ["unterminated-key", 0],
      ["host-truncated-key", 0],
      ["unterminated-value", 0],
      ["host-truncated-value", 0],
      ["duplicate-key", 1],
    ]);
    expect([report.errors, report.warnings]).toEqual([6, 8]);
    expect(report.omitted).toEqual({
      "unterminated-key": 2,
      "unterminated-value": 2,
      "host-truncated-key": 2,
      "host-truncated-value": 2,
      "duplicate-key": 1,
    });
  });

  it("has no omitted field when everything is listed, and Infinity lists everything", () => {
    expect(checkPool(zeros(3), { maxDiagnosticsPerCode: 3 })).not.toHaveProperty("omitted");
    expect(checkPool(zeros(1200), { maxDiagnosticsPerCode: Number.POSITIVE_INFINITY }).diagnostics).toHaveLength(1200);
  });
});
