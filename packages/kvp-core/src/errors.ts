/**
 * What went wrong, as a string union so callers switch on it and apps map it to exit codes:
 * - `invalid-key` / `invalid-value`: text that cannot be stored (too long, NUL, lone surrogate);
 * - `invalid-record`: bytes that are not a record (wrong size, a field with no NUL);
 * - `truncated`: fewer bytes than a record needs;
 * - `invalid-pool`: a pool name or number that does not exist;
 * - `not-found`: no record with that key.
 */
export type KvpErrorCode =
  | "invalid-key"
  | "invalid-value"
  | "invalid-record"
  | "truncated"
  | "invalid-pool"
  | "not-found";

/** The one error class of kvp-core; `code` says which kind of failure it is. */
export class KvpError extends Error {
  override readonly name = "KvpError";
  constructor(
    readonly code: KvpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True when `error` is a {@link KvpError}, optionally of the given code. */
export function isKvpError(error: unknown, code?: KvpErrorCode): error is KvpError {
  return error instanceof KvpError && (code === undefined || error.code === code);
}
