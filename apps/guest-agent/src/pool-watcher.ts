import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { type PoolNumber, poolFileName } from "@hyperv-kvp/kvp-core";

/** Options of {@link watchPoolDir}. */
export interface PoolDirWatchOptions {
  readonly dir: string;
  readonly pools: readonly PoolNumber[];
  /** Quiet time after the last file event before `onChange`, in ms. */
  readonly debounceMs: number;
  /** Interval of a re-check without events, in ms (a safety net, not the mechanism). */
  readonly safetyNetMs: number;
  /** Called with the pools that may have changed (every pool on the safety net). */
  readonly onChange: (pools: ReadonlySet<PoolNumber>) => void;
}

/** A running watch. */
export interface PoolDirWatch {
  /** Drops the directory watch and sets it up again (after the directory was removed or re-created). */
  rearm(): void;
  close(): void;
}

/**
 * Watches the pool directory with inotify (fs.watch) and reports which pools changed. One
 * watch covers every pool: the daemon rewrites pools in place (or creates them late), and
 * the directory is the stable thing to watch. Without the directory (no Hyper-V, daemon
 * not installed yet) it watches the parent for the directory to appear, so recovery needs
 * no polling; the slow safety net covers filesystems that report nothing.
 */
export function watchPoolDir(options: PoolDirWatchOptions): PoolDirWatch {
  const names = new Map(options.pools.map((p) => [poolFileName(p), p] as const));
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let pending = new Set<PoolNumber>();
  let closed = false;

  const fire = () => {
    const pools = pending;
    pending = new Set();
    if (!closed && pools.size > 0) options.onChange(pools);
  };
  const schedule = (pools: Iterable<PoolNumber>) => {
    for (const p of pools) pending.add(p);
    clearTimeout(timer);
    timer = setTimeout(fire, options.debounceMs);
  };

  const arm = () => {
    if (closed) return;
    watcher?.close();
    watcher = undefined;
    try {
      watcher = watch(options.dir, { persistent: true }, (_event, name) => {
        const pool = name === null ? undefined : names.get(String(name));
        if (name === null) schedule(options.pools);
        else if (pool !== undefined) schedule([pool]);
      });
    } catch {
      // No pool directory: wait for it to be created in its parent, if that exists.
      try {
        const base = basename(options.dir);
        watcher = watch(dirname(options.dir), { persistent: true }, (_event, name) => {
          if (name === null || String(name) === base) {
            arm();
            schedule(options.pools);
          }
        });
      } catch {
        watcher = undefined;
      }
    }
    watcher?.on("error", () => {
      // The watched directory went away (inotify drops the watch): start over.
      setImmediate(arm);
      schedule(options.pools);
    });
  };

  const safetyNet = setInterval(() => {
    if (!watcher) arm();
    schedule(options.pools);
  }, options.safetyNetMs);

  arm();
  return {
    rearm: arm,
    close: () => {
      closed = true;
      clearTimeout(timer);
      clearInterval(safetyNet);
      watcher?.close();
    },
  };
}
