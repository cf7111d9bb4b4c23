import type { CliStream } from "./streams.js";

/** A line on stderr that says what a long wait is waiting for. */
export interface Progress {
  /** Replaces the line's text. */
  update(text: string): void;
  /** Erases the line; call before printing anything else to the stream, and when done. */
  done(): void;
}

const ERASE_LINE = "\r\u001b[2K";

/**
 * A progress line on `stream` (stderr) for a long wait: drawn in place when the stream is a
 * terminal, and nothing at all otherwise, so logs and pipes never collect progress noise.
 * @param prefix put before every text, e.g. "kvp-host: ".
 */
export function startProgress(stream: CliStream, prefix: string, text: string): Progress {
  if (stream.isTTY !== true) return { update() {}, done() {} };
  let shown = false;
  const update = (next: string) => {
    stream.write(`${ERASE_LINE}${prefix}${next}`);
    shown = true;
  };
  update(text);
  return {
    update,
    done() {
      if (shown) stream.write(ERASE_LINE);
      shown = false;
    },
  };
}
