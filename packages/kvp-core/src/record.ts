import { KvpError } from "./errors.js";
import {
  HOST_MAX_KEY_UNITS,
  HOST_MAX_VALUE_UNITS,
  KEY_FIELD_BYTES,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
} from "./layout.js";
import { decodeUtf8, encodeUtf8, findLoneSurrogate, utf16Units } from "./utf8.js";

/** One key/value pair as text. */
export interface KvpRecord {
  readonly key: string;
  readonly value: string;
}

/**
 * A record read from pool bytes. `key` and `value` are the text before each field's first
 * NUL; what follows the NUL is ignored (the daemon leaves garbage there).
 */
export interface DecodedRecord extends KvpRecord {
  /** Position of the record in the pool, from 0. */
  readonly index: number;
  /** Byte offset of the record in the pool. */
  readonly offset: number;
  /** UTF-8 bytes of the key before its NUL (the whole field when it has no NUL). */
  readonly keyBytes: number;
  /** UTF-8 bytes of the value before its NUL (the whole field when it has no NUL). */
  readonly valueBytes: number;
  /** False when the key field has no NUL at all: malformed, the kernel would overrun it. */
  readonly keyTerminated: boolean;
  /** False when the value field has no NUL at all. */
  readonly valueTerminated: boolean;
  /**
   * False when key or value is not valid UTF-8; the text then shows U+FFFD in its place.
   * The kernel fails on such a record and the host stops enumerating the pool there.
   */
  readonly validUtf8: boolean;
  /**
   * False when the key alone is not valid UTF-8. The daemon matches keys by bytes, so a
   * record with a valid key and a broken value can still be found, changed and deleted.
   */
  readonly keyValidUtf8: boolean;
}

/** Which limits {@link encodeRecord} enforces. */
export type RecordLimits =
  /** What the host receives whole: ≤254 UTF-16 units of key, ≤1022 of value (and the wire limits). */
  | "host"
  /** What fits a record: ≤511 bytes of key, ≤2047 of value, in UTF-8. */
  | "wire";

/** Options of {@link encodeRecord}. */
export interface EncodeRecordOptions {
  /** Default `"wire"`: the record format's own limits. Use `"host"` for pool 1 writes. */
  readonly limits?: RecordLimits;
}

/**
 * Checks a key and value against the wire limits (and the host limits when asked) and
 * returns their UTF-8 bytes.
 * @throws {KvpError} `invalid-key` / `invalid-value`, naming the limit broken.
 */
export function validateRecord(
  record: KvpRecord,
  options: EncodeRecordOptions = {},
): { key: Uint8Array; value: Uint8Array } {
  const key = validateField("key", record.key, MAX_KEY_BYTES, 1);
  const value = validateField("value", record.value, MAX_VALUE_BYTES, 0);
  if (options.limits === "host") {
    assertHostVisible(record);
  }
  return { key, value };
}

/**
 * Throws unless the host would receive `record` whole (the kernel truncates pool-1 keys past
 * 254 UTF-16 code units and values past 1022, silently).
 * @throws {KvpError} `invalid-key` / `invalid-value` with both the length and the limit.
 */
export function assertHostVisible(record: KvpRecord): void {
  const keyUnits = utf16Units(record.key);
  if (keyUnits > HOST_MAX_KEY_UNITS) {
    throw new KvpError(
      "invalid-key",
      `invalid key: longer than the host receives whole (${keyUnits} UTF-16 units, limit ${HOST_MAX_KEY_UNITS}; the host would see it truncated)`,
    );
  }
  const valueUnits = utf16Units(record.value);
  if (valueUnits > HOST_MAX_VALUE_UNITS) {
    throw new KvpError(
      "invalid-value",
      `invalid value: longer than the host receives whole (${valueUnits} UTF-16 units, limit ${HOST_MAX_VALUE_UNITS}; the host would see it truncated)`,
    );
  }
}

