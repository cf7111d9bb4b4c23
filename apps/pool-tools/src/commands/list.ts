import type { PoolInfo } from "@hyperv-kvp/kvp-core";
import { isPoolFileError, poolTarget, readPool, synthesizeAutoPool } from "@hyperv-kvp/pool-file";
import { ALL_POOLS, type CommonOptions } from "./pool-option.js";

/** One listed record. */
export interface ListedRecord {
  readonly pool: number;
  readonly poolName: string;
  readonly index: number;
  readonly key: string;
  readonly value: string;
  /** Present and false when the record's bytes are not valid UTF-8 (shown with U+FFFD). */
  readonly validUtf8?: false;
  /** Present for pool 2: the daemon synthesises these, they are not in the file. */
  readonly synthesized?: true;
}

/** A pool that could not be listed, and why. */
export interface ListFailure {
  readonly pool: number;
  readonly poolName: string;
  readonly code: string;
  readonly message: string;
}

/** Result of `kvp-pool list`. */
export interface ListResult {
  readonly records: ListedRecord[];
  readonly failures: ListFailure[];
  /** Notes for people (stderr), e.g. that pool 2 is synthesised. */
  readonly notes: string[];
}

/**
 * Lists the records of one pool or of every pool, in file order. Pool 2 is shown as the
 * daemon would synthesise it for this machine. A pool that cannot be read is reported in
 * `failures` and the others are still listed.
 */
export async function list(options: CommonOptions & { readonly pool?: PoolInfo }): Promise<ListResult> {
  const pools = options.pool ? [options.pool] : ALL_POOLS;
  const records: ListedRecord[] = [];
  const failures: ListFailure[] = [];
  const notes: string[] = [];
  for (const pool of pools) {
    const base = { pool: pool.number, poolName: pool.name };
    if (pool.number === 2) {
      notes.push(
        "pool 2 (auto) is synthesised by hv_kvp_daemon each time the host asks; its file stays empty. Shown: what the daemon would send for this machine.",
      );
      synthesizeAutoPool().forEach((record, index) => {
        records.push({ ...base, index, key: record.key, value: record.value, synthesized: true });
      });
      continue;
    }
    try {
      const target = poolTarget(pool, options.dir);
      const content = await readPool(target, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
      for (const r of content.records) {
        records.push({ ...base, index: r.index, key: r.key, value: r.value, ...(r.validUtf8 ? {} : { validUtf8: false }) });
      }
      if (content.trailingBytes > 0) {
        notes.push(`pool ${pool.number}: ${content.trailingBytes} trailing bytes after the last whole record were ignored (kvp-pool check --pool ${pool.number})`);
      }
    } catch (error) {
      if (!isPoolFileError(error)) throw error;
      failures.push({ ...base, code: error.code, message: error.message });
    }
  }
  return { records, failures, notes };
}
