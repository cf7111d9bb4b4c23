import { describe, expect, it } from "vitest";
import { printable, printableProse } from "./printable.js";

describe("printable", () => {
  it.each([
    ["a backslash, so a typed \\n and a newline differ", "a\\nb", "a\\\\nb"],
    ["newline, CR and tab as short escapes", "a\nb\rc\td", "a\\nb\\rc\\td"],
    ["other C0 controls and DEL", "\u0000\u001b[2J\u007f", "\\u0000\\u001b[2J\\u007f"],
    ["C1 controls", "\u0085\u009b", "\\u0085\\u009b"],
    ["line and paragraph separators", "\u2028\u2029", "\\u2028\\u2029"],
    ["bidi embeddings and overrides", "\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"],
    ["bidi isolates", "\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"],
    ["bidi marks", "\u200e\u200f", "\\u200e\\u200f"],
  ])("escapes %s", (_, text, shown) => {
    expect(printable(text)).toBe(shown);
  });

  it("leaves other text alone, including non-Latin letters and emoji", () => {
    expect(printable("Grüße, 世界 🙂 = ok")).toBe("Grüße, 世界 🙂 = ok");
  });

  it("shows a real newline and a typed backslash-n differently", () => {
    expect(printable("a\nb")).not.toBe(printable("a\\nb"));
  });
});

describe("printableProse", () => {
  it("escapes what printable escapes, but keeps a Windows path's backslashes", () => {
    const hostile = "C:\\Windows\\System32 \u001b]0;title\u0007\u001b[2J \u202egnp.exe \u0085 a\nb";
    expect(printableProse(hostile)).toBe(
      "C:\\Windows\\System32 \\u001b]0;title\\u0007\\u001b[2J \\u202egnp.exe \\u0085 a\\nb",
    );
    expect(printable(hostile)).toContain("C:\\\\Windows");
    expect(printableProse("plain text")).toBe("plain text");
  });
});
