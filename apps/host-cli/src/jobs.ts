/**
 * Waiting for Msvm_ConcreteJob to finish, with a deadline. Hyper-V removes finished jobs
 * after about five minutes (spec §6), so polling starts promptly (50 ms) and backs off to
 * one second. Clock and sleep are injectable so tests run without waiting.
 */
import { type WmiJob, isJobFinished } from "@hyperv-kvp/kvp-core";
import type { HyperVTransport } from "./transport.js";

/** Default deadline for one job, milliseconds: 60 s. */
export const DEFAULT_JOB_TIMEOUT_MS = 60_000;
/** First pause between polls, milliseconds. */
export const FIRST_POLL_INTERVAL_MS = 50;
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
 * @throws whatever the transport throws (a connection failure is not a job failure).
 */
export async function waitForJob(transport: HyperVTransport, jobId: string, options: JobWaitOptions = {}): Promise<JobWaitResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? timerSleep;
  const deadline = now() + (options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS);
  let interval = FIRST_POLL_INTERVAL_MS;
  let polls = 0;
  for (;;) {
    const job = await transport.getJob(jobId);
    polls++;
    if (isJobFinished(job.jobState)) return { job, finished: true, polls };
    const left = deadline - now();
    if (left <= 0) return { job, finished: false, polls };
    await sleep(Math.min(interval, left));
    interval = Math.min(interval * 2, MAX_POLL_INTERVAL_MS);
  }
}
