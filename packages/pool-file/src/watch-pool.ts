import { type FSWatcher, watch } from "node:fs";
import {
  type ChunkProblem,
  type DecodedRecord,
  parseChunkKey,
  poolFileName,
  reassembleRecords,
} from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "./errors.js";
import { type PoolContent, readPool } from "./pool-store.js";
import type { PoolTarget } from "./pool-target.js";

/**
 * One key's change between two reads of a pool. `index` is the record's position in the pool
 * (for a reassembled value, that of its first stored part; for `removed`, where it was).
 * `parts` is present when `value` was reassembled from parts `key#1/N` … `key#N/N`: N.
 */
export type PoolChange =
  | {
      readonly type: "added";
      readonly key: string;
      readonly value: string;
      readonly index: number;
      readonly parts?: number;
    }
  | {
      readonly type: "changed";
      readonly key: string;
      readonly value: string;
      readonly previous: string;
      readonly index: number;
      readonly parts?: number;
    }
  | { readonly type: "removed"; readonly key: string; readonly previous: string; readonly index: number };

/** What a watch compares between reads for one key: the value a reader sees, and where. */
export interface SnapshotEntry {
  readonly value: string;
  /** Position of the record (of a reassembled value's first stored part) in the pool. */
  readonly index: number;
  /** For a value reassembled from parts `key#1/N` … `key#N/N`: N. */
  readonly parts?: number;
}

/** A pool as a watch compares it, made by {@link snapshotPool}. */
export interface PoolSnapshot {
  /** The value of each key, in pool order; the first record of a key wins, as in lookups. */
  readonly entries: Map<string, SnapshotEntry>;
  /**
   * Logical keys whose parts are stored but cannot be reassembled (a part missing, two
   * splits mixed, a part not valid UTF-8) and that have no plain record: they have no value
   * in this read, and a watch keeps reporting them as they were last reported until their
   * parts are whole again or gone. Empty unless reassembling.
   */
  readonly held: Set<string>;
  /** Why parts were left as stored (kvp-core's `reassembleRecords`). Empty unless reassembling. */
  readonly problems: ChunkProblem<DecodedRecord>[];
}

/**
 * A pool's records as a watch compares them. Raw: every key as stored, the first record of a
 * key wins. With `reassemble`, as a reader of kvp-core's chunking convention sees them (like
 * `kvp-pool get`/`list`): a complete group of parts `K#1/N` … `K#N/N` is the one key `K`
 * with the parts' values joined; parts left as stored (incomplete, mixed, duplicated, beside
 * a plain `K`) are no value at all, and a `K` they leave without a value is `held`.
 */
export function snapshotPool(
  records: readonly DecodedRecord[],
  options: { readonly reassemble?: boolean } = {},
): PoolSnapshot {
  const entries = new Map<string, SnapshotEntry>();
  if (!options.reassemble) {
    for (const r of records) if (!entries.has(r.key)) entries.set(r.key, { value: r.value, index: r.index });
    return { entries, held: new Set(), problems: [] };
  }
  const { records: logical, problems } = reassembleRecords(records);
  const strayBases = new Set<string>();
  for (const r of logical) {
    if (r.record) {
      // reassembleRecords leaves a part as stored only when its group has a problem: it is
      // then a fragment of a value, never a value of its own (keys that are not valid UTF-8
      // are never parts: their text is a guess).
      const part = r.record.keyValidUtf8 ? parseChunkKey(r.key) : undefined;
      if (part) {
        strayBases.add(part.base);
        continue;
      }
      if (!entries.has(r.key)) entries.set(r.key, { value: r.value, index: r.record.index });
    } else if (!entries.has(r.key)) {
      entries.set(r.key, { value: r.value, index: Math.min(...r.parts.map((p) => p.index)), parts: r.parts.length });
    }
  }
  // A stray duplicate part or parts beside a plain K leave K with a value: nothing to hold.
  const held = new Set([...strayBases].filter((base) => !entries.has(base)));
  return { entries, held, problems };
}

