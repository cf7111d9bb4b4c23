import {
  type DecodedRecord,
  KEY_FIELD_BYTES,
  type KvpRecord,
  type MatchOptions,
  PoolChecker,
  type PoolReport,
  RECORD_BYTES,
  type RecordLimits,
  decodePool,
  decodeRecord,
  decodeUtf8,
  encodeRecord,
  encodeUtf8,
  fieldTextLength,
  isKvpError,
  keyMatcher,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  VALUE_FIELD_OFFSET,
  recordsThatMayHold,
  utf8BoundaryAtOrBefore,
} from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "./errors.js";
import {
  type LockedPool,
  type PoolAccessOptions,
  applyWrites,
  readAt,
  scanChunks,
  truncateTo,
  withLockedPool,
} from "./pool-io.js";
import { type PoolTarget, writeRefusal } from "./pool-target.js";
import {
  PAGE_BYTES,
  type PlannedWrite,
  keyPageShiftEndsKeyFirst,
  planChangedShift,
  planRecordWrite,
  readsWholeBeforePageEnd,
  shiftWritesWhole,
} from "./record-write-plan.js";
import { ShiftWriter } from "./shift-writer.js";

/** A pool's content as read under the read lock. */
export interface PoolContent {
  readonly target: PoolTarget;
  readonly records: DecodedRecord[];
  /** Bytes after the last whole record (ignored, as the daemon ignores them). */
  readonly trailingBytes: number;
}

/**
 * Reads every record of a pool under a read lock, in file order.
 * @throws {PoolFileError} see {@link withLockedPool}.
 */
export function readPool(target: PoolTarget, options: PoolAccessOptions = {}): Promise<PoolContent> {
  return withLockedPool(target, "read", options, (pool) => {
    const records: DecodedRecord[] = [];
    scanChunks(pool, (bytes, first) => {
      records.push(...decodePool(bytes, first).records);
      return true;
    });
    return { target, records, trailingBytes: pool.size % RECORD_BYTES };
  });
}

/**
 * Calls `visit` with every record of a pool, in file order, under one read lock, reading
 * the file in chunks: memory stays bounded by what `visit` keeps, whatever the pool's size.
 * @returns bytes after the last whole record (a trailing fragment, ignored).
 * @throws {PoolFileError} see {@link withLockedPool}.
 */
export function forEachRecord(
  target: PoolTarget,
  visit: (record: DecodedRecord) => void,
  options: PoolAccessOptions = {},
): Promise<number> {
  return withLockedPool(target, "read", options, (pool) => {
    scanChunks(pool, (bytes, first) => {
      for (const record of decodePool(bytes, first).records) visit(record);
      return true;
    });
    return pool.size % RECORD_BYTES;
  });
}

/**
 * Calls `visit` with a pool's whole records as stored bytes, in file order, in chunks of at
 * most 256 records, under one read lock: for readers that keep their own copy and decode
 * only what changed. `bytes` (a multiple of `RECORD_BYTES`) is valid only during its call
 * (the next chunk is read into the same buffer): copy what you keep. `records` is the
 * pool's count of whole records, the same in every call. A visitor that has what it wants
 * returns false: nothing more is read (a lookup whose answer is near the start of a big pool
 * reads one chunk, not the file).
 * @returns the pool's count of whole records and the bytes after the last one.
 * @throws {PoolFileError} see {@link withLockedPool}.
 */
export function scanPool(
  target: PoolTarget,
  visit: (bytes: Uint8Array, firstIndex: number, records: number) => boolean | undefined | void,
  options: PoolAccessOptions = {},
): Promise<{ records: number; trailingBytes: number }> {
  return withLockedPool(target, "read", options, (pool) => {
    const records = Math.floor(pool.size / RECORD_BYTES);
    scanChunks(pool, (bytes, first) => visit(bytes, first, records) !== false);
    return { records, trailingBytes: pool.size % RECORD_BYTES };
  });
}

/**
 * The first record with `key` (first match wins, as in the daemon), or undefined.
 * @throws {PoolFileError} see {@link withLockedPool}.
 */
