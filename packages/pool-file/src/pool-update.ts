/**
 * Writes and removes logical values: values stored as one record `K` or, when longer than
 * the host receives whole, as parts `K#1/N` … `K#N/N` (kvp-core's chunking convention,
 * see `splitValue`). Each call works under ONE write lock, so a reader that takes the lock
 * (the daemon, kvp-pool) never sees old and new parts of a value mixed once it is released.
 */
import {
  type DecodedRecord,
  KEY_FIELD_BYTES,
  type KvpRecord,
  RECORD_BYTES,
  type RecordLimits,
  decodeRecord,
  decodeUtf8,
  encodeRecord,
  fieldTextLength,
  isKvpError,
  encodeUtf8,
  logicalKeyOf,
  recordsThatMayHold,
  splitValue,
} from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "./errors.js";
import { type PoolAccessOptions, applyWrites, readAt, scanChunks, withLockedPool } from "./pool-io.js";
import { type SetOutcome, assertWritable, dropFragment, encodeOrExplain, removeRecords } from "./pool-store.js";
import type { PoolTarget } from "./pool-target.js";
import { planRecordWrite } from "./record-write-plan.js";

/** Options of {@link setLogicalValues} and {@link removeLogicalKeys}. Keys always match exactly. */
export interface LogicalWriteOptions extends PoolAccessOptions {
  /** Write a daemon-owned pool (0, 2, 3, 4) anyway. Default false: refused with the reason. */
  readonly force?: boolean;
  /** Create the pool file if it is missing (never the directory). Default false. */
  readonly create?: boolean;
  /**
   * Limits on a value stored as one record. Default: `"host"` for pool 1, `"wire"` for the
   * others. Parts always fit what the host receives whole, whatever this says.
   */
  readonly limits?: RecordLimits;
  /**
   * Default true: a value longer than the host receives whole is stored as parts. False
   * stores every value as one record `K` (so `limits` decides whether a long one is refused)
   * while still removing any parts `K#i/N` of an earlier split; later plain copies of `K`
   * are then left alone, as the daemon's own set leaves them.
   */
  readonly split?: boolean;
}

/** What {@link setLogicalValues} did for one logical key. */
export interface LogicalSetOutcome {
  /** The logical key. */
  readonly key: string;
  /** How many records store the value now: 1 for a plain record `K`, N for parts `K#i/N`. */
  readonly parts: number;
  /**
   * What happened to each stored record, in part order; `index` is its position once the
   * whole call is done (after stale records were removed).
   */
  readonly records: SetOutcome[];
  /** Records of this logical key that were removed: a former split, a plain `K`, duplicates. */
  readonly removed: DecodedRecord[];
}

/**
 * Sets logical values under one write lock. Each value is split with kvp-core's `splitValue`
 * (one record if it fits the host, else parts); every stored record of the same logical key
 * that is not in the new set (the plain `K`, parts of another split, later copies) is
 * removed; the new records are upserted: changed in place where the key exists (first
 * match), else appended together at the end. The same key twice in `records`: the later
 * value wins. Every value is split and validated before the file is opened, so bad input
 * changes nothing.
 * @returns one outcome per logical key, in order of first appearance in `records`.
 * @throws {PoolFileError} `invalid` for a bad key or value (including a key that is itself a
 *   part key, part keys too long, a value over 999 parts), `refused` for a daemon-owned pool
 *   without `force`, and see `withLockedPool`.
 */
export async function setLogicalValues(
  target: PoolTarget,
  records: readonly KvpRecord[],
  options: LogicalWriteOptions = {},
): Promise<LogicalSetOutcome[]> {
  assertWritable(target, options);
  const limits = options.limits ?? (target.pool.number === 1 ? "host" : "wire");
  const latest = new Map<string, string>();
  for (const record of records) latest.set(record.key, record.value);
  const plans = [...latest].map(([key, value]) => {
    const stored = options.split === false ? [{ key, value }] : splitOrExplain(key, value);
    return { key, stored, encoded: stored.map((r) => encodeOrExplain(r, stored.length === 1 ? limits : "host")) };
  });
  const newKeys = new Set(plans.flatMap((plan) => plan.stored.map((r) => r.key)));

  return withLockedPool(target, "write", options, (pool) => {
    const count = dropFragment(pool) / RECORD_BYTES;
    // First existing copy of each new stored key (modified in place), and every other record
    // of the logical keys being set (removed).
    const firstIndexOf = new Map<string, number>();
    const stale = new Set<number>();
    // A few keys (the usual set): only the records that may hold them are found, by their
    // bytes, and decoded (decoding every key of a big pool was most of a one-key set's time).
    const wanted = latest.size <= FEW_KEYS ? [...latest.keys()].map((key) => encodeUtf8(key)) : undefined;
    const look = (bytes: Uint8Array, first: number, i: number) => {
      const key = keyText(bytes, i);
      // `latest.has(key)`: with split false a key of the form `K#i/N` is set as it is, and
      // its existing record must be found (modified in place), not duplicated.
      if (key === undefined || !(latest.has(logicalKeyOf(key)) || latest.has(key))) return;
      if (newKeys.has(key) && !firstIndexOf.has(key)) firstIndexOf.set(key, first + i);
      else if (options.split !== false || !newKeys.has(key)) stale.add(first + i);
    };
    scanChunks(pool, (bytes, first) => {
      if (wanted !== undefined) for (const i of recordsThatMayHold(bytes, wanted)) look(bytes, first, i);
      else for (let i = 0; i < bytes.length / RECORD_BYTES; i++) look(bytes, first, i);
      return true;
    });

    const outcomes: SetOutcome[][] = plans.map(() => []);
    const appended: { plan: number; part: number; key: string; bytes: Uint8Array }[] = [];
    plans.forEach((plan, p) => {
      plan.stored.forEach((record, part) => {
        const bytes = plan.encoded[part]!;
        const index = firstIndexOf.get(record.key);
        if (index === undefined) {
          appended.push({ plan: p, part, key: record.key, bytes });
          return;
        }
        const offset = index * RECORD_BYTES;
        const before = readAt(pool, offset, RECORD_BYTES);
        const previous = decodeRecord(before, 0, index);
        const writes = planRecordWrite(offset, before, encodeRecord(record, { limits: "wire" }));
        applyWrites(pool, writes);
        outcomes[p]![part] = {
          key: record.key,
          action: previous.value === record.value && writes.length === 0 ? "unchanged" : "modified",
          index,
          previous: previous.value,
        };
      });
    });

    // Removing shifts later records up and cuts the file, so it comes before the appends
    // (which then go at the new end) and the indexes of modified records move up with it.
    const removed = stale.size > 0 ? removeRecords(pool, (record) => stale.has(record.index)) : [];
    const removedIndexes = removed.map((r) => r.index);
    for (const list of outcomes) {
      list.forEach((outcome, part) => {
        const shift = removedIndexes.filter((i) => i < outcome.index).length;
        list[part] = { ...outcome, index: outcome.index - shift };
      });
    }
    const end = count - removed.length;
    if (appended.length > 0) {
      const block = new Uint8Array(appended.length * RECORD_BYTES);
      appended.forEach((a, k) => {
        block.set(a.bytes, k * RECORD_BYTES);
        outcomes[a.plan]![a.part] = { key: a.key, action: "appended", index: end + k };
      });
      applyWrites(pool, [{ offset: end * RECORD_BYTES, bytes: block }]);
    }

    return plans.map((plan, p) => ({
      key: plan.key,
      parts: plan.stored.length,
      records: outcomes[p]!,
      removed: removed.filter((r) => r.keyValidUtf8 && logicalKeyOf(r.key) === plan.key),
    }));
  });
}

