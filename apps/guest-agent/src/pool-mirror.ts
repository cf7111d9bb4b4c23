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

/**
 * A pool as last read, kept so the next read decodes only what changed. The daemon rewrites
 * the whole file for one change, so file events say nothing about which record changed: each
 * read goes through the file once, in chunks, under the read lock (pool-file's scanPool), and
 * compares each chunk's digest, then (a chunk that differs) each record's, with those of the
 * last read; only the records that differ are decoded again. A digest, not a copy of the
 * stored bytes: a record is 2560 bytes however short its key and value, so a copy of a pool
 * of short values was many times the values themselves. SHA-256, since the host writes the
 * bytes: it cannot make a changed record look unchanged. A digest covers what a decoding
 * reads (each field's text and NUL), not the padding after it. Memory: the decoded records
 * plus 32 bytes per record (and per chunk of 256), whatever the number of reads; CPU per read:
 * a read of the file and a digest of its keys and values, plus digests of the records of
 * chunks that changed and decoding the changes.
 */
export class PoolMirror {
  private readonly target: PoolTarget;
  /** Digest of each record of the last read, back to back (room for more past `count`). */
  private recordDigests: Buffer = Buffer.alloc(0);
  /** Digest of each chunk scanPool passed in the last read, in order. */
  private chunkDigests: Buffer[] = [];
  /** Records of the last read (the part of recordDigests in use). */
  private count = 0;
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
    return this.recordDigests.length + this.chunkDigests.length * DIGEST_BYTES;
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
    const oldCount = this.count;
    let changed = !this.read;
    this.changes = [];
    const dropped: MirrorChange[] = [];
    let chunks = 0;
    try {
      const { records: count } = await scanPool(
        this.target,
        (bytes, firstIndex, total) => {
          if (firstIndex === 0) dropped.push(...this.resize(total, oldCount));
          const n = bytes.length / RECORD_BYTES;
          const known = Math.max(0, Math.min(n, oldCount - firstIndex));
          const digest = digestRecords(bytes, 0, n);
          const chunk = chunks++;
          // Whole chunk unchanged (the usual case): one digest. (A chunk of another length
          // has another digest.)
          if (known === n && this.chunkDigests[chunk]?.equals(digest)) return;
          this.chunkDigests[chunk] = digest;
          for (let j = 0; j < n; j++) {
            const at = j * RECORD_BYTES;
            const index = firstIndex + j;
            const kept = this.recordDigests.subarray(index * DIGEST_BYTES, (index + 1) * DIGEST_BYTES);
            const recordDigest = digestRecords(bytes, j, 1);
            if (j < known && recordDigest.equals(kept)) continue;
            kept.set(recordDigest);
            const previous = this.decoded[index];
            if (previous !== undefined && isPart(previous)) this.parts--;
            const next = decodeRecord(bytes, at, index);
            if (isPart(next)) this.parts++;
            this.decoded[index] = next;
            this.changes.push({ index, before: previous, after: next });
            changed = true;
          }
        },
        options,
      );
      if (count === 0) dropped.push(...this.resize(0, oldCount));
      this.chunkDigests.length = chunks;
      this.changes.push(...dropped);
      this.read = true;
      return changed || count !== oldCount;
    } catch (error) {
      // A read that failed half-way (an IO error) leaves a mix: start over at the next one.
      this.recordDigests = Buffer.alloc(0);
      this.chunkDigests = [];
      this.count = 0;
      this.decoded = [];
      this.parts = 0;
      this.changes = [];
      this.read = false;
      throw error;
    }
  }

  /**
   * Makes room for the digests of `count` records, keeping those of the first ones; drops the
   * records past `count`.
   * @returns the records dropped.
   */
  private resize(count: number, oldCount: number): MirrorChange[] {
    const dropped: MirrorChange[] = [];
    for (let i = count; i < this.decoded.length; i++) {
      const before = this.decoded[i]!;
      if (isPart(before)) this.parts--;
      dropped.push({ index: i, before, after: undefined });
    }
    this.decoded.length = Math.min(this.decoded.length, count);
    const bytes = count * DIGEST_BYTES;
    const capacity = this.recordDigests.length;
    if (bytes > capacity || bytes < capacity / 2) {
      // Some room to grow: a pool gains records one at a time, and each would copy them all.
      const next = bytes === 0 ? Buffer.alloc(0) : Buffer.alloc(bytes + 256 * DIGEST_BYTES);
      this.recordDigests.copy(next, 0, 0, Math.min(oldCount, count) * DIGEST_BYTES);
      this.recordDigests = next;
    }
    this.count = count;
    return dropped;
  }
}

/**
 * SHA-256 of what a decoding of records `first` … `first + count - 1` of `bytes` reads: of each
 * field, its text and its NUL (the whole field when it has none), not the bytes after the NUL.
 * (A record of short values is mostly NUL padding, not worth hashing.) Each field so taken ends
 * where a decoding finds its end, so different records never hash the same bytes.
 */
function digestRecords(bytes: Uint8Array, first: number, count: number): Buffer {
  const hash = createHash("sha256");
  for (let i = first; i < first + count; i++) {
    const key = i * RECORD_BYTES;
    const value = key + VALUE_FIELD_OFFSET;
    hash.update(bytes.subarray(key, key + Math.min(fieldTextLength(bytes, key, KEY_FIELD_BYTES) + 1, KEY_FIELD_BYTES)));
    hash.update(
      bytes.subarray(value, value + Math.min(fieldTextLength(bytes, value, VALUE_FIELD_BYTES) + 1, VALUE_FIELD_BYTES)),
    );
  }
  return hash.digest();
}

function isPart(record: DecodedRecord): boolean {
  return record.keyValidUtf8 && parseChunkKey(record.key) !== undefined;
}
