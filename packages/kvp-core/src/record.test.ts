/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KvpError, isKvpError } from "./errors.js";
import {
  HOST_MAX_KEY_UNITS,
  HOST_MAX_VALUE_UNITS,
  KEY_FIELD_BYTES,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
} from "./layout.js";
import {
  type EncodeRecordOptions,
  type KvpRecord,
  assertHostVisible,
  decodePool,
  decodeRecord,
  encodePool,
  encodeRecord,
  fieldTextLength,
  mayHoldLogicalKey,
  recordsThatMayHold,
  isHostVisible,
  validateRecord,
} from "./record.js";
import { concatBytes, fromHex, rawRecord, repeatByte, thrown, utf8 } from "@hyperv-kvp/test-support";
import { readSample } from "../test-support/samples.js";
import { findInvalidUtf8, findLoneSurrogate } from "./utf8.js";

/** The record a correct encoder writes: key at 0, value at 512, NULs everywhere else. */
function expectedRecord(keyHex: string, valueHex: string): Uint8Array {
  return rawRecord(fromHex(keyHex), fromHex(valueHex));
}

const EURO = "\u20ac"; // 3 UTF-8 bytes, 1 UTF-16 unit
const E_ACUTE = "\u00e9"; // 2 UTF-8 bytes, 1 UTF-16 unit
const GRIN = "\u{1F600}"; // 4 UTF-8 bytes, 2 UTF-16 units (a surrogate pair)
const BOM = "\uFEFF";

describe("layout", () => {
  it("has the daemon's sizes", () => {
    expect([KEY_FIELD_BYTES, VALUE_FIELD_BYTES, RECORD_BYTES, VALUE_FIELD_OFFSET]).toEqual([512, 2048, 2560, 512]);
    expect([MAX_KEY_BYTES, MAX_VALUE_BYTES, HOST_MAX_KEY_UNITS, HOST_MAX_VALUE_UNITS]).toEqual([511, 2047, 254, 1022]);
  });
});

describe("encodeRecord: exact bytes", () => {
  const cases: { name: string; record: KvpRecord; key: string; value: string }[] = [
    {
      name: "ASCII",
      record: { key: "Hostname", value: "fedora-vm" },
      key: "48 6f 73 74 6e 61 6d 65",
      value: "66 65 64 6f 72 61 2d 76 6d",
    },
    { name: "empty value", record: { key: "k", value: "" }, key: "6b", value: "" },
    { name: "one-byte key and value", record: { key: "a", value: "b" }, key: "61", value: "62" },
    {
      name: "2-byte character",
      record: { key: E_ACUTE, value: "caf" + E_ACUTE },
      key: "c3 a9",
      value: "63 61 66 c3 a9",
    },
    { name: "3-byte character", record: { key: EURO, value: "5" + EURO }, key: "e2 82 ac", value: "35 e2 82 ac" },
    {
      name: "4-byte character (surrogate pair)",
      record: { key: GRIN, value: "x" + GRIN + "y" },
      key: "f0 9f 98 80",
      value: "78 f0 9f 98 80 79",
    },
    { name: "leading BOM is data", record: { key: BOM + "K", value: BOM }, key: "ef bb bf 4b", value: "ef bb bf" },
    { name: "U+0080 and U+10FFFF", record: { key: "\u0080", value: "\u{10FFFF}" }, key: "c2 80", value: "f4 8f bf bf" },
    {
      name: "spaces, = and newline are data",
      record: { key: " a=b ", value: "l1\nl2\t" },
      key: "20 61 3d 62 20",
      value: "6c 31 0a 6c 32 09",
    },
  ];

  it.each(cases)("$name", ({ record, key, value }) => {
    const bytes = encodeRecord(record);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(2560);
    expect(bytes).toEqual(expectedRecord(key, value));
    // Spelled out: the key starts at 0, the value at 512, and every other byte is NUL.
    const keyLength = fromHex(key).length;
    const valueLength = fromHex(value).length;
    expect(bytes.subarray(0, keyLength)).toEqual(fromHex(key));
    expect(bytes.subarray(keyLength, 512).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(512, 512 + valueLength)).toEqual(fromHex(value));
    expect(bytes.subarray(512 + valueLength).every((b) => b === 0)).toBe(true);
  });

  it.each(cases)("round trip: $name", ({ record, key, value }) => {
    const decoded = decodeRecord(encodeRecord(record));
    expect(decoded).toEqual({
      index: 0,
      offset: 0,
      key: record.key,
      value: record.value,
      keyBytes: fromHex(key).length,
      valueBytes: fromHex(value).length,
      keyTerminated: true,
      valueTerminated: true,
      validUtf8: true,
      keyValidUtf8: true,
    });
  });

  it("writes the clean sample pool byte for byte", () => {
    const records = [
      { key: "IpAddress", value: "10.0.75.128" },
      { key: "42", value: "Answer to the Ultimate Question of Life, the Universe, and Everything" },
    ];
    const file = readSample("testpool");
    expect(encodeRecord(records[0]!)).toEqual(file.subarray(0, RECORD_BYTES));
    expect(encodePool(records)).toEqual(file);
  });

  it("returns a new array each time", () => {
    const a = encodeRecord({ key: "k", value: "v" });
    const b = encodeRecord({ key: "k", value: "v" });
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });
});

