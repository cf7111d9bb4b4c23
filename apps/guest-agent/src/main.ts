import { Command, CommanderError } from "@commander-js/extra-typings";
import { isKvpError } from "@hyperv-kvp/kvp-core";
import { isPoolFileError } from "@hyperv-kvp/pool-file";
import type { AgentState } from "./agent.js";
import { AgentError, EXIT, exitCodeOf, isAgentError } from "./agent-error.js";
import type { CommonOptions } from "./commands/common.js";
import { configCheck } from "./commands/config-check.js";
import { forget, formatForget } from "./commands/forget.js";
import { once } from "./commands/once.js";
import { report } from "./commands/report.js";
import { run } from "./commands/run.js";
import { formatStatus, status } from "./commands/status.js";
import { wait } from "./commands/wait.js";
import { type AgentContext, processContext } from "./context.js";
import { VERSION } from "./version.js";

const TOOL = "kvp-agent";

const EXAMPLES = `
Examples:
  kvp-agent run                          the service (systemd runs this)
  kvp-agent once                         harvest and report once, for boot scripts
  kvp-agent wait cloudstack-vm-userdata --timeout 120
  kvp-agent report provisioning done     pool 1: kvp-agent/report/provisioning = done
  kvp-agent status --json
  kvp-agent config check
  kvp-agent forget                       remove the agent's kvp-agent/* records from pool 1

State files (in --state-dir, default /run/kvp-agent): host.json, host-decoded.json,
host-facts.json, host.env, agent-status.json, and decoded/KEY.env for each key decoded as
pairs or json: one NAME='value' line per field, for a shell's ". FILE" (hooks get its path
in KVP_DECODED_ENV). Config: /etc/kvp-agent/config.json.
Exit codes: 0 ok, 1 timed out / not found, 2 usage or bad config, 3 pools or files unusable.`;

/** How `run` learns it must stop; the CLI wires SIGTERM and SIGINT, tests an AbortController. */
export interface MainOptions {
  readonly ctx?: AgentContext;
  /** Aborting stops `run` (and `wait`). Default: SIGTERM/SIGINT of this process. */
  readonly signal?: AbortSignal;
}

/**
 * Runs kvp-agent with `argv` (as `process.argv`: node, script, args…) and returns the exit
 * code. The one place that turns errors into `kvp-agent: message` lines and exit codes.
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const ctx = options.ctx ?? processContext();
  let exitCode: number = EXIT.ok;
  const program = buildProgram(ctx, options.signal, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return reportError(error, ctx);
  }
}

function reportError(error: unknown, ctx: AgentContext): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    )
      return EXIT.ok;
    return EXIT.usage;
  }
  if (isAgentError(error)) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    if (error.hint) ctx.stderr.write(`(see: ${error.hint})\n`);
    return exitCodeOf(error.code);
  }
  if (isPoolFileError(error)) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    return error.code === "invalid" || error.code === "refused" ? EXIT.usage : EXIT.io;
  }
  if (isKvpError(error)) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    return EXIT.usage;
  }
  ctx.stderr.write(
    `${TOOL}: internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
  );
  return EXIT.io;
}

function parseSeconds(text: string): number {
  const s = Number(text);
  if (!Number.isFinite(s) || s < 0)
    throw new AgentError(
      "usage",
      `invalid --timeout ${JSON.stringify(text)}: seconds, a number ≥ 0`,
      `${TOOL} wait --help`,
    );
  return Math.round(s * 1000);
}

/** SIGTERM/SIGINT as an AbortSignal, for as long as `fn` runs. */
async function withStopSignal<T>(given: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (given) return fn(given);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    return await fn(controller.signal);
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
}

