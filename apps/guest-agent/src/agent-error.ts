/**
 * Failure kinds of kvp-agent (main.ts's error table maps them to exit codes):
 * - `usage`: the command line is wrong;
 * - `config`: the config file is unreadable or invalid (the message names the field);
 * - `timeout`: `wait` gave up;
 * - `not-found`: something asked for is absent (no agent state, no such key);
 * - `io`: a file of ours could not be written or read.
 */
export type AgentErrorCode = "usage" | "config" | "timeout" | "not-found" | "io";

/** The one error class of kvp-agent. */
export class AgentError extends Error {
  override readonly name = "AgentError";
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    /** For usage errors: the help line that fixes it, e.g. "kvp-agent wait --help". */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is an {@link AgentError}, optionally of the given code. */
export function isAgentError(error: unknown, code?: AgentErrorCode): error is AgentError {
  return error instanceof AgentError && (code === undefined || error.code === code);
}
