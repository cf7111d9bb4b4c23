// The one way tests wait for something another process or a watcher does: poll, with a
// deadline that guards against a hang (it measures nothing; give slow work a longer one).

/** How often {@link waitFor} asks, in ms. */
const POLL_INTERVAL_MS = 10;

/**
 * Resolves once `condition()` holds, asking every 10 ms.
 * @param what what is awaited, for the failure message
 * @param deadlineMs how long to wait before failing, in ms (default 10 s)
 * @throws Error `timed out after N ms waiting for WHAT` at the deadline
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  deadlineMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
