import { KEY_FIELD_BYTES, VALUE_FIELD_BYTES } from "@hyperv-kvp/kvp-core";
import { describe, expect, it } from "vitest";
import {
  HvStatus,
  KvpOp,
  MESSAGE_BYTES,
  MessageLayout,
  decodeKvpMessage,
  encodeKvpReply,
  fieldString,
} from "./device-message.js";
import { HOST_KEY_MAX_UNITS, HOST_VALUE_MAX_UNITS, toDaemonRequest, toHostReply } from "./kernel-relay.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A daemon reply to ENUMERATE/GET with raw key and value bytes at the ENUMERATE offsets. */
function enumerateReply(status: number, key: Uint8Array, value: Uint8Array): Uint8Array {
  const reply = encodeKvpReply({ status, body: { kind: "raw", bytes: new Uint8Array(MESSAGE_BYTES - 4) } });
  reply.set(key, MessageLayout.enumerateExchange + MessageLayout.exchangeKey);
  reply.set(value, MessageLayout.enumerateExchange + MessageLayout.exchangeValue);
  return reply;
}

describe("toDaemonRequest", () => {
  it("builds SET as the kernel does: UTF-8, sizes with the NUL, REG_SZ", () => {
    const message = decodeKvpMessage(toDaemonRequest({ operation: "set", pool: 0, key: "ключ", value: "v🚀" }));
    expect(message.operation).toBe(KvpOp.SET);
    expect(message.pool).toBe(0);
    if (message.body.kind !== "exchange") throw new Error("wrong body");
    const { data } = message.body;
    expect(data.valueType).toBe(1);
    expect(fieldString(data.key)).toEqual(utf8("ключ"));
    expect(data.keySize).toBe(utf8("ключ").length + 1);
    expect(fieldString(data.value)).toEqual(utf8("v🚀"));
    expect(data.valueSize).toBe(6);
  });

  it("cuts what does not fit the daemon's fields silently, as the kernel does", () => {
    const message = decodeKvpMessage(toDaemonRequest({ operation: "set", pool: 0, key: "k", value: "日".repeat(700) }));
    if (message.body.kind !== "exchange") throw new Error("wrong body");
    expect(message.body.data.valueSize).toBe(2047);
    expect(fieldString(message.body.data.value).length).toBe(2046);
  });

  it("sends GET with value_size 0 and DELETE with the key only", () => {
    const get = decodeKvpMessage(toDaemonRequest({ operation: "get", pool: 1, key: "k" }));
    expect(get.body.kind === "exchange" && [get.body.data.keySize, get.body.data.valueSize]).toEqual([2, 0]);
    const del = decodeKvpMessage(toDaemonRequest({ operation: "delete", pool: 0, key: "gone" }));
    expect(del.body).toEqual({ kind: "delete", keySize: 5, key: expect.any(Uint8Array) });
  });

  it("sends ENUMERATE with the index and nothing else", () => {
    const bytes = toDaemonRequest({ operation: "enumerate", pool: 2, index: 7 });
    expect([bytes[0], bytes[1], bytes[4]]).toEqual([KvpOp.ENUMERATE, 2, 7]);
    expect(bytes.subarray(8).every((b) => b === 0)).toBe(true);
  });

  it("refuses what a host cannot send", () => {
    const invalid = expect.objectContaining({ code: "invalid-argument" });
    expect(() => toDaemonRequest({ operation: "enumerate", pool: 5, index: 0 })).toThrow(invalid);
    expect(() => toDaemonRequest({ operation: "enumerate", pool: 1, index: -1 })).toThrow(invalid);
    expect(() =>
      toDaemonRequest({ operation: "set", pool: 0, key: "k".repeat(HOST_KEY_MAX_UNITS + 1), value: "" }),
    ).toThrow(invalid);
    expect(() =>
      toDaemonRequest({ operation: "set", pool: 0, key: "k", value: "v".repeat(HOST_VALUE_MAX_UNITS + 1) }),
    ).toThrow(invalid);
    expect(HOST_KEY_MAX_UNITS).toBe(KEY_FIELD_BYTES / 2 - 1);
    expect(HOST_VALUE_MAX_UNITS).toBe(VALUE_FIELD_BYTES / 2 - 1);
  });
});

describe("toHostReply", () => {
  const enumerate = { operation: "enumerate", pool: 1, index: 0 } as const;

  it("passes a failure status through without data", () => {
    expect(toHostReply(enumerate, enumerateReply(HvStatus.CONT, utf8("k"), utf8("v")))).toEqual({
      status: HvStatus.CONT,
    });
  });

  it("gives SET and DELETE only the status", () => {
    const reply = enumerateReply(HvStatus.OK, utf8("k"), utf8("v"));
    expect(toHostReply({ operation: "set", pool: 0, key: "k", value: "v" }, reply)).toEqual({ status: HvStatus.OK });
    expect(toHostReply({ operation: "delete", pool: 0, key: "k" }, reply)).toEqual({ status: HvStatus.OK });
  });

  it("converts ENUMERATE's key and value up to their NULs", () => {
    const reply = enumerateReply(HvStatus.OK, utf8("Grüße\0tail"), utf8("日本\0\xff"));
    expect(toHostReply(enumerate, reply)).toEqual({
      status: HvStatus.OK,
      key: "Grüße",
      value: "日本",
      truncated: false,
    });
  });

  it("answers HV_E_FAIL when key or value is invalid UTF-8", () => {
    expect(toHostReply(enumerate, enumerateReply(HvStatus.OK, new Uint8Array([0xff]), utf8("v"))).status).toBe(
      HvStatus.FAIL,
    );
    expect(toHostReply(enumerate, enumerateReply(HvStatus.OK, utf8("k"), new Uint8Array([0xc3]))).status).toBe(
      HvStatus.FAIL,
    );
  });

  it("runs a key without a NUL on into the value field, as strlen does", () => {
    const key = new Uint8Array(KEY_FIELD_BYTES).fill(0x4b);
    const reply = toHostReply(enumerate, enumerateReply(HvStatus.OK, key, utf8("v")));
    expect(reply.key).toBe("K".repeat(254));
    expect(reply.truncated).toBe(true);
  });

  it("reads GET's value where ENUMERATE keeps it, 4 bytes past GET's own field", () => {
    const reply = enumerateReply(HvStatus.OK, new Uint8Array(0), utf8("seen"));
    reply.set(utf8("own!"), MessageLayout.setExchange + MessageLayout.exchangeValue);
    expect(toHostReply({ operation: "get", pool: 0, key: "k" }, reply)).toEqual({
      status: HvStatus.OK,
      value: "seen",
      truncated: false,
    });
  });
});
