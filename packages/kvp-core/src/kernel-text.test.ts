import { describe, expect, it } from "vitest";
import { kernelUtf16ToUtf8, kernelUtf8ToUtf16 } from "./kernel-text.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => new Uint8Array(b);

describe("kernelUtf16ToUtf8 (host → daemon)", () => {
  it("converts text to UTF-8", () => {
    expect(kernelUtf16ToUtf8("aé日🚀", 100)).toEqual(utf8("aé日🚀"));
  });

  it("stops at a NUL unit", () => {
    expect(kernelUtf16ToUtf8("ab\0cd", 100)).toEqual(utf8("ab"));
  });

  it("drops unpaired surrogates and keeps going", () => {
    expect(kernelUtf16ToUtf8("a\udc00b\ud800c", 100)).toEqual(utf8("abc"));
  });

  it("skips a character that no longer fits, yet takes later shorter ones", () => {
    expect(kernelUtf16ToUtf8("ab日c", 4)).toEqual(utf8("abc"));
    expect(kernelUtf16ToUtf8("日".repeat(700), 2047).length).toBe(2046);
  });
});

describe("kernelUtf8ToUtf16 (daemon → host)", () => {
  it("converts valid UTF-8, supplementary characters as surrogate pairs", () => {
    expect(kernelUtf8ToUtf16(utf8("aé日🚀"), 254)).toEqual({ ok: true, text: "aé日🚀", truncated: false });
  });

  it("stops at the first NUL", () => {
    expect(kernelUtf8ToUtf16(bytes(0x61, 0, 0xff), 254)).toEqual({ ok: true, text: "a", truncated: false });
  });

  it("cuts silently at the unit limit", () => {
    expect(kernelUtf8ToUtf16(utf8("abcdef"), 4)).toEqual({ ok: true, text: "abcd", truncated: true });
  });

  it("ends before a supplementary character when one unit is left", () => {
    expect(kernelUtf8ToUtf16(utf8("abc🚀"), 4)).toEqual({ ok: true, text: "abc", truncated: true });
    expect(kernelUtf8ToUtf16(utf8("ab🚀"), 4)).toEqual({ ok: true, text: "ab🚀", truncated: false });
  });

  it("does not look past the limit for invalid UTF-8", () => {
    expect(kernelUtf8ToUtf16(bytes(0x61, 0x62, 0xff), 2)).toEqual({ ok: true, text: "ab", truncated: true });
  });

  it.each([
    ["stray continuation byte", bytes(0x61, 0x80)],
    ["truncated sequence", bytes(0xe6, 0x97)],
    ["NUL inside a sequence", bytes(0xc3, 0x00)],
    ["non-continuation second byte", bytes(0xc3, 0x28)],
    ["overlong 2-byte", bytes(0xc0, 0xaf)],
    ["overlong 3-byte", bytes(0xe0, 0x80, 0xaf)],
    ["surrogate", bytes(0xed, 0xa0, 0x80)],
    ["past U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80)],
    ["5-byte form", bytes(0xf8, 0x88, 0x80, 0x80, 0x80)],
    ["0xFF", bytes(0xff)],
  ])("fails on %s, at its offset", (_name, input) => {
    const result = kernelUtf8ToUtf16(input, 254);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.offset).toBe(input[0] === 0x61 ? 1 : 0);
  });

  it("accepts the extremes of each form", () => {
    const extremes = "\u0080\u07ff\u0800\uffff\u{10000}\u{10ffff}";
    expect(kernelUtf8ToUtf16(utf8(extremes), 254)).toEqual({ ok: true, text: extremes, truncated: false });
  });
});
