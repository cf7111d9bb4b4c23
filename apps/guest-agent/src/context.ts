import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** Starts a program without a shell: `spawn(file, args, options)` as in node:child_process. */
export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** What commands touch outside themselves, injectable so tests run them in process. */
export interface AgentContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Record<string, string | undefined>;
  /** The wall clock (reports and state files carry its time). */
  readonly now: () => Date;
  /** Starts hooks. */
  readonly spawn: SpawnFn;
  /** This boot's id (stale pool-1 records are those of another boot). */
  readonly bootId: () => string;
  /** Process id written to the state file, so `status` can tell a live agent from a dead one. */
  readonly pid: number;
}

/** Where Linux keeps the boot id: a random UUID, new at each boot. */
export const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";

/** The real process's streams, environment, clock and boot id. */
export function processContext(): AgentContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => new Date(),
    spawn: (file, args, options) => spawn(file, [...args], options),
    bootId: () => {
      try {
        return readFileSync(BOOT_ID_PATH, "utf8").trim();
      } catch {
        // Not Linux, or /proc hidden: still one id per process start is better than none.
        return "unknown";
      }
    },
    pid: process.pid,
  };
}
