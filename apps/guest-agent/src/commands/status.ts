import { type CliCommand, printable } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { poolTarget } from "@hyperv-kvp/pool-file";
import type { AgentState } from "../agent.js";
import { AgentError } from "../agent-error.js";
import { readLogicalValues } from "../guest-pool.js";
import { isAgentKey } from "../reporter.js";
import { type CommonOptions, isRunning, loadFor, readAgentState } from "./common.js";

/** What `kvp-agent status` shows. */
export interface StatusResult {
  /** The agent's state file, or null when there is none (the agent never ran this boot). */
  readonly agent: AgentState | null;
  /** Whether the process that wrote the state file is alive (false for `once`, or after a crash). */
  readonly running: boolean;
  /** The agent's records in pool 1, as the host reads them; null when pool 1 is unreadable. */
  readonly reported: Record<string, string> | null;
  /** Why pool 1 could not be read. */
  readonly reportError?: string;
}

/**
 * `kvp-agent status`: the state file and the agent's pool-1 records.
 * @throws {AgentError} `config` for a bad config, `not-found` when neither exists.
 */
export async function status(options: CommonOptions): Promise<StatusResult> {
  const { config } = loadFor(options);
  const agent = readAgentState(config.stateDir);
  let reported: Record<string, string> | null = null;
  let reportError: string | undefined;
  try {
    reported = Object.fromEntries(
      await readLogicalValues(poolTarget(1, config.poolDir), isAgentKey, { timeoutMs: config.lockTimeoutMs }),
    );
  } catch (error) {
    reportError = (error as Error).message;
  }
  if (agent === null && (reported === null || Object.keys(reported).length === 0)) {
    throw new AgentError(
      "not-found",
      `no agent state in ${config.stateDir} and no kvp-agent records in pool 1${reportError ? ` (${reportError})` : ""}`,
    );
  }
  return { agent, running: isRunning(agent), reported, ...(reportError ? { reportError } : {}) };
}

/** `status` for people: one line per fact, every line escaped with `printable`. */
export function formatStatus(result: StatusResult): string {
  const lines: string[] = [];
  const a = result.agent;
  if (a) {
    lines.push(
      `status: ${a.status}${result.running ? ` (pid ${a.pid})` : a.status === "stopped" ? "" : " (process gone)"}`,
    );
    lines.push(`version: ${a.version}, boot ${a.bootId}, started ${a.startedAt}`);
    lines.push(`last harvest: ${a.harvestedAt ?? "never"}: ${a.items} item(s), ${a.facts} fact(s)`);
    for (const p of a.problems) lines.push(`problem: ${p}`);
    for (const [key, error] of Object.entries(a.decodeErrors)) lines.push(`decode error: ${key}: ${error}`);
    // A state file written by an earlier version has no chunks.
    for (const c of a.chunks ?? [])
      lines.push(`chunked value ${c.key}${c.pool === 3 ? " (pool 3)" : ""}: ${c.message}`);
    // A state file written by an earlier version has no cloudInit.
    if (a.cloudInit) lines.push(`cloud-init seed ${a.cloudInit.seedDir}: ${a.cloudInit.state}`);
    // A state file written by an earlier version has no hostFilesOff.
    if (a.hostFilesOff) lines.push(`host.json/host.env: ${a.hostFilesOff}`);
    if (a.envSkipped.length > 0) lines.push(`not in host.env (not variable names): ${a.envSkipped.join(", ")}`);
    // A state file written by an earlier version has no decodedEnv.
    for (const d of a.decodedEnv ?? []) {
      if (d.file === null) {
        lines.push(`decoded env: ${d.key}: no file (${d.reason})`);
        continue;
      }
      lines.push(
        `decoded env: ${d.file}: ${d.variables.length} variable(s)${d.variables.length > 0 ? ` (${d.variables.join(", ")})` : ""}`,
      );
      for (const s of d.skipped) lines.push(`  left out: ${JSON.stringify(s.field)}: ${s.reason}`);
    }
    for (const h of Object.values(a.hooks)) {
      const how = h.error
        ? `failed to start (${h.error})`
        : h.timedOut
          ? "timed out"
          : h.signal
            ? `killed by ${h.signal}`
            : `exit ${h.exitCode}`;
      // A state file of an earlier version has no `changes`.
      const more = (h.changes ?? 1) > 1 ? ` and ${h.changes - 1} more key(s)` : "";
      lines.push(`hook ${h.hook}: ${h.event} ${h.key}${more}: ${how} at ${h.startedAt} (${h.durationMs} ms)`);
    }
  } else {
    lines.push("status: no state file (the agent has not run this boot)");
  }
  if (result.reported) {
    lines.push("reported to the host (pool 1):");
    for (const [k, v] of Object.entries(result.reported))
      lines.push(`  ${k} = ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`);
  } else {
    lines.push(`pool 1 unreadable: ${result.reportError}`);
  }
  // Keys, values, decode errors and problems come from the host (or pool 1's other writers):
  // each line escaped, so none can add lines or send a terminal control sequences.
  return `${lines.map(printable).join("\n")}\n`;
}

/** `kvp-agent status`. */
export const statusCommand: CliCommand<AgentCli> = {
  name: "status",
  define: (command, { run, ctx, common }) =>
    command
      .description("show the agent's state file and what it reported to the host")
      .option("--json", "print it as JSON")
      .action(async (opts) => {
        const result = await status(common());
        if (opts.json) run.json(result);
        else ctx.stdout.write(formatStatus(result));
      }),
};
