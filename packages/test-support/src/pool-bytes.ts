// Pool bytes made by hand, for files no well-behaved writer would produce and for pools whose
// every byte a test checks. The record layout is stated here on its own rather than imported
// from kvp-core: the tests check kvp-core against it, and this package depends on no product
// package, so every package's tests may use it without a cycle in the workspace graph.

/** Bytes of a record's key field (the daemon's HV_KVP_EXCHANGE_MAX_KEY_SIZE). */
export const KEY_BYTES = 512;
/** Bytes of a record's value field (HV_KVP_EXCHANGE_MAX_VALUE_SIZE), right after the key. */
export const VALUE_BYTES = 2048;
/** Bytes of one record in a pool file: key field then value field, no header, no padding. */
export const RECORD_SIZE = KEY_BYTES + VALUE_BYTES;

const encoder = new TextEncoder();

/** Text or exact bytes for one field; text may contain "\0" to spell out garbage after a NUL. */
export type FieldBytes = string | Uint8Array;

/** UTF-8 bytes of a string (TextEncoder turns lone surrogates into U+FFFD). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes from hex pairs, whitespace allowed: `fromHex("c3 a9")`. @throws Error on anything else. */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lower-case hex pairs of `bytes`, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `count` copies of `byte`. */
export function repeatByte(byte: number, count: number): Uint8Array {
  return new Uint8Array(count).fill(byte);
}

/**
 * One raw record: `key` and `value` bytes exactly as given (UTF-8 for strings, "\0" included),
 * each followed by zeros up to its field size. No validation beyond the field sizes.
 * @throws Error when a field does not fit.
 */
export function rawRecord(key: FieldBytes, value: FieldBytes = ""): Uint8Array {
  const k = typeof key === "string" ? utf8(key) : key;
  const v = typeof value === "string" ? utf8(value) : value;
  if (k.length > KEY_BYTES || v.length > VALUE_BYTES) throw new Error("field too long");
  const out = new Uint8Array(RECORD_SIZE);
  out.set(k, 0);
  out.set(v, KEY_BYTES);
  return out;
}

/** Concatenates byte arrays (records, fragments) into one pool file's bytes. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Pool bytes as a test expects them, with the positions whose content nobody can predict:
 * bytes the daemon took from uninitialised heap memory (fresh record slots).
 */
export interface ExpectedPool {
  readonly bytes: Uint8Array;
  /** 1 where any byte is acceptable. */
  readonly unknown: Uint8Array;
}

/** A record every byte of which is determined (it was read from a file): zeros after the given bytes. */
export function knownRecord(key: FieldBytes, value: FieldBytes): ExpectedPool {
  return { bytes: rawRecord(key, value), unknown: new Uint8Array(RECORD_SIZE) };
}

/**
 * A record in memory that started fresh: only the given bytes of key and value are
 * determined (write each string's NUL as "\0" yourself); the rest of each field is unknown.
 */
export function freshRecord(key: FieldBytes, value: FieldBytes): ExpectedPool {
  const bytes = rawRecord(key, value);
  const unknown = new Uint8Array(RECORD_SIZE).fill(1);
  unknown.fill(0, 0, typeof key === "string" ? utf8(key).length : key.length);
  unknown.fill(0, KEY_BYTES, KEY_BYTES + (typeof value === "string" ? utf8(value).length : value.length));
  return { bytes, unknown };
}

/** Concatenates expected records (and determined raw bytes) into one expected pool. */
export function expectedPool(...parts: (ExpectedPool | Uint8Array)[]): ExpectedPool {
  const full = parts.map((p) => (p instanceof Uint8Array ? { bytes: p, unknown: new Uint8Array(p.length) } : p));
  return { bytes: concatBytes(...full.map((p) => p.bytes)), unknown: concatBytes(...full.map((p) => p.unknown)) };
}

/**
 * Where `actual` differs from `expected` at a determined position (and a length mismatch),
 * as readable lines (at most 20); empty when they agree.
 */
export function knownMismatches(actual: Uint8Array, expected: ExpectedPool): string[] {
  const out: string[] = [];
  if (actual.length !== expected.bytes.length) out.push(`length ${actual.length}, want ${expected.bytes.length}`);
  const n = Math.min(actual.length, expected.bytes.length);
  for (let i = 0; i < n && out.length < 20; i++) {
    if (!expected.unknown[i] && actual[i] !== expected.bytes[i]) {
      const where = `record ${Math.floor(i / RECORD_SIZE)} byte ${i % RECORD_SIZE}`;
      out.push(`offset ${i} (${where}): 0x${hexByte(actual[i]!)}, want 0x${hexByte(expected.bytes[i]!)}`);
    }
  }
  return out;
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
