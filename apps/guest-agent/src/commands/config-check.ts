import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { join } from "node:path";
import { type AgentConfig, fileModeWarning } from "../config.js";
import { DECODED_ENV_DIR, MAX_DECODED_ENV_KEY, decodedEnvFileName } from "../decoded-env.js";
import { decoderYieldsFields } from "../decoders.js";
import { type CommonOptions, loadFor } from "./common.js";

/** What `kvp-agent config check` found. */
export interface ConfigCheckResult {
  readonly path: string;
  /** False when the default file is absent (the defaults below apply). */
  readonly found: boolean;
  /** The effective settings, defaults filled in. */
  readonly config: AgentConfig;
  /** Where the decoded env files go: `STATE_DIR/decoded`, one `KEY.env` per decoded key. */
  readonly decodedEnvDir: string;
  /** Settings that are valid but will not do what they seem to (the config is still usable). */
  readonly warnings: string[];
}

/**
 * `kvp-agent config check`: validates the config and returns the effective settings, with
 * warnings for settings that are valid but cannot work as written.
 * @throws {AgentError} `config` naming the bad field.
 */
export function configCheck(options: CommonOptions): ConfigCheckResult {
  const loaded = loadFor(options);
  return {
    path: loaded.path,
    found: loaded.found,
    config: loaded.config,
    decodedEnvDir: join(loaded.config.stateDir, DECODED_ENV_DIR),
    warnings: configWarnings(loaded.config),
  };
}

/**
 * Valid settings that will not work as they read: a `pairs`/`cmdline`/`json` decoder for an exact key
 * that can have no decoded env file, and a decoded-env prefix that lets no upper-case field
 * through (such names are refused as the system's: see shellNameProblem).
 */
export function configWarnings(config: AgentConfig): string[] {
  const warnings: string[] = [];
  for (const { pattern, decoder } of config.decoders) {
    if (decoderYieldsFields(decoder) && !pattern.includes("*") && decodedEnvFileName(pattern) === undefined) {
      warnings.push(
        `decoders[${JSON.stringify(pattern)}]: the key is not a plain file name (letters, digits, '.', '_', '-', at most ${MAX_DECODED_ENV_KEY}): it is decoded into host-decoded.json but gets no ${DECODED_ENV_DIR}/KEY.env file`,
      );
    }
  }
  const mode = fileModeWarning(config.fileMode);
  if (mode !== undefined) warnings.push(mode);
  const prefix = config.decodedEnvPrefix;
  if (prefix !== "" && !/[a-z]/.test(prefix)) {
    warnings.push(
      `env.decodedPrefix ${JSON.stringify(prefix)} has no lower-case letter: fields whose names have none either (IP, DNS1) are left out of the decoded env files as names of the system; a prefix with a lower-case letter ("kvp_") lets them through`,
    );
  }
  return warnings;
}

/** `kvp-agent config check`: exit 2 for a bad config. */
export const configCommand: CliCommand<AgentCli> = {
  name: "config",
  define: (command, { run, ctx, common }) =>
    command
      .description("config file commands")
      .command("check")
      .description("validate the config file and print the effective settings")
      .option("--json", "print them as JSON")
      .action((opts) => {
        const result = configCheck(common());
        if (opts.json) run.json(result);
        else {
          ctx.stdout.write(
            `${result.found ? `${result.path}: ok` : `${result.path}: absent, defaults apply`}\n${JSON.stringify(result.config, null, 2)}\n`,
          );
          ctx.stdout.write(`decoded env files: ${result.decodedEnvDir}/KEY.env\n`);
        }
        for (const warning of result.warnings) run.warn(warning);
      }),
};