/** True when the host would receive `record` whole (see {@link assertHostVisible}). */
export function isHostVisible(record: KvpRecord): boolean {
  return utf16Units(record.key) <= HOST_MAX_KEY_UNITS && utf16Units(record.value) <= HOST_MAX_VALUE_UNITS;
}

/** Characters (code points) before UTF-16 index `at`: what a person counts, emoji included. */
function codePointIndex(text: string, at: number): number {
  let count = 0;
  for (const _ of text.slice(0, at)) count++;
  return count;
}

function validateField(field: "key" | "value", text: string, maxBytes: number, minBytes: number): Uint8Array {
  const code = field === "key" ? "invalid-key" : "invalid-value";
  if (typeof text !== "string") throw new KvpError(code, `invalid ${field}: not a string`);
  const surrogate = findLoneSurrogate(text);
  if (surrogate >= 0) {
    throw new KvpError(
      code,
      `invalid ${field}: lone surrogate U+${text.charCodeAt(surrogate).toString(16).toUpperCase()} at character ${codePointIndex(text, surrogate)} has no UTF-8 form`,
    );
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    throw new KvpError(
      code,
      `invalid ${field}: contains NUL at character ${codePointIndex(text, nul)} (a field ends at its first NUL)`,
    );
  }
  const bytes = encodeUtf8(text);
  if (bytes.length > maxBytes) {
    throw new KvpError(code, `invalid ${field}: longer than ${maxBytes} bytes (${bytes.length})`);
  }
  if (bytes.length < minBytes) {
    throw new KvpError(code, `invalid ${field}: empty`);
  }
  return bytes;
}

/**
 * Encodes one record: UTF-8 key and value, each followed by NULs up to its field's size.
 * @returns a new {@link RECORD_BYTES}-byte array.
 * @throws {KvpError} `invalid-key` / `invalid-value` for empty keys, NULs, lone surrogates
 *   and text over the limits chosen in `options`.
 */
export function encodeRecord(record: KvpRecord, options: EncodeRecordOptions = {}): Uint8Array {
  const { key, value } = validateRecord(record, options);
  const out = new Uint8Array(RECORD_BYTES);
  out.set(key, 0);
  out.set(value, VALUE_FIELD_OFFSET);
  return out;
}

/**
 * Decodes the record that starts at `offset` in `bytes`.
 * @param index the record's position, reported back in the result.
 * @throws {KvpError} `truncated` when fewer than {@link RECORD_BYTES} bytes remain.
 */
export function decodeRecord(bytes: Uint8Array, offset = 0, index = Math.floor(offset / RECORD_BYTES)): DecodedRecord {
  if (offset < 0 || offset + RECORD_BYTES > bytes.length) {
    throw new KvpError(
      "truncated",
      `truncated record: ${Math.max(0, bytes.length - offset)} bytes at offset ${offset}, a record needs ${RECORD_BYTES}`,
    );
  }
  return decodeAt(bytes, offset, index, offset);
}

/** Decodes the record at `start` in `bytes`, reporting it at `index` / `reportedOffset` of its pool. */
function decodeAt(bytes: Uint8Array, start: number, index: number, reportedOffset: number): DecodedRecord {
  const key = readField(bytes, start, KEY_FIELD_BYTES);
  const value = readField(bytes, start + VALUE_FIELD_OFFSET, VALUE_FIELD_BYTES);
  return {
    index,
    offset: reportedOffset,
    key: key.text,
    value: value.text,
    keyBytes: key.length,
    valueBytes: value.length,
    keyTerminated: key.terminated,
    valueTerminated: value.terminated,
    validUtf8: key.valid && value.valid,
    keyValidUtf8: key.valid,
  };
}

/**
 * False when the record at `offset` can be neither the stored key `key` (UTF-8 bytes) nor a
 * part `key#i/N` of its chunked value: its key field does not start with `key`, or what follows
 * is neither the field's end (a NUL, or none left) nor `#`. A byte test, so a writer or reader
 * looking for a few keys in a big pool decodes only the records that may be theirs.
 */
