import fc from "fast-check";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import {
  type ChunkProblemReason,
  MAX_CHUNK_PARTS,
  chunkKey,
  isPartOf,
  logicalKeyOf,
  parseChunkKey,
  reassembleRecords,
  splitValue,
} from "./chunking.js";
import { type KvpErrorCode, KvpError } from "./errors.js";
import { HOST_MAX_VALUE_UNITS, MAX_VALUE_BYTES } from "./layout.js";
import type { KvpRecord } from "./record.js";
import { encodeUtf8, findInvalidUtf8, findLoneSurrogate } from "./utf8.js";

/** Part lengths in UTF-16 units and their keys: the shape of a split, exactly. */
function shape(records: readonly KvpRecord[]): [string, number][] {
  return records.map((r) => [r.key, r.value.length]);
}

const bytesOf = (text: string) => encodeUtf8(text).length;

describe("splitValue: exact splits", () => {
  const cases: { name: string; value: string; parts: [string, number][] }[] = [
    { name: "empty value", value: "", parts: [["k", 0]] },
    { name: "1022 ASCII units fit", value: "v".repeat(1022), parts: [["k", 1022]] },
    {
      name: "1023 ASCII units: two parts, the first full",
      value: "v".repeat(1023),
      parts: [
        ["k#1/2", 1022],
        ["k#2/2", 1],
      ],
    },
    {
      name: "two-byte text: the unit limit binds (1022 × 2 = 2044 bytes)",
      value: "é".repeat(1500),
      parts: [
        ["k#1/2", 1022],
        ["k#2/2", 478],
      ],
    },
    {
      name: "three-byte text: the byte limit binds (682 × 3 = 2046 bytes)",
      value: "€".repeat(683),
      parts: [
        ["k#1/2", 682],
        ["k#2/2", 1],
      ],
    },
    { name: "682 × € + one ASCII byte is exactly 2047 bytes: fits", value: `${"€".repeat(682)}a`, parts: [["k", 683]] },
    { name: "511 emoji are 1022 units and 2044 bytes: fit", value: "😀".repeat(511), parts: [["k", 1022]] },
    {
      name: "512 emoji: 511 + 1",
      value: "😀".repeat(512),
      parts: [
        ["k#1/2", 1022],
        ["k#2/2", 2],
      ],
    },
    {
      name: "never between surrogates: a + 511 emoji cuts before the last emoji",
      value: `a${"😀".repeat(511)}`,
      parts: [
        ["k#1/2", 1021],
        ["k#2/2", 2],
      ],
    },
    {
      name: "ten parts: two-digit labels",
      value: "x".repeat(1022 * 10),
      parts: Array.from({ length: 10 }, (_, i) => [`k#${i + 1}/10`, 1022] as [string, number]),
    },
  ];
  it.each(cases)("$name", ({ value, parts }) => {
    const split = splitValue("k", value);
    expect(shape(split)).toEqual(parts);
    expect(split.map((r) => r.value).join("")).toBe(value);
  });

  it("cuts a CJK/emoji mix exactly at the byte limit", () => {
    // "中" is 3 bytes and 1 unit, "😀" 4 bytes and 2 units: 409 × "中😀" = 2863 bytes.
    const value = "中😀".repeat(409);
    const split = splitValue("mix", value);
    // 292 pairs = 2044 bytes; then "中" (3 bytes) would make 2047: fits; the next emoji would not.
    expect(split[0]!.value).toBe(`${"中😀".repeat(292)}中`);
    expect(bytesOf(split[0]!.value)).toBe(2047);
    expect(split[1]!.value).toBe(`😀${"中😀".repeat(116)}`);
    expect(split.map((r) => r.key)).toEqual(["mix#1/2", "mix#2/2"]);
  });

  it("does not check a single record's key length (the writer's limits apply)", () => {
    expect(splitValue("K".repeat(300), "x")).toEqual([{ key: "K".repeat(300), value: "x" }]);
  });

  it(`splits into at most ${MAX_CHUNK_PARTS} parts`, () => {
    const split = splitValue("k", "x".repeat(1022 * MAX_CHUNK_PARTS));
    expect(split.length).toBe(999);
    expect(split[998]!.key).toBe("k#999/999");
  });
});