describe("encodeRecord: limits", () => {
  const accepted: { name: string; record: KvpRecord; keyBytes: number; valueBytes: number }[] = [
    { name: "511 ASCII bytes of key", record: { key: "k".repeat(511), value: "" }, keyBytes: 511, valueBytes: 0 },
    {
      name: "511-byte key of 3-byte characters + 1 ASCII",
      record: { key: EURO.repeat(170) + "a", value: "v" },
      keyBytes: 511,
      valueBytes: 1,
    },
    {
      name: "511-byte key of 2-byte characters + 1 ASCII",
      record: { key: E_ACUTE.repeat(255) + "a", value: "v" },
      keyBytes: 511,
      valueBytes: 1,
    },
    {
      name: "511-byte key of 4-byte characters + 3 ASCII",
      record: { key: GRIN.repeat(127) + "abc", value: "v" },
      keyBytes: 511,
      valueBytes: 1,
    },
    { name: "2047 ASCII bytes of value", record: { key: "k", value: "v".repeat(2047) }, keyBytes: 1, valueBytes: 2047 },
    {
      name: "2047-byte value of 4-byte characters + 3 ASCII",
      record: { key: "k", value: GRIN.repeat(511) + "abc" },
      keyBytes: 1,
      valueBytes: 2047,
    },
    {
      name: "2047-byte value of 3-byte characters + 1 ASCII",
      record: { key: "k", value: EURO.repeat(682) + "a" },
      keyBytes: 1,
      valueBytes: 2047,
    },
    {
      name: "both at their limits",
      record: { key: "k".repeat(511), value: "v".repeat(2047) },
      keyBytes: 511,
      valueBytes: 2047,
    },
  ];

  it.each(accepted)("accepts $name and keeps a NUL at the end of each field", ({ record, keyBytes, valueBytes }) => {
    const bytes = encodeRecord(record);
    expect(bytes[keyBytes]).toBe(0);
    expect(bytes[VALUE_FIELD_OFFSET + valueBytes]).toBe(0);
    expect(bytes[KEY_FIELD_BYTES - 1]).toBe(0);
    expect(bytes[RECORD_BYTES - 1]).toBe(0);
    const decoded = decodeRecord(bytes);
    expect(decoded.key).toBe(record.key);
    expect(decoded.value).toBe(record.value);
    expect([decoded.keyBytes, decoded.valueBytes]).toEqual([keyBytes, valueBytes]);
    expect(decoded.keyTerminated && decoded.valueTerminated && decoded.validUtf8).toBe(true);
  });

  const rejected: { name: string; record: KvpRecord; options?: EncodeRecordOptions; code: string; message: string }[] =
    [
      { name: "empty key", record: { key: "", value: "v" }, code: "invalid-key", message: "invalid key: empty" },
      {
        name: "empty key and empty value",
        record: { key: "", value: "" },
        code: "invalid-key",
        message: "invalid key: empty",
      },
      {
        name: "key of 512 bytes",
        record: { key: "k".repeat(512), value: "v" },
        code: "invalid-key",
        message: "invalid key: longer than 511 bytes (512)",
      },
      {
        name: "key of 171 three-byte characters (513 bytes)",
        record: { key: EURO.repeat(171), value: "v" },
        code: "invalid-key",
        message: "invalid key: longer than 511 bytes (513)",
      },
      {
        name: "key of 170 three-byte characters + 2 ASCII (512 bytes)",
        record: { key: EURO.repeat(170) + "ab", value: "v" },
        code: "invalid-key",
        message: "invalid key: longer than 511 bytes (512)",
      },
      {
        name: "key of 128 four-byte characters (512 bytes)",
        record: { key: GRIN.repeat(128), value: "v" },
        code: "invalid-key",
        message: "invalid key: longer than 511 bytes (512)",
      },
      {
        name: "value of 2048 bytes",
        record: { key: "k", value: "v".repeat(2048) },
        code: "invalid-value",
        message: "invalid value: longer than 2047 bytes (2048)",
      },
      {
        name: "value of 511 four-byte characters + 4 ASCII (2048 bytes)",
        record: { key: "k", value: GRIN.repeat(511) + "abcd" },
        code: "invalid-value",
        message: "invalid value: longer than 2047 bytes (2048)",
      },
      {
        name: "value of 683 three-byte characters (2049 bytes)",
        record: { key: "k", value: EURO.repeat(683) },
        code: "invalid-value",
        message: "invalid value: longer than 2047 bytes (2049)",
      },
      {
        name: "NUL inside the key",
        record: { key: "ab\0cd", value: "v" },
        code: "invalid-key",
        message: "invalid key: contains NUL at character 2 (a field ends at its first NUL)",
      },
      {
        name: "NUL at the end of the key",
        record: { key: "k\0", value: "v" },
        code: "invalid-key",
        message: "invalid key: contains NUL at character 1 (a field ends at its first NUL)",
      },
      {
        name: "key that is only a NUL",
        record: { key: "\0", value: "v" },
        code: "invalid-key",
        message: "invalid key: contains NUL at character 0 (a field ends at its first NUL)",
      },
      {
        name: "NUL inside the value",
        record: { key: "k", value: "short\0-longer-value" },
        code: "invalid-value",
        message: "invalid value: contains NUL at character 5 (a field ends at its first NUL)",
      },
      {
        name: "lone high surrogate in the key",
        record: { key: "ab\uD800c", value: "v" },
        code: "invalid-key",
        message: "invalid key: lone surrogate U+D800 at character 2 has no UTF-8 form",
      },
      {
        name: "high surrogate at the end of the key",
        record: { key: "a\uD83D", value: "v" },
        code: "invalid-key",
        message: "invalid key: lone surrogate U+D83D at character 1 has no UTF-8 form",
      },
      {
        name: "lone low surrogate in the key",
        record: { key: "\uDC00", value: "v" },
        code: "invalid-key",
        message: "invalid key: lone surrogate U+DC00 at character 0 has no UTF-8 form",
      },
      {
        name: "lone low surrogate in the value, after a valid pair",
        record: { key: "k", value: GRIN + "\uDFFF" },
        code: "invalid-value",
        message: "invalid value: lone surrogate U+DFFF at character 1 has no UTF-8 form",
      },
      {
        name: "surrogates in the wrong order in the value",
        record: { key: "k", value: "x\uDE00\uD83D" },
        code: "invalid-value",
        message: "invalid value: lone surrogate U+DE00 at character 1 has no UTF-8 form",
      },
      {
        name: "lone high surrogate in the value",
        record: { key: "k", value: "abc\uDBFF" },
        code: "invalid-value",
        message: "invalid value: lone surrogate U+DBFF at character 3 has no UTF-8 form",
      },
      {
        name: "bad key and bad value: the key is reported",
        record: { key: "", value: "\0" },
        code: "invalid-key",
        message: "invalid key: empty",
      },
      {
        name: "key that is not a string",
        record: { key: 42 as unknown as string, value: "v" },
        code: "invalid-key",
        message: "invalid key: not a string",
      },
      {
        name: "value that is not a string",
        record: { key: "k", value: undefined as unknown as string },
        code: "invalid-value",
        message: "invalid value: not a string",
      },
    ];

  it.each(rejected)("rejects $name", ({ record, options, code, message }) => {
    const error = thrown(() => encodeRecord(record, options), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.name).toBe("KvpError");
    expect(isKvpError(error, code as KvpError["code"])).toBe(true);
    // validateRecord is the same check, without the bytes.
    expect(thrown(() => validateRecord(record, options), KvpError).message).toBe(message);
  });

  it("validateRecord returns the UTF-8 bytes it checked", () => {
    expect(validateRecord({ key: E_ACUTE, value: GRIN })).toEqual({
      key: fromHex("c3 a9"),
      value: fromHex("f0 9f 98 80"),
    });
  });
});

