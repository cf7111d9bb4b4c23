import { describe, expect, it } from "vitest";
import { matchesPattern } from "./config.js";
import { decodeValue, decoderFor } from "./decoders.js";

describe("decodeValue", () => {
  it.each([
    ["pairs", "role=web;zone=eu-1;", { role: "web", zone: "eu-1" }],
    ["pairs", "a=1=2; b = x ;;", { a: "1=2", b: " x " }],
    ["pairs", "", {}],
    ["json", '{"a":[1,2]}', { a: [1, 2] }],
    ["base64", Buffer.from("héllo\n").toString("base64"), "héllo\n"],
    ["base64", "aGk", "hi"],
    ["raw", "x;y", "x;y"],
  ] as const)("%s %j", (decoder, raw, value) => {
    expect(decodeValue(decoder, raw)).toEqual({ decoder, ok: true, value });
  });

  it.each([
    ["pairs", "a=1;oops", /pair 2 has no "="/],
    ["pairs", "=1", /empty name/],
    ["json", "{", /JSON/],
    ["base64", "not base64!", /not base64/],
    ["base64", Buffer.from([0xff, 0xfe]).toString("base64"), /not UTF-8/],
  ] as const)("reports %s failure for %j", (decoder, raw, error) => {
    const decoded = decodeValue(decoder, raw);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error).toMatch(error);
  });

  it("failure messages never quote the value (they are logged, values are redacted)", () => {
    for (const [decoder, raw] of [
      ["json", "password=hunter2"],
      ["json", '{"token":"hunter2"'],
      ["json", '{"token":"hunter2"} x'],
      ["pairs", "user=a;hunter2"],
    ] as const) {
      const decoded = decodeValue(decoder, raw);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.error, `${decoder} ${raw}`).not.toContain("hunter2");
    }
  });

  it("keeps __proto__ as plain data", () => {
    const decoded = decodeValue("pairs", "__proto__=x;constructor=y");
    expect(decoded.ok && Object.getPrototypeOf(decoded.value)).toBe(Object.prototype);
    expect(decoded.ok && JSON.stringify(decoded.value)).toBe('{"__proto__":"x","constructor":"y"}');
  });
});

describe("patterns", () => {
  it.each([
    ["a", "a", true],
    ["a", "A", false],
    ["cloudstack-*", "cloudstack-vm-userdata", true],
    ["*-userdata", "cloudstack-vm-userdata", true],
    ["a*b*c", "abc", true],
    ["a*b*c", "acb", false],
    ["ab*ba", "aba", false],
    ["*", "", true],
  ] as const)("%j matches %j: %s", (pattern, key, expected) => {
    expect(matchesPattern(pattern, key)).toBe(expected);
  });

  it("first rule wins", () => {
    const rules = [
      { pattern: "x", decoder: "json" },
      { pattern: "*", decoder: "raw" },
    ] as const;
    expect(decoderFor("x", rules)).toBe("json");
    expect(decoderFor("y", rules)).toBe("raw");
    expect(decoderFor("y", [])).toBeUndefined();
  });
});
