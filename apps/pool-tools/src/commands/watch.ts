import type { PoolInfo } from "@hyperv-kvp/kvp-core";
import { type PoolChange, type PoolFileError, poolTarget, watchPool } from "@hyperv-kvp/pool-file";
import { ALL_POOLS, type CommonOptions } from "./pool-option.js";

/** One change seen by `kvp-pool watch`, as printed with `--json` (one object per line). */
export type WatchEvent = PoolChange & { readonly time: string; readonly pool: number; readonly poolName: string };

/** Options of `kvp-pool watch`. */
export interface WatchCommandOptions extends CommonOptions {
  /** Pools to watch; default every pool that has a file (all but the synthesised pool 2). */
  readonly pools?: readonly PoolInfo[];
  /** Stops watching; the promise resolves then. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: WatchEvent) => void;
  /** Problems while watching (missing pool, lock held): reported, watching goes on. */
  readonly onProblem: (pool: PoolInfo, error: PoolFileError) => void;
  /** Called once every watched pool has been read for the first time. */
  readonly onReady?: () => void;
  /** Clock, injectable for tests. */
  readonly now?: () => Date;
  readonly debounceMs?: number;
}

/**
 * Watches pools and reports added, changed and removed keys until `signal` aborts.
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
