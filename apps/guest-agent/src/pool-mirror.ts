import { createHash } from "node:crypto";
import {
  type DecodedRecord,
  KEY_FIELD_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_BYTES,
  VALUE_FIELD_OFFSET,
  decodeRecord,
  fieldTextLength,
  parseChunkKey,
} from "@hyperv-kvp/kvp-core";
import { type PoolAccessOptions, type PoolTarget, scanPool } from "@hyperv-kvp/pool-file";

/** One record a read changed: `before` undefined for a new one, `after` undefined for one gone. */
export interface MirrorChange {
  readonly index: number;
  readonly before: DecodedRecord | undefined;
  readonly after: DecodedRecord | undefined;
}

/** Bytes of one digest (SHA-256). */
const DIGEST_BYTES = 32;

/** Room for a field's text encoded again: the longest field, and one character more. */
const scratch = Buffer.alloc(Math.max(KEY_FIELD_BYTES, VALUE_FIELD_BYTES) + 4);

/**
 * A pool as last read, kept so the next read decodes only what changed. The daemon rewrites
 * the whole file for one change, so file events say nothing about which record changed: each
 * read goes through the file once, in chunks, under the read lock (pool-file's scanPool), and
 * compares each record's stored text with the record as last decoded (its key and value
 * encoded again, byte for byte); only the records that differ are decoded again. No copy of
 * the stored bytes: a record is 2560 bytes however short its key and value, so a copy of a
 * pool of short values was many times the values themselves, and one of long values doubled
 * them. A record whose decoding does not give its bytes back (not valid UTF-8, a leading BOM)
 * is compared by a SHA-256 digest of what a decoding reads instead (the host writes the bytes:
 * it cannot make a changed record look unchanged). Only what a decoding reads counts: each
 * field's text and NUL, not the padding after it. Memory: the decoded records (plus 32 bytes
 * per record that does not round-trip), whatever the number of reads; CPU per read: a read of
 * the file and a compare of its keys and values, plus decoding the changes.
 */
export class PoolMirror {
  private readonly target: PoolTarget;
  /** Digests of the records whose decoding does not give their bytes back, by index. */
  private digests = new Map<number, Buffer>();
  /** False before the first successful read (and after a failed one). */
  private read = false;
  private decoded: DecodedRecord[] = [];
  /** What the last read changed, in index order (records dropped at the end last). */
  private changes: MirrorChange[] = [];
  /** How many records of the last read have a key of the form `K#i/N`. */
  private parts = 0;

  constructor(target: PoolTarget) {
    this.target = target;
  }

  /** The records of the last successful read, in file order. Do not change them. */
  get records(): readonly DecodedRecord[] {
    return this.decoded;
  }

  /** True when a record of the last read has a key of the form `K#i/N` (a part of a chunked value). */
  get hasParts(): boolean {
    return this.parts > 0;
  }

  /** Bytes the mirror keeps to tell a changed record, besides the decoded records. */
  get keptBytes(): number {
    return this.digests.size * DIGEST_BYTES;
  }

  /** The records the last read changed: their index, and the record before and after. */
  get lastChanges(): readonly MirrorChange[] {
    return this.changes;
  }

  /**
   * Reads the pool again.
   * @returns true when a stored record changed since the last read (always at the first).
   * @throws {PoolFileError} from scanPool; the last read is then kept as it was.
   */
  async refresh(options: PoolAccessOptions = {}): Promise<boolean> {
    const oldCount = this.decoded.length;
    let changed = !this.read;
    this.changes = [];
    const dropped: MirrorChange[] = [];
    try {
      const { records: count } = await scanPool(
        this.target,
        (bytes, firstIndex, total) => {
          if (firstIndex === 0) dropped.push(...this.resize(total));
          const n = bytes.length / RECORD_BYTES;
          for (let j = 0; j < n; j++) {
            const at = j * RECORD_BYTES;
            const index = firstIndex + j;
            const previous = index < oldCount ? this.decoded[index] : undefined;
            if (previous !== undefined) {
              const digest = this.digests.size === 0 ? undefined : this.digests.get(index);
              if (digest === undefined ? sameAsDecoded(bytes, at, previous) : digest.equals(digestRecord(bytes, at)))
                continue;
            }
            if (previous !== undefined && isPart(previous)) this.parts--;
            const next = decodeRecord(bytes, at, index);
            if (isPart(next)) this.parts++;
            this.decoded[index] = next;
            if (sameAsDecoded(bytes, at, next)) this.digests.delete(index);
            else this.digests.set(index, digestRecord(bytes, at));
            this.changes.push({ index, before: previous, after: next });
            changed = true;
          }
        },
        options,
      );
      if (count === 0) dropped.push(...this.resize(0));
      this.changes.push(...dropped);
      this.read = true;
      return changed || count !== oldCount;
    } catch (error) {
      // A read that failed half-way (an IO error) leaves a mix: start over at the next one.
      this.digests = new Map();
      this.decoded = [];
      this.parts = 0;
      this.changes = [];
      this.read = false;
      throw error;
    }
  }