function buildProgram(ctx: AgentContext, signal: AbortSignal | undefined, setExit: (code: number) => void) {
  const program = new Command(TOOL)
    .description("Hyper-V KVP guest agent: materialises what the host sends, runs hooks, reports back through pool 1.")
    .version(VERSION, "-V, --version", "print the version")
    .option("--config <file>", "config file (default /etc/kvp-agent/config.json; absent: defaults)")
    .option("--dir <dir>", "pool directory (default: config, else $KVP_POOL_DIR, else /var/lib/hyperv)")
    .option("--state-dir <dir>", "state directory (default: config, else /run/kvp-agent)")
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .showHelpAfterError(`(run ${TOOL} --help for usage)`)
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(s.startsWith("error:") ? `${TOOL}: ${s.slice(7)}` : s),
    });

  const common = (): CommonOptions => {
    const o = program.opts();
    return {
      ctx,
      ...(o.config !== undefined ? { configPath: o.config } : {}),
      ...(o.dir !== undefined ? { poolDir: o.dir } : {}),
      ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
    };
  };
  const json = (data: unknown) => ctx.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  const summary = (state: AgentState) =>
    ctx.stdout.write(
      `${state.status}: ${state.items} item(s), ${state.facts} fact(s)${state.problems.length > 0 ? `; problems: ${state.problems.join("; ")}` : ""}\n`,
    );

  // The command table: one entry per command module.
  program
    .command("run")
    .description("run as a service in the foreground until SIGTERM (reports status stopping, then stopped; exit 0)")
    .action(async () => {
      await withStopSignal(signal, (s) => run({ ...common(), signal: s }));
    });

  program
    .command("once")
    .description("harvest, run hooks, report, exit (status 3 when a pool could not be read)")
    .option("--json", "print the final state as JSON")
    .action(async (opts) => {
      const state = await once(common());
      if (opts.json) json(state);
      else summary(state);
      if (state.problems.length > 0) setExit(EXIT.io);
    });

  program
    .command("status")
    .description("show the agent's state file and what it reported to the host")
    .option("--json", "print it as JSON")
    .action(async (opts) => {
      const result = await status(common());
      if (opts.json) json(result);
      else ctx.stdout.write(formatStatus(result));
    });

  program
    .command("report")
    .description("tell the host KEY=VALUE through pool 1, as kvp-agent/report/KEY (long values are chunked)")
    .argument("<key>", "the key, below kvp-agent/report/")
    .argument("[value]", "the value (omit with --remove)")
    .option("--remove", "remove the report instead")
    .option("--json", "print what was done as JSON")
    .action(async (key, value, opts) => {
      if (opts.remove && value !== undefined)
        throw new AgentError("usage", "give VALUE or --remove, not both", `${TOOL} report --help`);
      if (!opts.remove && value === undefined)
        throw new AgentError(
          "usage",
          `missing VALUE for ${JSON.stringify(key)} (use "" for empty)`,
          `${TOOL} report --help`,
        );
      const result = await report(key, opts.remove ? undefined : value, common());
      if (opts.json) json(result);
      if (result.action === "removed" && result.removed === 0) setExit(EXIT.notFound);
    });

  program
    .command("wait")
    .description("block until the host has sent KEY (pool 0), then print its value")
    .argument("<key>", "the key")
    .option("--timeout <seconds>", "give up after this many seconds (exit 1)")
    .option("--facts", "wait in pool 3 (host facts) instead")
    .option("--json", "print {key, value, pool, waitedMs}")
    .action(async (key, opts) => {
      const result = await withStopSignal(signal, (s) =>
        wait(key, {
          ...common(),
          signal: s,
          ...(opts.timeout !== undefined ? { timeoutMs: parseSeconds(opts.timeout) } : {}),
          ...(opts.facts ? { pool: 3 as const } : {}),
        }),
      );
      if (opts.json) json(result);
      else ctx.stdout.write(`${result.value}\n`);
    });

  const config = program.command("config").description("config file commands");
  config
    .command("check")
    .description("validate the config file and print the effective settings")
    .option("--json", "print them as JSON")
    .action((opts) => {
      const result = configCheck(common());
      if (opts.json) json(result);
      else {
        ctx.stdout.write(
          `${result.found ? `${result.path}: ok` : `${result.path}: absent, defaults apply`}\n${JSON.stringify(result.config, null, 2)}\n`,
        );
        ctx.stdout.write(`decoded env files: ${result.decodedEnvDir}/KEY.env\n`);
      }
      for (const warning of result.warnings) ctx.stderr.write(`${TOOL}: warning: ${warning}\n`);
    });

  program
    .command("forget")
    .summary("remove the agent's records from pool 1 (the .deb does on remove/purge)")
    .description(
      "remove every record the agent owns in pool 1 (kvp-agent/*, chunked parts too) under the daemon's lock, so the host stops seeing a stale status; other writers' records stay. No pool (no KVP daemon): a note, exit 0. The .deb runs it when the package is removed or purged",
    )
    .option(
      "--root <dir>",
      "act on the system installed under DIR (its config and pool directory), as the .deb's prerm does with $DPKG_ROOT",
    )
    .option("--json", "print what was removed as JSON")
    .action(async (opts) => {
      const result = await forget({ ...common(), ...(opts.root !== undefined ? { root: opts.root } : {}) });
      if (result.runningAgentPid !== undefined) {
        ctx.stderr.write(
          `${TOOL}: warning: the agent (pid ${result.runningAgentPid}) is running and writes its records again; stop it first (systemctl stop kvp-agent)\n`,
        );
      }
      if (result.note !== undefined) ctx.stderr.write(`${TOOL}: note: ${result.note}\n`);
      if (opts.json) json(result);
      else ctx.stdout.write(formatForget(result));
    });

  return program;
}
