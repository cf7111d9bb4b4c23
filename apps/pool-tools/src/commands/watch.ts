import type { PoolInfo } from "@hyperv-kvp/kvp-core";
import { type PoolChange, type PoolFileError, poolTarget, watchPool } from "@hyperv-kvp/pool-file";
import { watchChunkNotes } from "./chunk-notes.js";
import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { PoolCli } from "../context.js";
import { formatEvent } from "../print.js";
import { ALL_POOLS, type CommonOptions, POOL_HELP, parsePoolOption } from "./pool-option.js";

/**
 * One change seen by `kvp-pool watch`, as printed with `--json` (one object per line, NDJSON):
 * `{"time", "pool", "poolName", "type": "added"|"changed"|"removed", "key", "value",
 * "previous", "index", "parts"}` with `value` absent for `removed`, `previous` only for
 * `changed` and `removed`, and `parts` (N) only for a value reassembled from `key#1/N` …
 * `key#N/N`. `index` is the record's position in the pool (a reassembled value's first part).
 */
export type WatchEvent = PoolChange & { readonly time: string; readonly pool: number; readonly poolName: string };

/** Options of `kvp-pool watch`. */
export interface WatchCommandOptions extends CommonOptions {
  /** Pools to watch; default every pool that has a file (all but the synthesised pool 2). */
  readonly pools?: readonly PoolInfo[];
  /**
   * Report stored records as they are: each part `K#i/N` of a chunked value is a key of its
   * own. Default: logical keys, as `get` and `list` show them (see {@link watch}).
   */
  readonly raw?: boolean;
  /** Stops watching; the promise resolves then. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: WatchEvent) => void;
  /** Problems while watching (missing pool, lock held): reported, watching goes on. */
  readonly onProblem: (pool: PoolInfo, error: PoolFileError) => void;
  /**
   * Notes for people: parts of chunked values that cannot be reassembled, said once when
   * they appear (not without `raw`: then there is nothing to reassemble).
   */
  readonly onNote?: (message: string) => void;
  /** Called once every watched pool has been read for the first time. */
  readonly onReady?: () => void;
  /** Clock, injectable for tests. */
  readonly now?: () => Date;
  readonly debounceMs?: number;
}

/**
 * Watches pools and reports added, changed and removed keys until `signal` aborts. Values
 * stored as parts `K#1/N` … `K#N/N` are reported as the logical key `K` with `parts: N`, one
 * change per value, as `get`/`list` show them (unless `raw`). Parts that cannot be
 * reassembled (one missing, as while a writer adds them one at a time; two splits mixed) are
 * never reported as a value: `K` keeps the value last reported until its parts are whole
 * (then one `added`/`changed`) or all gone (then `removed`), and a note says so once.
 */
export function watch(options: WatchCommandOptions): Promise<void> {
  const pools = (options.pools ?? ALL_POOLS).filter((p) => p.number !== 2);
  const now = options.now ?? (() => new Date());
  // Ready once every pool has been read, or has failed to be, for the first time.
  const unsettled = new Set<number>(pools.map((p) => p.number));
  const settle = (pool: PoolInfo) => {
    if (unsettled.delete(pool.number) && unsettled.size === 0) options.onReady?.();
  };
  const watches = pools.map((pool) =>
    watchPool(poolTarget(pool, options.dir), {
      signal: options.signal,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
      reassemble: options.raw !== true,
      onChunkProblems: (problems) => {
        for (const note of watchChunkNotes(pool.number, problems)) options.onNote?.(note);
      },
      onReady: () => settle(pool),
      onError: (error) => {
        options.onProblem(pool, error);
        settle(pool);
      },
      onChange: (changes) => {
        const time = now().toISOString();
        for (const change of changes) options.onEvent({ time, pool: pool.number, poolName: pool.name, ...change });
      },
    }),
  );
  return new Promise((resolve) => {
    const stop = () => {
      for (const w of watches) w.close();
      resolve();
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener("abort", stop, { once: true });
  });
}

/** `kvp-pool watch`: until SIGINT/SIGTERM, then exit 0. */
export const watchCommand: CliCommand<PoolCli> = {
  name: "watch",
  define: (command, { run, ctx, globals }) =>
    command
      .description(
        "print changes (added, changed, removed keys) as they happen, until interrupted; chunked values as one key",
      )
      .option("--pool <pool>", `${POOL_HELP} (default: every pool with a file)`)
      .option("--raw", "report stored records as they are: each part KEY#i/N of a chunked value is a key of its own")
      .option("--json", "one JSON object per change and line (NDJSON), shape below")
      .addHelpText(
        "after",
        "\nA value stored as parts KEY#1/N … KEY#N/N is reported as KEY, one change per value, with parts: N.\n" +
          "Parts that cannot be reassembled (one missing, e.g. while a writer adds them one by one; two\n" +
          "splits mixed) are never reported as a value: KEY keeps its last reported value until its parts\n" +
          "are whole (then added/changed) or all gone (then removed), and a note on stderr says so once.\n" +
          "\nWith --json, one object per line:\n" +
          '  {"time":"2026-11-21T07:01:02.345Z","pool":1,"poolName":"guest","type":"changed","key":"report",\n' +
          '   "value":"…","previous":"…","index":4,"parts":3}\n' +
          "type is added, changed or removed; value is absent for removed, previous only for changed and\n" +
          "removed, parts only for a reassembled value; index is the record's position in the pool (a\n" +
          "reassembled value's first part). Notes and problems go to stderr, never into the stream.",
      )
      .action(async (opts) => {
        const pools = opts.pool !== undefined ? [parsePoolOption(opts.pool, "watch")] : undefined;
        await watch({
          ...globals(),
          ...(pools ? { pools } : {}),
          ...(opts.raw ? { raw: true } : {}),
          signal: run.signal,
          onEvent: (event) => ctx.stdout.write(opts.json ? `${JSON.stringify(event)}\n` : formatEvent(event)),
          onProblem: (_pool, error) => ctx.stderr.write(`${run.tool}: ${error.message}\n`),
          onNote: (note) => run.note(note),
          onReady: () => ctx.stderr.write(`${run.tool}: watching; Ctrl-C stops\n`),
        });
      }),
};
