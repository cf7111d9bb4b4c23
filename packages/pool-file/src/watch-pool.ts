import { type FSWatcher, watch } from "node:fs";
import { type DecodedRecord, poolFileName } from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "./errors.js";
import { type PoolContent, readPool } from "./pool-store.js";
import type { PoolTarget } from "./pool-target.js";

/** One key's change between two reads of a pool. */
export type PoolChange =
  | { readonly type: "added"; readonly key: string; readonly value: string; readonly index: number }
  | { readonly type: "changed"; readonly key: string; readonly value: string; readonly previous: string; readonly index: number }
  | { readonly type: "removed"; readonly key: string; readonly previous: string; readonly index: number };

/** Options of {@link watchPool}. */
export interface WatchOptions {
  /** Called with the changes of one re-read, in pool order (removed keys last). */
  readonly onChange: (changes: PoolChange[], content: PoolContent) => void;
  /**
   * Called when a read fails (missing pool, held lock, IO). Watching goes on: the next
   * event or safety-net tick tries again. Default: ignore.
   */
  readonly onError?: (error: PoolFileError) => void;
  /** Called once with the first successful read (the baseline the changes are against). */
  readonly onReady?: (content: PoolContent) => void;
  /** Quiet time after the last file event before re-reading, in ms (default 50). */
  readonly debounceMs?: number;
  /**
   * Interval of the re-read that runs even without file events, in ms (default 30000):
   * a safety net for events the kernel coalesces or filesystems that do not report them.
   */
  readonly safetyNetMs?: number;
  /** Lock wait of each re-read, in ms (default 5000). */
  readonly timeoutMs?: number;
  /** Stops watching when aborted. */
  readonly signal?: AbortSignal;
}

/** A running watch; `close()` stops it and is idempotent. */
export interface PoolWatch {
  close(): void;
}

/**
 * Watches one pool and reports added, changed and removed keys. File events come from
 * `fs.watch` on the pool's directory (the daemon rewrites pools in place and may create
 * them late, so the directory is the stable thing to watch); they are debounced, then the
 * pool is re-read under the read lock and compared with the previous read by key (first
 * record of a key wins, as in lookups). A slow periodic re-read catches anything missed.
 * A missing directory is reported once through `onError` and retried on the safety net.
 */
export function watchPool(target: PoolTarget, options: WatchOptions): PoolWatch {
  const debounceMs = options.debounceMs ?? 50;
  const safetyNetMs = options.safetyNetMs ?? 30_000;
  const fileName = poolFileName(target.pool.number);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let previous: Map<string, DecodedRecord> | undefined;
  let reading = false;
  let again = false;
  let closed = false;
  let lastError: string | undefined;

  const report = (error: unknown) => {
    const wrapped =
      error instanceof PoolFileError ? error : new PoolFileError("io", `watching ${target.path}: ${String(error)}`);
    // Say a persisting problem once, not at every tick (until a read succeeds again).
    if (wrapped.code === lastError) return;
    lastError = wrapped.code;
    options.onError?.(wrapped);
  };

  const reread = async () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      const content = await readPool(target, { timeoutMs: options.timeoutMs ?? 5000 });
      lastError = undefined;
      const current = firstByKey(content.records);
      if (previous === undefined) {
        options.onReady?.(content);
      } else {
        const changes = diffPools(previous, current);
        if (changes.length > 0 && !closed) options.onChange(changes, content);
      }
      previous = current;
    } catch (error) {
      report(error);
    } finally {
      reading = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(reread, debounceMs);
  };

  const startWatcher = () => {
    if (watcher || closed) return;
    try {
      watcher = watch(target.dir, { persistent: true }, (_event, name) => {
        if (name === null || name === fileName) schedule();
      });
      watcher.on("error", (error) => {
        watcher?.close();
        watcher = undefined;
        report(error);
      });
    } catch (error) {
      report(
        new PoolFileError(
          "daemon-absent",
          `cannot watch ${target.dir}: hv_kvp_daemon seems absent; retrying every ${Math.round(safetyNetMs / 1000)} s`,
          { cause: error },
        ),
      );
    }
  };

  const safetyNet = setInterval(() => {
    startWatcher();
    void reread();
  }, safetyNetMs);

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    clearInterval(safetyNet);
    watcher?.close();
    options.signal?.removeEventListener("abort", close);
  };
  options.signal?.addEventListener("abort", close);

  startWatcher();
  void reread();
  return { close };
}

function firstByKey(records: readonly DecodedRecord[]): Map<string, DecodedRecord> {
  const map = new Map<string, DecodedRecord>();
  for (const record of records) if (!map.has(record.key)) map.set(record.key, record);
  return map;
}

/**
 * Changes from one read to the next, by key: added and changed in the new pool's order,
 * then removed in the old pool's order.
 */
export function diffPools(
  before: ReadonlyMap<string, DecodedRecord>,
  after: ReadonlyMap<string, DecodedRecord>,
): PoolChange[] {
  const changes: PoolChange[] = [];
  for (const [key, record] of after) {
    const old = before.get(key);
    if (old === undefined) changes.push({ type: "added", key, value: record.value, index: record.index });
    else if (old.value !== record.value)
      changes.push({ type: "changed", key, value: record.value, previous: old.value, index: record.index });
  }
  for (const [key, record] of before) {
    if (!after.has(key)) changes.push({ type: "removed", key, previous: record.value, index: record.index });
  }
  return changes;
}
