/**
 * Exit codes of kvp-pool, documented in the README. One table, so every command agrees.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The key is absent, or `check` found problems. */
  notFound: 1,
  /** The command line is wrong (unknown pool, missing value, unreadable input file). */
  usage: 2,
  /** A pool could not be read or written: missing, locked, permission, disk. */
  io: 3,
} as const;

/** Exit code values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * What a command reports when it stops short: `usage` (exit 2, with a hint to the help that
 * fixes it) or `not-found` / `problems` (exit 1, e.g. an absent key or a failed check).
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: "usage" | "not-found" | "problems",
    message: string,
    /** For usage errors: the help line to run, e.g. "kvp-pool set --help". */
    readonly hint?: string,
  ) {
    super(message);
  }
}
