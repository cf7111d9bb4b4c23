import type { AgentConfig } from "../config.js";
import { type CommonOptions, loadFor } from "./common.js";

/** What `kvp-agent config check` found. */
export interface ConfigCheckResult {
  readonly path: string;
  /** False when the default file is absent (the defaults below apply). */
  readonly found: boolean;
  /** The effective settings, defaults filled in. */
  readonly config: AgentConfig;
}

/**
 * `kvp-agent config check`: validates the config and returns the effective settings.
 * @throws {AgentError} `config` naming the bad field.
 */
export function configCheck(options: CommonOptions): ConfigCheckResult {
  const loaded = loadFor(options);
  return { path: loaded.path, found: loaded.found, config: loaded.config };
}
