import { type ConfigOverrides, type LoadedConfig, loadConfig } from "../config.js";
import type { AgentContext } from "../context.js";
import { type Logger, createLogger, underJournald } from "../logger.js";

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

/** Loads the config with the command line's overrides. @throws {AgentError} `config`. */
export function loadFor(options: CommonOptions): LoadedConfig {
  const overrides: ConfigOverrides = {
    ...(options.poolDir !== undefined ? { poolDir: options.poolDir } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  };
  return loadConfig(options.configPath, overrides);
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
