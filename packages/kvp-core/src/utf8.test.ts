import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes, fromHex, utf8 } from "@hyperv-kvp/test-support";
import {
  decodeUtf8,
  encodeUtf8,
  findInvalidUtf8,
  findLoneSurrogate,
  utf16Units,
  utf8BoundaryAtOrBefore,
} from "./utf8.js";

/** The reference: WHATWG's strict UTF-8 decoder, which rejects what the kernel rejects. */
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Byte strings rich in edge cases: valid text, random bytes and known-bad sequences. */
const utf8ish: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 6 }).map(utf8),
      fc.uint8Array({ maxLength: 4 }),
      fc.uint8Array({ maxLength: 4 }).map((b) => b.map((x) => 0x80 | (x & 0x3f))),
      fc.constantFrom(
        ...[
          "c0 80",
          "c1 bf",
          "c2 80",
          "df bf",
          "e0 80 80",
          "e0 9f bf",
          "e0 a0 80",
          "ed 9f bf",
          "ed a0 80",
          "ed bf bf",
          "ee 80 80",
          "ef bb bf",
          "f0 8f bf bf",
          "f0 90 80 80",
          "f4 8f bf bf",
          "f4 90 80 80",
          "f5 80 80 80",
          "f8 88 80 80 80",
          "fe",
          "ff",
          "80",
          "bf",
          "e2 82",
          "f0 9f 98",
        ].map(fromHex),
      ),
    ),
    { maxLength: 12 },
  )
  .map((parts) => concatBytes(...parts));

