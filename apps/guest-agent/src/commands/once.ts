import { type CliCommand, KIT_EXIT } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { Agent, type AgentState } from "../agent.js";
import { type CommonOptions, loadFor, loggerFor } from "./common.js";

/**
 * `kvp-agent once`: one harvest (state files, hooks run to completion), one report, then
 * status `stopped` (no agent keeps watching). For boot scripts and images without the service.
 * Pool 1 and agent-status.json get `ready` only when a hook runs (see AgentOptions.oneShot).
 * @returns the final state; its `problems` say what was missing.
 * @throws {AgentError} `config` for a bad config.
 */
export async function once(options: CommonOptions): Promise<AgentState> {
  const loaded = loadFor(options);
  const agent = new Agent({
    config: loaded.config,
    ctx: options.ctx,
    log: loggerFor(loaded, options.ctx),
    oneShot: true,
  });
  const harvested = await agent.harvest();
  await agent.idle();
  const final = await agent.stop();
  // The harvest's problems, not the (empty) ones after stopping, are what the caller needs.
  return { ...final, problems: harvested.problems };
}

/** `kvp-agent once`: exit 3 when a pool could not be read. */
export const onceCommand: CliCommand<AgentCli> = {
  name: "once",
  define: (command, { run, ctx, common }) =>
    command
      .description("harvest, run hooks, report, exit (status 3 when a pool could not be read)")
      .option("--json", "print the final state as JSON")
      .action(async (opts) => {
        const state = await once(common());
        if (opts.json) run.json(state);
        else
          ctx.stdout.write(
            `${state.status}: ${state.items} item(s), ${state.facts} fact(s)${state.problems.length > 0 ? `; problems: ${state.problems.join("; ")}` : ""}\n`,
          );
        if (state.problems.length > 0) run.setExitCode(KIT_EXIT.io);
      }),
};