/** Options of {@link watchPool}. */
export interface WatchOptions {
  /**
   * Called with the changes of one re-read, in pool order (removed keys last). Each change is
   * delivered once: when this throws, the watch has already moved on to the new state, the
   * error goes to `onError` (code `callback`) and watching goes on.
   */
  readonly onChange: (changes: PoolChange[], content: PoolContent) => void;
  /**
   * Called when a read fails (missing pool, held lock, IO; a persisting problem once, until a
   * read succeeds) and when `onChange`, `onReady` or `onChunkProblems` throws (code
   * `callback`, the thrown value as `cause`; every time). Watching goes on: the next event or
   * safety-net tick reads again. Default: read failures are ignored, and what a callback
   * threw is thrown again outside the watch (an uncaught exception, as from an
   * EventEmitter without an `error` listener) so a bug is never silent. What `onError`
   * itself throws is thrown the same way.
   */
  readonly onError?: (error: PoolFileError) => void;
  /** Called once with the first successful read (the baseline the changes are against). */
  readonly onReady?: (content: PoolContent) => void;
  /**
   * Compare logical keys: values stored as parts `K#1/N` … `K#N/N` (kvp-core's chunking
   * convention) are reported as the one key `K` with `parts: N`, never part by part. A `K`
   * whose parts cannot be reassembled (one missing, e.g. half-written by a writer that adds
   * them one at a time; two splits mixed; a part not valid UTF-8) is reported as it was
   * last reported until its parts are whole again (then `added`/`changed`) or all gone (then
   * `removed`). Default false: every stored record is a key of its own.
   */
  readonly reassemble?: boolean;
  /**
   * With `reassemble`: called with the parts that cannot be reassembled, and why, when the
   * problem first appears (the baseline's included); a problem that lasts is not repeated
   * until it has gone away. Called before `onReady`/`onChange` of the same read.
   */
  readonly onChunkProblems?: (problems: ChunkProblem<DecodedRecord>[], content: PoolContent) => void;
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
 * pool is re-read under the read lock and compared with what was last reported, by key
 * (first record of a key wins, as in lookups; logical keys with `reassemble`). A slow
 * periodic re-read catches anything missed. A missing directory is reported once through
 * `onError` and retried on the safety net. Callbacks that throw never stop the watch nor
 * make it report a change twice (see {@link WatchOptions.onError}).
 */
export function watchPool(target: PoolTarget, options: WatchOptions): PoolWatch {
  const debounceMs = options.debounceMs ?? 50;
  const safetyNetMs = options.safetyNetMs ?? 30_000;
  const reassemble = options.reassemble === true;
  const fileName = poolFileName(target.pool.number);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** What was last reported per key; undefined until the first successful read. */
  let reported: Map<string, SnapshotEntry> | undefined;
  /** Chunk problems of the last read, as `reason\0key`, so a lasting one is said once. */
  let shownProblems = new Set<string>();
  let reading = false;
  let again = false;
  let closed = false;
  let lastError: string | undefined;

  const tell = (error: PoolFileError, original: unknown) => {
    if (!options.onError) {
      throwOutside(original);
      return;
    }
    try {
      options.onError(error);
    } catch (thrown) {
      throwOutside(thrown);
    }
  };

  const report = (error: unknown) => {
    const wrapped =
      error instanceof PoolFileError ? error : new PoolFileError("io", `watching ${target.path}: ${String(error)}`);
    // Say a persisting problem once, not at every tick (until a read succeeds again).
    if (wrapped.code === lastError) return;
    lastError = wrapped.code;
    if (options.onError) tell(wrapped, error);
  };

  /** Runs a caller's callback; what it throws is reported, never lets the watch stall. */
  const deliver = (name: string, callback: () => void) => {
    if (closed) return;
    try {
      callback();
    } catch (thrown) {
      const reason = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
      tell(
        new PoolFileError("callback", `watching ${target.path}: ${name} threw ${reason}`, { cause: thrown }),
        thrown,
      );
    }
  };

  const reread = async () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      let content: PoolContent;
      try {
        content = await readPool(target, { timeoutMs: options.timeoutMs ?? 5000 });
      } catch (error) {
        report(error);
        return;
      }
      lastError = undefined;
      if (closed) return;
      const snapshot = snapshotPool(content.records, { reassemble });
      const before = reported;
      const next = new Map(snapshot.entries);
      // A held key keeps its last reported value: a half-written group is not a change.
      for (const key of snapshot.held) {
        const last = before?.get(key);
        if (last !== undefined) next.set(key, last);
      }
      // The new state is taken before any callback runs: whatever they do (throw, close the
      // watch), this read's changes are never delivered again.
      reported = next;
      const problemIds = new Set(snapshot.problems.map(problemId));
      const fresh = snapshot.problems.filter((p) => !shownProblems.has(problemId(p)));
      shownProblems = problemIds;
      if (fresh.length > 0 && options.onChunkProblems) {
        const onChunkProblems = options.onChunkProblems;
        deliver("onChunkProblems", () => onChunkProblems(fresh, content));
      }
      if (before === undefined) {
        const onReady = options.onReady;
        if (onReady) deliver("onReady", () => onReady(content));
      } else {
        const changes = diffPools(before, next);
        if (changes.length > 0) deliver("onChange", () => options.onChange(changes, content));
      }
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

function problemId(problem: ChunkProblem): string {
  return `${problem.reason}\u0000${problem.key}`;
}

/**
 * Throws `error` outside the watch's own call stack, as an uncaught exception: for errors
 * nobody asked to be told about, which must not vanish.
 */
function throwOutside(error: unknown): void {
  setImmediate(() => {
    throw error;
  });
}

/**
 * Changes from one read to the next, by key: added and changed in the new pool's order,
 * then removed in the old pool's order. A change of `parts` alone (the same value split
 * differently) or of position is not a change.
 */
export function diffPools(
  before: ReadonlyMap<string, SnapshotEntry>,
  after: ReadonlyMap<string, SnapshotEntry>,
): PoolChange[] {
  const changes: PoolChange[] = [];
  for (const [key, entry] of after) {
    const old = before.get(key);
    const parts = entry.parts === undefined ? {} : { parts: entry.parts };
    if (old === undefined) changes.push({ type: "added", key, value: entry.value, index: entry.index, ...parts });
    else if (old.value !== entry.value)
      changes.push({ type: "changed", key, value: entry.value, previous: old.value, index: entry.index, ...parts });
  }
  for (const [key, entry] of before) {
    if (!after.has(key)) changes.push({ type: "removed", key, previous: entry.value, index: entry.index });
  }
  return changes;
}
