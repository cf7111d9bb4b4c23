import {
  KEY_FIELD_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
  decodeRecord,
  encodeUtf8,
} from "@hyperv-kvp/kvp-core";
import { formatListLine } from "../print.js";

/** Bytes of output appended to as lines are made; grows by doubling. */
export class ListOutput {
  bytes = new Uint8Array(1 << 16);
  length = 0;

  /** Makes room for `more` bytes after `length`. */
  reserve(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + more) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Appends `text` as UTF-8. */
  appendText(text: string): void {
    const encoded = encodeUtf8(text);
    this.reserve(encoded.length);
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
  }

  /** The bytes appended so far (a view: valid until the next append). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** What {@link appendListLines} did with a chunk of records. */
export type AppendedLines =
  /** Every record has its line. */
  | "done"
  /** A key has a `#`: the record may be part of a chunked value; the output is incomplete. */
  | "may-hold-parts";

const BACKSLASH = 0x5c;
const HASH = 0x23;
const DEL = 0x7f;
const HEX = "0123456789abcdef";
// The longest line the byte path writes: every byte of both fields escaped as `\u00XX`,
// " = " and the newline. Lines it cannot write (non-ASCII bytes) go through the text path.
const ESCAPED_BYTES = 6;
const LONGEST_LINE = (KEY_FIELD_BYTES + VALUE_FIELD_BYTES) * ESCAPED_BYTES + 4;

/**
 * Appends the `key = value` line (and newline) of each record in `bytes` (whole records),
 * exactly as `formatListLine` shows the decoded record.
 *
 * A 10,000-record list spent most of its time decoding fields into strings, escaping them and
 * encoding the lines back to bytes. Fields of ASCII bytes (nearly all) need none of it: their
 * bytes up to the first NUL are copied, escaping backslashes and control characters as
 * `printable` does. A record with any other byte (UTF-8 text, or not UTF-8 at all) is decoded
 * and formatted as text, so the rules for those live in one place.
 *
 * @param stopAtParts stop at the first key with a `#`, which may be a part `KEY#i/N` of a
 *   chunked value: such a pool is listed through the reassembling path instead.
 */
export function appendListLines(bytes: Uint8Array, out: ListOutput, stopAtParts: boolean): AppendedLines {
  const count = Math.floor(bytes.length / RECORD_BYTES);
  for (let r = 0; r < count; r++) {
    const start = r * RECORD_BYTES;
    out.reserve(LONGEST_LINE);
    const line = out.length;
    let end = appendAsciiField(bytes, start, KEY_FIELD_BYTES, out.bytes, line, stopAtParts);
    if (end === HAS_HASH) return "may-hold-parts";
    if (end >= 0) {
      out.bytes[end] = 0x20; // " = "
      out.bytes[end + 1] = 0x3d;
      out.bytes[end + 2] = 0x20;
      end = appendAsciiField(bytes, start + VALUE_FIELD_OFFSET, VALUE_FIELD_BYTES, out.bytes, end + 3, false);
    }
    if (end >= 0) {
      out.bytes[end] = 0x0a;
      out.length = end + 1;
      continue;
    }
    out.length = line;
    if (!appendDecodedLine(bytes, start, out, stopAtParts)) return "may-hold-parts";
  }
  return "done";
}

/**
 * The line of a record that is not all ASCII, decoded as the object path decodes it (invalid
 * UTF-8 shows U+FFFD, and is flagged). False, with nothing appended, for a key with a `#` when
 * `stopAtParts`. Apart from the byte loop, so that loop stays small for the compiler.
 */
function appendDecodedLine(bytes: Uint8Array, start: number, out: ListOutput, stopAtParts: boolean): boolean {
  const record = decodeRecord(bytes, start, 0);
  if (stopAtParts && record.key.includes("#")) return false;
  const flags = record.validUtf8 ? {} : { validUtf8: false as const };
  out.appendText(`${formatListLine({ key: record.key, value: record.value, ...flags })}\n`);
  return true;
}

/**
 * 1 for the bytes a field's text shows as they are (ASCII from space to `~`, but the backslash,
 * and `#`, which may mark a part): one look-up per byte in the loop that copies them.
 */
const COPIED_AS_IS = new Uint8Array(256);
for (let b = 0x20; b < DEL; b++) COPIED_AS_IS[b] = b === BACKSLASH || b === HASH ? 0 : 1;

/** {@link appendAsciiField}'s answer for a key with a `#`, when asked to stop there. */
const HAS_HASH = -2;
/** {@link appendAsciiField}'s answer for a field with a byte past ASCII. */
const NOT_ASCII = -1;

/**
 * Copies a field's bytes up to its first NUL (the whole field without one) to `out` at `at`,
 * escaped as `printable` escapes their characters. Returns where the copy ends, or
 * {@link NOT_ASCII} / {@link HAS_HASH} (then what was copied is to be overwritten).
 */
function appendAsciiField(
  bytes: Uint8Array,
  start: number,
  size: number,
  out: Uint8Array,
  at: number,
  stopAtHash: boolean,
): number {
  let o = at;
  const end = start + size;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (COPIED_AS_IS[b] === 1) {
      out[o++] = b;
      continue;
    }
    if (b === 0) break;
    if (b === HASH) {
      if (stopAtHash) return HAS_HASH;
      out[o++] = b;
    } else if (b > DEL) return NOT_ASCII;
    else o = appendEscape(b, out, o);
  }
  return o;
}

/** Writes `\\`, `\n`, `\r`, `\t` or `\u00XX` for an ASCII byte `printable` escapes; returns the end. */
function appendEscape(b: number, out: Uint8Array, at: number): number {
  out[at] = BACKSLASH;
  const short = b === BACKSLASH ? BACKSLASH : b === 0x0a ? 0x6e : b === 0x0d ? 0x72 : b === 0x09 ? 0x74 : 0;
  if (short !== 0) {
    out[at + 1] = short;
    return at + 2;
  }
  out[at + 1] = 0x75; // u
  out[at + 2] = 0x30;
  out[at + 3] = 0x30;
  out[at + 4] = HEX.charCodeAt(b >> 4);
  out[at + 5] = HEX.charCodeAt(b & 0xf);
  return at + 6;
}
