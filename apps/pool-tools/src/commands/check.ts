import {
  type ChunkProblemReason,
  type DecodedRecord,
  type PoolInfo,
  type PoolReport,
  parseChunkKey,
  reassembleRecords,
} from "@hyperv-kvp/kvp-core";
import {
  type PoolAccessOptions,
  type PoolTarget,
  type RepairAction,
  checkPoolFile,
  forEachRecord,
  isPoolFileError,
  poolTarget,
  repairPool,
} from "@hyperv-kvp/pool-file";
import { type CliCommand, CliError, KIT_EXIT } from "@hyperv-kvp/cli-kit";
import type { PoolCli } from "../context.js";
import { formatCheck } from "../print.js";
import { ALL_POOLS, type CommonOptions, POOL_HELP, parsePoolOption } from "./pool-option.js";

/** The check of one pool. */
export interface PoolCheck {
  readonly pool: number;
  readonly poolName: string;
  readonly path: string;
  /** Absent when the pool could not be read (see `failure`). */
  readonly report?: PoolReport;
  /** What `--repair` did, before `report` was made. */
  readonly repairs?: RepairAction[];
  readonly failure?: { readonly code: string; readonly message: string };
  /**
   * Chunked values whose parts (`K#i/N`) cannot be reassembled: a reader of the convention
   * sees the parts as stored, not the value. A kvp-pool finding, beside kvp-core's report;
   * each counts as a warning for the exit code. Absent when the pool could not be read.
   */
  readonly chunks?: ChunkFinding[];
}

/** One chunked value that cannot be reassembled (or a duplicated part), and where. */
export interface ChunkFinding {
  /** The logical key. */
  readonly key: string;
  readonly reason: ChunkProblemReason;
  readonly message: string;
  /** Indexes of the stored records concerned. */
  readonly indexes: number[];
}

/** Options of `kvp-pool check`. */
export interface CheckOptions extends CommonOptions {
  /** Pools to check; default pool 1. */
  readonly pools?: readonly PoolInfo[];
  /** Fix what can be fixed safely, under the write lock, then check again. */
  readonly repair?: boolean;
  /** Allow `--repair` on daemon-owned pools. */
  readonly force?: boolean;
}

/**
 * Checks pools for what the daemon and the host would stumble on (see kvp-core's
 * `checkPool`), optionally repairing first, and for chunked values whose parts cannot be
 * reassembled. Pool 2 is skipped: its file is never read.
 */
export async function check(options: CheckOptions): Promise<PoolCheck[]> {
  const pools = (options.pools ?? ALL_POOLS.filter((p) => p.number === 1)).filter((p) => p.number !== 2);
  const access = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const results: PoolCheck[] = [];
  for (const pool of pools) {
    const target = poolTarget(pool, options.dir);
    const base = { pool: pool.number, poolName: pool.name, path: target.path };
    try {
      const repairs = options.repair
        ? await repairPool(target, { ...access, ...(options.force ? { force: true } : {}) })
        : undefined;
      const report = await checkPoolFile(target, access);
      const { problems } = reassembleRecords(await chunkCandidates(target, access));
      const chunks = problems.map((p) => ({
        key: p.key,
        reason: p.reason,
        message: p.message,
        indexes: p.records.map((r) => r.index),
      }));
      results.push({ ...base, report, ...(repairs ? { repairs } : {}), chunks });
    } catch (error) {
      if (!isPoolFileError(error)) throw error;
      results.push({ ...base, failure: { code: error.code, message: error.message } });
    }
  }
  return results;
}

/**
 * The records that can take part in a chunk problem: every part `K#i/N`, and the first plain
 * record of each `K` that has parts. Values are dropped (problems are about keys, order and
 * validity), so a huge pool is checked in memory bounded by its part records' keys, not by
 * the file.
 */
async function chunkCandidates(target: PoolTarget, access: PoolAccessOptions): Promise<DecodedRecord[]> {
  const parts: DecodedRecord[] = [];
  const plain = new Map<string, DecodedRecord>();
  await forEachRecord(
    target,
    (record) => {
      if (parseChunkKey(record.key)) parts.push({ ...record, value: "" });
      else if (!plain.has(record.key)) plain.set(record.key, { ...record, value: "" });
    },
    access,
  );
  const bases = new Set(parts.map((r) => parseChunkKey(r.key)!.base));
  const related = [...plain.values()].filter((r) => bases.has(r.key));
  return [...parts, ...related].sort((a, b) => a.index - b.index);
}

/** `kvp-pool check`: exit 1 when errors or warnings remain, 3 when a pool could not be read. */
export const checkCommand: CliCommand<PoolCli> = {
  name: "check",
  define: (command, { run, ctx, globals }) =>
    command
      .description(
        "find what the daemon or the host would stumble on, and chunked values that cannot be reassembled (pool 1 unless --pool or --all-pools)",
      )
      .option("--pool <pool>", POOL_HELP)
      .option("--all-pools", "check pools 0, 1, 3 and 4")
      .option("--repair", "fix what is safe to fix, under the write lock, and say what was done")
      .option("--force", "allow --repair on pools the daemon owns")
      .option("--verbose", "also show notes (such as garbage after NULs, which is harmless)")
      .option("--json", "print the reports as JSON")
      .addHelpText("after", "\nExit code 1 when errors or warnings remain.")
      .action(async (opts) => {
        if (opts.pool !== undefined && opts.allPools)
          throw new CliError("usage", "give --pool or --all-pools, not both", `${run.tool} check --help`);
        const pools =
          opts.pool !== undefined
            ? [parsePoolOption(opts.pool, "check")]
            : opts.allPools
              ? ALL_POOLS
              : [parsePoolOption("1", "check")];
        const results = await check({
          ...globals(),
          pools,
          ...(opts.repair ? { repair: true } : {}),
          ...(opts.force ? { force: true } : {}),
        });
        if (opts.json) run.json(results);
        else ctx.stdout.write(formatCheck(results, opts.verbose === true));
        if (results.some((r) => r.failure)) run.setExitCode(KIT_EXIT.io);
        else if (results.some((r) => r.report && r.report.errors + r.report.warnings + (r.chunks?.length ?? 0) > 0))
          run.setExitCode(KIT_EXIT.notFound);
      }),
};