export function getRecord(
  target: PoolTarget,
  key: string,
  options: PoolAccessOptions & MatchOptions = {},
): Promise<DecodedRecord | undefined> {
  const matches = keyMatcher(key, options);
  return withLockedPool(target, "read", options, (pool) => {
    let found: DecodedRecord | undefined;
    scanChunks(pool, (bytes, first) => {
      found = decodePool(bytes, first).records.find(matches);
      return found === undefined;
    });
    return found;
  });
}

/**
 * Checks a pool under a read lock, reading it in chunks (bounded memory for any size).
 * Pool 1 is checked for what the host would lose; other pools for format only.
 */
export function checkPoolFile(target: PoolTarget, options: PoolAccessOptions = {}): Promise<PoolReport> {
  return withLockedPool(target, "read", options, (pool) => {
    const checker = new PoolChecker({ hostReads: target.pool.number === 1 });
    scanChunks(pool, (bytes, first) => {
      checker.addChunk(bytes, first);
      return true;
    });
    return checker.finish(pool.size % RECORD_BYTES);
  });
}

/** Options of pool writes. */
export interface WriteOptions extends PoolAccessOptions, MatchOptions {
  /** Write a daemon-owned pool (0, 2, 3, 4) anyway. Default false: refused with the reason. */
  readonly force?: boolean;
  /** Create the pool file if it is missing (never the directory). Default false. */
  readonly create?: boolean;
  /**
   * Limits on what is written. Default: `"host"` for pool 1 (what the host receives whole),
   * `"wire"` for the others (what fits a record).
   */
  readonly limits?: RecordLimits;
}

/** What one set did to the pool. */
export interface SetOutcome {
  readonly key: string;
  /** `modified` in place, `appended` at the end, or `unchanged` (same value already there). */
  readonly action: "modified" | "appended" | "unchanged";
  readonly index: number;
  /** The value that was replaced, for `modified`. */
  readonly previous?: string;
}

/**
 * Upserts records under one write lock, like the daemon's set: the first record with the
 * key is changed in place, otherwise the record is appended. Each change touches as little
 * as possible: a modify rewrites only that record (in page-safe pieces), all appends go in
 * one write at the end. A trailing fragment is dropped first, as the daemon would.
 * Every record is validated before the file is opened, so bad input changes nothing.
 * @throws {PoolFileError} `invalid` for a bad key or value, `refused` for a daemon-owned
 *   pool without `force`, and see {@link withLockedPool}.
 */
export async function setRecords(
  target: PoolTarget,
  records: readonly KvpRecord[],
  options: WriteOptions = {},
): Promise<SetOutcome[]> {
  assertWritable(target, options);
  const limits = options.limits ?? (target.pool.number === 1 ? "host" : "wire");
  const encoded = records.map((record) => encodeOrExplain(record, limits));
  return withLockedPool(target, "write", options, (pool) => {
    const wholeSize = dropFragment(pool);
    const firstIndexOf = indexKeys(pool, records, options);
    const count = wholeSize / RECORD_BYTES;
    const outcomes: SetOutcome[] = [];
    const appended: Uint8Array[] = [];
    records.forEach((record, i) => {
      const bytes = encoded[i]!;
      const foldedKey = options.ignoreCase ? record.key.toLowerCase() : record.key;
      const index = firstIndexOf.get(foldedKey);
      if (index === undefined) {
        firstIndexOf.set(foldedKey, count + appended.length);
        outcomes.push({ key: record.key, action: "appended", index: count + appended.length });
        appended.push(bytes);
        return;
      }
      if (index >= count) {
        // Set twice in one batch: the later value wins in the pending append.
        appended[index - count] = bytes;
        outcomes.push({ key: record.key, action: "appended", index });
        return;
      }
      const offset = index * RECORD_BYTES;
      const before = readAt(pool, offset, RECORD_BYTES);
      const previous = decodeRecord(before, 0, index);
      // Keep the stored key's spelling (it may differ in case under ignoreCase).
      const after = encodeRecord({ key: previous.key, value: record.value }, { limits: "wire" });
      const writes = planRecordWrite(offset, before, after);
      applyWrites(pool, writes);
      outcomes.push({
        key: previous.key,
        action: previous.value === record.value && writes.length === 0 ? "unchanged" : "modified",
        index,
        previous: previous.value,
      });
    });
    if (appended.length > 0) {
      const block = new Uint8Array(appended.length * RECORD_BYTES);
      for (const [i, bytes] of appended.entries()) block.set(bytes, i * RECORD_BYTES);
      applyWrites(pool, [{ offset: wholeSize, bytes: block }]);
    }
    return outcomes;
  });
}

