import { KEY_FIELD_BYTES, VALUE_FIELD_BYTES } from "@hyperv-kvp/kvp-core";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import {
  type ExchangeData,
  HvStatus,
  type KvpMessage,
  KvpOp,
  MESSAGE_BYTES,
  REGISTER_VERSION_BYTES,
  REG_SZ,
  bodyKindOf,
  decodeKvpMessage,
  decodeKvpReply,
  encodeField,
  encodeKvpMessage,
  encodeKvpReply,
  fieldString,
} from "./device-message.js";
import { isSimError } from "../errors.js";

const text = (s: string) => new TextEncoder().encode(s);
const u32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

function exchange(key: string, value: string, valueType = REG_SZ): ExchangeData {
  const k = text(key);
  const v = text(value);
  return {
    valueType,
    keySize: k.length + 1,
    valueSize: v.length + 1,
    key: encodeField(k, KEY_FIELD_BYTES),
    value: encodeField(v, VALUE_FIELD_BYTES),
  };
}

describe("struct hv_kvp_msg layout", () => {
  it("is 7432 bytes", () => {
    expect(MESSAGE_BYTES).toBe(7432);
  });

  it("puts SET's header and exchange value at their offsets", () => {
    const bytes = encodeKvpMessage({
      operation: KvpOp.SET,
      pool: 3,
      body: { kind: "exchange", data: exchange("Key", "Value") },
    });
    expect(bytes.length).toBe(MESSAGE_BYTES);
    expect([bytes[0], bytes[1], bytes[2], bytes[3]]).toEqual([1, 3, 0, 0]);
    expect(u32(bytes, 4)).toBe(REG_SZ);
    expect(u32(bytes, 8)).toBe(4);
    expect(u32(bytes, 12)).toBe(6);
    expect(ascii(bytes, 16, 4)).toBe("Key\0");
    expect(ascii(bytes, 528, 6)).toBe("Value\0");
    // Nothing past the value field.
    expect(bytes.subarray(528 + VALUE_FIELD_BYTES).every((b) => b === 0)).toBe(true);
  });

  it("puts ENUMERATE's index before its exchange value", () => {
    const bytes = encodeKvpMessage({
      operation: KvpOp.ENUMERATE,
      pool: 1,
      body: { kind: "enumerate", index: 0x01020304, data: exchange("k", "v", 7) },
    });
    expect([bytes[0], bytes[1]]).toEqual([3, 1]);
    expect([bytes[4], bytes[5], bytes[6], bytes[7]]).toEqual([4, 3, 2, 1]);
    expect(u32(bytes, 8)).toBe(7);
    expect(u32(bytes, 12)).toBe(2);
    expect(u32(bytes, 16)).toBe(2);
    expect(ascii(bytes, 20, 2)).toBe("k\0");
    expect(ascii(bytes, 532, 2)).toBe("v\0");
  });

  it("puts DELETE's key size and key at 4 and 8", () => {
    const bytes = encodeKvpMessage({
      operation: KvpOp.DELETE,
      pool: 0,
      body: { kind: "delete", keySize: 6, key: encodeField(text("gone!"), KEY_FIELD_BYTES) },
    });
    expect(bytes[0]).toBe(2);
    expect(u32(bytes, 4)).toBe(6);
    expect(ascii(bytes, 8, 6)).toBe("gone!\0");
  });

  it("puts REGISTER1's version at 4", () => {
    const bytes = encodeKvpMessage({
      operation: KvpOp.REGISTER1,
      pool: 0,
      body: { kind: "register", version: encodeField(text("3.1"), REGISTER_VERSION_BYTES) },
    });
    expect(bytes[0]).toBe(100);
    expect(ascii(bytes, 4, 4)).toBe("3.1\0");
  });

  it("writes a reply's status over operation and pool, little-endian", () => {
    const bytes = encodeKvpReply({
      status: HvStatus.CONT,
      body: { kind: "delete", keySize: 2, key: encodeField(text("k"), KEY_FIELD_BYTES) },
    });
    expect([bytes[0], bytes[1], bytes[2], bytes[3]]).toEqual([0x03, 0x01, 0x07, 0x80]);
    expect(
      encodeKvpReply({
        status: HvStatus.FAIL,
        body: { kind: "raw", bytes: new Uint8Array(MESSAGE_BYTES - 4) },
      }).subarray(0, 4),
    ).toEqual(new Uint8Array([0x05, 0x40, 0x00, 0x80]));
  });
});