  /**
   * Drops the records past `count`.
   * @returns the records dropped.
   */
  private resize(count: number): MirrorChange[] {
    const dropped: MirrorChange[] = [];
    for (let i = count; i < this.decoded.length; i++) {
      const before = this.decoded[i]!;
      if (isPart(before)) this.parts--;
      this.digests.delete(i);
      dropped.push({ index: i, before, after: undefined });
    }
    this.decoded.length = Math.min(this.decoded.length, count);
    return dropped;
  }
}

/**
 * True when the record at `at` of `bytes` holds exactly the key and value `record` was decoded
 * from. No search for the fields' NULs: a field still ends where it did when the byte there is
 * a NUL (or the field is full) and the bytes before it are the text encoded again, which holds
 * no NUL (the decoded text stops at the first). The search was most of a read's CPU.
 */
function sameAsDecoded(bytes: Uint8Array, at: number, record: DecodedRecord): boolean {
  const value = at + VALUE_FIELD_OFFSET;
  return (
    endsAt(bytes, at, KEY_FIELD_BYTES, record.keyBytes) &&
    endsAt(bytes, value, VALUE_FIELD_BYTES, record.valueBytes) &&
    sameText(bytes, at, record.keyBytes, record.key) &&
    sameText(bytes, value, record.valueBytes, record.value)
  );
}

/** True when the field of `size` bytes at `start` has a NUL at `length`, or is full (`length` = `size`). */
function endsAt(bytes: Uint8Array, start: number, size: number, length: number): boolean {
  return length === size || bytes[start + length] === 0;
}

/**
 * True when `text` encoded as UTF-8 is the `length` bytes at `start` of `bytes`. Called twice
 * per record per read, so it allocates nothing (a TextEncoder's encodeInto returns an object,
 * subarrays are objects: at 40,960 records per read, the garbage was a third of a read's CPU).
 */
function sameText(bytes: Uint8Array, start: number, length: number, text: string): boolean {
  // Quick refusal: UTF-8 takes at least one byte per UTF-16 unit, at most three.
  if (text.length > length || text.length * 3 < length) return false;
  // A short ASCII text (keys mostly) is compared here: cheaper than two calls into C++.
  if (text.length === length && length <= SHORT_TEXT) return sameAscii(bytes, start, text);
  // Room for one more character (up to 4 bytes): a text longer than `length` writes more.
  const written = scratch.write(text, 0, length + 4, "utf8");
  return written === length && scratch.compare(bytes, start, start + length, 0, length) === 0;
}

/** Texts up to this many bytes are compared in JavaScript when ASCII (see sameText). */
const SHORT_TEXT = 64;

/**
 * True when the bytes at `start` are `text`, which is as many bytes long as it has UTF-16
 * units: so it is the same only when every unit is ASCII and equal to its byte.
 */
function sameAscii(bytes: Uint8Array, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80 || unit !== bytes[start + i]) return false;
  }
  return true;
}

/**
 * SHA-256 of what a decoding of the record at `at` reads: of each field, its text and its NUL
 * (the whole field when it has none), not the bytes after the NUL.
 */
function digestRecord(bytes: Uint8Array, at: number): Buffer {
  const value = at + VALUE_FIELD_OFFSET;
  return createHash("sha256")
    .update(bytes.subarray(at, at + Math.min(fieldTextLength(bytes, at, KEY_FIELD_BYTES) + 1, KEY_FIELD_BYTES)))
    .update(
      bytes.subarray(value, value + Math.min(fieldTextLength(bytes, value, VALUE_FIELD_BYTES) + 1, VALUE_FIELD_BYTES)),
    )
    .digest();
}

function isPart(record: DecodedRecord): boolean {
  return record.keyValidUtf8 && parseChunkKey(record.key) !== undefined;
}
