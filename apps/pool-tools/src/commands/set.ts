import type { KvpRecord, PoolInfo } from "@hyperv-kvp/kvp-core";
import { type SetOutcome, poolTarget, setRecords } from "@hyperv-kvp/pool-file";
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
}

/**
 * Upserts records under one write lock (the first record with a key is changed in place,
 * else the record is appended). Everything is validated first: one bad record writes none.
 */
export function set(records: readonly KvpRecord[], options: SetOptions): Promise<SetOutcome[]> {
  const target = poolTarget(options.pool, options.dir);
  return setRecords(target, records, {
    ...(options.wireLimits ? { limits: "wire" as const } : {}),
    ...(options.ignoreCase ? { ignoreCase: true } : {}),
    ...(options.force ? { force: true } : {}),
    ...(options.create ? { create: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