/** Options of {@link deleteRecord}. */
export interface DeleteOptions extends WriteOptions {
  /** Delete every record with the key, not only the first (the daemon deletes the first). */
  readonly all?: boolean;
}

/**
 * Deletes the first record with `key` (or all), keeping the order of the rest: later
 * records move up one by one in page-safe writes, then the file is cut to size. Records
 * before the first match are not touched.
 * @returns the records removed (empty when the key is absent: the file is not changed).
 * @throws {PoolFileError} as {@link setRecords}.
 */
export async function deleteRecord(
  target: PoolTarget,
  key: string,
  options: DeleteOptions = {},
): Promise<DecodedRecord[]> {
  assertWritable(target, options);
  const matches = keyMatcher(key, options);
  // Exact keys are told by their bytes, as the daemon does (and removeLogicalKeys, which
  // kvp-pool's delete uses): only a record that may match is decoded, and none after the one a
  // delete without `all` removes.
  const keyBytes = options.ignoreCase ? undefined : encodeUtf8(key);
  return withLockedPool(target, "write", options, (pool) => {
    let removed = 0;
    const wanted = () => options.all === true || removed === 0;
    return removeRecords(
      pool,
      (record) => {
        const remove = matches(record) && wanted();
        if (remove) removed++;
        return remove;
      },
      (chunk) => (!wanted() ? [] : keyBytes === undefined ? allRecords(chunk) : recordsThatMayHold(chunk, [keyBytes])),
    );
  });
}

/**
 * Removes the records `shouldRemove` picks (of those `mayRemove`, a byte test over a chunk of
 * records, lets through: the others are not decoded), keeping the order of the rest: later
 * records move up in page-safe writes, then the file is cut to size (dropping any trailing
 * fragment). Nothing before the first removed record is written. A writer killed part-way
 * leaves a record twice (the first copy is where lookups look) or a record with an empty key,
 * never a key with a value that was not its own (see planShiftWrite).
 * Module-internal (not in index.ts): shared with pool-update.ts.
 * @param mayRemove the indexes, ascending, of the records of `chunk` (whole records) that may
 *   be removed; without it every record is decoded and asked.
 */
export function removeRecords(
  pool: LockedPool,
  shouldRemove: (record: DecodedRecord) => boolean,
  mayRemove?: (chunk: Uint8Array) => readonly number[],
): DecodedRecord[] {
  const removed: DecodedRecord[] = [];
  const writer = new ShiftWriter(pool);
  // Slot `writeIndex` gets the next record kept; its content until then is the original record
  // `writeIndex`, needed to plan page-safe writes: in the chunk being read, or else (read with an
  // earlier chunk, scanChunks reusing its buffer) copied into `carried`, from index `carriedFirst`.
  let writeIndex = -1;
  let carried: Uint8Array[] = [];
  let carriedFirst = 0;
  scanChunks(pool, (bytes, first) => {
    const count = bytes.length / RECORD_BYTES;
    const original = (slot: number) =>
      slot >= first
        ? bytes.subarray((slot - first) * RECORD_BYTES, (slot - first + 1) * RECORD_BYTES)
        : carried[slot - carriedFirst]!;
    // Records [kept, i) of the chunk are kept, not yet placed.
    let kept = 0;
    const consider = (i: number) => {
      const record = decodeRecord(bytes, i * RECORD_BYTES, first + i);
      if (!shouldRemove(record)) return;
      if (writeIndex < 0) writeIndex = first + i;
      else writeIndex = moveUp(writer, bytes, kept, i, writeIndex, original);
      removed.push({ ...record, offset: (first + i) * RECORD_BYTES });
      kept = i + 1;
    };
    if (mayRemove === undefined) for (let i = 0; i < count; i++) consider(i);
    else for (const i of mayRemove(bytes)) consider(i);
    if (writeIndex >= 0) writeIndex = moveUp(writer, bytes, kept, count, writeIndex, original);
    // The originals of slots still to be written that scanChunks' buffer will not hold any more:
    // with one record removed, one record (copying every record moved was a fifth of a delete's time).
    if (writeIndex >= 0) {
      const keep = carried.slice(Math.max(0, writeIndex - carriedFirst));
      for (let w = Math.max(writeIndex, first); w < first + count; w++) {
        keep.push(bytes.slice((w - first) * RECORD_BYTES, (w - first + 1) * RECORD_BYTES));
      }
      carried = keep;
      carriedFirst = writeIndex;
    }
    return true;
  });
  writer.flush();
  if (removed.length > 0) truncateTo(pool, writeIndex * RECORD_BYTES);
  return removed;
}

