import { MESSAGE_BYTES } from "./device-message.js";

/**
 * Cuts a byte stream into whole device messages. The simulated device is a stream socket
 * (Node has no SOCK_SEQPACKET), so one `data` event may hold part of a message, several,
 * or a message and a half; this restores the boundaries the real character device keeps.
 */
export class MessageFramer {
  private pending = new Uint8Array(MESSAGE_BYTES);
  private filled = 0;

  /** Bytes received that do not yet make a whole message. */
  get buffered(): number {
    return this.filled;
  }

  /**
   * Adds a chunk and returns the messages it completes, in order, each a new
   * {@link MESSAGE_BYTES}-byte array.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const messages: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(MESSAGE_BYTES - this.filled, chunk.length - at);
      this.pending.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === MESSAGE_BYTES) {
        messages.push(this.pending);
        this.pending = new Uint8Array(MESSAGE_BYTES);
        this.filled = 0;
      }
    }
    return messages;
  }
}
