/**
 * `struct hv_kvp_msg`, the one message that crosses `/dev/vmbus/hv_kvp` in both directions
 * (Linux `include/uapi/linux/hyperv.h`), as pure encode/decode over bytes. Little-endian,
 * x86_64 layout. Strings inside are UTF-8 here: the kernel converts from and to the host's
 * UTF-16 on the other side of the device (see kernel-relay.ts).
 */
import { KEY_FIELD_BYTES, VALUE_FIELD_BYTES, fieldTextLength } from "@hyperv-kvp/kvp-core";
import { SimError } from "../errors.js";

/**
 * Bytes of one message, `sizeof(struct hv_kvp_msg)` on x86_64. Every read and write on the
 * device moves exactly this many bytes, whatever the operation.
 */
export const MESSAGE_BYTES = 7432;

/** Operation codes (`enum hv_kvp_exchg_op`, plus the daemon's register code). */
export const KvpOp = {
  GET: 0,
  SET: 1,
  DELETE: 2,
  ENUMERATE: 3,
  GET_IP_INFO: 4,
  SET_IP_INFO: 5,
  /** The handshake: the daemon writes it first, the kernel answers with its version. */
  REGISTER1: 100,
} as const;

/** One of the {@link KvpOp} values. */
export type KvpOpCode = (typeof KvpOp)[keyof typeof KvpOp];

/**
 * Status codes a reply carries in its first four bytes (read as unsigned 32-bit here; the
 * C field is an `int`).
 */
export const HvStatus = {
  /** HV_S_OK: success. */
  OK: 0,
  /** HV_S_CONT: not found, or past the end of an enumeration. */
  CONT: 0x80070103,
  /** HV_E_FAIL: failure; the kernel also reports invalid UTF-8 with it. */
  FAIL: 0x80004005,
} as const;

/** `value_type` of a string value (REG_SZ); the only type the kernel hands the daemon. */
export const REG_SZ = 1;

/** The version string the kernel answers the handshake with (`HV_DRV_VERSION`). */
export const KERNEL_VERSION = "3.1";

/** Bytes of the register body's version field (`version[HV_KVP_EXCHANGE_MAX_KEY_SIZE]`). */
export const REGISTER_VERSION_BYTES = KEY_FIELD_BYTES;

/** Bytes of the header: `u8 operation, u8 pool, u16 pad`, aliased by `int error` in replies. */
const HEADER_BYTES = 4;

/** Bytes of `struct hv_kvp_exchg_msg_value`'s three u32 fields before the key. */
const EXCHANGE_PREFIX_BYTES = 12;

/**
 * Byte offsets inside a message. `exchange*` offsets are relative to the start of a
 * `struct hv_kvp_exchg_msg_value`, which sits at `setExchange` in GET/SET bodies and at
 * `enumerateExchange` in ENUMERATE bodies.
 */
export const MessageLayout = {
  operation: 0,
  pool: 1,
  /** The status of a reply overwrites operation and pool. */
  status: 0,
  body: HEADER_BYTES,
  exchangeValueType: 0,
  exchangeKeySize: 4,
  exchangeValueSize: 8,
  exchangeKey: EXCHANGE_PREFIX_BYTES,
  exchangeValue: EXCHANGE_PREFIX_BYTES + KEY_FIELD_BYTES,
  /** GET and SET: the exchange value is the whole body. */
  setExchange: HEADER_BYTES,
  /** ENUMERATE: `u32 index`, then the exchange value. */
  enumerateIndex: HEADER_BYTES,
  enumerateExchange: HEADER_BYTES + 4,
  /** DELETE: `u32 key_size`, then `key[512]`. */
  deleteKeySize: HEADER_BYTES,
  deleteKey: HEADER_BYTES + 4,
  /** REGISTER1: `version[512]`. */
  registerVersion: HEADER_BYTES,
} as const;

/**
 * `struct hv_kvp_exchg_msg_value`. `key` and `value` are the whole fixed-size fields, so
 * whatever follows a string's NUL survives a round trip (the daemon copies whole fields).
 */
export interface ExchangeData {
  readonly valueType: number;
  /** Bytes of the key that count, NUL included (the daemon compares exactly this many). */
  readonly keySize: number;
  /** Bytes of the value that count, NUL included (the daemon copies exactly this many). */
  readonly valueSize: number;
  /** The key field, {@link KEY_FIELD_BYTES} bytes. */
  readonly key: Uint8Array;
  /** The value field, {@link VALUE_FIELD_BYTES} bytes. */
  readonly value: Uint8Array;
}

