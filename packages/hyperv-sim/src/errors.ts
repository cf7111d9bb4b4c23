/**
 * What went wrong in the simulator, as a string union callers switch on:
 * - `daemon-missing`: hv_kvp_daemon is not installed where we looked;
 * - `compiler-missing`: no C compiler to build the LD_PRELOAD shim with;
 * - `shim-build-failed`: the compiler ran and failed (its output is in the message);
 * - `daemon-exited`: the daemon process ended (or never connected); its stderr is in the message;
 * - `timeout`: the daemon did not answer in time;
 * - `closed`: the channel was closed before or while a request was pending;
 * - `protocol`: a message of the wrong size or kind crossed the device;
 * - `invalid-argument`: a request the host side cannot express (bad pool, text too long);
 * - `request-failed`: the daemon answered a host request with a failure status.
 */
export type SimErrorCode =
  | "daemon-missing"
  | "compiler-missing"
  | "shim-build-failed"
  | "daemon-exited"
  | "timeout"
  | "closed"
  | "protocol"
  | "invalid-argument"
  | "request-failed";

/** The one error class of hyperv-sim; `code` says which kind of failure it is. */
export class SimError extends Error {
  override readonly name = "SimError";
  constructor(
    readonly code: SimErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link SimError}, optionally of the given code. */
export function isSimError(error: unknown, code?: SimErrorCode): error is SimError {
  return error instanceof SimError && (code === undefined || error.code === code);
}
