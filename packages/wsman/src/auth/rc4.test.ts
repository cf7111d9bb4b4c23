import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "@hyperv-kvp/test-support";
import { Rc4, rc4 } from "./rc4.js";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("rc4", () => {
  // RFC 6229 section 2, keystream at offsets 0 and 16.
  it("40-bit key 0102030405", () => {
    expect(toHex(rc4(fromHex("0102030405"), new Uint8Array(32)))).toBe(
      "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919",
    );
  });
  it("56-, 64- and 128-bit keys", () => {
    expect(toHex(rc4(fromHex("01020304050607"), new Uint8Array(16)))).toBe("293f02d47f37c9b633f2af5285feb46b");
    expect(toHex(rc4(fromHex("0102030405060708"), new Uint8Array(16)))).toBe("97ab8a1bf0afb96132f2f67258da15a8");
    expect(toHex(rc4(fromHex("0102030405060708090a0b0c0d0e0f10"), new Uint8Array(16)))).toBe(
      "9ac7cc9a609d1ef7b2932899cde41b97",
    );
  });
  it("continues the keystream across updates and is its own inverse", () => {
    const key = fromHex("0102030405");
    const stream = new Rc4(key);
    const a = stream.update(new Uint8Array(10));
    const b = stream.update(new Uint8Array(22));
    expect(toHex(a) + toHex(b)).toBe(toHex(rc4(key, new Uint8Array(32))));
    const plain = ascii("attack at dawn");
    expect(rc4(key, rc4(key, plain))).toEqual(plain);
  });
  it("refuses an empty key", () => {
    expect(() => rc4(new Uint8Array(0), new Uint8Array(1))).toThrow(RangeError);
  });
});