/** The body of a message; which one is decided by the operation. */
export type KvpBody =
  /** GET and SET. */
  | { readonly kind: "exchange"; readonly data: ExchangeData }
  | { readonly kind: "enumerate"; readonly index: number; readonly data: ExchangeData }
  | { readonly kind: "delete"; readonly keySize: number; readonly key: Uint8Array }
  /** REGISTER1: `version` is the {@link REGISTER_VERSION_BYTES}-byte field. */
  | { readonly kind: "register"; readonly version: Uint8Array }
  /** The IP operations, which the simulator does not interpret: the body bytes as they are. */
  | { readonly kind: "raw"; readonly bytes: Uint8Array };

/** A request (kernel → daemon) or the daemon's handshake: header plus body. */
export interface KvpMessage {
  readonly operation: number;
  readonly pool: number;
  readonly body: KvpBody;
}

/** A reply (daemon → kernel): the status replaces operation and pool. */
export interface KvpReply {
  /** Unsigned 32-bit status, one of {@link HvStatus} or another HRESULT the daemon chose. */
  readonly status: number;
  readonly body: KvpBody;
}

/** Which body an operation carries. */
export function bodyKindOf(operation: number): KvpBody["kind"] {
  switch (operation) {
    case KvpOp.GET:
    case KvpOp.SET:
      return "exchange";
    case KvpOp.ENUMERATE:
      return "enumerate";
    case KvpOp.DELETE:
      return "delete";
    case KvpOp.REGISTER1:
      return "register";
    default:
      return "raw";
  }
}

/**
 * Encodes a request or handshake message.
 * @returns a new {@link MESSAGE_BYTES}-byte array; bytes no field covers are zero, as in the
 *   kernel's `kzalloc`ed messages.
 * @throws {SimError} `invalid-argument` when a field has the wrong size or a number does
 *   not fit its field.
 */
export function encodeKvpMessage(message: KvpMessage): Uint8Array {
  const bytes = new Uint8Array(MESSAGE_BYTES);
  assertUint("operation", message.operation, 0xff);
  assertUint("pool", message.pool, 0xff);
  bytes[MessageLayout.operation] = message.operation;
  bytes[MessageLayout.pool] = message.pool;
  writeBody(bytes, message.body);
  return bytes;
}

/**
 * Encodes a reply: the status in the first four bytes, then the body.
 * @throws {SimError} as {@link encodeKvpMessage}.
 */
export function encodeKvpReply(reply: KvpReply): Uint8Array {
  const bytes = new Uint8Array(MESSAGE_BYTES);
  assertUint("status", reply.status, 0xffffffff);
  view(bytes).setUint32(MessageLayout.status, reply.status, true);
  writeBody(bytes, reply.body);
  return bytes;
}

/**
 * Decodes a request or handshake message; the operation byte chooses the body.
 * @throws {SimError} `protocol` unless `bytes` is exactly {@link MESSAGE_BYTES} long.
 */
export function decodeKvpMessage(bytes: Uint8Array): KvpMessage {
  assertMessageSize(bytes);
  const operation = bytes[MessageLayout.operation]!;
  return { operation, pool: bytes[MessageLayout.pool]!, body: readBody(bytes, operation) };
}

/**
 * Decodes a reply. A reply does not say which operation it answers (the status overwrote
 * it), so the caller passes the request's operation.
 * @throws {SimError} `protocol` unless `bytes` is exactly {@link MESSAGE_BYTES} long.
 */
export function decodeKvpReply(bytes: Uint8Array, operation: number): KvpReply {
  assertMessageSize(bytes);
  return { status: view(bytes).getUint32(MessageLayout.status, true), body: readBody(bytes, operation) };
}

/**
 * A fixed-size field holding `text` (UTF-8 bytes) followed by NULs.
 * @throws {SimError} `invalid-argument` when `text` leaves no room for the NUL.
 */
export function encodeField(text: Uint8Array, size: number): Uint8Array {
  if (text.length >= size) {
    throw new SimError("invalid-argument", `invalid field: ${text.length} bytes do not fit ${size} with a NUL`);
  }
  const field = new Uint8Array(size);
  field.set(text);
  return field;
}

