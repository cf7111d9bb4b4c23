import type { PoolNumber } from "@hyperv-kvp/kvp-core";
import { isPoolFileError } from "@hyperv-kvp/pool-file";
import { watchPoolDir } from "./pool-watcher.js";

/** Options of {@link readUntil}. */
export interface ReadUntilOptions<T> {
  /** The pool directory and the pool to watch. */
  readonly dir: string;
  readonly pool: PoolNumber;
  /**
   * Reads the pool: a value ends the wait, undefined waits for the next change. A pool-file
   * error (no pools yet, a held lock) is what the wait is for: it waits too.
   */
  readonly read: () => Promise<T | undefined>;
  /** Longest wait, in ms: undefined waits for ever, 0 reads once. */
  readonly timeoutMs?: number;
  /** Re-read interval when nothing changes, in ms (a safety net: changes are watched). */
  readonly safetyNetMs: number;
  readonly signal?: AbortSignal;
}

/** How {@link readUntil} ended. */
export type ReadUntilOutcome<T> =
  | { readonly kind: "found"; readonly value: T }
  | { readonly kind: "timeout" }
  | { readonly kind: "aborted" };

/**
 * Reads a pool at once and again at every change of it (inotify on its directory, never a busy
 * poll), one read at a time (a change during a read is read once more after it), until `read`
 * finds what it waits for, the deadline passes or `signal` aborts. For `kvp-agent wait` and
 * the cloud-init boot step, which wait for the host at boot, when the daemon may not have
 * created the pools yet: a missing directory is watched for.
 */
export function readUntil<T>(options: ReadUntilOptions<T>): Promise<ReadUntilOutcome<T>> {
  return new Promise((resolve) => {
    let done = false;
    let checking = false;
    let again = false;
    const finish = (outcome: ReadUntilOutcome<T>) => {
      if (done) return;
      done = true;
      watch.close();
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const check = async () => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          try {
            const value = await options.read();
            if (value !== undefined) finish({ kind: "found", value });
          } catch (error) {
            if (isPoolFileError(error, "daemon-absent")) watch.rearm();
          }
        } while (again && !done);
      } finally {
        checking = false;
        if (options.timeoutMs === 0) finish({ kind: "timeout" });
      }
    };
    const watch = watchPoolDir({
      dir: options.dir,
      pools: [options.pool],
      debounceMs: 5,
      safetyNetMs: options.safetyNetMs,
      onChange: () => void check(),
    });
    const timer =
      options.timeoutMs === undefined || options.timeoutMs === 0
        ? undefined
        : setTimeout(() => finish({ kind: "timeout" }), options.timeoutMs);
    const onAbort = () => finish({ kind: "aborted" });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    void check();
  });
}
