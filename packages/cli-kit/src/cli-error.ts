/**
 * What the kit's own {@link CliError} means: `usage` (the command line is wrong, exit 2),
 * `not-found` (what was asked for is absent, exit 1) or `problems` (a check found some, exit 1).
 */
export type CliErrorCode = "usage" | "not-found" | "problems";

/** Exit codes the kit itself uses; each CLI documents its own table around them. */
export const KIT_EXIT = {
  ok: 0,
  /** A {@link CliError} `not-found` or `problems`. */
  notFound: 1,
  /** A wrong command line: commander's argument errors and {@link CliError} `usage`. */
  usage: 2,
  /** The world outside failed: files, locks, a host that cannot be reached. */
  io: 3,
  /** An error no table knows: a bug, reported as `tool: internal error: …`. */
  internal: 3,
} as const;

/** A command stopping short for a reason its user can act on; the kit maps it to an exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** For usage errors: the help line to run, e.g. "kvp-pool set --help". */
    readonly hint?: string,
    /** Structured detail added to the `--json` error object. */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** True when `error` is a {@link CliError}, optionally of the given code. */
export function isCliError(error: unknown, code?: CliErrorCode): error is CliError {
  return error instanceof CliError && (code === undefined || error.code === code);
}
