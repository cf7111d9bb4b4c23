/** Which daemon stands behind a {@link DaemonChannel}. */
export type DaemonKind =
  /** Debian's hv_kvp_daemon, run unmodified under the LD_PRELOAD shim. */
  | "real"
  /** The TypeScript model of it, for machines without hyperv-daemons. */
  | "model";

/**
 * The thing behind `/dev/vmbus/hv_kvp`, seen from the kernel's side once the register
 * handshake is done: it takes one request message and answers with one reply message, both
 * exactly `MESSAGE_BYTES` long. Requests are answered one at a time, in order, as the kernel
 * only ever has one transaction outstanding.
 */
export interface DaemonChannel {
  readonly kind: DaemonKind;
  /** The directory standing in for `/var/lib/hyperv`: the daemon's pool files live there. */
  readonly poolDir: string;
  /**
   * Sends one request and resolves with the daemon's reply.
   * @throws {SimError} `closed`, `daemon-exited`, `timeout` or `protocol`.
   */
  request(message: Uint8Array): Promise<Uint8Array>;
  /** Stops the daemon and releases what the channel holds; safe to call twice. */
  close(): Promise<void>;
}
