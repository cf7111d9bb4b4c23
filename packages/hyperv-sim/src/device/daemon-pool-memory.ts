import { KEY_FIELD_BYTES, RECORD_BYTES, VALUE_FIELD_BYTES, VALUE_FIELD_OFFSET } from "@hyperv-kvp/kvp-core";

/**
 * The daemon's in-memory copy of one pool (`kvp_file_info[pool].records`), with the
 * daemon's exact byte-level habits, so a model built on it writes the same files,
 * garbage included:
 * - the array outlives each operation: a re-read (`fread`) overwrites only as many bytes as
 *   the file has (a trailing fragment too), and slots past the end keep what they held;
 * - SET copies `key_size` / `value_size` bytes (`memcpy`) into the matched or the next slot,
 *   so a shorter value leaves the old tail after its NUL, and an appended record inherits
 *   the tail of whatever that slot held before;
 * - DELETE shifts later records up with `strcpy` per field, so each moved-into slot keeps
 *   the tail of its previous content past the copied string's NUL.
 *
 * What fresh memory holds is the one thing that cannot be modelled: the daemon's slots
 * start as uninitialised heap, mostly zero but with stale malloc bookkeeping here and there
 * (observed: three bytes of an old chunk size about 1 KiB into record 1's value field in
 * pools 1–4, more past record 50). The model writes zeros there and tracks which bytes of
 * the memory came from nowhere ({@link unknownFileBytes}), the way valgrind tracks
 * definedness, so a comparison with the real daemon can be exact everywhere else.
 * Pure: no IO.
 */
export class DaemonPoolMemory {
  private memory: Uint8Array;
  /**
   * 1 where `memory` holds fresh heap (a byte the daemon never read or copied there), 0 where
   * it holds a determined byte. Kept in this sense, not as "known", so the mask handed out
   * with each write is a plain copy: the pool is re-read and re-written on every operation,
   * and a per-byte pass here made the simulator quadratic with a large constant.
   */
  private unknown: Uint8Array;
  private records = 0;

  constructor() {
    this.memory = new Uint8Array(RECORD_BYTES);
    this.unknown = new Uint8Array(RECORD_BYTES).fill(1);
  }

  /** Records the daemon believes the pool holds. */
  get count(): number {
    return this.records;
  }

  /**
   * Replaces the contents with a file's bytes, as the daemon's re-read does.
   * @param unknown optional mask over `file`: 1 where the byte is one the real daemon took
   *   from uninitialised memory when it wrote the file (see {@link unknownFileBytes}), so it
   *   stays unknown after the re-read.
   */
  load(file: Uint8Array, unknown?: Uint8Array): void {
    this.ensure(file.length);
    this.memory.set(file, 0);
    const masked = unknown ? Math.min(unknown.length, file.length) : 0;
    if (unknown) this.unknown.set(unknown.subarray(0, masked), 0);
    this.unknown.fill(0, masked, file.length);
    this.records = Math.floor(file.length / RECORD_BYTES);
  }

  /** The bytes the daemon writes back: its records, nothing after them. */
  fileBytes(): Uint8Array {
    return this.memory.slice(0, this.records * RECORD_BYTES);
  }

  /**
   * A mask over {@link fileBytes}: 1 where the real daemon would write whatever its heap
   * held (the model writes 0 there), 0 where the byte is determined.
   */
  unknownFileBytes(): Uint8Array {
    return this.unknown.slice(0, this.records * RECORD_BYTES);
  }

  /** The whole record at `index` (a view, {@link RECORD_BYTES} long). */
  record(index: number): Uint8Array {
    return this.memory.subarray(index * RECORD_BYTES, (index + 1) * RECORD_BYTES);
  }

  /**
   * Index of the first record whose first `keySize` bytes equal `key`'s (the daemon's
   * `memcmp`, which with the NUL counted is an exact, case-sensitive match), or -1.
   * `key` is what follows the key's start in the message: a `keySize` past the key field
   * reads on into the bytes after it, on both sides, as `memcmp` does.
   */
  find(key: Uint8Array, keySize: number): number {
    const size = Math.min(keySize, key.length, RECORD_BYTES);
    for (let i = 0; i < this.records; i++) {
      const record = this.record(i);
      let same = true;
      for (let b = 0; b < size && same; b++) same = record[b] === key[b];
      if (same) return i;
    }
    return -1;
  }

  /**
   * `kvp_key_add_or_modify` after its re-read: copies `valueSize` bytes of `value` over the
   * first match's value, else `valueSize` bytes of value and `keySize` bytes of key into the
   * slot after the last record.
   * @returns false (the daemon answers HV_S_CONT) when a size exceeds its field.
   */
  set(key: Uint8Array, keySize: number, value: Uint8Array, valueSize: number): boolean {
    if (keySize > KEY_FIELD_BYTES || valueSize > VALUE_FIELD_BYTES) return false;
    const match = this.find(key, keySize);
    const index = match >= 0 ? match : this.records;
    if (match < 0) this.ensure((this.records + 1) * RECORD_BYTES);
    const at = index * RECORD_BYTES;
    this.copyIn(value.subarray(0, valueSize), at + VALUE_FIELD_OFFSET);
    if (match < 0) {
      this.copyIn(key.subarray(0, keySize), at);
      this.records++;
    }
    return true;
  }

  /**
   * `kvp_key_delete` after its re-read: removes the first match by `strcpy`ing each later
   * key and value one slot up.
   * @returns false (the daemon answers HV_S_CONT) when no record matches.
   */
  delete(key: Uint8Array, keySize: number): boolean {
    const match = this.find(key, keySize);
    if (match < 0) return false;
    for (let k = match + 1; k < this.records; k++) {
      const to = (k - 1) * RECORD_BYTES;
      const from = k * RECORD_BYTES;
      this.strcpy(to, from);
      this.strcpy(to + VALUE_FIELD_OFFSET, from + VALUE_FIELD_OFFSET);
    }
    this.records--;
    return true;
  }

  /** C `strcpy` inside the array: the string at `from` and its NUL (running past fields if unterminated). */
  private strcpy(to: number, from: number): void {
    const nul = this.memory.indexOf(0, from);
    const end = nul < 0 ? this.memory.length : nul + 1;
    this.memory.copyWithin(to, from, end);
    this.unknown.copyWithin(to, from, end);
  }

  private copyIn(bytes: Uint8Array, at: number): void {
    this.memory.set(bytes, at);
    this.unknown.fill(0, at, at + bytes.length);
  }

  private ensure(bytes: number): void {
    if (bytes <= this.memory.length) return;
    const size = Math.max(bytes, this.memory.length * 2);
    const grown = new Uint8Array(size);
    grown.set(this.memory);
    this.memory = grown;
    const unknown = new Uint8Array(size).fill(1);
    unknown.set(this.unknown);
    this.unknown = unknown;
  }
}
