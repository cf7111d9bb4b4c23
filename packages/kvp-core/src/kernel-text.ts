/**
 * The text conversions the kernel's `hv_kvp.c` applies between the host (UTF-16) and the
 * daemon (UTF-8), reproduced rule for rule (`utf16s_to_utf8s` / `utf8s_to_utf16s` in
 * `fs/nls/nls_base.c`), so the simulated host sees exactly what a real one would: silent
 * truncation, dropped characters, and a hard failure on invalid UTF-8.
 */

/** Outcome of {@link kernelUtf8ToUtf16}. */
export type KernelUtf16Result =
  /** Converted; `text` may be shorter than the input (silent truncation at `maxUnits`). */
  | { readonly ok: true; readonly text: string; readonly truncated: boolean }
  /** The kernel hit an invalid UTF-8 sequence starting at byte `offset` (it answers HV_E_FAIL). */
  | { readonly ok: false; readonly offset: number };

const MAX_CODE_POINT = 0x10ffff;
const FIRST_SUPPLEMENTARY = 0x10000;
const HIGH_SURROGATE_FIRST = 0xd800;
const LOW_SURROGATE_FIRST = 0xdc00;
const SURROGATE_LAST = 0xdfff;
const SURROGATE_BITS = 10;

/**
 * Host → daemon: what `utf16s_to_utf8s(text, …, maxBytes)` writes. Quirks kept on purpose:
 * a NUL unit ends the text; an unpaired surrogate is dropped; a character whose UTF-8 form
 * no longer fits in the room left is skipped, yet later shorter characters still go in.
 * @param maxBytes room for the UTF-8 bytes (the kernel passes field size − 1 to keep a NUL).
 */
export function kernelUtf16ToUtf8(text: string, maxBytes: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, maxBytes));
  let length = 0;
  let i = 0;
  while (i < text.length && length < maxBytes) {
    const unit = text.charCodeAt(i);
    if (unit === 0) break;
    i++;
    let codePoint = unit;
    if (unit >= HIGH_SURROGATE_FIRST && unit <= SURROGATE_LAST) {
      if (unit >= LOW_SURROGATE_FIRST) continue;
      if (i >= text.length) break;
      const low = text.charCodeAt(i);
      if (low < LOW_SURROGATE_FIRST || low > SURROGATE_LAST) continue;
      codePoint = FIRST_SUPPLEMENTARY + ((unit - HIGH_SURROGATE_FIRST) << SURROGATE_BITS) + (low - LOW_SURROGATE_FIRST);
      i++;
    }
    const size = utf8Size(codePoint);
    if (size > maxBytes - length) continue;
    writeUtf8(out, length, codePoint, size);
    length += size;
  }
  return out.slice(0, length);
}

/**
 * Daemon → host: what `utf8s_to_utf16s(bytes, strlen(bytes), …, maxUnits)` produces. It
 * stops at a NUL byte or when `maxUnits` UTF-16 units are written (a supplementary
 * character that needs two units when one is left ends the text there). Invalid UTF-8 —
 * stray continuation bytes, truncated or overlong sequences, surrogates, code points past
 * U+10FFFF — fails the whole conversion, but only if it is reached before the limit.
 */
export function kernelUtf8ToUtf16(bytes: Uint8Array, maxUnits: number): KernelUtf16Result {
  const units: number[] = [];
  let i = 0;
  while (i < bytes.length && units.length < maxUnits && bytes[i] !== 0) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      units.push(lead);
      i++;
      continue;
    }
    const decoded = decodeSequence(bytes, i);
    if (decoded === undefined) return { ok: false, offset: i };
    const [codePoint, size] = decoded;
    if (codePoint >= FIRST_SUPPLEMENTARY) {
      if (maxUnits - units.length < 2) break;
      const v = codePoint - FIRST_SUPPLEMENTARY;
      units.push(HIGH_SURROGATE_FIRST | (v >> SURROGATE_BITS), LOW_SURROGATE_FIRST | (v & 0x3ff));
    } else {
      units.push(codePoint);
    }
    i += size;
  }
  const truncated = i < bytes.length && bytes[i] !== 0;
  return { ok: true, text: String.fromCharCode(...units), truncated };
}

/** Lead-byte patterns of the kernel's `utf8_table`, 2- to 6-byte forms, with each form's minimum. */
const SEQUENCE_FORMS = [
  { mask: 0xe0, lead: 0xc0, size: 2, min: 0x80 },
  { mask: 0xf0, lead: 0xe0, size: 3, min: 0x800 },
  { mask: 0xf8, lead: 0xf0, size: 4, min: 0x10000 },
  { mask: 0xfc, lead: 0xf8, size: 5, min: 0x200000 },
  { mask: 0xfe, lead: 0xfc, size: 6, min: 0x4000000 },
] as const;

/** `utf8_to_utf32` on the sequence at `at`: [code point, bytes] or undefined when invalid. */
function decodeSequence(bytes: Uint8Array, at: number): [number, number] | undefined {
  const lead = bytes[at]!;
  const form = SEQUENCE_FORMS.find((f) => (lead & f.mask) === f.lead);
  // The kernel reads only as far as strlen: a NUL inside a sequence truncates it.
  if (!form || at + form.size > bytes.length) return undefined;
  let codePoint = lead & (0xff >> (form.size + 1));
  for (let k = 1; k < form.size; k++) {
    const next = bytes[at + k]!;
    if ((next & 0xc0) !== 0x80) return undefined;
    codePoint = codePoint * 64 + (next & 0x3f);
  }
  const surrogate = codePoint >= HIGH_SURROGATE_FIRST && codePoint <= SURROGATE_LAST;
  if (codePoint < form.min || codePoint > MAX_CODE_POINT || surrogate) return undefined;
  return [codePoint, form.size];
}

function utf8Size(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < FIRST_SUPPLEMENTARY ? 3 : 4;
}

function writeUtf8(out: Uint8Array, at: number, codePoint: number, size: number): void {
  if (size === 1) {
    out[at] = codePoint;
    return;
  }
  const leadMarks = [0, 0, 0xc0, 0xe0, 0xf0];
  let rest = codePoint;
  for (let k = size - 1; k > 0; k--) {
    out[at + k] = 0x80 | (rest & 0x3f);
    rest >>= 6;
  }
  out[at] = leadMarks[size]! | rest;
}