export function mayHoldLogicalKey(bytes: Uint8Array, offset: number, key: Uint8Array): boolean {
  const length = key.length;
  if (length > KEY_FIELD_BYTES) return false;
  // The byte after the key first, then the key from its end: the keys of one pool often share
  // a prefix and a length (`bench-key-00017`, `kvp-agent/…`), so a scan looking for one key
  // among thousands tells most records apart at the first or second byte it reads.
  if (length < KEY_FIELD_BYTES) {
    const next = bytes[offset + length];
    if (next !== 0 && next !== 0x23) return false; // NUL: the key ends there; "#": a part's suffix
  }
  for (let i = length - 1; i >= 0; i--) if (bytes[offset + i] !== key[i]) return false;
  return true;
}

/**
 * Indexes, ascending, of the records of `chunk` (whole records from its start) that may hold
 * one of `keys` (UTF-8 bytes): those for which {@link mayHoldLogicalKey} is true for some key.
 * For a scan of a big pool for a few keys: the first look at each record (the byte after the
 * key, the key's last byte) is made here in the loop, not in a call per record, which in a
 * process too young for its code to be optimised cost three times the looking.
 */
export function recordsThatMayHold(chunk: Uint8Array, keys: readonly Uint8Array[]): number[] {
  const found: number[] = [];
  const end = chunk.length - (chunk.length % RECORD_BYTES);
  for (let at = 0; at < end; at += RECORD_BYTES) {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const length = key.length;
      if (length > 0 && length < KEY_FIELD_BYTES) {
        const next = chunk[at + length];
        if ((next !== 0 && next !== 0x23) || chunk[at + length - 1] !== key[length - 1]) continue;
      }
      if (mayHoldLogicalKey(chunk, at, key)) {
        found.push(at / RECORD_BYTES);
        break;
      }
    }
  }
  return found;
}

/** Length of a field's text: up to its first NUL, or the whole field when there is none. */
export function fieldTextLength(bytes: Uint8Array, start: number, size: number): number {
  const nul = bytes.subarray(start, start + size).indexOf(0);
  return nul < 0 ? size : nul;
}

function readField(bytes: Uint8Array, start: number, size: number) {
  const length = fieldTextLength(bytes, start, size);
  const { text, valid } = decodeUtf8(bytes.subarray(start, start + length));
  return { text, valid, length, terminated: length < size };
}

/** A pool decoded from bytes. */
export interface DecodedPool {
  /** The whole records, in file order. */
  readonly records: DecodedRecord[];
  /**
   * Bytes after the last whole record (file size not a multiple of {@link RECORD_BYTES}).
   * The daemon ignores them and drops them at its next rewrite.
   */
  readonly trailingBytes: number;
}

/**
 * Decodes a whole pool file. Never throws on content: malformed fields and invalid UTF-8 are
 * flagged on each record, a trailing fragment is counted in `trailingBytes`.
 * @param firstIndex index of the first record, when `bytes` is a slice of a larger pool.
 */
export function decodePool(bytes: Uint8Array, firstIndex = 0): DecodedPool {
  const count = Math.floor(bytes.length / RECORD_BYTES);
  const records = new Array<DecodedRecord>(count);
  for (let i = 0; i < count; i++) {
    records[i] = decodeAt(bytes, i * RECORD_BYTES, firstIndex + i, (firstIndex + i) * RECORD_BYTES);
  }
  return { records, trailingBytes: bytes.length - count * RECORD_BYTES };
}

/**
 * Encodes records into pool bytes, in order, as the daemon writes a pool.
 * @throws {KvpError} as {@link encodeRecord}.
 */
export function encodePool(records: readonly KvpRecord[], options: EncodeRecordOptions = {}): Uint8Array {
  const out = new Uint8Array(records.length * RECORD_BYTES);
  records.forEach((record, i) => {
    try {
      out.set(encodeRecord(record, options), i * RECORD_BYTES);
    } catch (error) {
      if (error instanceof KvpError) throw new KvpError(error.code, `record ${i}: ${error.message}`);
      throw error;
    }
  });
  return out;
}