/**
 * Hands `writer` the records [from, to) of `chunk` for the slots from `slot` on (each record
 * one slot up from where it was, or more), the slots' current content being `original(slot)`.
 * @returns the slot after the last one filled.
 *
 * A slot inside one page is one write whatever it holds (half the slots); so is one whose new
 * record reads whole before the page end inside it (readsWholeBeforePageEnd: one search for a
 * NUL), and one whose plan goes forward (docs/daemon-and-locks.md#page-safe-writes): those go
 * out with their neighbours, whole. The others (the slots whose key fills the first page's
 * part, one in eight, and long values across a page end) are added by their plan. Asking every
 * slot for its plan, with a view of each, was most of a delete's time.
 */
function moveUp(
  writer: ShiftWriter,
  chunk: Uint8Array,
  from: number,
  to: number,
  slot: number,
  original: (slot: number) => Uint8Array,
): number {
  let blockStart = from * RECORD_BYTES; // chunk bytes [blockStart, at) go whole to the slots from blockSlot
  let blockSlot = slot;
  for (let at = from * RECORD_BYTES, end = to * RECORD_BYTES; at < end; at += RECORD_BYTES, slot++) {
    const offset = slot * RECORD_BYTES;
    if (readsWholeBeforePageEnd(offset, chunk, at)) continue;
    const split = PAGE_BYTES - (offset % PAGE_BYTES);
    const before = original(slot);
    const after = chunk.subarray(at, at + RECORD_BYTES);
    // A key filling the first page's part: planned by a test, written without making the plan.
    const keyFirst = split === KEY_FIELD_BYTES && keyPageShiftEndsKeyFirst(before, after);
    let writes: PlannedWrite[] = [];
    if (!keyFirst) {
      if (split > KEY_FIELD_BYTES && shiftWritesWhole(offset, before, after)) continue;
      writes = planChangedShift(offset, before, after);
      if (ascending(writes)) continue;
    }
    if (at > blockStart) writer.addRecords(blockSlot * RECORD_BYTES, chunk.subarray(blockStart, at));
    if (keyFirst) writer.addKeyPageShift(offset, before, after);
    else writer.addPlan(offset, before, after, writes);
    blockStart = at + RECORD_BYTES;
    blockSlot = slot + 1;
  }
  const end = to * RECORD_BYTES;
  if (end > blockStart) writer.addRecords(blockSlot * RECORD_BYTES, chunk.subarray(blockStart, end));
  return slot;
}

/** Every record index of `chunk` (whole records): the candidates when bytes cannot tell. */
function allRecords(chunk: Uint8Array): number[] {
  return Array.from({ length: chunk.length / RECORD_BYTES }, (_, i) => i);
}

/** True when the writes go forward through the record: each starts at or after the last one's end. */
function ascending(writes: readonly PlannedWrite[]): boolean {
  for (let i = 1; i < writes.length; i++) {
    const last = writes[i - 1]!;
    if (writes[i]!.offset < last.offset + last.bytes.length) return false;
  }
  return true;
}

