// Test support only (excluded from the build): byte builders for hand-made records.
import { KEY_FIELD_BYTES, RECORD_BYTES, VALUE_FIELD_OFFSET } from "../src/layout.js";

/** Bytes from hex pairs, spaces allowed: `hex("c3 a9")`. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** UTF-8 bytes of a string (test shorthand; TextEncoder turns lone surrogates into U+FFFD). */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * A record built from raw field contents, with no validation: `key` is copied at 0 and
 * `value` at the value offset; everything else is zero.
 */
export function rawRecord(key: Uint8Array | string, value: Uint8Array | string = ""): Uint8Array {
  const out = new Uint8Array(RECORD_BYTES);
  const k = typeof key === "string" ? utf8(key) : key;
  const v = typeof value === "string" ? utf8(value) : value;
  if (k.length > KEY_FIELD_BYTES || v.length > RECORD_BYTES - VALUE_FIELD_OFFSET) throw new Error("field too long");
  out.set(k, 0);
  out.set(v, VALUE_FIELD_OFFSET);
  return out;
}

/** Concatenation of byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `count` copies of byte `byte`. */
export function repeatByte(byte: number, count: number): Uint8Array {
  return new Uint8Array(count).fill(byte);
}
