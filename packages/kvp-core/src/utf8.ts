/**
 * UTF-8 and UTF-16 helpers with the exact rules the kernel applies when it hands pool-1
 * text to the host: strict UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF) and
 * UTF-16 code units as the unit of the host-visible limits.
 */

// Made on first use, not at load: making a decoder sets up a converter (ICU's, on Node), work
// that a CLI's `--help` has no use for.
let encoder: InstanceType<typeof TextEncoder> | undefined;
let strictDecoder: InstanceType<typeof TextDecoder> | undefined;
let lenientDecoder: InstanceType<typeof TextDecoder> | undefined;

/** UTF-8 bytes of `text`; the caller has checked it is well formed. */
export function encodeUtf8(text: string): Uint8Array {
  encoder ??= new TextEncoder();
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 as the kernel would accept it. Returns the text and whether the bytes were
 * valid; invalid sequences come back as U+FFFD so the text can still be shown.
 */
export function decodeUtf8(bytes: Uint8Array): { text: string; valid: boolean } {
  // ignoreBOM keeps a leading U+FEFF as data: the daemon and kernel do not strip it.
  strictDecoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  try {
    return { text: strictDecoder.decode(bytes), valid: true };
  } catch {
    lenientDecoder ??= new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
    return { text: lenientDecoder.decode(bytes), valid: false };
  }
}

/**
 * Position (UTF-16 index) of the first lone surrogate in `text`, or -1. A lone surrogate
 * has no UTF-8 encoding: TextEncoder would silently turn it into U+FFFD.
 */
export function findLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/**
 * Byte offset of the first byte of the first invalid UTF-8 sequence in `bytes`, or -1.
 * Rejects what the kernel's `utf8_to_utf32` rejects: stray continuation bytes, truncated
 * sequences, overlong forms, surrogates and code points past U+10FFFF.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + need >= bytes.length) return i; // truncated sequence
    let cp = b0 & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * The longest prefix of `bytes` (valid UTF-8) that ends on a character boundary and is at
 * most `maxBytes` long: cutting there never splits a multi-byte character. A fractional
 * `maxBytes` is rounded down, a negative one (or NaN) gives 0.
 */
export function utf8BoundaryAtOrBefore(bytes: Uint8Array, maxBytes: number): number {
  if (maxBytes >= bytes.length) return bytes.length;
  let cut = maxBytes > 0 ? Math.floor(maxBytes) : 0;
  // Back up over continuation bytes (10xxxxxx) to the start of the character.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}

/** Length of `text` in UTF-16 code units, the unit of the host-visible limits. */
export function utf16Units(text: string): number {
  return text.length;
}
