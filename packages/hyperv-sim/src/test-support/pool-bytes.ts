import { KEY_FIELD_BYTES, RECORD_BYTES, VALUE_FIELD_OFFSET } from "@hyperv-kvp/kvp-core";

const encoder = new TextEncoder();

/** Text or exact bytes for one field; text may contain "\0" to spell out garbage after a NUL. */
export type FieldBytes = string | Uint8Array;

/**
 * One raw record: `key` and `value` bytes exactly as given (UTF-8 for strings, "\0" included),
 * each followed by zeros up to its field size.
 */
export function rawRecord(key: FieldBytes, value: FieldBytes): Uint8Array {
  const k = typeof key === "string" ? encoder.encode(key) : key;
  const v = typeof value === "string" ? encoder.encode(value) : value;
  if (k.length > KEY_FIELD_BYTES || v.length > RECORD_BYTES - VALUE_FIELD_OFFSET) throw new Error("field too long");
  const out = new Uint8Array(RECORD_BYTES);
  out.set(k, 0);
  out.set(v, VALUE_FIELD_OFFSET);
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
  return { bytes: rawRecord(key, value), unknown: new Uint8Array(RECORD_BYTES) };
}

/**
 * A record in memory that started fresh: only the given bytes of key and value are
 * determined (write each string's NUL as "\0" yourself); the rest of each field is unknown.
 */
export function freshRecord(key: FieldBytes, value: FieldBytes): ExpectedPool {
  const bytes = rawRecord(key, value);
  const unknown = new Uint8Array(RECORD_BYTES).fill(1);
  unknown.fill(0, 0, typeof key === "string" ? encoder.encode(key).length : key.length);
  unknown.fill(
    0,
    VALUE_FIELD_OFFSET,
    VALUE_FIELD_OFFSET + (typeof value === "string" ? encoder.encode(value).length : value.length),
  );
  return { bytes, unknown };
}

/** Concatenates expected records (and determined raw bytes) into one expected pool. */
export function expectedPool(...parts: (ExpectedPool | Uint8Array)[]): ExpectedPool {
  const full = parts.map((p) => (p instanceof Uint8Array ? { bytes: p, unknown: new Uint8Array(p.length) } : p));
  return { bytes: concatBytes(...full.map((p) => p.bytes)), unknown: concatBytes(...full.map((p) => p.unknown)) };
}

/**
 * Where `actual` differs from `expected` at a determined position (and a length mismatch),
 * as readable lines; empty when they agree.
 */
export function knownMismatches(actual: Uint8Array, expected: ExpectedPool): string[] {
  const out: string[] = [];
  if (actual.length !== expected.bytes.length) out.push(`length ${actual.length}, want ${expected.bytes.length}`);
  const n = Math.min(actual.length, expected.bytes.length);
  for (let i = 0; i < n && out.length < 20; i++) {
    if (!expected.unknown[i] && actual[i] !== expected.bytes[i]) {
      const where = `record ${Math.floor(i / RECORD_BYTES)} byte ${i % RECORD_BYTES}`;
      out.push(`offset ${i} (${where}): 0x${hex(actual[i]!)}, want 0x${hex(expected.bytes[i]!)}`);
    }
  }
  return out;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
