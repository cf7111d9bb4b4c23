import { describe, expect, it } from "vitest";
import { MAX_POLL_INTERVAL_MS, waitForJob } from "./jobs.js";
import { WEB01, sampleHost } from "./test-support/fixtures.js";

/** An injected clock and sleep: every pause advances the time, and is recorded. */
function clock() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const blip = new Error("connect ECONNREFUSED 127.0.0.1:5986");
const retryable = (error: unknown) => error === blip;

describe("waitForJob when reading the job fails", () => {
  it("a retryable failure is polled through: the job is read again and found finished", async () => {
    const host = sampleHost({ jobPolls: 2 });
    const { jobId } = await host.invokeKvpMethod("AddKvpItems", WEB01, []);
    const real = host.getJob.bind(host);
    let failures = 3;
    host.getJob = async (id) => {
      if (failures-- > 0) throw blip;
      return real(id);
    };
    const retried: unknown[] = [];
    const c = clock();
    const result = await waitForJob(host, jobId!, {
      timeoutMs: 10_000,
      now: c.now,
      sleep: c.sleep,
      retryable,
      onRetry: (e) => retried.push(e),
    });
    expect(result.finished).toBe(true);
    expect(retried).toEqual([blip, blip, blip]);
    // Each failed read backs off: 50, 100, 200 ms; once the job is read again, polling is back
    // to the steady 50 ms.
    expect(c.sleeps).toEqual([50, 100, 200, 50, 50]);
  });

  it("a retryable failure that lasts past the deadline is thrown, after polling up to it", async () => {
    const host = sampleHost({ jobPolls: 1000 });
    const { jobId } = await host.invokeKvpMethod("AddKvpItems", WEB01, []);
    host.getJob = async () => {
      throw blip;
    };
    const c = clock();
    await expect(waitForJob(host, jobId!, { timeoutMs: 3_000, now: c.now, sleep: c.sleep, retryable })).rejects.toBe(
      blip,
    );
    expect(c.sleeps.reduce((a, b) => a + b, 0)).toBe(3_000);
    expect(Math.max(...c.sleeps)).toBeLessThanOrEqual(MAX_POLL_INTERVAL_MS);
  });

  it("a failure that is not retryable (or with no retryable at all) is thrown at once", async () => {
    const host = sampleHost({ jobPolls: 5 });
    const { jobId } = await host.invokeKvpMethod("AddKvpItems", WEB01, []);
    const denied = new Error("access denied");
    host.getJob = async () => {
      throw denied;
    };
    for (const options of [{ retryable }, {}]) {
      const c = clock();
      await expect(waitForJob(host, jobId!, { ...options, now: c.now, sleep: c.sleep })).rejects.toBe(denied);
      expect(c.sleeps).toEqual([]);
    }
  });
});