describe("splitValue: errors", () => {
  const cases: { name: string; key: string; value: string; code: KvpErrorCode; message: RegExp }[] = [
    { name: "empty key", key: "", value: "x", code: "invalid-key", message: /^invalid key: empty$/ },
    { name: "NUL in key", key: "a\0b", value: "x", code: "invalid-key", message: /contains NUL at UTF-16 index 1/ },
    {
      name: "lone surrogate in key",
      key: "a\uDC00",
      value: "x",
      code: "invalid-key",
      message: /lone surrogate at UTF-16 index 1/,
    },
    { name: "NUL in value", key: "k", value: "ab\0", code: "invalid-value", message: /contains NUL at UTF-16 index 2/ },
    {
      name: "lone surrogate in value",
      key: "k",
      value: "\uD800x",
      code: "invalid-value",
      message: /lone surrogate at UTF-16 index 0/,
    },
    {
      name: "key that is a part key",
      key: "k#1/2",
      value: "x",
      code: "invalid-key",
      message: /form of a part of a chunked value/,
    },
    {
      name: "more than 999 parts",
      key: "k",
      value: "x".repeat(1022 * MAX_CHUNK_PARTS + 1),
      code: "limit-exceeded",
      message: /^value too long to chunk: it needs more than 999 parts/,
    },
    {
      name: "part keys over 254 units",
      key: "K".repeat(251),
      value: "x".repeat(1023),
      code: "invalid-key",
      message: /would be 255 UTF-16 units \(255 bytes\), limit 254 \(511 bytes\)/,
    },
    {
      name: "part keys over 254 units with two-digit labels",
      key: "K".repeat(249),
      value: "x".repeat(1022 * 10),
      code: "invalid-key",
      message: /"K{40}\.\.\.K{11}#10\/10" would be 255 UTF-16 units/,
    },
    {
      name: "part keys over 511 bytes",
      key: "€".repeat(170),
      value: "x".repeat(1023),
      code: "invalid-key",
      message: /would be 174 UTF-16 units \(514 bytes\)/,
    },
  ];
  it.each(cases)("$name", ({ key, value, code, message }) => {
    const error = thrown(() => splitValue(key, value), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it("accepts part keys exactly at the limits", () => {
    expect(splitValue("K".repeat(250), "x".repeat(1023)).map((r) => r.key.length)).toEqual([254, 254]);
    expect(splitValue("K".repeat(248), "x".repeat(1022 * 10))[9]!.key.length).toBe(254);
    expect(bytesOf(splitValue("€".repeat(169), "x".repeat(1023))[1]!.key)).toBe(511);
  });
});

describe("parseChunkKey, chunkKey, logicalKeyOf, isPartOf", () => {
  const cases: { key: string; parsed: { base: string; index: number; total: number } | undefined }[] = [
    { key: "k#1/2", parsed: { base: "k", index: 1, total: 2 } },
    { key: "k#2/2", parsed: { base: "k", index: 2, total: 2 } },
    { key: "k#999/999", parsed: { base: "k", index: 999, total: 999 } },
    { key: "a#b#3/10", parsed: { base: "a#b", index: 3, total: 10 } },
    { key: "k#1/2#1/3", parsed: { base: "k#1/2", index: 1, total: 3 } },
    { key: "line\n#1/2", parsed: { base: "line\n", index: 1, total: 2 } },
    { key: "東京#2/3", parsed: { base: "東京", index: 2, total: 3 } },
    { key: "k", parsed: undefined },
    { key: "k#1/1", parsed: undefined },
    { key: "k#0/2", parsed: undefined },
    { key: "k#3/2", parsed: undefined },
    { key: "k#01/2", parsed: undefined },
    { key: "k#1/02", parsed: undefined },
    { key: "k#1/1000", parsed: undefined },
    { key: "#1/2", parsed: undefined },
    { key: "k#1/2 ", parsed: undefined },
    { key: "k#1/2\n", parsed: undefined },
    { key: "k#+1/2", parsed: undefined },
    { key: "k#1/2.0", parsed: undefined },
  ];
  it.each(cases)("parseChunkKey($key)", ({ key, parsed }) => {
    expect(parseChunkKey(key)).toEqual(parsed);
    expect(logicalKeyOf(key)).toBe(parsed?.base ?? key);
  });

  it("chunkKey writes what parseChunkKey reads", () => {
    expect(chunkKey("k", 3, 12)).toBe("k#3/12");
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 2, max: 999 }), fc.nat(), (base, total, n) => {
        const index = (n % total) + 1;
        expect(parseChunkKey(chunkKey(base, index, total))).toEqual({ base, index, total });
      }),
    );
  });

  it("isPartOf matches the key itself and every part label, nothing else", () => {
    const belongs = isPartOf("k");
    const keys = ["k", "k#1/2", "k#7/9", "k#1/1", "K#1/2", "kk#1/2", "k#1/2#1/2", "k#", "x#k#1/2", "k#0/2"];
    expect(keys.filter(belongs)).toEqual(["k", "k#1/2", "k#7/9"]);
  });
});