/**
 * Which logical keys {@link removeLogicalKeys} removes: a list of keys, or a predicate called
 * with each record's logical key (its key without a part label `#i/N`) and the record, e.g.
 * `(key) => key.startsWith("kvp-agent/")` to remove everything an agent wrote, or a few keys
 * with a predicate ({@link LogicalKeysWhere}).
 */
export type LogicalKeySelector =
  | readonly string[]
  | ((logicalKey: string, record: DecodedRecord) => boolean)
  | LogicalKeysWhere;

/**
 * The records of a few logical keys that a predicate accepts, e.g. only the first plain record
 * of a key with all its parts, as `kvp-pool delete` removes. Records of other keys are passed
 * over by their bytes, not decoded; a key not valid UTF-8 is never matched.
 */
export interface LogicalKeysWhere {
  readonly keys: readonly string[];
  readonly where: (logicalKey: string, record: DecodedRecord) => boolean;
}

/**
 * Removes logical keys with all their records (the plain `K`, every part `K#i/N` of any
 * split, every copy) under one write lock, keeping the order of the rest (later records
 * move up in page-safe writes, then the file is cut to size).
 * With a list, records whose key is not valid UTF-8 are never matched (their text is a guess).
 * @returns the records removed, in file order; empty when none matched (nothing is written).
 * @throws {PoolFileError} `refused` for a daemon-owned pool without `force`, and see
 *   `withLockedPool`.
 */
export async function removeLogicalKeys(
  target: PoolTarget,
  keys: LogicalKeySelector,
  options: LogicalWriteOptions = {},
): Promise<DecodedRecord[]> {
  assertWritable(target, options);
  if (typeof keys === "function") {
    return withLockedPool(target, "write", options, (pool) =>
      removeRecords(pool, (record) => keys(logicalKeyOf(record.key), record)),
    );
  }
  const { keys: list, where } = "where" in keys ? keys : { keys, where: undefined };
  const wanted = new Set(list);
  const matches = (record: DecodedRecord) => {
    if (!record.keyValidUtf8) return false;
    const logicalKey = logicalKeyOf(record.key);
    return wanted.has(logicalKey) && (where === undefined || where(logicalKey, record));
  };
  // A few keys: records that cannot hold them are moved without being decoded.
  if (wanted.size <= FEW_KEYS) {
    const bytesOf = [...wanted].map((key) => encodeUtf8(key));
    const mayRemove = (chunk: Uint8Array) => recordsThatMayHold(chunk, bytesOf);
    return withLockedPool(target, "write", options, (pool) => removeRecords(pool, matches, mayRemove));
  }
  return withLockedPool(target, "write", options, (pool) => removeRecords(pool, matches));
}

/** Most keys of one set or removal that are looked for by their bytes; past it, every key is decoded. */
const FEW_KEYS = 8;

/** The key of record `i` of a chunk, or undefined when it is not valid UTF-8 (it belongs to no key we write). */
function keyText(bytes: Uint8Array, i: number): string | undefined {
  const field = bytes.subarray(i * RECORD_BYTES, i * RECORD_BYTES + KEY_FIELD_BYTES);
  const { text, valid } = decodeUtf8(field.subarray(0, fieldTextLength(field, 0, KEY_FIELD_BYTES)));
  return valid ? text : undefined;
}

function splitOrExplain(key: string, value: string): KvpRecord[] {
  try {
    return splitValue(key, value);
  } catch (error) {
    if (isKvpError(error)) {
      const shown = key.length > 60 ? `${key.slice(0, 57)}...` : key;
      throw new PoolFileError("invalid", `${JSON.stringify(shown)}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
