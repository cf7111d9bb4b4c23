import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type CliIo, type CliRun, processIo } from "@hyperv-kvp/cli-kit";
import type { CommonOptions } from "./commands/common.js";

/** Starts a program without a shell: `spawn(file, args, options)` as in node:child_process. */
export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** What commands touch outside themselves, injectable so tests run them in process. */
export interface AgentContext extends CliIo {
  /** The wall clock (reports and state files carry its time). */
  readonly now: () => Date;
  /** Starts hooks. */
  readonly spawn: SpawnFn;
  /** This boot's id (stale pool-1 records are those of another boot). */
  readonly bootId: () => string;
  /** Process id written to the state file, so `status` can tell a live agent from a dead one. */
  readonly pid: number;
}

/** What each command module gets: the kit's run and the global options, read when it runs. */
export interface AgentCli {
  readonly run: CliRun;
  readonly ctx: AgentContext;
  readonly common: () => CommonOptions;
}

/** Where Linux keeps the boot id: a random UUID, new at each boot. */
export const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";

/** The real process's streams, environment, clock and boot id. */
export function processContext(): AgentContext {
  return {
    ...processIo(),
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
