/**
 * The kernel's part between a Hyper-V host and the daemon (`drivers/hv/hv_kvp.c`): turning
 * a host request (UTF-16 strings) into the device message the daemon reads, and the
 * daemon's reply into what the host receives. Pure; the IO lives in simulated-host.ts.
 */
import {
  HOST_MAX_KEY_UNITS,
  HOST_MAX_VALUE_UNITS,
  KEY_FIELD_BYTES,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  POOLS,
  VALUE_FIELD_BYTES,
  fieldTextLength,
  kernelUtf16ToUtf8,
  kernelUtf8ToUtf16,
} from "@hyperv-kvp/kvp-core";
import {
  HvStatus,
  KvpOp,
  MESSAGE_BYTES,
  MessageLayout,
  REG_SZ,
  decodeKvpReply,
  encodeField,
  encodeKvpMessage,
} from "./device-message.js";
import { SimError } from "../errors.js";

/**
 * Longest key a host can put in its VMBus message, in UTF-16 code units: the host's key
 * field is {@link KEY_FIELD_BYTES} bytes of UTF-16 and keeps one unit for the NUL.
 */
export const HOST_KEY_MAX_UNITS = KEY_FIELD_BYTES / 2 - 1;

/** Longest value a host can put in its VMBus message, in UTF-16 code units (NUL excluded). */
export const HOST_VALUE_MAX_UNITS = VALUE_FIELD_BYTES / 2 - 1;

/** The device operation behind each host request. */
const HOST_OPERATIONS = {
  set: KvpOp.SET,
  get: KvpOp.GET,
  delete: KvpOp.DELETE,
  enumerate: KvpOp.ENUMERATE,
} as const;

/** A request as the host makes it: strings are JavaScript (UTF-16) text. */
export type HostRequest =
  | { readonly operation: "set"; readonly pool: number; readonly key: string; readonly value: string }
  | { readonly operation: "get"; readonly pool: number; readonly key: string }
  | { readonly operation: "delete"; readonly pool: number; readonly key: string }
  | { readonly operation: "enumerate"; readonly pool: number; readonly index: number };

/** What the host receives back. */
export interface HostReply {
  /** Unsigned 32-bit status: {@link HvStatus} `OK`, `CONT`, `FAIL`, or what the daemon sent. */
  readonly status: number;
  /** ENUMERATE only, when `status` is OK: the key after the kernel's UTF-16 conversion. */
  readonly key?: string;
  /** ENUMERATE and GET, when `status` is OK: the value after the kernel's conversion. */
  readonly value?: string;
  /** True when the kernel cut the key or value short (254 / 1022 UTF-16 units). */
  readonly truncated?: boolean;
}

/**
 * Builds the message the kernel writes to the daemon for `request`, as `kvp_send_key` does:
 * a zeroed message with operation and pool; for SET, GET and DELETE the strings converted to
 * UTF-8 (at most 511 key / 2047 value bytes, silently cut) with sizes that count the NUL;
 * SET always as REG_SZ; GET with `value_size` 0, because the kernel never sets it.
 * @throws {SimError} `invalid-argument` for a pool outside 0–4, a negative or fractional
 *   index, or strings longer than a host's message can carry.
 */
