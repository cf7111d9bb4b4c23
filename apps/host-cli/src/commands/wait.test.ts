import { thrownAsync } from "@hyperv-kvp/test-support";
import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostCliError } from "../host-error.js";
import { type SimHost, WEB01, startSimHost } from "../test-support/sim-host.js";
import { TransportError } from "../transport-error.js";
import { type WaitCondition, type WaitOptions, parseConditions, waitForItems } from "./wait.js";

let host: SimHost;
beforeEach(async () => {
  host = await startSimHost();
});
afterEach(async () => {
  await host.close();
});

/** What web01's guest wrote to pool 1 at the start (sim-host.ts). */
const GUEST: readonly KvpRecord[] = [
  { key: "ReadyState", value: "ready" },
  { key: "report#1/2", value: "first-" },
  { key: "report#2/2", value: "second" },
];

/**
 * Waits on the sample host with a clock that only the pauses move: `steps[i]` runs during
 * pause i (after read i+1), so a test says exactly what the guest writes between reads.
 */
function waitWith(conditions: WaitCondition[], steps: (() => void)[] = [], options: WaitOptions = {}) {
  let clock = 0;
  const pauses: number[] = [];
  const notes: string[] = [];
  let step = 0;
  const result = waitForItems(host.wmi, "web01", conditions, {
    intervalMs: 1000,
    timeoutMs: 10_000,
    ...options,
    now: () => clock,
    sleep: async (ms) => {
      pauses.push(ms);
      clock += ms;
      steps[step++]?.();
    },
    onNote: (n) => notes.push(n),
  });
  return { result, pauses, notes };
}

describe("parseConditions", () => {
  it("reads KEY and KEY=VALUE, splitting at the first =", () => {
    expect(parseConditions(["a", "b=1", "c=x=y", "d="], "h")).toEqual([
      { key: "a" },
      { key: "b", value: "1" },
      { key: "c", value: "x=y" },
      { key: "d", value: "" },
    ]);
  });

  it("refuses an empty key and no condition at all", async () => {
    expect(() => parseConditions(["=v"], "h")).toThrow(/invalid condition "=v"/);
    expect(() => parseConditions([], "h")).toThrow(/nothing to wait for/);
  });
});

