/**
 * A monotonic clock in ms, for durations and pacing. Not `performance.now()`: Node loads
 * perf_hooks on the global's first use, about a millisecond of a `kvp-agent once` or `wait`
 * (pool-file's lock.ts does the same).
 */
export function monotonicMs(): number {
  return process.uptime() * 1000;
}
