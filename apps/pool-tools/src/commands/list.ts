import { type KvpRecord, type PoolInfo, reassembleRecords } from "@hyperv-kvp/kvp-core";
import { isPoolFileError, poolTarget, readPool, synthesizeAutoPool } from "@hyperv-kvp/pool-file";
import { chunkNotes } from "./chunk-notes.js";
import { ALL_POOLS, type CommonOptions } from "./pool-option.js";

/** One listed record. */
export interface ListedRecord {
  readonly pool: number;
  readonly poolName: string;
  readonly index: number;
  readonly key: string;
  readonly value: string;
  /** Present for a value reassembled from `key#1/N` … `key#N/N`: N (`index` is its first stored part's). */
  readonly parts?: number;
  /** Present and false when the record's bytes are not valid UTF-8 (shown with U+FFFD). */
  readonly validUtf8?: false;
  /** Present for pool 2: the daemon synthesises these, they are not in the file. */
  readonly synthesized?: true;
}

/** A pool that could not be listed (for pool 2: synthesised), and why. */
export interface ListFailure {
  readonly pool: number;
  readonly poolName: string;
  /** A pool-file error code (`io` for pool 2's synthesis failing in any other way). */
  readonly code: string;
  readonly message: string;
}

/** Result of `kvp-pool list`. */
export interface ListResult {
  readonly records: ListedRecord[];
  readonly failures: ListFailure[];
  /** Notes for people (stderr), e.g. that pool 2 is synthesised. */
  readonly notes: string[];
  /**
   * Parts of chunked values that could not be reassembled and are listed as stored, and why
   * (stderr, with or without `--json`: a value is missing from the output).
   */
  readonly chunkNotes: string[];
}

/** Options of `kvp-pool list`. */
export interface ListOptions extends CommonOptions {
  /** One pool; default every pool. */
  readonly pool?: PoolInfo;
  /** Show the stored records as they are: chunked values are not reassembled. */
  readonly raw?: boolean;
  /**
   * What the daemon would send for pool 2 on this machine; default pool-file's
   * `synthesizeAutoPool`. Injectable: it reads the system (C library, resolver, os-release).
   */
  readonly synthesizeAutoPool?: () => readonly KvpRecord[];
}

/**
 * Lists the records of one pool or of every pool, in file order. Values stored as parts
 * `K#1/N` … `K#N/N` are shown reassembled, once, where their first part is (unless `raw`);
 * parts that cannot be reassembled are shown as stored, with a note saying why. Pool 2 is
 * shown as the daemon would synthesise it for this machine. A pool that cannot be read (for
 * pool 2: synthesised) is reported in `failures` and the others are still listed.
 */
export async function list(options: ListOptions): Promise<ListResult> {
  const pools = options.pool ? [options.pool] : ALL_POOLS;
  const records: ListedRecord[] = [];
  const failures: ListFailure[] = [];
  const notes: string[] = [];
  const chunkProblems: string[] = [];
  for (const pool of pools) {
    const base = { pool: pool.number, poolName: pool.name };
    if (pool.number === 2) {
      let synthesized: readonly KvpRecord[];
      try {
        synthesized = (options.synthesizeAutoPool ?? synthesizeAutoPool)();
      } catch (error) {
        // Predicting the daemon means asking the system (libc, resolver, release files), and
        // any of it may fail: that is pool 2's problem alone, the files are still listed.
        const reason = error instanceof Error ? error.message : String(error);
        failures.push({
          ...base,
          code: isPoolFileError(error) ? error.code : "io",
          message: `pool 2 (auto): cannot tell what hv_kvp_daemon would send: ${reason}`,
        });
        continue;
      }
      notes.push(
        "pool 2 (auto) is synthesised by hv_kvp_daemon each time the host asks; its file stays empty. Shown: what the daemon would send for this machine.",
      );
      synthesized.forEach((record, index) => {
        records.push({ ...base, index, key: record.key, value: record.value, synthesized: true });
      });
      continue;
    }
    try {
      const target = poolTarget(pool, options.dir);
      const content = await readPool(target, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
      if (options.raw) {
        for (const r of content.records) records.push(listed(pool, r.index, r.key, r.value, r.validUtf8));
      } else {
        const logical = reassembleRecords(content.records);
        for (const r of logical.records) {
          if (r.record) {
            records.push(listed(pool, r.record.index, r.key, r.value, r.record.validUtf8));
          } else {
            records.push({
              ...base,
              index: Math.min(...r.parts.map((p) => p.index)),
              key: r.key,
              value: r.value,
              parts: r.parts.length,
            });
          }
        }
        chunkProblems.push(...chunkNotes(pool.number, logical.problems));
      }
      if (content.trailingBytes > 0) notes.push(trailingBytesNote(pool.number, content.trailingBytes));
    } catch (error) {
      if (!isPoolFileError(error)) throw error;
      failures.push({ ...base, code: error.code, message: error.message });
    }
  }
  return { records, failures, notes, chunkNotes: chunkProblems };
}

/** The note for bytes after a pool's last whole record. */
export function trailingBytesNote(pool: number, trailingBytes: number): string {
  return `pool ${pool}: ${trailingBytes} trailing bytes after the last whole record were ignored (kvp-pool check --pool ${pool})`;
}

/**
 * One listed stored record. Built property by property, not by spreading optional parts in:
 * a 10,000-record list spent more time copying spread objects than decoding the pool.
 */
function listed(pool: PoolInfo, index: number, key: string, value: string, validUtf8: boolean): ListedRecord {
  const record: { -readonly [K in keyof ListedRecord]: ListedRecord[K] } = {
    pool: pool.number,
    poolName: pool.name,
    index,
    key,
    value,
  };
  if (!validUtf8) record.validUtf8 = false;
  return record;
}
