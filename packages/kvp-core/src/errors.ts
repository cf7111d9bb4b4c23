/**
 * What went wrong, as a string union so callers switch on it and apps map it to exit codes:
 * - `invalid-key` / `invalid-value`: text that cannot be stored (too long, NUL, lone surrogate);
 * - `invalid-record`: bytes that are not a record (wrong size, a field with no NUL);
 * - `truncated`: fewer bytes than a record needs;
 * - `invalid-pool`: a pool name or number that does not exist;
 * - `not-found`: no record with that key;
 * - `invalid-xml`: text that is not well-formed XML 1.0, or that uses what we refuse on purpose
 *   (a DOCTYPE, entities other than the five predefined ones); the message names line and column;
 * - `limit-exceeded`: input over a documented size, depth or count limit (kept apart from
 *   `invalid-xml` so callers can tell "too big" from "broken");
 * - `invalid-cim`: well-formed XML that is not the CIM-XML we accept (DSP0201), or a CIM model
 *   value that does not fit its declared type;
 * - `invalid-path`: a WMI object path or WS-Management endpoint reference we cannot read or write;
 * - `invalid-text`: text with a character XML 1.0 cannot carry (most C0 controls, lone
 *   surrogates, U+FFFE/U+FFFF), named with its position.
 */
export type KvpErrorCode =
  | "invalid-key"
  | "invalid-value"
  | "invalid-record"
  | "truncated"
  | "invalid-pool"
  | "not-found"
  | "invalid-xml"
  | "limit-exceeded"
  | "invalid-cim"
  | "invalid-path"
  | "invalid-text";

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