/** One fix made by {@link repairPool}. */
export interface RepairAction {
  readonly action: "dropped-fragment" | "terminated-field" | "replaced-invalid-utf8" | "removed-empty-record";
  /** Record index before the repair (for a fragment: where it started, in records). */
  readonly index: number;
  /**
   * The record's key as it is after the repair (`""` for an empty key, which repair keeps);
   * absent for a dropped fragment.
   */
  readonly key?: string;
  /** One sentence for people; names the key, an empty one as `(empty key)`. */
  readonly message: string;
}

/**
 * How repair messages name a key: an empty one as `(empty key)` (not `""`, easy to misread,
 * nor a made-up name), others quoted and shortened, with every control character escaped
 * (JSON.stringify leaves DEL, C1 controls and line separators as they are), so a key cannot
 * move a terminal's cursor.
 */
function describeKey(key: string): string {
  if (key === "") return "(empty key)";
  return JSON.stringify(shorten(key)).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Fixes under the write lock what can be fixed without guessing, in place:
 * drops a trailing fragment; ends a field that has no NUL (cut at a character boundary to
 * 511/2047 bytes); replaces invalid UTF-8 with U+FFFD so the host's enumeration no longer
 * stops there; removes records whose key and value are both empty. Duplicates, empty keys
 * with a value and text the host would see truncated are left alone: only their writer
 * knows which version is right. A record is never renamed: one with an empty key and a
 * broken value keeps its empty key. Works on daemon-owned pools only with `force`.
 * @returns what was done, in file order; empty when nothing needed fixing.
 */
export async function repairPool(target: PoolTarget, options: WriteOptions = {}): Promise<RepairAction[]> {
  assertWritable(target, options);
  return withLockedPool(target, "write", options, (pool) => {
    const actions: RepairAction[] = [];
    const fragment = pool.size % RECORD_BYTES;
    scanChunks(pool, (bytes, first) => {
      for (let i = 0; i < bytes.length / RECORD_BYTES; i++) {
        const raw = bytes.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
        const record = decodeRecord(raw, 0, first + i);
        if (record.keyTerminated && record.valueTerminated && record.validUtf8) continue;
        const key = fitText(record.key, MAX_KEY_BYTES);
        const fixed = encodeRepaired(key, fitText(record.value, MAX_VALUE_BYTES));
        applyWrites(pool, planRecordWrite(record.index * RECORD_BYTES, raw, fixed));
        const name = describeKey(key);
        if (!record.keyTerminated || !record.valueTerminated) {
          actions.push({
            action: "terminated-field",
            index: record.index,
            key,
            message: `ended the ${!record.keyTerminated ? "key" : "value"} field of ${name} that had no NUL`,
          });
        }
        if (!record.validUtf8) {
          actions.push({
            action: "replaced-invalid-utf8",
            index: record.index,
            key,
            message: `replaced invalid UTF-8 in ${name} with U+FFFD, so the host enumerates past this record again`,
          });
        }
      }
      return true;
    });
    const emptied = removeRecords(pool, (record) => record.keyBytes === 0 && record.valueBytes === 0);
    for (const record of emptied) {
      actions.push({
        action: "removed-empty-record",
        index: record.index,
        key: "",
        message: "removed an empty record (empty key and value)",
      });
    }
    if (fragment > 0 && emptied.length === 0) truncateTo(pool, pool.size - fragment);
    if (fragment > 0) {
      actions.push({
        action: "dropped-fragment",
        index: Math.floor(pool.size / RECORD_BYTES),
        message: `dropped a trailing fragment of ${fragment} bytes`,
      });
    }
    return actions.sort((a, b) => a.index - b.index);
  });
}

/**
 * The bytes of a repaired record: key and value in UTF-8, each followed by NULs to its field's
 * end. Not encodeRecord, which refuses an empty key: repair ends fields and replaces invalid
 * UTF-8, it never renames a record (the daemon keeps an empty key and the host sees an item
 * with an empty name). The texts come from decoding (no NUL, no lone surrogate) cut by
 * {@link fitText}, so they fit their fields.
 */
function encodeRepaired(key: string, value: string): Uint8Array {
  const out = new Uint8Array(RECORD_BYTES);
  out.set(encodeUtf8(key), 0);
  out.set(encodeUtf8(value), VALUE_FIELD_OFFSET);
  return out;
}

/** `text` cut (at a character boundary) to at most `maxBytes` of UTF-8. */
function fitText(text: string, maxBytes: number): string {
  const bytes = encodeUtf8(text);
  if (bytes.length <= maxBytes) return text;
  return decodeUtf8(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, maxBytes))).text;
}

