import { describe, expect, it } from "vitest";
import { md4 } from "./md4.js";
import { Rc4, rc4 } from "./rc4.js";
import { hex, unhex } from "./test-support/hex.js";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("md4", () => {
  // RFC 1320, appendix A.5.
  it.each([
    ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
    ["a", "bde52cb31de33e46245e05fbdbd6fb24"],
    ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
    ["message digest", "d9130a8164549fe818874806e1c7014b"],
    ["abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "e33b4ddc9c38f2199c3e7b164fcc0536",
    ],
  ])("RFC 1320 %j", (input, digest) => {
    expect(hex(md4(ascii(input)))).toBe(digest);
  });

  it("handles the padding boundaries (55, 56, 64 bytes) consistently with a subarray input", () => {
    for (const n of [55, 56, 63, 64, 65]) {
      const data = new Uint8Array(n + 3).fill(0x61);
      expect(hex(md4(data.subarray(3)))).toBe(hex(md4(new Uint8Array(n).fill(0x61))));
    }
  });
});

describe("rc4", () => {
  // RFC 6229 section 2, keystream at offsets 0 and 16.
  it("40-bit key 0102030405", () => {
    expect(hex(rc4(unhex("0102030405"), new Uint8Array(32)))).toBe(
      "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919",
    );
  });
  it("56-, 64- and 128-bit keys", () => {
    expect(hex(rc4(unhex("01020304050607"), new Uint8Array(16)))).toBe("293f02d47f37c9b633f2af5285feb46b");
    expect(hex(rc4(unhex("0102030405060708"), new Uint8Array(16)))).toBe("97ab8a1bf0afb96132f2f67258da15a8");
    expect(hex(rc4(unhex("0102030405060708090a0b0c0d0e0f10"), new Uint8Array(16)))).toBe(
      "9ac7cc9a609d1ef7b2932899cde41b97",
    );
  });
  it("continues the keystream across updates and is its own inverse", () => {
    const key = unhex("0102030405");
    const stream = new Rc4(key);
    const a = stream.update(new Uint8Array(10));
    const b = stream.update(new Uint8Array(22));
    expect(hex(a) + hex(b)).toBe(hex(rc4(key, new Uint8Array(32))));
    const plain = ascii("attack at dawn");
    expect(rc4(key, rc4(key, plain))).toEqual(plain);
  });
  it("refuses an empty key", () => {
    expect(() => rc4(new Uint8Array(0), new Uint8Array(1))).toThrow(RangeError);
  });
});