describe('encodeRecord: limits "host"', () => {
  const host: EncodeRecordOptions = { limits: "host" };
  const cases: { name: string; record: KvpRecord; error?: { code: string; message: string } }[] = [
    { name: "key of 254 UTF-16 units", record: { key: "k".repeat(254), value: "v" } },
    {
      name: "key of 255 UTF-16 units",
      record: { key: "k".repeat(255), value: "v" },
      error: {
        code: "invalid-key",
        message:
          "invalid key: longer than the host receives whole (255 UTF-16 units, limit 254; the host would see it truncated)",
      },
    },
    { name: "value of 1022 UTF-16 units", record: { key: "k", value: "v".repeat(1022) } },
    {
      name: "value of 1023 UTF-16 units",
      record: { key: "k", value: "v".repeat(1023) },
      error: {
        code: "invalid-value",
        message:
          "invalid value: longer than the host receives whole (1023 UTF-16 units, limit 1022; the host would see it truncated)",
      },
    },
    { name: "key of 127 surrogate pairs (254 units, 508 bytes)", record: { key: GRIN.repeat(127), value: "v" } },
    {
      name: "key of 127 surrogate pairs + 1 ASCII (255 units)",
      record: { key: GRIN.repeat(127) + "a", value: "v" },
      error: {
        code: "invalid-key",
        message:
          "invalid key: longer than the host receives whole (255 UTF-16 units, limit 254; the host would see it truncated)",
      },
    },
    {
      name: "key of 253 ASCII + 1 surrogate pair (255 units)",
      record: { key: "a".repeat(253) + GRIN, value: "v" },
      error: {
        code: "invalid-key",
        message:
          "invalid key: longer than the host receives whole (255 UTF-16 units, limit 254; the host would see it truncated)",
      },
    },
    { name: "key of 170 three-byte characters (170 units, 510 bytes)", record: { key: EURO.repeat(170), value: "v" } },
    { name: "value of 511 surrogate pairs (1022 units, 2044 bytes)", record: { key: "k", value: GRIN.repeat(511) } },
    {
      name: "value of 511 surrogate pairs + 1 ASCII (1023 units)",
      record: { key: "k", value: GRIN.repeat(511) + "a" },
      error: {
        code: "invalid-value",
        message:
          "invalid value: longer than the host receives whole (1023 UTF-16 units, limit 1022; the host would see it truncated)",
      },
    },
    {
      name: "key too long for the record: the byte limit is reported first",
      record: { key: EURO.repeat(254), value: "v" },
      error: { code: "invalid-key", message: "invalid key: longer than 511 bytes (762)" },
    },
    {
      name: "both over the host limits: the key is reported",
      record: { key: "k".repeat(300), value: "v".repeat(1500) },
      error: {
        code: "invalid-key",
        message:
          "invalid key: longer than the host receives whole (300 UTF-16 units, limit 254; the host would see it truncated)",
      },
    },
  ];

  it.each(cases)("$name", ({ record, error }) => {
    if (error) {
      const failure = thrown(() => encodeRecord(record, host), KvpError);
      expect({ code: failure.code, message: failure.message }).toEqual(error);
      // Only the host limits are broken unless the message names bytes: then "wire" fails too.
      // isHostVisible looks at UTF-16 units only, not at whether the record can be stored.
      expect(isHostVisible(record)).toBe(!error.message.includes("UTF-16"));
      if (error.message.includes("UTF-16")) {
        expect(decodeRecord(encodeRecord(record)).key).toBe(record.key);
        expect(decodeRecord(encodeRecord(record, { limits: "wire" })).value).toBe(record.value);
        expect(thrown(() => assertHostVisible(record), KvpError).message).toBe(error.message);
      }
    } else {
      const decoded = decodeRecord(encodeRecord(record, host));
      expect([decoded.key, decoded.value]).toEqual([record.key, record.value]);
      expect(isHostVisible(record)).toBe(true);
      expect(() => assertHostVisible(record)).not.toThrow();
    }
  });
});

