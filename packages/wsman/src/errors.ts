/**
 * What went wrong, as a string union so callers switch on it and apps map it to exit codes:
 * - `invalid-message`: a SOAP envelope, NTLM message or HTTP header that is not what the
 *   protocol says (garbage, wrong shape, missing parts);
 * - `limit-exceeded`: input over a documented size, depth or count limit;
 * - `invalid-argument`: a caller-supplied value we cannot put on the wire;
 * - `fault`: the peer answered with a SOAP fault (see {@link WsmanError.fault});
 * - `unauthorized`: the server refused the credentials (HTTP 401 after authenticating);
 * - `connection-failed`: refused, unreachable, reset or name not resolved;
 * - `tls-untrusted`: the server's certificate is not trusted (pass a CA, or insecure);
 * - `tls-error`: another TLS failure (handshake, host name mismatch);
 * - `timeout`: no answer within the configured time;
 * - `unencrypted-refused`: plain HTTP that would travel unprotected: Basic or unsealed SOAP
 *   without the explicit allow-unencrypted switch, or a server that will not seal;
 * - `integrity`: a sealed message that fails verification: altered in transit (signature),
 *   replayed, reordered or dropped (sequence number), or of the wrong length; also a server
 *   that answers a sealed request unsealed, or refuses our sealed request as such;
 * - `http-error`: an HTTP status that is neither success, 401 nor a SOAP fault.
 */
export type WsmanErrorCode =
  | "invalid-message"
  | "limit-exceeded"
  | "invalid-argument"
  | "fault"
  | "unauthorized"
  | "connection-failed"
  | "tls-untrusted"
  | "tls-error"
  | "timeout"
  | "unencrypted-refused"
  | "integrity"
  | "http-error";

/** A SOAP 1.2 fault as WS-Management sends it. */
export interface WsmanFault {
  /** s:Code/s:Value, prefix kept as written, e.g. `s:Sender`. */
  readonly code: string;
  /** s:Code/s:Subcode/s:Value, e.g. `w:InvalidSelectors`; empty when absent. */
  readonly subcode: string;
  /** s:Reason/s:Text. */
  readonly reason: string;
  /** All text of s:Detail (the WSManFault message and provider details), whitespace-trimmed. */
  readonly detail: string;
  /** The `Code` attribute of WSManFault (a Windows error number) when present. */
  readonly wsmanFaultCode?: string;
  /**
   * `error_Code` of an `MSFT_WmiError` detail (an HRESULT in decimal, e.g. `2150859173` for
   * 0x803381A5), which WinRM sends instead of a WSManFault for some failures; when present.
   */
  readonly wmiErrorCode?: string;
  /** `w:FaultDetail`, a URI refining the subcode (`…/faultDetail/UnexpectedSelectors`); when present. */
  readonly faultDetail?: string;
}

/**
 * The one error class of @hyperv-kvp/wsman; `code` says which kind of failure it is.
 *
 * `message` is written by this library alone and never contains text the server sent: that
 * text (a fault's reason and detail, an HTTP error body) is in {@link serverText}, raw (not
 * escaped: escaping belongs to whoever prints it, who knows where it goes) and cut to
 * {@link WsmanError.MAX_SERVER_TEXT} characters. A program that shows it to a person must
 * make it safe first: it may hold terminal control sequences (`ESC]0;…BEL`, `ESC[2J`), C1
 * controls and bidi overrides, and an unsealed error reply can be written by anyone on the path.
 */
export class WsmanError extends Error {
  /** The most characters of server text {@link serverText} keeps. */
  static readonly MAX_SERVER_TEXT = 4096;
  override readonly name = "WsmanError";
  /** The SOAP fault, for code `fault` (its strings are the server's, raw). */
  readonly fault?: WsmanFault;
  /** What the server said about the failure, raw and untrusted (see the class doc). */
  readonly serverText?: string;
  constructor(
    readonly code: WsmanErrorCode,
    message: string,
    options: { fault?: WsmanFault; serverText?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.fault !== undefined) this.fault = options.fault;
    if (options.serverText !== undefined && options.serverText !== "")
      this.serverText = options.serverText.slice(0, WsmanError.MAX_SERVER_TEXT);
  }
}

/** True when `error` is a {@link WsmanError}, optionally of the given code. */
export function isWsmanError(error: unknown, code?: WsmanErrorCode): error is WsmanError {
  return error instanceof WsmanError && (code === undefined || error.code === code);
}