describe("reassembleRecords", () => {
  const r = (key: string, value: string) => ({ key, value });
  const logical = (records: KvpRecord[]) => {
    const result = reassembleRecords(records);
    return {
      records: result.records.map((x) =>
        x.parts ? { key: x.key, value: x.value, parts: x.parts.map((p) => p.key) } : { key: x.key, value: x.value },
      ),
      problems: result.problems.map((p) => ({ key: p.key, reason: p.reason, records: p.records.map((x) => x.key) })),
    };
  };

  const cases: {
    name: string;
    input: KvpRecord[];
    records: { key: string; value: string; parts?: string[] }[];
    problems: { key: string; reason: ChunkProblemReason; records: string[] }[];
  }[] = [
    {
      name: "plain records pass through",
      input: [r("a", "1"), r("k#1/1", "x"), r("a", "2")],
      records: [r("a", "1"), r("k#1/1", "x"), r("a", "2")],
      problems: [],
    },
    {
      name: "a complete group in order",
      input: [r("a", "1"), r("k#1/3", "AB"), r("k#2/3", "CD"), r("k#3/3", "E"), r("z", "9")],
      records: [r("a", "1"), { key: "k", value: "ABCDE", parts: ["k#1/3", "k#2/3", "k#3/3"] }, r("z", "9")],
      problems: [],
    },
    {
      name: "parts out of order and apart: the value takes the first part's place",
      input: [r("k#3/3", "E"), r("a", "1"), r("k#1/3", "AB"), r("k#2/3", "CD")],
      records: [{ key: "k", value: "ABCDE", parts: ["k#1/3", "k#2/3", "k#3/3"] }, r("a", "1")],
      problems: [],
    },
    {
      name: "a missing part leaves the group as stored",
      input: [r("k#1/3", "AB"), r("k#3/3", "E")],
      records: [r("k#1/3", "AB"), r("k#3/3", "E")],
      problems: [{ key: "k", reason: "incomplete", records: ["k#1/3", "k#3/3"] }],
    },
    {
      name: "parts of two different splits",
      input: [r("k#1/2", "A"), r("k#2/2", "B"), r("k#1/3", "x")],
      records: [r("k#1/2", "A"), r("k#2/2", "B"), r("k#1/3", "x")],
      problems: [{ key: "k", reason: "conflicting-totals", records: ["k#1/2", "k#2/2", "k#1/3"] }],
    },
    {
      name: "a plain record beside complete parts",
      input: [r("k#1/2", "A"), r("k", "plain"), r("k#2/2", "B")],
      records: [r("k#1/2", "A"), r("k", "plain"), r("k#2/2", "B")],
      problems: [{ key: "k", reason: "plain-beside-parts", records: ["k#1/2", "k#2/2"] }],
    },
    {
      name: "a duplicated part: the first copy counts, the later one stays as stored",
      input: [r("k#1/2", "A"), r("k#2/2", "B"), r("k#1/2", "stale")],
      records: [{ key: "k", value: "AB", parts: ["k#1/2", "k#2/2"] }, r("k#1/2", "stale")],
      problems: [{ key: "k", reason: "duplicate-part", records: ["k#1/2"] }],
    },
    {
      name: "groups are per key, exact case; problems in order of their first record",
      input: [r("b#2/2", "y"), r("K#1/2", "A"), r("k#1/2", "a"), r("k#2/2", "b"), r("K#2/3", "B")],
      records: [
        r("b#2/2", "y"),
        r("K#1/2", "A"),
        { key: "k", value: "ab", parts: ["k#1/2", "k#2/2"] },
        r("K#2/3", "B"),
      ],
      problems: [
        { key: "b", reason: "incomplete", records: ["b#2/2"] },
        { key: "K", reason: "conflicting-totals", records: ["K#1/2", "K#2/3"] },
      ],
    },
    {
      name: "__proto__ is an ordinary key",
      input: [r("__proto__#1/2", "A"), r("__proto__#2/2", "B"), r("constructor", "c")],
      records: [{ key: "__proto__", value: "AB", parts: ["__proto__#1/2", "__proto__#2/2"] }, r("constructor", "c")],
      problems: [],
    },
  ];
  it.each(cases)("$name", ({ input, records, problems }) => {
    expect(logical(input)).toEqual({ records, problems });
  });

  it("never groups keys that are not valid UTF-8, nor parts whose value is not", () => {
    const result = reassembleRecords([
      { key: "k#1/2", value: "A", validUtf8: true, keyValidUtf8: true },
      { key: "k#2/2", value: "\uFFFD", validUtf8: false, keyValidUtf8: true },
      { key: "j#1/2", value: "A", validUtf8: true, keyValidUtf8: true },
      { key: "j", value: "guess", validUtf8: false, keyValidUtf8: false },
      { key: "j#2/2", value: "B", validUtf8: false, keyValidUtf8: false },
    ]);
    expect(result.records.map((x) => [x.key, x.value, x.parts === undefined])).toEqual([
      ["k#1/2", "A", true],
      ["k#2/2", "\uFFFD", true],
      ["j#1/2", "A", true],
      ["j", "guess", true],
      ["j#2/2", "B", true],
    ]);
    expect(result.problems.map((p) => [p.key, p.reason, p.message])).toEqual([
      ["k", "invalid-utf8", '"k#2/2" of "k" not valid UTF-8 (the host stops enumerating there); shown as stored'],
      ["j", "incomplete", '"j" is split into 2 parts but part(s) 2 are missing; shown as stored'],
    ]);
  });

  it("keeps the stored record objects, and names the missing parts", () => {
    const stored = [
      { key: "k#1/5", value: "A", index: 7 },
      { key: "k#4/5", value: "D", index: 8 },
    ];
    const result = reassembleRecords(stored);
    expect(result.records.map((x) => x.record)).toEqual(stored);
    expect(result.problems[0]!.message).toBe(
      '"k" is split into 5 parts but part(s) 2, 3, 5 are missing; shown as stored',
    );
    expect(result.problems[0]!.records).toEqual(stored);
  });
});