describe("decodeRecord: the sample pools", () => {
  it("fedoravm: Hostname = fedora-vm, despite heap garbage after both NULs", () => {
    const file = readSample("fedoravm");
    expect(file.length).toBe(RECORD_BYTES);
    // The garbage is really there: a reader that ignores the first NUL would see it.
    expect(file.subarray(9, KEY_FIELD_BYTES).some((b) => b !== 0)).toBe(true);
    expect(file.subarray(VALUE_FIELD_OFFSET + 10).some((b) => b !== 0)).toBe(true);
    expect(decodeRecord(file)).toEqual({
      index: 0,
      offset: 0,
      key: "Hostname",
      value: "fedora-vm",
      keyBytes: 8,
      valueBytes: 9,
      keyTerminated: true,
      valueTerminated: true,
      validUtf8: true,
      keyValidUtf8: true,
    });
  });

  it("centosvm: Hostname = centos-vm, despite heap garbage after both NULs", () => {
    const file = readSample("centosvm");
    expect(file.length).toBe(RECORD_BYTES);
    expect(file.subarray(9, KEY_FIELD_BYTES).some((b) => b !== 0)).toBe(true);
    expect(file.subarray(VALUE_FIELD_OFFSET + 10).some((b) => b !== 0)).toBe(true);
    expect(decodeRecord(file)).toEqual({
      index: 0,
      offset: 0,
      key: "Hostname",
      value: "centos-vm",
      keyBytes: 8,
      valueBytes: 9,
      keyTerminated: true,
      valueTerminated: true,
      validUtf8: true,
      keyValidUtf8: true,
    });
  });

  it("testpool: two clean records", () => {
    const file = readSample("testpool");
    const pool = decodePool(file);
    expect(pool.trailingBytes).toBe(0);
    expect(pool.records).toEqual([
      {
        index: 0,
        offset: 0,
        key: "IpAddress",
        value: "10.0.75.128",
        keyBytes: 9,
        valueBytes: 11,
        keyTerminated: true,
        valueTerminated: true,
        validUtf8: true,
        keyValidUtf8: true,
      },
      {
        index: 1,
        offset: 2560,
        key: "42",
        value: "Answer to the Ultimate Question of Life, the Universe, and Everything",
        keyBytes: 2,
        valueBytes: 69,
        keyTerminated: true,
        valueTerminated: true,
        validUtf8: true,
        keyValidUtf8: true,
      },
    ]);
    // decodeRecord at an offset gives the same record, its index derived from the offset.
    expect(decodeRecord(file, RECORD_BYTES)).toEqual(pool.records[1]);
    expect(decodeRecord(file, RECORD_BYTES, 7).index).toBe(7);
  });
});

