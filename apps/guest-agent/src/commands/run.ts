import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { Agent, type AgentState } from "../agent.js";
import type { HookSpec } from "../config.js";
import type { HookEvent } from "../hooks.js";
import { systemdNotifier, withoutNotifySocket } from "../sd-notify.js";
import { type CommonOptions, loadFor, loggerFor } from "./common.js";

/** Options of {@link run}. */
export interface RunOptions extends CommonOptions {
  /** Stops the agent when aborted (SIGTERM/SIGINT in the CLI). */
  readonly signal: AbortSignal;
  /** Called once the first harvest is done and the watch runs. */
  readonly onReady?: (state: AgentState) => void;
  /** Called when a hook's process starts. */
  readonly onHookStart?: (hook: HookSpec, event: HookEvent) => void;
}

/**
 * `kvp-agent run`: the foreground service. Harvests, then re-harvests on every change of
 * the pools until `signal` aborts; then reports `stopping`/`stopped` and returns the final
 * state. Missing pools, held locks and garbage are waited out, never fatal. Under systemd
 * (`Type=notify`, $NOTIFY_SOCKET) it sends `READY=1` once the first harvest has written the
 * state files, and `STOPPING=1` at the stop; hooks do not inherit $NOTIFY_SOCKET.
 * @throws {AgentError} `config` for a bad config (before anything is touched).
 */
export async function run(options: RunOptions): Promise<AgentState> {
  const loaded = loadFor(options);
  const log = loggerFor(loaded, options.ctx);
  const systemd = systemdNotifier(options.ctx.env, log);
  const agent = new Agent({
    config: loaded.config,
    ctx: { ...options.ctx, env: withoutNotifySocket(options.ctx.env) },
    log,
    ...(options.onHookStart ? { onHookStart: options.onHookStart } : {}),
  });
  log.info(
    `starting: pools ${agent.poolDir}, state ${loaded.config.stateDir}, config ${loaded.found ? loaded.path : `${loaded.path} (absent: defaults)`}, ${nodeDescription()}`,
  );
  const stopped = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  agent.start();
  const state = await agent.harvest();
  systemd.notify({ READY: "1", STATUS: readyStatus(state) });
  options.onReady?.(state);
  await stopped;
  log.info("stopping");
  systemd.notify({ STOPPING: "1", STATUS: "stopping" });
  return agent.stop();
}

/** systemd's STATUS= after the first harvest: what `systemctl status` shows. */
function readyStatus(state: AgentState): string {
  const counts = `${state.items} host item${state.items === 1 ? "" : "s"}, ${state.facts} host fact${state.facts === 1 ? "" : "s"}`;
  if (state.problems.length === 0) return `${state.status}: ${counts}`;
  return `${state.status}: ${counts}; ${state.problems.length} problem${state.problems.length === 1 ? "" : "s"} (kvp-agent status)`;
}

/** `kvp-agent run`: the service, until SIGTERM/SIGINT (exit 0). */
export const runCommand: CliCommand<AgentCli> = {
  name: "run",
  define: (command, { run: cli, common }) =>
    command
      .description("run as a service in the foreground until SIGTERM (reports status stopping, then stopped; exit 0)")
      .action(async () => {
        await run({ ...common(), signal: cli.signal });
      }),
};

/** The node that runs the agent, with its options (the launcher's or a single executable's). */
function nodeDescription(): string {
  return ["node", process.version, ...process.execArgv].join(" ");
}