export function toDaemonRequest(request: HostRequest): Uint8Array {
  assertPool(request.pool);
  const { pool } = request;
  switch (request.operation) {
    case "set": {
      const key = hostKey(request.key);
      assertHostText("value", request.value, HOST_VALUE_MAX_UNITS);
      const value = kernelUtf16ToUtf8(request.value, MAX_VALUE_BYTES);
      return encodeKvpMessage({
        operation: KvpOp.SET,
        pool,
        body: {
          kind: "exchange",
          data: {
            valueType: REG_SZ,
            keySize: key.length + 1,
            valueSize: value.length + 1,
            key: encodeField(key, KEY_FIELD_BYTES),
            value: encodeField(value, VALUE_FIELD_BYTES),
          },
        },
      });
    }
    case "get": {
      const key = hostKey(request.key);
      return encodeKvpMessage({
        operation: KvpOp.GET,
        pool,
        body: {
          kind: "exchange",
          data: {
            valueType: 0,
            keySize: key.length + 1,
            valueSize: 0,
            key: encodeField(key, KEY_FIELD_BYTES),
            value: new Uint8Array(VALUE_FIELD_BYTES),
          },
        },
      });
    }
    case "delete": {
      const key = hostKey(request.key);
      return encodeKvpMessage({
        operation: KvpOp.DELETE,
        pool,
        body: { kind: "delete", keySize: key.length + 1, key: encodeField(key, KEY_FIELD_BYTES) },
      });
    }
    case "enumerate": {
      if (!Number.isInteger(request.index) || request.index < 0 || request.index > 0xffffffff) {
        throw new SimError("invalid-argument", `invalid index: ${request.index} (must be an integer from 0)`);
      }
      return encodeKvpMessage({
        operation: KvpOp.ENUMERATE,
        pool,
        body: {
          kind: "enumerate",
          index: request.index,
          data: {
            valueType: 0,
            keySize: 0,
            valueSize: 0,
            key: new Uint8Array(KEY_FIELD_BYTES),
            value: new Uint8Array(VALUE_FIELD_BYTES),
          },
        },
      });
    }
  }
}

/**
 * What the host receives for the daemon's `reply` to `request` (`kvp_respond_to_host`):
 * a failure status passes through with no data; SET and DELETE carry only the status;
 * ENUMERATE and GET carry strings converted to UTF-16 with `strlen` (a key field without a
 * NUL runs on into the value field), cut at 254 / 1022 units, and HV_E_FAIL when either is
 * invalid UTF-8. Like the kernel, GET reads the value where ENUMERATE keeps it (4 bytes
 * further than GET's own field), so a Linux guest answers GET with an empty value.
 * @throws {SimError} `protocol` when `reply` is not one message.
 */
export function toHostReply(request: HostRequest, reply: Uint8Array): HostReply {
  const { status } = decodeKvpReply(reply, HOST_OPERATIONS[request.operation]);
  if (status !== HvStatus.OK || request.operation === "set" || request.operation === "delete") {
    return { status };
  }
  const valueAt = MessageLayout.enumerateExchange + MessageLayout.exchangeValue;
  const value = kernelUtf8ToUtf16(cString(reply, valueAt), HOST_MAX_VALUE_UNITS);
  if (request.operation === "get") {
    return value.ok ? { status, value: value.text, truncated: value.truncated } : { status: HvStatus.FAIL };
  }
  const keyAt = MessageLayout.enumerateExchange + MessageLayout.exchangeKey;
  const key = kernelUtf8ToUtf16(cString(reply, keyAt), HOST_MAX_KEY_UNITS);
  if (!key.ok || !value.ok) return { status: HvStatus.FAIL };
  return { status, key: key.text, value: value.text, truncated: key.truncated || value.truncated };
}

function hostKey(key: string): Uint8Array {
  assertHostText("key", key, HOST_KEY_MAX_UNITS);
  return kernelUtf16ToUtf8(key, MAX_KEY_BYTES);
}

function assertHostText(name: string, text: string, maxUnits: number): void {
  if (typeof text !== "string") throw new SimError("invalid-argument", `invalid ${name}: not a string`);
  if (text.length > maxUnits) {
    throw new SimError(
      "invalid-argument",
      `invalid ${name}: longer than a host message carries (${text.length} UTF-16 units, limit ${maxUnits})`,
    );
  }
}

function assertPool(pool: number): void {
  if (!POOLS.some((p) => p.number === pool)) {
    throw new SimError("invalid-argument", `invalid pool: ${pool} (use 0 to ${POOLS.length - 1})`);
  }
}

/** The bytes from `at` up to the first NUL, as `strlen` would run: to the end of the message at most. */
function cString(bytes: Uint8Array, at: number): Uint8Array {
  return bytes.subarray(at, at + fieldTextLength(bytes, at, MESSAGE_BYTES - at));
}
