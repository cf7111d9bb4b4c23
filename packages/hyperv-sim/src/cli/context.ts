import { type CliIo, type CliRun, processIo } from "@hyperv-kvp/cli-kit";

/** What the command touches outside itself. */
export interface SimContext extends CliIo {
  /** Where `migrate` lines come from (with --cluster, when it is not a terminal). */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
}

/** What each command module gets. */
export interface SimCli {
  readonly run: CliRun;
  readonly ctx: SimContext;
}

/** The real process. */
export function processContext(): SimContext {
  return { ...processIo(), stdin: process.stdin };
}
