import { Agent, type AgentState } from "../agent.js";
import { type CommonOptions, loadFor, loggerFor } from "./common.js";

/**
 * `kvp-agent once`: one harvest (state files, hooks run to completion), one report, then
 * status `stopped` (no agent keeps watching). For boot scripts and images without the service.
 * @returns the final state; its `problems` say what was missing.
 * @throws {AgentError} `config` for a bad config.
 */
export async function once(options: CommonOptions): Promise<AgentState> {
  const loaded = loadFor(options);
  const agent = new Agent({ config: loaded.config, ctx: options.ctx, log: loggerFor(loaded, options.ctx) });
  const harvested = await agent.harvest();
  await agent.idle();
  const final = await agent.stop();
  // The harvest's problems, not the (empty) ones after stopping, are what the caller needs.
  return { ...final, problems: harvested.problems };
}