describe("decodeRecord: malformed and unusual fields", () => {
  it("a key field with no NUL: keyTerminated false, the whole field is the text", () => {
    const decoded = decodeRecord(rawRecord(repeatByte(0x6b, KEY_FIELD_BYTES), "v"));
    expect(decoded.keyTerminated).toBe(false);
    expect(decoded.keyBytes).toBe(512);
    expect(decoded.key).toBe("k".repeat(512));
    expect([decoded.value, decoded.valueTerminated, decoded.validUtf8]).toEqual(["v", true, true]);
  });

  it("a value field with no NUL: valueTerminated false; the key field's NUL does not leak into it", () => {
    const decoded = decodeRecord(rawRecord("k", repeatByte(0x76, VALUE_FIELD_BYTES)));
    expect(decoded.valueTerminated).toBe(false);
    expect(decoded.valueBytes).toBe(2048);
    expect(decoded.value).toBe("v".repeat(2048));
    expect([decoded.key, decoded.keyTerminated]).toEqual(["k", true]);
  });

  it("a NUL in the last byte of a field still terminates it", () => {
    const decoded = decodeRecord(rawRecord(repeatByte(0x6b, 511), repeatByte(0x76, 2047)));
    expect([decoded.keyBytes, decoded.keyTerminated, decoded.valueBytes, decoded.valueTerminated]).toEqual([
      511,
      true,
      2047,
      true,
    ]);
  });

  const invalid: {
    name: string;
    key: string;
    value: string;
    text: [string, string];
    lengths: [number, number];
    keyValid: boolean;
  }[] = [
    {
      name: "0xFF in the key",
      key: "61 ff 62",
      value: "76",
      text: ["a\uFFFDb", "v"],
      lengths: [3, 1],
      keyValid: false,
    },
    {
      name: "a lead byte without its continuation in the value",
      key: "6b",
      value: "c3 28",
      text: ["k", "\uFFFD("],
      lengths: [1, 2],
      keyValid: true,
    },
    {
      name: "an overlong NUL (C0 80) in the key",
      key: "c0 80",
      value: "",
      text: ["\uFFFD\uFFFD", ""],
      lengths: [2, 0],
      keyValid: false,
    },
    {
      name: "a UTF-8 encoded surrogate in the value",
      key: "6b",
      value: "ed a0 80",
      text: ["k", "\uFFFD\uFFFD\uFFFD"],
      lengths: [1, 3],
      keyValid: true,
    },
    {
      name: "a truncated 3-byte character at the end of the key",
      key: "61 e2 82",
      value: "",
      text: ["a\uFFFD", ""],
      lengths: [3, 0],
      keyValid: false,
    },
    {
      name: "a stray continuation byte in the value",
      key: "6b",
      value: "80 41",
      text: ["k", "\uFFFDA"],
      lengths: [1, 2],
      keyValid: true,
    },
    {
      name: "bad bytes in both fields",
      key: "ff",
      value: "fe",
      text: ["\uFFFD", "\uFFFD"],
      lengths: [1, 1],
      keyValid: false,
    },
  ];

  it.each(invalid)(
    "invalid UTF-8: $name → validUtf8 false, U+FFFD in the text",
    ({ key, value, text, lengths, keyValid }) => {
      const decoded = decodeRecord(rawRecord(fromHex(key), fromHex(value)));
      expect(decoded.validUtf8).toBe(false);
      expect(decoded.keyValidUtf8).toBe(keyValid);
      expect([decoded.key, decoded.value]).toEqual(text);
      expect([decoded.keyBytes, decoded.valueBytes]).toEqual(lengths);
      expect(decoded.keyTerminated && decoded.valueTerminated).toBe(true);
    },
  );

  it("invalid UTF-8 after the NUL (in the garbage) does not matter", () => {
    const decoded = decodeRecord(rawRecord(fromHex("6b 00 ff fe"), fromHex("76 00 c0 80")));
    expect([decoded.key, decoded.value, decoded.validUtf8, decoded.keyValidUtf8]).toEqual(["k", "v", true, true]);
  });

  it("keeps a leading BOM in key and value (not stripped)", () => {
    const decoded = decodeRecord(rawRecord(fromHex("ef bb bf 4b"), fromHex("ef bb bf ef bb bf 76")));
    expect(decoded.key).toBe("\uFEFFK");
    expect(decoded.value).toBe("\uFEFF\uFEFFv");
    expect([decoded.keyBytes, decoded.valueBytes, decoded.validUtf8]).toEqual([4, 7, true]);
    // Decoding twice gives the same answer (no decoder state carried between calls).
    expect(decodeRecord(rawRecord(fromHex("ef bb bf 4b"))).key).toBe("\uFEFFK");
  });

  it("keeps a leading BOM even when the rest of the field is invalid UTF-8", () => {
    const decoded = decodeRecord(rawRecord(fromHex("ef bb bf ff")));
    expect(decoded.key).toBe("\uFEFF\uFFFD");
    expect(decoded.validUtf8).toBe(false);
  });

  it.each([63, 64, 65, 511])("decodes %i ASCII bytes exactly (short and long paths)", (length) => {
    const text = Array.from({ length }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join("");
    const decoded = decodeRecord(rawRecord(text, text));
    expect([decoded.key, decoded.value]).toEqual([text, text]);
  });

  it("decodes ASCII control characters and DEL as themselves", () => {
    const decoded = decodeRecord(rawRecord(fromHex("01 09 0a 1f 7f")));
    expect(decoded.key).toBe("\x01\t\n\x1f\x7f");
    expect(decoded.validUtf8).toBe(true);
  });

  it("an all-zero record decodes to empty key and value", () => {
    expect(decodeRecord(new Uint8Array(RECORD_BYTES))).toMatchObject({
      key: "",
      value: "",
      keyBytes: 0,
      valueBytes: 0,
      validUtf8: true,
    });
  });

  const truncated: { name: string; bytes: Uint8Array; offset?: number; message: string }[] = [
    {
      name: "an empty array",
      bytes: new Uint8Array(0),
      message: "truncated record: 0 bytes at offset 0, a record needs 2560",
    },
    {
      name: "one byte short",
      bytes: new Uint8Array(2559),
      message: "truncated record: 2559 bytes at offset 0, a record needs 2560",
    },
    {
      name: "only a key field",
      bytes: new Uint8Array(512),
      message: "truncated record: 512 bytes at offset 0, a record needs 2560",
    },
    {
      name: "an offset one byte into the second record",
      bytes: new Uint8Array(5120),
      offset: 2561,
      message: "truncated record: 2559 bytes at offset 2561, a record needs 2560",
    },
    {
      name: "an offset past the end",
      bytes: new Uint8Array(2560),
      offset: 9000,
      message: "truncated record: 0 bytes at offset 9000, a record needs 2560",
    },
    {
      name: "a negative offset",
      bytes: new Uint8Array(5120),
      offset: -1,
      message: "truncated record: 5121 bytes at offset -1, a record needs 2560",
    },
  ];

  it.each(truncated)("truncated: $name", ({ bytes, offset, message }) => {
    const error = thrown(() => decodeRecord(bytes, offset), KvpError);
    expect(error.code).toBe("truncated");
    expect(error.message).toBe(message);
  });
});

describe("fieldTextLength", () => {
  it.each([
    { bytes: "", start: 0, size: 0, length: 0 },
    { bytes: "00", start: 0, size: 1, length: 0 },
    { bytes: "61 62 00 63", start: 0, size: 4, length: 2 },
    { bytes: "61 62 63", start: 0, size: 3, length: 3 },
    { bytes: "00 61 62 00", start: 1, size: 3, length: 2 },
    { bytes: "61 00 62 63", start: 2, size: 2, length: 2 },
  ])("$bytes from $start, size $size → $length", ({ bytes, start, size, length }) => {
    expect(fieldTextLength(fromHex(bytes), start, size)).toBe(length);
  });
});

describe("mayHoldLogicalKey", () => {
  // The key's bytes, then NULs (encodeRecord refuses an empty key, which a pool can hold).
  const keyField = (key: string) => {
    const bytes = new Uint8Array(RECORD_BYTES);
    bytes.set(utf8(key));
    return bytes;
  };
  it.each([
    ["k", "k", true],
    ["k#1/2", "k", true],
    ["k#", "k", true], // "#" follows: decoding decides (not a part)
    ["kk", "k", false],
    ["K", "k", false],
    ["", "k", false],
    ["k", "", false],
    ["", "", true],
    ["#1/2", "", true],
    ["k#1/2", "k#1/2", true],
    ["k#1/2#1/3", "k#1/2", true],
    ["k#1/20", "k#1/2", false],
  ])("record key %j, looking for %j: %s", (stored, key, expected) => {
    expect(mayHoldLogicalKey(keyField(stored), 0, utf8(key))).toBe(expected);
  });

  it("a key filling the whole field has no NUL after it", () => {
    const full = "x".repeat(KEY_FIELD_BYTES);
    const bytes = new Uint8Array(RECORD_BYTES);
    bytes.set(utf8(full));
    expect(mayHoldLogicalKey(bytes, 0, utf8(full))).toBe(true);
    expect(mayHoldLogicalKey(bytes, 0, utf8(full.slice(1)))).toBe(false);
    expect(mayHoldLogicalKey(bytes, 0, utf8(`${full}y`))).toBe(false);
  });

  it("never says false of a record that holds the key or one of its parts (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 9 }), (base, n) => {
        const key = base.replace(/\0/g, "");
        for (const stored of [key, `${key}#1/${n}`, `${key}#${n}/${n}`]) {
          if (utf8(stored).length >= KEY_FIELD_BYTES) continue;
          expect(mayHoldLogicalKey(keyField(stored), 0, utf8(key))).toBe(true);
        }
      }),
    );
  });
});

