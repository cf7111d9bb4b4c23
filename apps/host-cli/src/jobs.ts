/**
 * Waiting for Msvm_ConcreteJob to finish, with a deadline. KVP jobs usually finish within a
 * fraction of a second, and a job Get is cheap, so polling is steady at 50 ms for the first
 * two seconds (a doubling back-off from the start found a 250 ms job only at 350 ms, which
 * cost a 1,000-item set a quarter of its time); after that it backs off to one second.
 * Hyper-V removes finished jobs after about five minutes (docs/wmi-and-cim.md#jobs), well beyond any of this.
 * Clock and sleep are injectable so tests run without waiting.
 */
import { type WmiJob, isJobFinished } from "@hyperv-kvp/kvp-core/cim";
import type { HyperVWmi } from "./hyperv-wmi.js";

/** Default deadline for one job, milliseconds: 60 s. */
export const DEFAULT_JOB_TIMEOUT_MS = 60_000;
/** Pause between polls while the job is young, milliseconds. */
export const FIRST_POLL_INTERVAL_MS = 50;
/** How long polls stay at {@link FIRST_POLL_INTERVAL_MS} before backing off, milliseconds. */
export const STEADY_POLLING_MS = 2_000;
/** Longest pause between polls, milliseconds. */
export const MAX_POLL_INTERVAL_MS = 1_000;

/** Options of {@link waitForJob}. */
export interface JobWaitOptions {
  /** How long to wait for the job, milliseconds; default {@link DEFAULT_JOB_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Current time in milliseconds; default `Date.now`. */
  readonly now?: () => number;
  /** Pauses `ms` milliseconds; default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Whether a failure to read the job may pass (connection refused or reset, no answer): then
   * polling goes on until the deadline, so a host that restarts or a network that blips does
   * not abandon a job that may still finish. Default: no failure is retried.
   */
  readonly retryable?: (error: unknown) => boolean;
  /** Told of each failure that is retried. */
  readonly onRetry?: (error: unknown) => void;
  /**
   * Told how long the wait has lasted after each read of an unfinished job (`tick`), and once
   * when the wait ends however it ends (`end`): the CLI's progress line.
   */
  readonly progress?: { tick(elapsedMs: number): void; end(): void };
}

/** How a wait ended: the last state read, and whether the job had finished by then. */
export interface JobWaitResult {
  readonly job: WmiJob;
  readonly finished: boolean;
  /** Times the job was read. */
  readonly polls: number;
}

/** Sleeps with a timer. */
export function timerSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls the job until it finishes (Completed, Terminated, Killed, Exception, Completed with
 * Warnings) or the deadline passes; it is read at least once and once more at the deadline.
 * @throws whatever the transport throws that is not `retryable`, or the last retryable failure
 *   when the deadline passes without the job read again (a connection failure is not a job
 *   failure: the caller says what that means for the items).
 */
export async function waitForJob(wmi: HyperVWmi, jobId: string, options: JobWaitOptions = {}): Promise<JobWaitResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? timerSleep;
  const start = now();
  const deadline = start + (options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS);
  let interval = FIRST_POLL_INTERVAL_MS;
  // Failures back off on their own, so a blip does not slow the polling that follows it.
  let retryPause = FIRST_POLL_INTERVAL_MS;
  let polls = 0;
  try {
    return await poll();
  } finally {
    options.progress?.end();
  }

  async function poll(): Promise<JobWaitResult> {
    for (;;) {
      let job: WmiJob;
      try {
        job = await wmi.getJob(jobId);
      } catch (error) {
        if (!options.retryable?.(error) || deadline - now() <= 0) throw error;
        options.onRetry?.(error);
        await sleep(Math.min(retryPause, Math.max(deadline - now(), 0)));
        retryPause = Math.min(retryPause * 2, MAX_POLL_INTERVAL_MS);
        continue;
      }
      retryPause = FIRST_POLL_INTERVAL_MS;
      polls++;
      if (isJobFinished(job.jobState)) return { job, finished: true, polls };
      const left = deadline - now();
      if (left <= 0) return { job, finished: false, polls };
      options.progress?.tick(now() - start);
      await sleep(Math.min(interval, left));
      if (now() - start >= STEADY_POLLING_MS) interval = Math.min(interval * 2, MAX_POLL_INTERVAL_MS);
    }
  }
}
