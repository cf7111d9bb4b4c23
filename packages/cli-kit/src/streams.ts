/** Where a CLI writes: process.stdout/stderr, or a test's capture. */
export interface CliStream {
  write(text: string): unknown;
  /** True on a terminal: progress lines are drawn only then. */
  readonly isTTY?: boolean;
  /** The terminal's width, when it is one (help is wrapped to it). */
  readonly columns?: number;
}

/** The streams a program's output may break on when its reader goes away. */
export interface ErrorEmitter {
  on(event: "error", listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/**
 * Ends the program quietly when a reader closes the pipe early (`kvp-pool list | head`): that
 * is not an error of ours, and Node would otherwise die on the unhandled EPIPE with a stack
 * trace. Any other stream error is rethrown.
 * @param end called once per broken pipe; the launcher exits with the exit code so far.
 */
export function endQuietlyOnBrokenPipe(streams: readonly ErrorEmitter[], end: () => void): void {
  for (const stream of streams) {
    stream.on("error", (error) => {
      if (error.code === "EPIPE") return end();
      throw error;
    });
  }
}