describe("recordsThatMayHold", () => {
  // Records built from the keys' own bytes in every place: at a record's start followed by NUL,
  // "#", another byte or nothing, inside key fields and values, filling the key field.
  const KEYS = ["k", "kk", "key", "k#1", "é", ""];
  const piece = fc.constantFrom(...KEYS, "#", "\0", "x", "#1/2", "\0garbage", "k".repeat(200));
  const field = (size: number) =>
    fc.array(piece, { maxLength: 12 }).map((parts) => {
      const bytes = new Uint8Array(size);
      bytes.set(utf8(parts.join("")).subarray(0, size));
      return bytes;
    });
  const chunk = fc
    .array(fc.tuple(field(KEY_FIELD_BYTES), field(RECORD_BYTES - KEY_FIELD_BYTES)), { maxLength: 10 })
    .chain((records) =>
      // Now and then a fragment after the whole records, which is never looked at.
      fc.nat({ max: 3 }).map((fragment) => {
        const bytes = new Uint8Array(records.length * RECORD_BYTES + fragment);
        records.forEach(([key, value], i) => {
          bytes.set(key, i * RECORD_BYTES);
          bytes.set(value, i * RECORD_BYTES + KEY_FIELD_BYTES);
        });
        return bytes;
      }),
    );
  const keys = fc.subarray([...KEYS, "k".repeat(KEY_FIELD_BYTES), "k".repeat(KEY_FIELD_BYTES + 1)], {
    minLength: 1,
  });

  it("finds exactly the records mayHoldLogicalKey accepts for some key, each once, in order (property)", () => {
    fc.assert(
      fc.property(chunk, keys, (bytes, wanted) => {
        const encoded = wanted.map(utf8);
        const expected: number[] = [];
        for (let i = 0; i < Math.floor(bytes.length / RECORD_BYTES); i++) {
          if (encoded.some((key) => mayHoldLogicalKey(bytes, i * RECORD_BYTES, key))) expected.push(i);
        }
        expect(recordsThatMayHold(bytes, encoded)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("finds a key at a record's start, not its bytes inside a value or another key", () => {
    const bytes = new Uint8Array(4 * RECORD_BYTES);
    bytes.set(utf8("other"), 0);
    bytes.set(utf8("key"), KEY_FIELD_BYTES);
    bytes.set(utf8("xkey"), RECORD_BYTES);
    bytes.set(utf8("key#2/3"), 2 * RECORD_BYTES);
    bytes.set(utf8("key"), 3 * RECORD_BYTES);
    expect(recordsThatMayHold(bytes, [utf8("key")])).toEqual([2, 3]);
    expect(recordsThatMayHold(bytes.subarray(RECORD_BYTES), [utf8("key")])).toEqual([1, 2]);
  });
});

describe("decodePool / encodePool", () => {
  it("counts a trailing fragment and decodes the whole records before it", () => {
    const file = readSample("testpool");
    const pool = decodePool(concatBytes(file, repeatByte(0x41, 100)));
    expect(pool.records.map((r) => [r.key, r.value])).toEqual([
      ["IpAddress", "10.0.75.128"],
      ["42", "Answer to the Ultimate Question of Life, the Universe, and Everything"],
    ]);
    expect(pool.trailingBytes).toBe(100);
  });

  it.each([
    { length: 0, records: 0, trailingBytes: 0 },
    { length: 1, records: 0, trailingBytes: 1 },
    { length: 2559, records: 0, trailingBytes: 2559 },
    { length: 2560, records: 1, trailingBytes: 0 },
    { length: 2561, records: 1, trailingBytes: 1 },
    { length: 3 * 2560 + 2559, records: 3, trailingBytes: 2559 },
  ])("$length bytes → $records records + $trailingBytes trailing", ({ length, records, trailingBytes }) => {
    const pool = decodePool(new Uint8Array(length));
    expect(pool.records.length).toBe(records);
    expect(pool.trailingBytes).toBe(trailingBytes);
  });

  it("a slice of a larger pool reports indexes and offsets in the whole pool", () => {
    const pool = decodePool(readSample("testpool"), 5);
    expect(pool.records.map((r) => [r.index, r.offset, r.key])).toEqual([
      [5, 5 * 2560, "IpAddress"],
      [6, 6 * 2560, "42"],
    ]);
  });

  it("encodes no records as an empty pool", () => {
    expect(encodePool([])).toEqual(new Uint8Array(0));
  });

  it("encodePool applies the same checks as encodeRecord, with the options", () => {
    const error = thrown(
      () =>
        encodePool([
          { key: "ok", value: "v" },
          { key: "bad\0", value: "v" },
        ]),
      KvpError,
    );
    expect(error.code).toBe("invalid-key");
    expect(error.message).toBe("record 1: invalid key: contains NUL at character 3 (a field ends at its first NUL)");
    expect(thrown(() => encodePool([{ key: "k".repeat(255), value: "" }], { limits: "host" }), KvpError).code).toBe(
      "invalid-key",
    );
    expect(encodePool([{ key: "k".repeat(255), value: "" }]).length).toBe(RECORD_BYTES);
  });
});

describe("isKvpError", () => {
  it("checks the class and, when given, the code", () => {
    const error = new KvpError("truncated", "x");
    expect(isKvpError(error)).toBe(true);
    expect(isKvpError(error, "truncated")).toBe(true);
    expect(isKvpError(error, "invalid-key")).toBe(false);
    expect(isKvpError(new Error("x"))).toBe(false);
    expect(isKvpError({ code: "truncated", message: "x" })).toBe(false);
    expect(error).toBeInstanceOf(Error);
  });
});

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/** Any text the encoder must accept: no NUL, no lone surrogate, within `maxBytes` of UTF-8. */
function storableText(maxBytes: number, minBytes: number): fc.Arbitrary<string> {
  const base = fc
    .oneof(
      fc.string({ unit: "binary", maxLength: Math.floor(maxBytes / 4) }),
      fc.string({ unit: "grapheme", maxLength: 24 }),
      fc.string({ unit: "binary-ascii", maxLength: Math.floor(maxBytes / 2) }),
      fc.string({ unit: "binary", maxLength: 8 }),
    )
    .map((s) => s.replaceAll("\0", ""))
    .filter((s) => utf8(s).length <= maxBytes);
  // Half of the time, pad to exactly the limit so the boundary is exercised too.
  return fc
    .tuple(base, fc.boolean(), fc.constantFrom("a", E_ACUTE, EURO))
    .map(([s, fill, pad]) => {
      if (!fill) return s;
      const have = utf8(s).length;
      const padBytes = utf8(pad).length;
      const pads = Math.floor((maxBytes - have) / padBytes);
      return s + pad.repeat(pads) + "a".repeat(maxBytes - have - pads * padBytes);
    })
    .filter((s) => utf8(s).length >= minBytes);
}

const storableRecord: fc.Arbitrary<KvpRecord> = fc.record({
  key: storableText(MAX_KEY_BYTES, 1),
  value: storableText(MAX_VALUE_BYTES, 0),
});

/** Pool-like bytes: UTF-8 text, NUL runs, random bytes and known-bad sequences, mixed. */
function poolishBytes(length: fc.Arbitrary<number>): fc.Arbitrary<Uint8Array> {
  const segment = fc.oneof(
    fc.string({ unit: "binary", maxLength: 16 }).map(utf8),
    fc.string({ unit: "binary-ascii", maxLength: 40 }).map(utf8),
    fc.uint8Array({ maxLength: 8 }),
    fc.integer({ min: 1, max: 700 }).map((n) => new Uint8Array(n)),
    fc.constantFrom(
      fromHex("ef bb bf"),
      fromHex("c0 80"),
      fromHex("ed a0 80"),
      fromHex("f4 90 80 80"),
      fromHex("e2 82"),
      fromHex("80"),
      fromHex("ff"),
    ),
  );
  return fc.tuple(fc.array(segment, { maxLength: 80 }), length).map(([parts, n]) => {
    const out = new Uint8Array(n);
    const all = concatBytes(...parts);
    out.set(all.subarray(0, n));
    return out;
  });
}

describe("properties", () => {
  it("decodeRecord(encodeRecord(r)) gives r back, byte counts included", () => {
    fc.assert(
      fc.property(storableRecord, (record) => {
        expect(findLoneSurrogate(record.key)).toBe(-1);
        const bytes = encodeRecord(record);
        expect(bytes.length).toBe(RECORD_BYTES);
        const decoded = decodeRecord(bytes);
        expect(decoded.key).toBe(record.key);
        expect(decoded.value).toBe(record.value);
        expect(decoded.keyBytes).toBe(utf8(record.key).length);
        expect(decoded.valueBytes).toBe(utf8(record.value).length);
        expect(decoded.keyTerminated && decoded.valueTerminated && decoded.validUtf8 && decoded.keyValidUtf8).toBe(
          true,
        );
        expect(encodeRecord(decoded)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
    // 300 records of up to 2 KB of random text: seconds on a loaded 2-core machine, not a timing check.
  }, 60_000);

  it("decodeRecord never throws on 2560 arbitrary bytes and describes them faithfully", () => {
    const anyRecord = fc.oneof(
      fc.uint8Array({ minLength: RECORD_BYTES, maxLength: RECORD_BYTES }),
      poolishBytes(fc.constant(RECORD_BYTES)),
    );
    fc.assert(
      fc.property(anyRecord, (bytes) => {
        const decoded = decodeRecord(bytes);
        const keyField = bytes.subarray(0, KEY_FIELD_BYTES);
        const valueField = bytes.subarray(VALUE_FIELD_OFFSET);
        expect(decoded.keyBytes).toBe(fieldTextLength(bytes, 0, KEY_FIELD_BYTES));
        expect(decoded.keyTerminated).toBe(decoded.keyBytes < KEY_FIELD_BYTES);
        expect(decoded.valueTerminated).toBe(decoded.valueBytes < VALUE_FIELD_BYTES);
        expect(keyField.subarray(0, decoded.keyBytes).includes(0)).toBe(false);
        expect(valueField.subarray(0, decoded.valueBytes).includes(0)).toBe(false);
        const keyText = keyField.subarray(0, decoded.keyBytes);
        const valueText = valueField.subarray(0, decoded.valueBytes);
        expect(decoded.keyValidUtf8).toBe(findInvalidUtf8(keyText) < 0);
        expect(decoded.validUtf8).toBe(findInvalidUtf8(keyText) < 0 && findInvalidUtf8(valueText) < 0);
        if (decoded.keyValidUtf8) expect(utf8(decoded.key)).toEqual(keyText);
        if (decoded.validUtf8) {
          // Lossless: the text is exactly the bytes before the NUL.
          expect(utf8(decoded.key)).toEqual(keyText);
          expect(utf8(decoded.value)).toEqual(valueText);
        } else {
          expect(decoded.key + decoded.value).toContain("\uFFFD");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("encodeRecord rejects every key or value with a lone surrogate, naming field and position", () => {
    const text = fc.string({ unit: "binary", maxLength: 20 });
    fc.assert(
      fc.property(
        text,
        fc.integer({ min: 0xd800, max: 0xdfff }),
        text,
        fc.constantFrom("key", "value"),
        fc.constantFrom<EncodeRecordOptions>({}, { limits: "host" }),
        (before, unit, after, field, options) => {
          const bad = before + String.fromCharCode(unit) + after;
          const record = field === "key" ? { key: bad, value: "v" } : { key: "k", value: bad };
          const error = thrown(() => encodeRecord(record, options), KvpError);
          expect(error.code).toBe(field === "key" ? "invalid-key" : "invalid-value");
          const hexUnit = unit.toString(16).toUpperCase();
          expect(error.message).toBe(
            `invalid ${field}: lone surrogate U+${hexUnit} at character ${[...before].length} has no UTF-8 form`,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("decodePool(encodePool(records)) gives the records back, in order", () => {
    fc.assert(
      fc.property(fc.array(storableRecord, { maxLength: 6 }), (records) => {
        const bytes = encodePool(records);
        expect(bytes.length).toBe(records.length * RECORD_BYTES);
        const pool = decodePool(bytes);
        expect(pool.trailingBytes).toBe(0);
        expect(pool.records.map((r) => ({ key: r.key, value: r.value }))).toEqual(records);
        expect(pool.records.map((r) => [r.index, r.offset])).toEqual(records.map((_, i) => [i, i * RECORD_BYTES]));
      }),
      { numRuns: 100 },
    );
  });

  it("decodePool never throws on bytes of any length; records × 2560 + trailing = length", () => {
    const anyPool = fc.oneof(
      fc.uint8Array({ maxLength: 3 * RECORD_BYTES + 100 }),
      poolishBytes(fc.integer({ min: 0, max: 4 * RECORD_BYTES + 10 })),
      fc.integer({ min: 0, max: 4 * RECORD_BYTES + 10 }).map((n) => new Uint8Array(n)),
    );
    fc.assert(
      fc.property(anyPool, (bytes) => {
        const pool = decodePool(bytes);
        expect(pool.records.length * RECORD_BYTES + pool.trailingBytes).toBe(bytes.length);
        expect(pool.trailingBytes).toBeGreaterThanOrEqual(0);
        expect(pool.trailingBytes).toBeLessThan(RECORD_BYTES);
        expect(pool.records.map((r) => [r.index, r.offset])).toEqual(pool.records.map((_, i) => [i, i * RECORD_BYTES]));
      }),
      { numRuns: 150 },
    );
  });
});
