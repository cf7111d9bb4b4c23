import {
  KEY_FIELD_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
  decodeRecord,
  encodeUtf8,
} from "@hyperv-kvp/kvp-core";
import { describe, expect, it } from "vitest";
import { formatListLine } from "../print.js";
import { ListOutput, appendListLines } from "./list-lines.js";

/** The lines the object path makes of the same records: decode, then formatListLine. */
function objectPathLines(bytes: Uint8Array): string {
  let text = "";
  for (let offset = 0; offset + RECORD_BYTES <= bytes.length; offset += RECORD_BYTES) {
    const r = decodeRecord(bytes, offset);
    text += `${formatListLine({ key: r.key, value: r.value, ...(r.validUtf8 ? {} : { validUtf8: false as const }) })}\n`;
  }
  return text;
}

function bytePathLines(bytes: Uint8Array, stopAtParts = false): { text: string; result: string } {
  const out = new ListOutput();
  const result = appendListLines(bytes, out, stopAtParts);
  return { text: new TextDecoder("utf-8", { fatal: true }).decode(out.view()), result };
}

/** A record from raw field bytes: each field's bytes, then NULs (none when it fills the field). */
function rawRecord(key: Uint8Array | string, value: Uint8Array | string): Uint8Array {
  const record = new Uint8Array(RECORD_BYTES);
  record.set(typeof key === "string" ? encodeUtf8(key) : key, 0);
  record.set(typeof value === "string" ? encodeUtf8(value) : value, VALUE_FIELD_OFFSET);
  return record;
}

function pool(records: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(records.length * RECORD_BYTES);
  for (const [i, r] of records.entries()) bytes.set(r, i * RECORD_BYTES);
  return bytes;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

// Bytes chosen to hit every rule: controls, the short escapes, backslash, DEL, "#", C1 and the
// separators and bidi marks in UTF-8, invalid sequences, and plain text.
const PIECES: readonly (readonly number[])[] = [
  [0x61],
  [0x20],
  [0x7e],
  [0x23],
  [0x5c],
  [0x7f],
  [0x0a],
  [0x0d],
  [0x09],
  [0x01],
  [0x1b],
  [0x1f],
  [0xc2, 0x80], // U+0080
  [0xc2, 0x9f], // U+009F
  [0xc2, 0xa0], // U+00A0, shown as it is
  [0xe2, 0x80, 0xa8], // U+2028
  [0xe2, 0x80, 0xae], // U+202E
  [0xe2, 0x81, 0xa6], // U+2066
  [0xe2, 0x80, 0x8e], // U+200E
  [0xf0, 0x9f, 0x99, 0x82], // U+1F642
  [0xc3, 0xa9], // é
  [0xff],
  [0xc0, 0xaf], // overlong "/"
  [0xed, 0xa0, 0x80], // a surrogate
  [0xe2, 0x80], // truncated
  [0x80],
];

function randomField(next: () => number, size: number, asciiOnly: boolean): Uint8Array {
  const field = new Uint8Array(size);
  const length = next() < 0.05 ? size : Math.floor(next() * (next() < 0.2 ? size : 40));
  let at = 0;
  while (at < length) {
    const piece = PIECES[Math.floor(next() * (asciiOnly ? 12 : PIECES.length))]!;
    if (at + piece.length > length) break;
    field.set(piece, at);
    at += piece.length;
  }
  // Garbage after the NUL, as the daemon leaves it: never part of the text.
  if (at < size - 2 && next() < 0.5) field.set([0x62, 0xff, 0x0a, 0x23], Math.min(at + 1, size - 4));
  return field;
}

describe("appendListLines", () => {
  it("makes the lines formatListLine makes of the decoded records, for plain and hostile bytes alike", () => {
    const next = random(14);
    for (let round = 0; round < 40; round++) {
      const records = Array.from({ length: 30 }, () => {
        const asciiOnly = next() < 0.5;
        return rawRecord(
          randomField(next, KEY_FIELD_BYTES, asciiOnly),
          randomField(next, VALUE_FIELD_BYTES, asciiOnly),
        );
      });
      const bytes = pool(records);
      const { text, result } = bytePathLines(bytes);
      expect(result).toBe("done");
      expect(text).toBe(objectPathLines(bytes));
    }
  });

  it("escapes each ASCII control, DEL and the backslash as printable does", () => {
    const all = Uint8Array.from({ length: 127 }, (_, i) => i + 1);
    const bytes = pool([rawRecord(all, all)]);
    const { text } = bytePathLines(bytes);
    expect(text).toBe(objectPathLines(bytes));
    expect(text).toContain("\\u0001\\u0002");
    expect(text).toContain("\\t\\n\\u000b\\u000c\\r");
    expect(text).toContain("[\\\\]");
    expect(text).toContain("~\\u007f =");
  });

  it("shows fields without any NUL whole, as the object path does", () => {
    const bytes = pool([rawRecord("k".repeat(KEY_FIELD_BYTES), "v\\".repeat(VALUE_FIELD_BYTES / 2))]);
    const { text } = bytePathLines(bytes);
    expect(text).toBe(`${"k".repeat(KEY_FIELD_BYTES)} = ${"v\\\\".repeat(VALUE_FIELD_BYTES / 2)}\n`);
  });

  it("flags invalid UTF-8 and shows U+FFFD, through the text path", () => {
    const bytes = pool([rawRecord("ok", "fine"), rawRecord("k", Uint8Array.of(0x61, 0xff, 0x62))]);
    expect(bytePathLines(bytes).text).toBe("ok = fine\nk = a\uFFFDb   (invalid UTF-8)\n");
  });

  it("writes an empty key and value as the object path does", () => {
    const bytes = pool([rawRecord("", "")]);
    expect(bytePathLines(bytes).text).toBe(" = \n");
  });

  it("stops at a key with # when asked, whether the key is ASCII or not, and only then", () => {
    for (const key of ["report#1/2", "é#1/2", "no-part#"]) {
      const bytes = pool([rawRecord("a", "1"), rawRecord(key, "x")]);
      expect(bytePathLines(bytes, true).result).toBe("may-hold-parts");
      const raw = bytePathLines(bytes, false);
      expect(raw.result).toBe("done");
      expect(raw.text).toBe(objectPathLines(bytes));
    }
    // A "#" in a value is no part's mark.
    expect(bytePathLines(pool([rawRecord("a", "#1/2")]), true).result).toBe("done");
  });

  it("grows its output past the first allocation without losing lines", () => {
    const records = Array.from({ length: 300 }, (_, i) =>
      rawRecord(`key-${i}`, "\u0001".repeat(i % 2 === 0 ? 300 : 3)),
    );
    const bytes = pool(records);
    const { text } = bytePathLines(bytes);
    expect(text.length).toBeGreaterThan(1 << 16);
    expect(text).toBe(objectPathLines(bytes));
  });
});
