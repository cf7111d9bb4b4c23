import { monotonicMs } from "./clock.js";

/** Options of {@link CoalescingWriter}. */
export interface CoalescingWriterOptions {
  /** Writes the current content (it reads the latest state itself); its errors are its own. */
  readonly write: () => void;
  /** Least time between two writes, in ms. */
  readonly intervalMs: number;
  /** Clock in ms (default monotonicMs). */
  readonly now?: () => number;
  /** Timer (default `setTimeout`, unref'd: a pending write never keeps the process alive). */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

/**
 * Coalesces the writes of a state file that many events change (`agent-status.json` after
 * every hook result): `request()` writes at once when the last write is at least
 * `intervalMs` old, else once when the interval ends, with the state of then. However fast
 * requests come, that is at most one write per interval, and the file is never more than an
 * interval behind. `flush()` writes a pending write now (before reading the file, before
 * exit); `close()` flushes and ignores later requests.
 */
export class CoalescingWriter {
  private last = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private due = false;
  private closed = false;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: CoalescingWriterOptions) {
    this.now = options.now ?? (() => monotonicMs());
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const handle = setTimeout(fn, ms);
        handle.unref();
        return handle;
      });
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  /** Asks for a write of the current state: now, or at the end of the current interval. */
  request(): void {
    if (this.closed) return;
    this.due = true;
    if (this.timer !== undefined) return;
    const wait = this.last + this.options.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
  }

  /** Writes now if a write was asked for and has not happened yet. */
  flush(): void {
    if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    if (!this.due) return;
    this.due = false;
    this.last = this.now();
    this.options.write();
  }

  /** Flushes, then ignores requests. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
