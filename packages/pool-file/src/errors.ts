/**
 * Failure kinds of pool-file, as a string union that apps map to exit codes:
 * - `locked`: a lock could not be taken before the deadline (someone else holds it);
 * - `daemon-absent`: the pool directory or file is missing, so hv_kvp_daemon seems absent;
 * - `not-found`: no record with that key;
 * - `refused`: the operation is not allowed without an explicit force (a daemon-owned pool);
 * - `invalid`: the request itself is wrong (bad key or value, bad pool);
 * - `io`: the operating system refused (permissions, disk full, a directory where a file is);
 * - `unsafe`: the pool is not opened because someone other than root could choose what it is:
 *   the pool file is a symbolic link, or (when running as root) its directory is not root's or
 *   is writable by group or others. Nothing was read or written;
 * - `callback`: a function the caller gave (such as a watch's `onChange`) threw; the thrown
 *   value is the `cause`. Not a problem of the pool: the caller's own code failed.
 */
export type PoolFileErrorCode =
  | "locked"
  | "daemon-absent"
  | "not-found"
  | "refused"
  | "invalid"
  | "io"
  | "unsafe"
  | "callback";

/** The one error class of pool-file. */
export class PoolFileError extends Error {
  override readonly name = "PoolFileError";
  constructor(
    readonly code: PoolFileErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link PoolFileError}, optionally of the given code. */
export function isPoolFileError(error: unknown, code?: PoolFileErrorCode): error is PoolFileError {
  return error instanceof PoolFileError && (code === undefined || error.code === code);
}

/** Node's errno code of a system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