describe("waitForItems", () => {
  it("returns at once when the guest already shows the keys, after one read", async () => {
    const w = waitWith([{ key: "ReadyState", value: "ready" }, { key: "report" }]);
    const r = await w.result;
    expect(r.vm.id).toBe(WEB01);
    expect(r.items).toEqual([
      { source: "guest", key: "ReadyState", value: "ready" },
      { source: "guest", key: "report", value: "first-second", parts: 2 },
    ]);
    expect(r.reads).toBe(1);
    expect(w.pauses).toEqual([]);
  });

  it("waits for the value, reading once per interval: one query of the component per read, whatever the number of keys", async () => {
    const w = waitWith(
      [{ key: "status", value: "ready" }, { key: "ReadyState" }, { key: "report" }],
      [
        () => host.setGuestItems(WEB01, [...GUEST, { key: "status", value: "booting" }]),
        () => {},
        () => host.setGuestItems(WEB01, [...GUEST, { key: "status", value: "ready" }]),
      ],
    );
    const r = await w.result;
    expect(r.items[0]).toEqual({ source: "guest", key: "status", value: "ready" });
    expect(r.reads).toBe(4);
    expect(w.pauses).toEqual([1000, 1000, 1000]);
    expect(host.wmi.calls.snapshot()).toEqual({ "query Msvm_ComputerSystem": 1, "query Msvm_KvpExchangeComponent": 4 });
  });

  it("reassembles a value the guest writes in parts before comparing", async () => {
    const w = waitWith(
      [{ key: "result", value: "a".repeat(1500) }],
      [
        // One part alone is not the value yet.
        () => host.setGuestItems(WEB01, [...GUEST, { key: "result#1/2", value: "a".repeat(1000) }]),
        () =>
          host.setGuestItems(WEB01, [
            ...GUEST,
            { key: "result#1/2", value: "a".repeat(1000) },
            { key: "result#2/2", value: "a".repeat(500) },
          ]),
      ],
    );
    const r = await w.result;
    expect(r.items[0]).toMatchObject({ key: "result", parts: 2 });
    expect(r.reads).toBe(3);
  });

  it("all conditions must hold at one read", async () => {
    const w = waitWith(
      [{ key: "a" }, { key: "b" }],
      [
        () => host.setGuestItems(WEB01, [{ key: "a", value: "1" }]),
        () => host.setGuestItems(WEB01, [{ key: "b", value: "2" }]),
        () =>
          host.setGuestItems(WEB01, [
            { key: "a", value: "1" },
            { key: "b", value: "2" },
          ]),
      ],
    );
    expect((await w.result).reads).toBe(4);
  });

  it("times out with what the guest showed, the last read falling on the deadline", async () => {
    const w = waitWith([{ key: "ReadyState", value: "configured" }, { key: "absent" }, { key: "report" }], [], {
      timeoutMs: 2500,
    });
    const error = await thrownAsync(w.result, HostCliError);
    expect(error.code).toBe("not-ready");
    expect(error.message).toBe(
      'VM "web01" did not show "ReadyState"="configured", "absent" (after 2500ms; guest shows "ReadyState"="ready", "absent" absent)',
    );
    expect(error.details).toMatchObject({
      reason: "timeout",
      missing: [{ key: "ReadyState", value: "configured" }, { key: "absent" }],
      seen: { ReadyState: "ready" },
    });
    expect(w.pauses).toEqual([1000, 1000, 500]);
  });

  it("a timeout of 0 reads once", async () => {
    const w = waitWith([{ key: "absent" }], [], { timeoutMs: 0 });
    expect((await thrownAsync(w.result, HostCliError)).code).toBe("not-ready");
    expect(w.pauses).toEqual([]);
    expect(host.wmi.calls.of("query Msvm_KvpExchangeComponent")).toBe(1);
  });

  it("an abort (Ctrl-C) ends the wait as not ready, interrupted", async () => {
    const controller = new AbortController();
    const w = waitWith([{ key: "absent" }], [() => controller.abort()], { signal: controller.signal });
    const error = await thrownAsync(w.result, HostCliError);
    expect(error.code).toBe("not-ready");
    expect(error.message).toContain("(interrupted;");
  });

  it("keeps waiting through a host that stops answering, with watch's back-off and notes", async () => {
    let down = false;
    host.client.intercept = (call) => {
      if (down && call.subject === "Msvm_KvpExchangeComponent")
        throw new TransportError("unreachable", "connection refused by 127.0.0.1:5986");
    };
    const w = waitWith(
      [{ key: "status", value: "ready" }],
      [
        () => {
          down = true;
        },
        () => host.setGuestItems(WEB01, [{ key: "status", value: "ready" }]),
        () => {
          down = false;
        },
      ],
    );
    expect((await w.result).items[0]?.value).toBe("ready");
    expect(w.pauses).toEqual([1000, 2000, 4000]);
    expect(w.notes).toEqual([
      'cannot read VM "web01": connection refused by 127.0.0.1:5986; retrying',
      'reading VM "web01" again; changes made meanwhile follow',
    ]);
  });

  it("waits for a VM whose component is not there yet (starting)", async () => {
    const vm = host.sim.model.findVm(WEB01)!;
    vm.kvpComponent = false;
    const w = waitWith(
      [{ key: "ReadyState" }],
      [
        () => {
          vm.kvpComponent = true;
        },
      ],
    );
    expect((await w.result).reads).toBe(2);
    expect(w.notes[0]).toContain("has no KVP exchange component");
  });

  it("a VM that does not exist fails at once, not at the deadline", async () => {
    const error = await thrownAsync(waitForItems(host.wmi, "nope", [{ key: "a" }]), HostCliError);
    expect(error.code).toBe("not-found");
  });
});
