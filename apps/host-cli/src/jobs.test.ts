import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_POLL_INTERVAL_MS, waitForJob } from "./jobs.js";
import { type SimHost, WEB01, startSimHost } from "./test-support/sim-host.js";
import { TransportError, isTransientTransportError } from "./transport-error.js";

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

const blip = new TransportError("unreachable", "connect ECONNREFUSED 127.0.0.1:5986");

let host: SimHost;
beforeEach(async () => {
  host = await startSimHost();
});
afterEach(async () => {
  await host.close();
});

/** A job the simulator holds Running until the test lets it go. */
async function heldJob(): Promise<string> {
  host.pauseJobs();
  const { jobId } = await host.wmi.invokeKvpMethod("AddKvpItems", WEB01, []);
  return jobId!;
}

describe("waitForJob when reading the job fails", () => {
  it("a retryable failure is polled through: the job is read again and found finished", async () => {
    const jobId = await heldJob();
    let reads = 0;
    host.client.intercept = async (call) => {
      if (call.op !== "get") return;
      reads++;
      if (reads <= 3) throw blip;
      // The fifth read: the host has finished the job meanwhile.
      if (reads === 5) {
        host.resumeJobs();
        await host.sim.settle();
      }
    };
    const retried: unknown[] = [];
    const c = clock();
    const result = await waitForJob(host.wmi, jobId, {
      timeoutMs: 10_000,
      now: c.now,
      sleep: c.sleep,
      retryable: isTransientTransportError,
      onRetry: (e) => retried.push(e),
    });
    expect(result.finished).toBe(true);
    expect(result.job.jobState).toBe(7);
    expect(retried).toEqual([blip, blip, blip]);
    // Each failed read backs off: 50, 100, 200 ms; once the job is read again (still
    // running), polling is back to the steady 50 ms.
    expect(c.sleeps).toEqual([50, 100, 200, 50]);
    expect(result.polls).toBe(2);
  });

  it("a retryable failure that lasts past the deadline is thrown, after polling up to it", async () => {
    const jobId = await heldJob();
    host.client.intercept = (call) => {
      if (call.op === "get") throw blip;
    };
    const c = clock();
    await expect(
      waitForJob(host.wmi, jobId, {
        timeoutMs: 3_000,
        now: c.now,
        sleep: c.sleep,
        retryable: isTransientTransportError,
      }),
    ).rejects.toBe(blip);
    expect(c.sleeps.reduce((a, b) => a + b, 0)).toBe(3_000);
    expect(Math.max(...c.sleeps)).toBeLessThanOrEqual(MAX_POLL_INTERVAL_MS);
  });

  it("a failure that is not retryable (or with no retryable at all) is thrown at once", async () => {
    const jobId = await heldJob();
    const denied = new TransportError("unauthorized", "access denied");
    host.client.intercept = (call) => {
      if (call.op === "get") throw denied;
    };
    for (const options of [{ retryable: isTransientTransportError }, {}]) {
      const c = clock();
      await expect(waitForJob(host.wmi, jobId, { ...options, now: c.now, sleep: c.sleep })).rejects.toBe(denied);
      expect(c.sleeps).toEqual([]);
    }
  });
});

describe("which transport failures job polling rides out", () => {
  it.each([
    ["unreachable", true],
    ["timeout", true],
    ["lost", true],
    ["unauthorized", false],
    ["tls", false],
    ["host-error", false],
    ["unreadable", false],
    ["closed", false],
  ] as const)("%s: %s", (code, transient) => {
    expect(isTransientTransportError(new TransportError(code, "m"))).toBe(transient);
  });

  it("anything that is not a TransportError is not", () => {
    expect(isTransientTransportError(new Error("connect ECONNREFUSED"))).toBe(false);
  });
});

describe("waitForJob's progress", () => {
  it("ticks with the time waited after each unfinished read, and ends once however the wait ends", async () => {
    const jobId = await heldJob();
    const events: (number | "end")[] = [];
    const progress = { tick: (ms: number) => events.push(ms), end: () => events.push("end") };
    const c = clock();
    const result = await waitForJob(host.wmi, jobId, { timeoutMs: 120, now: c.now, sleep: c.sleep, progress });
    expect(result.finished).toBe(false);
    expect(events).toEqual([0, 50, 100, "end"]);

    events.length = 0;
    host.client.intercept = (call) => {
      if (call.op === "get") throw new TransportError("unauthorized", "access denied");
    };
    await expect(waitForJob(host.wmi, jobId, { now: c.now, sleep: c.sleep, progress })).rejects.toThrow(
      "access denied",
    );
    expect(events).toEqual(["end"]);
  });
});
