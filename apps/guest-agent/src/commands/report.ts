import { type CliCommand, KIT_EXIT } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { poolTarget } from "@hyperv-kvp/pool-file";
import { AgentError } from "../agent-error.js";
import { removeLogicalKeys, writeLogicalValues } from "../guest-pool.js";
import { userReportKey } from "../reporter.js";
import { type CommonOptions, loadFor } from "./common.js";

/** What `kvp-agent report` did. */
export interface ReportResult {
  /** The pool-1 logical key written or removed: `kvp-agent/report/KEY`. */
  readonly key: string;
  readonly action: "set" | "removed";
  /** Stored records removed (for `--remove`). */
  readonly removed?: number;
}

/**
 * `kvp-agent report KEY VALUE`: tells the host something through pool 1, as
 * `kvp-agent/report/KEY` (chunked when longer than the host takes whole). `value`
 * undefined removes it. Works whether or not the agent runs; the agent keeps reports of the
 * same boot and clears those of earlier boots.
 * @throws {AgentError} `usage` for an empty key; {@link PoolFileError} from the write.
 */
export async function report(key: string, value: string | undefined, options: CommonOptions): Promise<ReportResult> {
  if (key === "") throw new AgentError("usage", "empty KEY", "kvp-agent report --help");
  const { config } = loadFor(options);
  const target = poolTarget(1, config.poolDir);
  const logical = userReportKey(key);
  if (value === undefined) {
    const removed = await removeLogicalKeys(target, (k) => k === logical, { timeoutMs: config.lockTimeoutMs });
    return { key: logical, action: "removed", removed };
  }
  await writeLogicalValues(target, new Map([[logical, value]]), { timeoutMs: config.lockTimeoutMs });
  return { key: logical, action: "set" };
}

/** `kvp-agent report`: exit 1 when `--remove` found nothing. */
export const reportCommand: CliCommand<AgentCli> = {
  name: "report",
  define: (command, { run, common }) =>
    command
      .description("tell the host KEY=VALUE through pool 1, as kvp-agent/report/KEY (long values are chunked)")
      .argument("<key>", "the key, below kvp-agent/report/")
      .argument("[value]", "the value (omit with --remove)")
      .option("--remove", "remove the report instead")
      .option("--json", "print what was done as JSON")
      .action(async (key, value, opts) => {
        const hint = `${run.tool} report --help`;
        if (opts.remove && value !== undefined) throw new AgentError("usage", "give VALUE or --remove, not both", hint);
        if (!opts.remove && value === undefined)
          throw new AgentError("usage", `missing VALUE for ${JSON.stringify(key)} (use "" for empty)`, hint);
        const result = await report(key, opts.remove ? undefined : value, common());
        if (opts.json) run.json(result);
        if (result.action === "removed" && result.removed === 0) run.setExitCode(KIT_EXIT.notFound);
      }),
};
