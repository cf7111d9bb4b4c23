import type { KvpRecord } from "./record.js";

/** How keys are compared. */
export interface MatchOptions {
  /**
   * Default false: exact, case-sensitive, as the daemon's `memcmp`. True compares the
   * locale-independent lowercase forms, which the daemon itself never does.
   */
  readonly ignoreCase?: boolean;
}

/** A record that may carry a flag saying its key is not valid UTF-8. */
type Matchable = KvpRecord & { readonly keyValidUtf8?: boolean };

/**
 * Returns a predicate that says whether a record has `key`. Records whose key bytes are
 * not valid UTF-8 never match: their decoded text only approximates their bytes, and the
 * daemon compares bytes.
 */
export function keyMatcher(key: string, options: MatchOptions = {}): (record: Matchable) => boolean {
  if (options.ignoreCase) {
    const folded = key.toLowerCase();
    return (record) => record.keyValidUtf8 !== false && record.key.toLowerCase() === folded;
  }
  return (record) => record.keyValidUtf8 !== false && record.key === key;
}

/** Index of the first record with `key`, or -1 (first match wins, as in the daemon). */
export function findRecord(records: readonly Matchable[], key: string, options: MatchOptions = {}): number {
  return records.findIndex(keyMatcher(key, options));
}

/** What an upsert did: changed the first match in place, or appended a new record. */
export type UpsertEdit =
  | { readonly kind: "modify"; readonly index: number; readonly previous: KvpRecord }
  | { readonly kind: "append"; readonly index: number };

/**
 * Sets `record` in `records` like the daemon's set: the first record with the same key is
 * changed in place (keeping its position and its stored key's spelling), otherwise the
 * record is appended. Pure: returns a new array.
 */
export function upsertRecord<T extends Matchable>(
  records: readonly T[],
  record: KvpRecord,
  options: MatchOptions = {},
): { records: (T | KvpRecord)[]; edit: UpsertEdit } {
  const index = findRecord(records, record.key, options);
  if (index < 0) {
    return { records: [...records, record], edit: { kind: "append", index: records.length } };
  }
  const previous = records[index]!;
  const next: (T | KvpRecord)[] = [...records];
  next[index] = { key: previous.key, value: record.value };
  return { records: next, edit: { kind: "modify", index, previous } };
}

/** Options of {@link deleteRecords}. */
export interface DeleteOptions extends MatchOptions {
  /** Default false: delete only the first match, as the daemon does. */
  readonly all?: boolean;
}

/**
 * Deletes the first record with `key` (or all of them), keeping the order of the rest, as
 * the daemon's delete shifts later records up. Pure: returns a new array.
 * @returns the remaining records and the indexes (in the input) that were removed.
 */
export function deleteRecords<T extends Matchable>(
  records: readonly T[],
  key: string,
  options: DeleteOptions = {},
): { records: T[]; removed: number[] } {
  const matches = keyMatcher(key, options);
  const removed: number[] = [];
  const kept: T[] = [];
  for (const [i, record] of records.entries()) {
    if (matches(record) && (options.all || removed.length === 0)) removed.push(i);
    else kept.push(record);
  }
  return { records: kept, removed };
}
