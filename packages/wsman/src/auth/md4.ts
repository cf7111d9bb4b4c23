/**
 * MD4 (RFC 1320), needed for the NT hash. OpenSSL 3 moved MD4 to its legacy provider, so
 * node:crypto cannot be relied on for it; this is the plain algorithm over bytes.
 */

const S1 = [3, 7, 11, 19] as const;
const S2 = [3, 5, 9, 13] as const;
const S3 = [3, 9, 11, 15] as const;
/** Round 3 visits the words in bit-reversed order. */
const R3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15] as const;
/** RFC 1320 round constants: sqrt(2) and sqrt(3) scaled to 32 bits. */
const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** The 16-byte MD4 digest of `data`. */
export function md4(data: Uint8Array): Uint8Array {
  const bitLength = data.length * 8;
  // Pad: 0x80, zeros to 56 mod 64, then the length in bits as 64-bit little endian.
  const padded = new Uint8Array((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, bitLength >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bitLength / 2 ** 32), true);

  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(block + i * 4, true);
    const [aa, bb, cc, dd] = [a, b, c, d];
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d);
      const t = rotl((a + f + x[i]!) | 0, S1[i % 4]!);
      [a, b, c, d] = [d, t, b, c];
    }
    for (let i = 0; i < 16; i++) {
      const g = (b & c) | (b & d) | (c & d);
      const k = (i % 4) * 4 + (i >> 2);
      const t = rotl((a + g + x[k]! + K2) | 0, S2[i % 4]!);
      [a, b, c, d] = [d, t, b, c];
    }
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d;
      const t = rotl((a + h + x[R3[i]!]! + K3) | 0, S3[i % 4]!);
      [a, b, c, d] = [d, t, b, c];
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, a >>> 0, true);
  ov.setUint32(4, b >>> 0, true);
  ov.setUint32(8, c >>> 0, true);
  ov.setUint32(12, d >>> 0, true);
  return out;
}
