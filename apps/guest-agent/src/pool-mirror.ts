import { type DecodedRecord, RECORD_BYTES, decodeRecord, parseChunkKey } from "@hyperv-kvp/kvp-core";
import { type PoolAccessOptions, type PoolTarget, scanPool } from "@hyperv-kvp/pool-file";

/** One record a read changed: `before` undefined for a new one, `after` undefined for one gone. */
export interface MirrorChange {
  readonly index: number;
  readonly before: DecodedRecord | undefined;
  readonly after: DecodedRecord | undefined;
}

/**
 * A pool as last read, kept so the next read decodes only what changed. The daemon rewrites
 * the whole file for one change, so file events say nothing about which record changed: each
 * read goes through the file once, in chunks, under the read lock (pool-file's scanPool),
 * compares the stored bytes with the copy kept from the last read, and decodes only the
 * records that differ. Memory: one copy of the file plus the decoded records, whatever the
 * number of reads; CPU per read: a read and a compare of the file, plus decoding the changes.
 */
export class PoolMirror {
  private readonly target: PoolTarget;
  /** Room for the stored records; `raw` is the part the last read filled. */
  private buffer: Buffer = Buffer.alloc(0);
  /** The stored records of the last read, back to back. */
  private raw: Buffer = Buffer.alloc(0);
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
          const start = firstIndex * RECORD_BYTES;
          const known = Math.max(0, Math.min(n, oldCount - firstIndex));
          // Whole chunk unchanged (the usual case): one compare.
          if (known === n && Buffer.compare(bytes, this.raw.subarray(start, start + bytes.length)) === 0) return;
          for (let j = 0; j < n; j++) {
            const at = j * RECORD_BYTES;
            const record = bytes.subarray(at, at + RECORD_BYTES);
            const kept = this.raw.subarray(start + at, start + at + RECORD_BYTES);
            if (j < known && Buffer.compare(record, kept) === 0) continue;
            kept.set(record);
            const index = firstIndex + j;
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
      if (count === 0) dropped.push(...this.resize(0));
      this.changes.push(...dropped);
      this.read = true;
      return changed || count !== oldCount;
    } catch (error) {
      // A read that failed half-way (an IO error) leaves a mix: start over at the next one.
      this.raw = Buffer.alloc(0);
      this.decoded = [];
      this.parts = 0;
      this.changes = [];
      this.read = false;
      throw error;
    }
  }

  /**
   * Makes room for `count` records, keeping the first ones; drops the records past `count`.
   * @returns the records dropped.
   */
  private resize(count: number): MirrorChange[] {
    const bytes = count * RECORD_BYTES;
    const dropped: MirrorChange[] = [];
    for (let i = count; i < this.decoded.length; i++) {
      const before = this.decoded[i]!;
      if (isPart(before)) this.parts--;
      dropped.push({ index: i, before, after: undefined });
    }
    this.decoded.length = Math.min(this.decoded.length, count);
    const capacity = this.buffer.length;
    if (bytes > capacity || bytes < capacity / 2) {
      // Some room to grow: a pool gains records one at a time, and each would copy it all.
      const next = bytes === 0 ? Buffer.alloc(0) : Buffer.allocUnsafeSlow(bytes + 256 * RECORD_BYTES);
      this.buffer.copy(next, 0, 0, Math.min(this.raw.length, bytes));
      this.buffer = next;
    }
    this.raw = this.buffer.subarray(0, bytes);
    return dropped;
  }
}

function isPart(record: DecodedRecord): boolean {
  return record.keyValidUtf8 && parseChunkKey(record.key) !== undefined;
}
