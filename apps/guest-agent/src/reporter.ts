import { type PoolFileError, type PoolTarget, isPoolFileError } from "@hyperv-kvp/pool-file";
import { readLogicalValues, removeLogicalKeys, writeLogicalValues } from "./guest-pool.js";
import type { Logger } from "./logger.js";

/** Every pool-1 key the agent writes starts with this; it never touches other keys. */
export const REPORT_PREFIX = "kvp-agent/";

/** The agent's pool-1 keys (logical keys: long values are stored as `KEY#i/N` parts). */
export const REPORT_KEYS = {
  /** starting | ready | degraded | stopping | stopped. */
  status: "kvp-agent/status",
  /** Why the status is `degraded` (empty otherwise). */
  detail: "kvp-agent/detail",
  version: "kvp-agent/version",
  /** /proc/sys/kernel/random/boot_id of the boot that wrote these records. */
  bootId: "kvp-agent/boot-id",
  /** ISO time of the last harvest that changed the state files. */
  harvestedAt: "kvp-agent/harvested-at",
} as const;

/** Key of a hook's last result: `kvp-agent/hook/NAME`. */
export function hookReportKey(name: string): string {
  return `${REPORT_PREFIX}hook/${name}`;
}

/** Key of a `kvp-agent report KEY VALUE`: `kvp-agent/report/KEY`. */
export function userReportKey(key: string): string {
  return `${REPORT_PREFIX}report/${key}`;
}

/** The agent's lifecycle as the host sees it. */
export type AgentStatus = "starting" | "ready" | "degraded" | "stopping" | "stopped";

/** True for keys in the agent's namespace. */
export function isAgentKey(key: string): boolean {
  return key.startsWith(REPORT_PREFIX);
}

/** Options of {@link Reporter}. */
export interface ReporterOptions {
  readonly lockTimeoutMs: number;
  readonly log: Logger;
  /** Longest pause between retries of a failed write, in ms. */
  readonly maxRetryMs: number;
  /** Called when writing starts failing (with the error) and when it works again (undefined). */
  readonly onHealth?: (error: PoolFileError | undefined) => void;
}

/**
 * Keeps the agent's records in pool 1 as the agent wants them: `set` records the wish,
 * `flush` writes what differs under the pool's write lock, and a failed write (no daemon,
 * lock held, file missing) is retried with back-off, said once and not at every retry.
 */
export class Reporter {
  private readonly desired = new Map<string, string>();
  /** What pool 1 held for our keys at the last successful write or check. */
  private readonly stored = new Map<string, string>();
  private flushing: Promise<boolean> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 500;
  private failing: string | undefined;
  private closed = false;

  constructor(
    private readonly target: PoolTarget,
    private readonly options: ReporterOptions,
  ) {}

  /** Records values to write at the next flush. */
  set(values: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(values)) this.desired.set(key, value);
  }

  /** The value the agent wants for `key`. */
  get(key: string): string | undefined {
    return this.desired.get(key);
  }

  /**
   * Writes every wished value that pool 1 does not hold yet. Concurrent calls share one
   * write and then one more if needed.
   * @returns true when pool 1 now holds every wished value.
   */
  flush(): Promise<boolean> {
    if (this.flushing) {
      this.again = true;
      return this.flushing.then(() => this.flush());
    }
    this.flushing = this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /**
   * Re-reads our keys from pool 1 (someone may have truncated or rewritten it) and writes
   * again what is missing or different.
   */
  async verify(): Promise<void> {
    try {
      const now = await readLogicalValues(this.target, isAgentKey, { timeoutMs: this.options.lockTimeoutMs });
      this.stored.clear();
      for (const [k, v] of now) this.stored.set(k, v);
    } catch (error) {
      this.failed(error);
      return;
    }
    await this.flush();
  }

  /**
   * Removes the records of an agent of another boot (all our keys when `kvp-agent/boot-id`
   * differs from `bootId`); records of this boot (hook results, `report` values) stay.
   * @returns the number of stored records removed, or undefined when pool 1 could not be read.
   */
  async removeStale(bootId: string): Promise<number | undefined> {
    try {
      const current = await readLogicalValues(this.target, isAgentKey, { timeoutMs: this.options.lockTimeoutMs });
      if (current.size === 0 || current.get(REPORT_KEYS.bootId) === bootId) {
        for (const [k, v] of current) this.stored.set(k, v);
        return 0;
      }
      const removed = await removeLogicalKeys(this.target, isAgentKey, { timeoutMs: this.options.lockTimeoutMs });
      this.stored.clear();
      return removed;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  /** Stops retrying. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private async write(): Promise<boolean> {
    do {
      this.again = false;
      const pending = new Map([...this.desired].filter(([k, v]) => this.stored.get(k) !== v));
      if (pending.size === 0) break;
      try {
        await writeLogicalValues(this.target, pending, { timeoutMs: this.options.lockTimeoutMs });
        for (const [k, v] of pending) this.stored.set(k, v);
      } catch (error) {
        this.failed(error);
        return false;
      }
    } while (this.again);
    this.recovered();
    return true;
  }

  private failed(error: unknown): void {
    const code = isPoolFileError(error) ? error.code : "io";
    if (this.failing !== code) {
      this.options.log.warning(
        `cannot report to the host through pool 1: ${(error as Error).message}; retrying quietly`,
      );
      this.failing = code;
      this.options.onHealth?.(isPoolFileError(error) ? error : undefined);
    }
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.verify(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, this.options.maxRetryMs);
  }

  private recovered(): void {
    this.retryMs = 500;
    clearTimeout(this.retryTimer);
    if (this.failing !== undefined) {
      this.failing = undefined;
      this.options.log.info("reporting to the host through pool 1 again");
      this.options.onHealth?.(undefined);
    }
  }
}
