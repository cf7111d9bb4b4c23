/**
 * Why a command stopped short (main.ts's error table maps each code to an exit code):
 * - `usage`: the command line is wrong (exit 2), with a hint to the help that fixes it;
 * - `ambiguous`: a VM name matches several VMs (exit 2); the message lists them;
 * - `not-found`: no such VM or key (exit 1);
 * - `refused`: the host answered a method with an error code, or `add` found a key present (exit 4);
 * - `job-failed`: a job ended in a state other than Completed (exit 4);
 * - `job-timeout`: a job did not finish before the deadline (exit 4; it may still finish);
 * - `job-lost`: a job could not be read to its end — host restarted, connection lost — (exit 3:
 *   the host, not the change, failed; the message says which items the host shows applied);
 * - `io`: the transport failed or answered something we cannot read (exit 3);
 * - `not-ready`: `wait` (or `set --wait`) reached its deadline, or was interrupted, before the
 *   guest showed what was awaited (exit 1; for `set --wait` the write itself succeeded).
 */
export type HostCliErrorCode =
  | "usage"
  | "ambiguous"
  | "not-found"
  | "refused"
  | "job-failed"
  | "job-timeout"
  | "job-lost"
  | "io"
  | "not-ready";

/** The one error class of kvp-host; `code` says which kind of failure it is. */
export class HostCliError extends Error {
  override readonly name = "HostCliError";
  constructor(
    readonly code: HostCliErrorCode,
    message: string,
    /** For usage errors: the help line to run, e.g. "kvp-host set --help". */
    readonly hint?: string,
    /** Structured detail for `--json` (e.g. which items of a failed write are applied). */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** True when `error` is a {@link HostCliError}, optionally of the given code. */
export function isHostCliError(error: unknown, code?: HostCliErrorCode): error is HostCliError {
  return error instanceof HostCliError && (code === undefined || error.code === code);
}
