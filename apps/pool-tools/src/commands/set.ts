import { type KvpRecord, type PoolInfo, parseChunkKey } from "@hyperv-kvp/kvp-core";
import {
  type LogicalSetOutcome,
  type SetOutcome,
  poolTarget,
  setLogicalValues,
  setRecords,
} from "@hyperv-kvp/pool-file";
import type { CommonOptions } from "./pool-option.js";

/** Options of `kvp-pool set`. */
export interface SetOptions extends CommonOptions {
  readonly pool: PoolInfo;
  /** Allow up to the record's 511/2047-byte limits instead of what the host receives whole. */
  readonly wireLimits?: boolean;
  readonly ignoreCase?: boolean;
  /** Write a daemon-owned pool anyway. */
  readonly force?: boolean;
  /** Create the pool file when missing. */
  readonly create?: boolean;
  /**
   * Store values longer than the host receives whole as parts `KEY#1/N` … `KEY#N/N` (and
   * remove any earlier parts or plain record of each key). Keys match exactly; not with
   * `wireLimits` or `ignoreCase` (the caller refuses those).
   */
  readonly chunk?: boolean;
}

/** What `set` did: per record, or with `chunk`, per logical key. */
export type SetResult = SetOutcome[] | LogicalSetOutcome[];

/**
 * Upserts records under one write lock (the first record with a key is changed in place,
 * else the record is appended). Everything is validated first: one bad record writes none.
 * With `chunk`, each value is written as its logical key (see pool-file's `setLogicalValues`).
 */
export async function set(records: readonly KvpRecord[], options: SetOptions): Promise<SetResult> {
  const target = poolTarget(options.pool, options.dir);
  const common = {
    ...(options.force ? { force: true } : {}),
    ...(options.create ? { create: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  if (options.chunk) return setLogicalValues(target, records, common);
  if (!options.ignoreCase && !records.some((r) => parseChunkKey(r.key))) {
    // Setting K replaces the logical key K: parts K#i/N of an earlier --chunk go, so a
    // reader never sees the new plain value beside stale parts. Same lock, same write path.
    const outcomes = await setLogicalValues(target, records, {
      ...common,
      split: false,
      ...(options.wireLimits ? { limits: "wire" as const } : {}),
    });
    return outcomes.map((o) => o.records[0]!);
  }
  // Case-insensitive matching, or writing a part record by hand: the daemon's plain upsert.
  return setRecords(target, records, {
    ...common,
    ...(options.wireLimits ? { limits: "wire" as const } : {}),
    ...(options.ignoreCase ? { ignoreCase: true } : {}),
  });
}
