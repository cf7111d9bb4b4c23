import { describe, expect, it } from "vitest";
import {
  buildBasicAuthorization,
  constantTimeEqual,
  parseBasicAuthorization,
  verifyBasicAuthorization,
} from "./basic.js";

describe("basic auth", () => {
  const users = new Map([["Administrator", "pässword:1"]]);
  it("builds and parses the header (UTF-8, colon in the password)", () => {
    const h = buildBasicAuthorization("Administrator", "pässword:1");
    expect(h).toBe(`Basic ${Buffer.from("Administrator:pässword:1").toString("base64")}`);
    expect(parseBasicAuthorization(h)).toEqual({ user: "Administrator", password: "pässword:1" });
  });
  it("verifies, telling unknown users from wrong passwords", () => {
    expect(verifyBasicAuthorization(buildBasicAuthorization("administrator", "pässword:1"), users)).toEqual({
      ok: true,
      user: "Administrator",
    });
    expect(verifyBasicAuthorization(buildBasicAuthorization("Administrator", "nope"), users)).toMatchObject({
      ok: false,
      reason: "wrong-password",
    });
    expect(verifyBasicAuthorization(buildBasicAuthorization("guest", "x"), users)).toMatchObject({
      ok: false,
      reason: "unknown-user",
    });
    expect(verifyBasicAuthorization(undefined, users)).toMatchObject({ ok: false, reason: "missing" });
    expect(verifyBasicAuthorization("Basic !!!", users)).toMatchObject({ ok: false, reason: "missing" });
    expect(verifyBasicAuthorization("Negotiate abc", users)).toMatchObject({ ok: false, reason: "missing" });
  });
  it("refuses a colon in the user name", () => {
    expect(() => buildBasicAuthorization("a:b", "x")).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });
  it("compares in constant time without throwing on different lengths", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
  });
});
