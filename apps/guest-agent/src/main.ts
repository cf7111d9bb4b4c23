import { type ErrorRule, errorsByCode, runCli } from "@hyperv-kvp/cli-kit";
import { isKvpError } from "@hyperv-kvp/kvp-core";
import { isPoolFileError } from "@hyperv-kvp/pool-file";
import { type AgentErrorCode, isAgentError } from "./agent-error.js";
import type { CommonOptions } from "./commands/common.js";
import { cloudInitSeedCommand } from "./commands/cloud-init-seed.js";
import { configCommand } from "./commands/config-check.js";
import { forgetCommand } from "./commands/forget.js";
import { onceCommand } from "./commands/once.js";
import { reportCommand } from "./commands/report.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";
import { waitCommand } from "./commands/wait.js";
import { type AgentContext, processContext } from "./context.js";
import { VERSION } from "./version.js";

const TOOL = "kvp-agent";

const EXAMPLES = `
Examples:
  kvp-agent run                          the service (systemd runs this)
  kvp-agent once                         harvest and report once, for boot scripts
  kvp-agent wait cloudstack-vm-userdata --timeout 2m
  kvp-agent report provisioning done     pool 1: kvp-agent/report/provisioning = done
  kvp-agent status --json
  kvp-agent config check
  kvp-agent cloud-init-seed              write the NoCloud seed from the host's cloud-init/* items (boot step)
  kvp-agent forget                       remove the agent's kvp-agent/* records from pool 1

State files (in --state-dir, default /run/kvp-agent): host.json, host-decoded.json,
host-facts.json, host.env, agent-status.json, and decoded/KEY.env for each key decoded as
pairs, cmdline or json: one NAME='value' line per field, for a shell's ". FILE" (hooks get its path
in KVP_DECODED_ENV). Config: /etc/kvp-agent/config.json.
Durations (wait --timeout): 500ms, 30s, 2m; a bare number is seconds (deprecated).
With --json, a failure also prints {"error":{"code","message","exitCode"}} on stdout.
Exit codes: 0 ok, 1 timed out / not found, 2 usage or bad config, 3 pools or files unusable.`;

/**
 * kvp-agent's error table, documented in its README (the systemd unit names exit 2, a bad
 * config, as the one not to restart): pool-file's `not-found` is 1, as in kvp-pool; a refused
 * or invalid write is 2; other pool failures are 3.
 */
export const AGENT_ERRORS: readonly ErrorRule[] = [
  errorsByCode(
    isAgentError,
    { usage: 2, config: 2, timeout: 1, "not-found": 1, io: 3 } satisfies Record<AgentErrorCode, number>,
    3,
  ),
  errorsByCode(isPoolFileError, { "not-found": 1, invalid: 2, refused: 2 }, 3),
  errorsByCode(isKvpError, {}, 2),
];

/** What {@link main} runs against; tests pass their own. */
export interface MainOptions {
  readonly ctx?: AgentContext;
  /** Aborting stops `run` (and `wait`). Default: SIGTERM/SIGINT of this process. */
  readonly signal?: AbortSignal;
}

/**
 * Runs kvp-agent with `argv` (as `process.argv`: node, script, args…) and returns the exit
 * code; the kit's run loop reports every failure.
 */
export function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const ctx = options.ctx ?? processContext();
  return runCli(
    {
      tool: TOOL,
      version: VERSION,
      description:
        "Hyper-V KVP guest agent: materialises what the host sends, runs hooks, reports back through pool 1.",
      configure: (program) =>
        program
          .option("--config <file>", "config file (default /etc/kvp-agent/config.json; absent: defaults)")
          .option("--dir <dir>", "pool directory (default: config, else $KVP_POOL_DIR, else /var/lib/hyperv)")
          .option("--state-dir <dir>", "state directory (default: config, else /run/kvp-agent)")
          .addHelpText("after", EXAMPLES),
      context: (run, program) => ({
        run,
        ctx,
        common: (): CommonOptions => {
          const o = program.opts() as { config?: string; dir?: string; stateDir?: string };
          return {
            ctx,
            ...(o.config !== undefined ? { configPath: o.config } : {}),
            ...(o.dir !== undefined ? { poolDir: o.dir } : {}),
            ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
          };
        },
      }),
      commands: [
        runCommand,
        onceCommand,
        statusCommand,
        reportCommand,
        waitCommand,
        configCommand,
        forgetCommand,
        cloudInitSeedCommand,
      ],
      errors: AGENT_ERRORS,
    },
    argv,
    options.signal ? { ...ctx, signal: options.signal } : ctx,
  );
}
