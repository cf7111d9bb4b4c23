import { readFileSync } from "node:fs";
import type { AgentState } from "../agent.js";
import { type ConfigOverrides, type LoadConfigOptions, type LoadedConfig, loadConfig } from "../config.js";
import type { AgentContext } from "../context.js";
import { type Logger, createLogger, underJournald } from "../logger.js";
import { statePath } from "../state-files.js";

/** Options every command takes: where the config, the pools and the state are. */
export interface CommonOptions {
  /** Config file; default /etc/kvp-agent/config.json (absent: defaults apply). */
  readonly configPath?: string;
  /** Pool directory (wins over the config and $KVP_POOL_DIR). */
  readonly poolDir?: string;
  /** State directory (wins over the config). */
  readonly stateDir?: string;
  readonly ctx: AgentContext;
}

/**
 * Loads the config with the command line's overrides; `configPath` replaces the command
 * line's `--config` (and `load.optional` lets it be absent). @throws {AgentError} `config`.
 */
export function loadFor(
  options: CommonOptions,
  configPath = options.configPath,
  load: LoadConfigOptions = {},
): LoadedConfig {
  const overrides: ConfigOverrides = {
    ...(options.poolDir !== undefined ? { poolDir: options.poolDir } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  };
  return loadConfig(configPath, overrides, load);
}

/** The agent's state file in `stateDir`, or null when it is missing or unreadable. */
export function readAgentState(stateDir: string): AgentState | null {
  try {
    return JSON.parse(readFileSync(statePath(stateDir, "status"), "utf8")) as AgentState;
  } catch {
    return null;
  }
}

/** True when process `pid` exists (also when it belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when `state` was written by an agent that still runs (not stopped, its process alive). */
export function isRunning(state: AgentState | null): boolean {
  return (
    state !== null && state.status !== "stopped" && Number.isInteger(state.pid) && state.pid > 0 && isAlive(state.pid)
  );
}

/** The log of a command, on the context's stderr. */
export function loggerFor(loaded: LoadedConfig, ctx: AgentContext): Logger {
  return createLogger({
    stream: ctx.stderr,
    level: loaded.config.logLevel,
    logValues: loaded.config.logValues,
    journald: underJournald(ctx.env),
  });
}