/** Text rich in 1-, 2-, 3- and 4-byte characters, up to about 20 KB; no NULs (not storable). */
const longText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.constantFrom("😀", "🏳️‍🌈", "中文", "é", "€", "𝄞", "a"),
      fc
        .integer({ min: 1, max: 3000 })
        .chain((n) => fc.constantFrom("x".repeat(n), "ü".repeat(n), "中".repeat(n), "😀".repeat(n))),
    ),
    { maxLength: 30 },
  )
  .map((pieces) => pieces.join("").replaceAll("\0", "").slice(0, 20_000))
  // slice may cut a surrogate pair: drop a trailing high half.
  .map((text) => (findLoneSurrogate(text) >= 0 ? text.slice(0, findLoneSurrogate(text)) : text));

describe("properties", () => {
  it("parts are valid UTF-8 within both limits, greedy, and concatenate and reassemble to the value", () => {
    fc.assert(
      fc.property(longText, (value) => {
        const parts = splitValue("key", value);
        expect(parts.map((p) => p.value).join("")).toBe(value);
        if (parts.length === 1) {
          expect(parts[0]!.key).toBe("key");
        } else {
          expect(parts.map((p) => p.key)).toEqual(parts.map((_, i) => `key#${i + 1}/${parts.length}`));
        }
        parts.forEach((part, i) => {
          expect(findLoneSurrogate(part.value)).toBe(-1);
          expect(findInvalidUtf8(encodeUtf8(part.value))).toBe(-1);
          expect(part.value.length).toBeLessThanOrEqual(HOST_MAX_VALUE_UNITS);
          expect(bytesOf(part.value)).toBeLessThanOrEqual(MAX_VALUE_BYTES);
          const next = parts[i + 1];
          if (next) {
            // Greedy: the next code point would not have fit.
            const nextChar = String.fromCodePoint(next.value.codePointAt(0)!);
            const grown = part.value + nextChar;
            expect(grown.length > HOST_MAX_VALUE_UNITS || bytesOf(grown) > MAX_VALUE_BYTES).toBe(true);
          }
        });
        const { records, problems } = reassembleRecords(parts);
        expect(problems).toEqual([]);
        expect(records.map((x) => ({ key: x.key, value: x.value }))).toEqual([{ key: "key", value }]);
      }),
      { numRuns: 150 },
    );
  });

  it("shuffled, duplicated or missing parts never throw and never give a value that was not written", () => {
    const values = fc.array(longText, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(
        values,
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (texts, order, drops, dups) => {
          const written = new Map(texts.map((text, i) => [`v${i}`, text]));
          // Also a part of a stale split of v0 into more parts than any drawn value needs (at
          // most 30), as a crashed writer could leave: a conflict, never mixed in.
          const stale = splitValue("v0", "s".repeat(1022 * 39 + 1));
          expect(stale.length).toBe(40);
          let stored: KvpRecord[] = [
            ...[...written].flatMap(([key, text]) => splitValue(key, text)),
            ...stale.slice(0, 1),
          ];
          for (const d of drops) if (stored.length > 0 && d % 3 === 0) stored.splice(d % stored.length, 1);
          for (const d of dups) if (stored.length > 0) stored.push(stored[d % stored.length]!);
          stored = shuffle(stored, order);
          const { records, problems } = reassembleRecords(stored);
          for (const record of records) {
            if (record.parts) expect(record.value).toBe(written.get(record.key));
            else expect(stored).toContain(record.record);
          }
          // Every stored record is accounted for exactly once: in a value or as stored.
          const shown = records.flatMap((x) => (x.parts ? x.parts : [x.record]));
          expect(shown.length).toBe(stored.length);
          for (const p of problems) expect(p.records.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** `items` reordered by the draws in `order` (a Fisher–Yates shuffle driven by fast-check). */
function shuffle<T>(items: readonly T[], order: readonly number[]): T[] {
  const out = [...items];
  for (let i = out.length - 1, k = 0; i > 0; i--, k++) {
    const j = (order[k % Math.max(order.length, 1)] ?? 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
