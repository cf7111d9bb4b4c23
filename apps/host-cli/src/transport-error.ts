/**
 * One error for "the host could not be reached, authenticated, started or read", whichever
 * transport met it: WS-Management's WsmanError and the PowerShell bridge's failures are turned
 * into it where they happen (transports/), with their messages unchanged, so the rest of
 * kvp-host looks at codes, never at transports.
 */

/**
 * What went wrong:
 * - `config`: the connection options cannot work as given (Basic over plain HTTP without
 *   `--allow-unencrypted`, a value that cannot go on the wire) — a usage error;
 * - `unavailable`: the way to the host cannot be started: PowerShell missing or not starting,
 *   a bridge script of another release;
 * - `unreachable`: no connection: refused, reset, unreachable, a name that does not resolve;
 * - `tls`: the TLS handshake failed or the host's certificate is not trusted;
 * - `unauthorized`: the host refused the credentials;
 * - `timeout`: no answer in time;
 * - `lost`: the bridge ended in the middle of a request;
 * - `unreadable`: an answer that is not what the protocol says (garbled, oversize, failed
 *   integrity checks, a shape we cannot read);
 * - `host-error`: the host answered the request with an error (a WS-Management fault, a CIM
 *   error through PowerShell): see {@link TransportError.hostError};
 * - `closed`: the client was closed.
 */
export type TransportErrorCode =
  | "config"
  | "unavailable"
  | "unreachable"
  | "tls"
  | "unauthorized"
  | "timeout"
  | "lost"
  | "unreadable"
  | "host-error"
  | "closed";

/**
 * How the host described an error it answered with:
 * - `not-found`: no such instance;
 * - `access-denied`: WMI refused (kvp-host must run as an administrator of the host);
 * - `invalid-request`: the host (or the bridge's allow-list) refused the request itself;
 * - `failed`: anything else.
 */
export type HostErrorKind = "not-found" | "access-denied" | "invalid-request" | "failed";

/** Details of a `host-error`. */
export interface HostErrorDetails {
  readonly kind: HostErrorKind;
  /** The WS-Management fault subcode (`w:InvalidSelectors`) or CIM NativeErrorCode (`NotFound`), when known. */
  readonly code?: string;
}

/** The error of every {@link CimClient} (see the module doc). */
export class TransportError extends Error {
  override readonly name = "TransportError";
  /** For `host-error`: how the host described it. */
  readonly hostError?: HostErrorDetails;
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options: { readonly hostError?: HostErrorDetails; readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.hostError !== undefined) this.hostError = options.hostError;
  }
}

/** True when `error` is a {@link TransportError}, optionally of the given code. */
export function isTransportError(error: unknown, code?: TransportErrorCode): error is TransportError {
  return error instanceof TransportError && (code === undefined || error.code === code);
}

/**
 * Whether `error` may pass if the same request is tried again later: no connection, no answer
 * in time, a bridge that ended (the next request starts another). Job polling retries those
 * until its deadline, so a host that restarts does not abandon a job that may still finish.
 */
export function isTransientTransportError(error: unknown): boolean {
  return isTransportError(error) && (error.code === "unreachable" || error.code === "timeout" || error.code === "lost");
}
