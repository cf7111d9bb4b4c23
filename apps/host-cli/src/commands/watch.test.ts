import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ListedItem } from "../items.js";
import { type SimHost, WEB01, startSimHost } from "../test-support/sim-host.js";
import { TransportError } from "../transport-error.js";
import { type HostWatchEvent, diffItems, watchItems } from "./watch.js";

const T = "2026-11-21T00:00:00.000Z";

describe("diffItems", () => {
  const item = (key: string, value: string, source: ListedItem["source"] = "guest"): ListedItem => ({
    source,
    key,
    value,
  });

  it("reports added, changed and removed items, keyed by source and key", () => {
    const before = [item("a", "1"), item("b", "2"), item("a", "host", "host")];
    const after = [item("a", "1"), item("b", "3"), item("c", "4"), item("a", "host", "host")];
    expect(diffItems(before, after, T)).toEqual([
      { time: T, type: "changed", source: "guest", key: "b", value: "3", previous: "2" },
      { time: T, type: "added", source: "guest", key: "c", value: "4" },
    ]);
    expect(diffItems(after, before, T)).toEqual([
      { time: T, type: "changed", source: "guest", key: "b", value: "2", previous: "3" },
      { time: T, type: "removed", source: "guest", key: "c", previous: "4" },
    ]);
  });

  it("the same key in two sources is two items; a duplicate key counts once, its first value", () => {
    expect(diffItems([item("k", "h", "host")], [item("k", "g"), item("k", "h", "host")], T)).toEqual([
      { time: T, type: "added", source: "guest", key: "k", value: "g" },
    ]);
    expect(diffItems([item("k", "1")], [item("k", "1"), item("k", "2")], T)).toEqual([]);
  });

  it("keeps the part count of reassembled values", () => {
    expect(diffItems([], [{ source: "guest", key: "big", value: "xy", parts: 2 }], T)).toEqual([
      { time: T, type: "added", source: "guest", key: "big", value: "xy", parts: 2 },
    ]);
  });
});

let host: SimHost;
beforeEach(async () => {
  host = await startSimHost();
});
afterEach(async () => {
  await host.close();
});

/**
 * Runs watchItems on the sample host, calling `steps[i]` before read i+1 (a step may change
 * what the guest wrote, or make the host fail); stops after the last step.
 */
async function watchWith(
  steps: (() => void)[],
  options: { source?: "guest" | "host" | "all"; initial?: boolean } = {},
) {
  const events: HostWatchEvent[] = [];
  const notes: string[] = [];
  const pauses: number[] = [];
  const controller = new AbortController();
  let step = 0;
  let ready: { id: string; count: number } | undefined;
  await watchItems(host.wmi, "web01", {
    ...options,
    intervalMs: 1000,
    signal: controller.signal,
    now: () => new Date(Date.UTC(2026, 10, 21, 0, 0, step)),
    sleep: async (ms) => {
      pauses.push(ms);
      if (step === steps.length) controller.abort();
      else steps[step++]!();
    },
    onEvent: (e) => events.push(e),
    onNote: (n) => notes.push(n),
    onReady: (vm, count) => {
      ready = { id: vm.id, count };
    },
  });
  return { events, notes, pauses, ready };
}

/** What web01's guest wrote to pool 1 at the start. */
const GUEST: readonly KvpRecord[] = [
  { key: "ReadyState", value: "ready" },
  { key: "report#1/2", value: "first-" },
  { key: "report#2/2", value: "second" },
];

describe("watchItems", () => {
  it("reports guest changes between reads, reassembling chunked reports, and stops on abort", async () => {
    const r = await watchWith([
      () => host.setGuestItems(WEB01, [...GUEST, { key: "status", value: "booting" }]),
      () => host.setGuestItems(WEB01, [...GUEST.slice(1), { key: "status", value: "up" }]),
      () =>
        host.setGuestItems(WEB01, [GUEST[1]!, { key: "report#2/2", value: "SECOND" }, { key: "status", value: "up" }]),
    ]);
    expect(r.ready).toEqual({ id: WEB01, count: 2 });
    expect(r.events.map(({ time: _, ...e }) => e)).toEqual([
      { type: "added", source: "guest", key: "status", value: "booting" },
      { type: "changed", source: "guest", key: "status", value: "up", previous: "booting" },
      { type: "removed", source: "guest", key: "ReadyState", previous: "ready" },
      { type: "changed", source: "guest", key: "report", value: "first-SECOND", previous: "first-second", parts: 2 },
    ]);
    expect(r.notes).toEqual([]);
    // Only the component is read for guest items: one query per poll after resolving the VM.
    expect(host.wmi.calls.snapshot()).toEqual({ "query Msvm_ComputerSystem": 1, "query Msvm_KvpExchangeComponent": 4 });
  });

  it("--initial reports the items present first", async () => {
    const r = await watchWith([], { initial: true });
    expect(r.events.map((e) => [e.type, e.key, e.value])).toEqual([
      ["present", "ReadyState", "ready"],
      ["present", "report", "first-second"],
    ]);
  });

  it("a host that stops answering is one note, retried with back-off; changes made meanwhile are reported after", async () => {
    let down = false;
    host.client.intercept = (call) => {
      if (down && call.subject === "Msvm_KvpExchangeComponent")
        throw new TransportError("unreachable", "connection refused by 127.0.0.1:5986\nsecond line");
    };
    const r = await watchWith([
      () => {
        down = true;
      },
      () => host.setGuestItems(WEB01, [...GUEST, { key: "while-down", value: "1" }]),
      () => {},
      () => {
        down = false;
      },
    ]);
    expect(r.notes).toEqual([
      'cannot read VM "web01": connection refused by 127.0.0.1:5986; retrying',
      'reading VM "web01" again; changes made meanwhile follow',
    ]);
    expect(r.events.map((e) => [e.type, e.key])).toEqual([["added", "while-down"]]);
    // Back-off doubles while the host is down and returns to the interval once it answers.
    expect(r.pauses).toEqual([1000, 2000, 4000, 8000, 1000]);
  });

  it("a component that vanishes (VM off) is a note, not every item removed; items come back as they were", async () => {
    const vm = host.sim.model.findVm(WEB01)!;
    const r = await watchWith([
      () => {
        vm.kvpComponent = false;
      },
      () => {},
      () => {
        vm.kvpComponent = true;
      },
    ]);
    expect(r.events).toEqual([]);
    expect(r.notes).toEqual(['VM "web01" has no KVP exchange component: guest items are unavailable (is it running?)']);
  });

  it("a VM that does not exist fails before watching", async () => {
    await expect(
      watchItems(host.wmi, "nope", { signal: new AbortController().signal, onEvent: () => {}, onNote: () => {} }),
    ).rejects.toMatchObject({ code: "not-found" });
  });

  it("--source host watches the host items through the setting data", async () => {
    const r = await watchWith([() => host.hostItems(WEB01).set("role", "db")], { source: "host" });
    expect(r.events.map(({ time: _, ...e }) => e)).toEqual([
      { type: "changed", source: "host", key: "role", value: "db", previous: "web" },
    ]);
  });
});
