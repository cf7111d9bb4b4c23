/**
 * RC4, needed for NTLM key exchange and message sealing. OpenSSL 3 moved RC4 to its legacy
 * provider, so node:crypto cannot be relied on for it.
 */

/** A keyed RC4 stream; {@link Rc4.update} continues the keystream across calls (as sealing needs). */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  /** @throws {RangeError} for a key outside 1..256 bytes. */
  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError(`RC4 key must be 1..256 bytes (${key.length})`);
    const s = this.s;
    for (let i = 0; i < 256; i++) s[i] = i;
    let j = 0;
    for (let i = 0; i < 256; i++) {
      j = (j + s[i]! + key[i % key.length]!) & 0xff;
      [s[i], s[j]] = [s[j]!, s[i]!];
    }
  }

  /** XORs `data` with the next keystream bytes; returns a new array. */
  update(data: Uint8Array): Uint8Array {
    const s = this.s;
    const out = new Uint8Array(data.length);
    let { i, j } = this;
    // Plain temporaries rather than a destructuring swap: sealing runs this over every
    // byte of every WinRM message.
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[n] = data[n]! ^ s[(si + sj) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }
}

/** One-shot RC4 of `data` under `key`. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Rc4(key).update(data);
}
