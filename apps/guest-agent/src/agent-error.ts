/**
 * Exit codes of kvp-agent. One table, so every command agrees, and the systemd unit can
 * name the one that must not be restarted (a bad config: restarting cannot fix it).
 */
export const EXIT = {
  /** Done; also `run` stopped by SIGTERM/SIGINT. */
  ok: 0,
  /** `wait` timed out, `status` found no agent, or a report was refused. */
  notFound: 1,
  /** The command line or the config file is wrong. */
  usage: 2,
  /** Pools or state files could not be read or written (missing, locked, permissions). */
  io: 3,
} as const;

/** Exit code values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Failure kinds of kvp-agent:
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

/** The exit code for an {@link AgentError} code. */
export function exitCodeOf(code: AgentErrorCode): ExitCode {
  switch (code) {
    case "usage":
    case "config":
      return EXIT.usage;
    case "timeout":
    case "not-found":
      return EXIT.notFound;
    default:
      return EXIT.io;
  }
}