describe("decodeKvpMessage / decodeKvpReply", () => {
  const cases: [string, KvpMessage][] = [
    ["GET", { operation: KvpOp.GET, pool: 0, body: { kind: "exchange", data: exchange("a", "") } }],
    ["SET", { operation: KvpOp.SET, pool: 4, body: { kind: "exchange", data: exchange("ключ", "значение 🚀") } }],
    [
      "DELETE",
      {
        operation: KvpOp.DELETE,
        pool: 0,
        body: { kind: "delete", keySize: 2, key: encodeField(text("x"), KEY_FIELD_BYTES) },
      },
    ],
    [
      "ENUMERATE",
      { operation: KvpOp.ENUMERATE, pool: 2, body: { kind: "enumerate", index: 9, data: exchange("k", "v") } },
    ],
    [
      "REGISTER1",
      { operation: KvpOp.REGISTER1, pool: 0, body: { kind: "register", version: encodeField(text("3.1"), 512) } },
    ],
    [
      "GET_IP_INFO (raw)",
      {
        operation: KvpOp.GET_IP_INFO,
        pool: 0,
        body: { kind: "raw", bytes: new Uint8Array(MESSAGE_BYTES - 4).fill(0x5a) },
      },
    ],
  ];

  it.each(cases)("round-trips %s", (_name, message) => {
    expect(decodeKvpMessage(encodeKvpMessage(message))).toEqual(message);
  });

  it.each(cases)("round-trips a reply to %s", (_name, message) => {
    const reply = { status: HvStatus.FAIL, body: message.body };
    expect(decodeKvpReply(encodeKvpReply(reply), message.operation)).toEqual(reply);
  });

  it("keeps the bytes after a field's NUL", () => {
    const key = encodeField(text("k"), KEY_FIELD_BYTES);
    key.set(text("tail"), 10);
    const message: KvpMessage = {
      operation: KvpOp.SET,
      pool: 0,
      body: { kind: "exchange", data: { ...exchange("k", "v"), key } },
    };
    const decoded = decodeKvpMessage(encodeKvpMessage(message));
    expect(decoded).toEqual(message);
    expect(decoded.body.kind === "exchange" && fieldString(decoded.body.data.key)).toEqual(text("k"));
  });

  it("chooses the body by operation", () => {
    expect([0, 1, 2, 3, 4, 5, 100, 42].map(bodyKindOf)).toEqual([
      "exchange",
      "exchange",
      "delete",
      "enumerate",
      "raw",
      "raw",
      "register",
      "raw",
    ]);
  });

  it("rejects a message of the wrong size as a protocol error", () => {
    for (const size of [0, MESSAGE_BYTES - 1, MESSAGE_BYTES + 1]) {
      expect(() => decodeKvpMessage(new Uint8Array(size))).toThrow(expect.objectContaining({ code: "protocol" }));
      expect(() => decodeKvpReply(new Uint8Array(size), KvpOp.SET)).toThrow(/7432/);
    }
  });

  it("rejects fields of the wrong size and numbers that do not fit", () => {
    const bad = (message: KvpMessage) =>
      isSimError(
        thrown(() => encodeKvpMessage(message)),
        "invalid-argument",
      );
    const data = exchange("k", "v");
    expect(
      bad({ operation: KvpOp.SET, pool: 0, body: { kind: "exchange", data: { ...data, key: new Uint8Array(10) } } }),
    ).toBe(true);
    expect(bad({ operation: KvpOp.SET, pool: 256, body: { kind: "exchange", data } })).toBe(true);
    expect(bad({ operation: KvpOp.SET, pool: 0, body: { kind: "exchange", data: { ...data, keySize: -1 } } })).toBe(
      true,
    );
    expect(bad({ operation: KvpOp.ENUMERATE, pool: 0, body: { kind: "enumerate", index: 2 ** 32, data } })).toBe(true);
  });

  it("encodeField keeps room for the NUL", () => {
    expect(encodeField(text("abc"), 4)).toEqual(new Uint8Array([97, 98, 99, 0]));
    expect(() => encodeField(text("abcd"), 4)).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });
});