describe("findInvalidUtf8", () => {
  const cases: { name: string; bytes: string; at: number }[] = [
    { name: "empty", bytes: "", at: -1 },
    { name: "ASCII", bytes: "48 69 7f 00", at: -1 },
    { name: "valid 2-byte (U+00E9)", bytes: "c3 a9", at: -1 },
    { name: "smallest 2-byte (U+0080)", bytes: "c2 80", at: -1 },
    { name: "valid 3-byte (U+20AC)", bytes: "e2 82 ac", at: -1 },
    { name: "smallest 3-byte (U+0800)", bytes: "e0 a0 80", at: -1 },
    { name: "last before the surrogates (U+D7FF)", bytes: "ed 9f bf", at: -1 },
    { name: "first after the surrogates (U+E000)", bytes: "ee 80 80", at: -1 },
    { name: "BOM", bytes: "ef bb bf", at: -1 },
    { name: "valid 4-byte (U+1F600)", bytes: "f0 9f 98 80", at: -1 },
    { name: "smallest 4-byte (U+10000)", bytes: "f0 90 80 80", at: -1 },
    { name: "largest code point (U+10FFFF)", bytes: "f4 8f bf bf", at: -1 },
    { name: "overlong NUL C0 80", bytes: "c0 80", at: 0 },
    { name: "overlong C1 BF", bytes: "c1 bf", at: 0 },
    { name: "overlong after ASCII", bytes: "41 c0 80", at: 1 },
    { name: "overlong 3-byte E0 80 80", bytes: "e0 80 80", at: 0 },
    { name: "overlong 3-byte U+07FF", bytes: "e0 9f bf", at: 0 },
    { name: "overlong 4-byte U+FFFF", bytes: "f0 8f bf bf", at: 0 },
    { name: "surrogate ED A0 80 (U+D800)", bytes: "ed a0 80", at: 0 },
    { name: "surrogate ED BF BF (U+DFFF)", bytes: "ed bf bf", at: 0 },
    { name: "surrogate after valid text", bytes: "c3 a9 ed b0 80", at: 2 },
    { name: "past U+10FFFF: F4 90 80 80", bytes: "f4 90 80 80", at: 0 },
    { name: "lead F5", bytes: "f5 80 80 80", at: 0 },
    { name: "5-byte form F8", bytes: "f8 88 80 80 80", at: 0 },
    { name: "FE", bytes: "fe", at: 0 },
    { name: "FF after ASCII", bytes: "61 62 ff", at: 2 },
    { name: "stray continuation", bytes: "80", at: 0 },
    { name: "stray continuation after ASCII", bytes: "41 42 bf", at: 2 },
    { name: "one continuation too many", bytes: "c3 a9 a9", at: 2 },
    { name: "continuation missing", bytes: "c3 41", at: 0 },
    { name: "3-byte with a bad second byte", bytes: "e2 41 ac", at: 0 },
    { name: "3-byte with a bad third byte", bytes: "e2 82 41", at: 0 },
    { name: "truncated 2-byte at the end", bytes: "c3", at: 0 },
    { name: "truncated 3-byte at the end", bytes: "e2 82", at: 0 },
    { name: "truncated 4-byte at the end, after ASCII", bytes: "41 f0 9f 98", at: 1 },
    { name: "the first of two errors", bytes: "41 80 ff", at: 1 },
  ];

  it.each(cases)("$name: $bytes → $at", ({ bytes, at }) => {
    const input = fromHex(bytes);
    expect(findInvalidUtf8(input)).toBe(at);
    expect(isValidUtf8(input)).toBe(at < 0);
  });

  it("agrees with TextDecoder({ fatal: true }) on arbitrary bytes, and points at the end of the valid prefix", () => {
    fc.assert(
      fc.property(fc.oneof(utf8ish, fc.uint8Array({ maxLength: 24 })), (bytes) => {
        const at = findInvalidUtf8(bytes);
        expect(at < 0).toBe(isValidUtf8(bytes));
        if (at >= 0) {
          // The bytes before `at` are valid, and no longer prefix is: `at` is where the
          // first bad sequence starts.
          expect(isValidUtf8(bytes.subarray(0, at))).toBe(true);
          for (let end = at + 1; end <= bytes.length; end++) {
            expect(isValidUtf8(bytes.subarray(0, end))).toBe(false);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("finds nothing in any encoded string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(findInvalidUtf8(encodeUtf8(text))).toBe(-1);
      }),
    );
  });
});

describe("decodeUtf8", () => {
  it.each([
    { name: "empty", bytes: "", text: "", valid: true },
    { name: "ASCII", bytes: "6b 76", text: "kv", valid: true },
    { name: "multi-byte", bytes: "c3 a9 e2 82 ac f0 9f 98 80", text: "\u00e9\u20ac\u{1F600}", valid: true },
    { name: "leading BOM kept", bytes: "ef bb bf 41", text: "\uFEFFA", valid: true },
    { name: "two BOMs kept", bytes: "ef bb bf ef bb bf", text: "\uFEFF\uFEFF", valid: true },
    { name: "invalid byte → U+FFFD", bytes: "41 ff 42", text: "A\uFFFDB", valid: false },
    { name: "truncated sequence → one U+FFFD", bytes: "41 e2 82", text: "A\uFFFD", valid: false },
    { name: "encoded surrogate → U+FFFD per byte", bytes: "ed a0 80", text: "\uFFFD\uFFFD\uFFFD", valid: false },
    { name: "BOM then invalid", bytes: "ef bb bf ff", text: "\uFEFF\uFFFD", valid: false },
  ])("$name", ({ bytes, text, valid }) => {
    expect(decodeUtf8(fromHex(bytes))).toEqual({ text, valid });
  });

  it("agrees with findInvalidUtf8 and is lossless on valid input", () => {
    fc.assert(
      fc.property(utf8ish, (bytes) => {
        const { text, valid } = decodeUtf8(bytes);
        expect(valid).toBe(findInvalidUtf8(bytes) < 0);
        if (valid) expect(encodeUtf8(text)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it("decodes long ASCII (past the short-string fast path) exactly", () => {
    const text = "x".repeat(63) + "yz" + "~".repeat(300);
    expect(decodeUtf8(utf8(text))).toEqual({ text, valid: true });
  });
});

describe("findLoneSurrogate", () => {
  it.each([
    { text: "", at: -1 },
    { text: "abc", at: -1 },
    { text: "\u{1F600}", at: -1 },
    { text: "a\u{1F600}b\u{10FFFF}", at: -1 },
    { text: "\uD800", at: 0 },
    { text: "\uDC00", at: 0 },
    { text: "ab\uD83D", at: 2 },
    { text: "\uDE00\uD83D", at: 0 },
    { text: "\u{1F600}\uDE00", at: 2 },
    { text: "\uD83D\uD83D\uDE00", at: 0 },
    { text: "x\uD83D\uDE00\uD83D", at: 3 },
  ])("$text → $at", ({ text, at }) => {
    expect(findLoneSurrogate(text)).toBe(at);
  });
});

describe("utf16Units", () => {
  it.each([
    { text: "", units: 0 },
    { text: "abc", units: 3 },
    { text: "\u00e9\u20ac", units: 2 },
    { text: "\u{1F600}", units: 2 },
    { text: "e\u0301", units: 2 },
  ])("$text → $units", ({ text, units }) => {
    expect(utf16Units(text)).toBe(units);
  });
});

describe("utf8BoundaryAtOrBefore", () => {
  // "a€b😀": a(1) €(3) b(1) 😀(4) = boundaries 0, 1, 4, 5, 9
  const bytes = utf8("a\u20acb\u{1F600}");
  it.each([
    { max: -5, cut: 0 },
    { max: 0, cut: 0 },
    { max: 1, cut: 1 },
    { max: 2, cut: 1 },
    { max: 3, cut: 1 },
    { max: 4, cut: 4 },
    { max: 5, cut: 5 },
    { max: 6, cut: 5 },
    { max: 8, cut: 5 },
    { max: 9, cut: 9 },
    { max: 100, cut: 9 },
    { max: 4.9, cut: 4 },
    { max: 2.5, cut: 1 },
    { max: Number.NaN, cut: 0 },
  ])("max $max → $cut", ({ max, cut }) => {
    expect(utf8BoundaryAtOrBefore(bytes, max)).toBe(cut);
  });

  it("never splits a character and cuts as late as it can", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.integer({ min: -3, max: 170 }), (text, max) => {
        const encoded = utf8(text);
        const cut = utf8BoundaryAtOrBefore(encoded, max);
        // Every character boundary of the text, in bytes.
        const boundaries = [0];
        for (const ch of text) boundaries.push(boundaries.at(-1)! + utf8(ch).length);
        const best = Math.max(...boundaries.filter((b) => b <= Math.max(0, max)));
        expect(cut).toBe(best);
        expect(isValidUtf8(encoded.subarray(0, cut))).toBe(true);
        expect(isValidUtf8(encoded.subarray(cut))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