/**
 * Throws unless `target` may be written (pool 1, or any pool with `force`).
 * Module-internal (not in index.ts): shared with pool-update.ts.
 * @throws {PoolFileError} `refused`.
 */
export function assertWritable(target: PoolTarget, options: WriteOptions): void {
  const refusal = writeRefusal(target);
  if (refusal !== undefined && options.force !== true) {
    throw new PoolFileError("refused", `refusing to write: ${refusal} (force it only if you know why)`);
  }
}

/**
 * Encodes a record within `limits`, naming its key in the message.
 * Module-internal (not in index.ts): shared with pool-update.ts.
 * @throws {PoolFileError} `invalid`, with the KvpError as cause.
 */
export function encodeOrExplain(record: KvpRecord, limits: RecordLimits): Uint8Array {
  try {
    return encodeRecord(record, { limits });
  } catch (error) {
    if (isKvpError(error)) {
      throw new PoolFileError("invalid", `${JSON.stringify(shorten(record.key))}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Drops a trailing fragment (the daemon ignores it and drops it at its next rewrite).
 * Module-internal (not in index.ts): shared with pool-update.ts.
 * @returns the size of the whole records, in bytes.
 */
export function dropFragment(pool: LockedPool): number {
  const whole = pool.size - (pool.size % RECORD_BYTES);
  if (whole !== pool.size) truncateTo(pool, whole);
  return whole;
}

/**
 * Index of the first record of each wanted key (keys lowercased under ignoreCase). Exact
 * matching compares the key field's bytes, as the daemon's `memcmp` does, without decoding
 * anything: an upsert in a large pool costs one read of the file and a byte compare.
 */
function indexKeys(pool: LockedPool, records: readonly KvpRecord[], options: MatchOptions): Map<string, number> {
  const firstIndexOf = new Map<string, number>();
  if (options.ignoreCase) {
    const wanted = new Set(records.map((r) => r.key.toLowerCase()));
    scanChunks(pool, (bytes, first) => {
      for (let i = 0; i < bytes.length / RECORD_BYTES; i++) {
        const field = bytes.subarray(i * RECORD_BYTES, i * RECORD_BYTES + KEY_FIELD_BYTES);
        const { text, valid } = decodeUtf8(field.subarray(0, fieldTextLength(field, 0, KEY_FIELD_BYTES)));
        const folded = text.toLowerCase();
        if (valid && wanted.has(folded) && !firstIndexOf.has(folded)) firstIndexOf.set(folded, first + i);
      }
      return firstIndexOf.size < wanted.size;
    });
    return firstIndexOf;
  }
  const wanted = new Map<string, Uint8Array>(records.map((r) => [r.key, encodeUtf8(r.key)]));
  scanChunks(pool, (bytes, first) => {
    for (const [key, keyBytes] of wanted) {
      const index = findKeyField(bytes, keyBytes);
      if (index >= 0) {
        firstIndexOf.set(key, first + index);
        wanted.delete(key);
      }
    }
    return wanted.size > 0;
  });
  return firstIndexOf;
}

/** Index of the first record in `bytes` whose key field holds exactly `key` then a NUL, or -1. */
function findKeyField(bytes: Uint8Array, key: Uint8Array): number {
  const count = bytes.length / RECORD_BYTES;
  const length = key.length;
  const first = key[0];
  outer: for (let i = 0; i < count; i++) {
    const at = i * RECORD_BYTES;
    if (bytes[at] !== first || bytes[at + length] !== 0) continue;
    for (let k = 1; k < length; k++) if (bytes[at + k] !== key[k]) continue outer;
    return i;
  }
  return -1;
}