/** The bytes of `field` before its first NUL (all of it when there is none). */
export function fieldString(field: Uint8Array): Uint8Array {
  return field.subarray(0, fieldTextLength(field, 0, field.length));
}

function writeBody(bytes: Uint8Array, body: KvpBody): void {
  const dv = view(bytes);
  switch (body.kind) {
    case "exchange":
      writeExchange(bytes, MessageLayout.setExchange, body.data);
      return;
    case "enumerate":
      assertUint("index", body.index, 0xffffffff);
      dv.setUint32(MessageLayout.enumerateIndex, body.index, true);
      writeExchange(bytes, MessageLayout.enumerateExchange, body.data);
      return;
    case "delete":
      assertUint("key_size", body.keySize, 0xffffffff);
      dv.setUint32(MessageLayout.deleteKeySize, body.keySize, true);
      writeFixed(bytes, MessageLayout.deleteKey, "key", body.key, KEY_FIELD_BYTES);
      return;
    case "register":
      writeFixed(bytes, MessageLayout.registerVersion, "version", body.version, REGISTER_VERSION_BYTES);
      return;
    case "raw":
      writeFixed(bytes, MessageLayout.body, "body", body.bytes, MESSAGE_BYTES - MessageLayout.body);
      return;
  }
}

function writeExchange(bytes: Uint8Array, at: number, data: ExchangeData): void {
  const dv = view(bytes);
  assertUint("value_type", data.valueType, 0xffffffff);
  assertUint("key_size", data.keySize, 0xffffffff);
  assertUint("value_size", data.valueSize, 0xffffffff);
  dv.setUint32(at + MessageLayout.exchangeValueType, data.valueType, true);
  dv.setUint32(at + MessageLayout.exchangeKeySize, data.keySize, true);
  dv.setUint32(at + MessageLayout.exchangeValueSize, data.valueSize, true);
  writeFixed(bytes, at + MessageLayout.exchangeKey, "key", data.key, KEY_FIELD_BYTES);
  writeFixed(bytes, at + MessageLayout.exchangeValue, "value", data.value, VALUE_FIELD_BYTES);
}

function readBody(bytes: Uint8Array, operation: number): KvpBody {
  const dv = view(bytes);
  switch (bodyKindOf(operation)) {
    case "exchange":
      return { kind: "exchange", data: readExchange(bytes, MessageLayout.setExchange) };
    case "enumerate":
      return {
        kind: "enumerate",
        index: dv.getUint32(MessageLayout.enumerateIndex, true),
        data: readExchange(bytes, MessageLayout.enumerateExchange),
      };
    case "delete":
      return {
        kind: "delete",
        keySize: dv.getUint32(MessageLayout.deleteKeySize, true),
        key: copy(bytes, MessageLayout.deleteKey, KEY_FIELD_BYTES),
      };
    case "register":
      return { kind: "register", version: copy(bytes, MessageLayout.registerVersion, REGISTER_VERSION_BYTES) };
    case "raw":
      return { kind: "raw", bytes: copy(bytes, MessageLayout.body, MESSAGE_BYTES - MessageLayout.body) };
  }
}

function readExchange(bytes: Uint8Array, at: number): ExchangeData {
  const dv = view(bytes);
  return {
    valueType: dv.getUint32(at + MessageLayout.exchangeValueType, true),
    keySize: dv.getUint32(at + MessageLayout.exchangeKeySize, true),
    valueSize: dv.getUint32(at + MessageLayout.exchangeValueSize, true),
    key: copy(bytes, at + MessageLayout.exchangeKey, KEY_FIELD_BYTES),
    value: copy(bytes, at + MessageLayout.exchangeValue, VALUE_FIELD_BYTES),
  };
}

function writeFixed(bytes: Uint8Array, at: number, name: string, field: Uint8Array, size: number): void {
  if (field.length !== size) {
    throw new SimError("invalid-argument", `invalid ${name} field: ${field.length} bytes, the message needs ${size}`);
  }
  bytes.set(field, at);
}

function assertUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SimError("invalid-argument", `invalid ${name}: ${value} (must be an integer from 0 to ${max})`);
  }
}

function assertMessageSize(bytes: Uint8Array): void {
  if (bytes.length !== MESSAGE_BYTES) {
    throw new SimError("protocol", `invalid message: ${bytes.length} bytes, the device moves ${MESSAGE_BYTES}`);
  }
}

function copy(bytes: Uint8Array, at: number, size: number): Uint8Array {
  return bytes.slice(at, at + size);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
