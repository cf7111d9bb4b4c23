import { describe, expect, it } from "vitest";
import { type HostCliError, isHostCliError } from "../cli-error.js";
import { waitForJob } from "../jobs.js";
import { resolveVm } from "../resolve-vm.js";
import { DUP_A, DUP_B, WEB01, sampleHost } from "../test-support/fixtures.js";
import { get } from "./get.js";
import { list } from "./list.js";
import { status } from "./status.js";
import { vms } from "./vms.js";
import { removeItems, writeItems } from "./write.js";

const noWait = { sleep: async () => {} };

async function failure(promise: Promise<unknown>): Promise<HostCliError> {
  try {
    await promise;
  } catch (error) {
    if (isHostCliError(error)) return error;
    throw error;
  }
  throw new Error("expected a HostCliError");
}

describe("VM resolution", () => {
  it("finds by name, by GUID in any case and with braces", async () => {
    const host = sampleHost();
    expect((await resolveVm(host, "web01")).id).toBe(WEB01);
    expect((await resolveVm(host, "WEB01")).id).toBe(WEB01);
    expect((await resolveVm(host, `{${WEB01.toLowerCase()}}`)).name).toBe("web01");
  });

  it("an ambiguous name lists the candidates", async () => {
    const error = await failure(resolveVm(sampleHost(), "dup"));
    expect(error.code).toBe("ambiguous");
    expect(error.message).toContain(DUP_A);
    expect(error.message).toContain(DUP_B);
  });

  it("an unknown name is not-found", async () => {
    expect((await failure(resolveVm(sampleHost(), "nope"))).code).toBe("not-found");
  });

  it("vms lists every VM, sorted", async () => {
    expect((await vms(sampleHost())).map((v) => v.name)).toEqual(["dup", "dup", "off", "web01"]);
  });
});

describe("list and get", () => {
  it("lists every source and reassembles chunked guest reports", async () => {
    const result = await list(sampleHost(), "web01");
    expect(result.items).toEqual([
      { source: "guest", key: "ReadyState", value: "ready" },
      { source: "guest", key: "report", value: "first-second", parts: 2 },
      { source: "intrinsic", key: "FullyQualifiedDomainName", value: "web01.example.test" },
      { source: "intrinsic", key: "OSName", value: "Debian GNU/Linux" },
      { source: "host", key: "role", value: "web" },
    ]);
  });

  it("filters by source, and --raw keeps parts", async () => {
    const host = sampleHost();
    expect((await list(host, "web01", { source: "host" })).items.map((i) => i.key)).toEqual(["role"]);
    expect((await list(host, "web01", { source: "guest", raw: true })).items.map((i) => i.key)).toEqual([
      "ReadyState",
      "report#1/2",
      "report#2/2",
    ]);
  });

  it("get finds a reassembled key; an absent key is not-found", async () => {
    const host = sampleHost();
    expect((await get(host, "web01", "report")).item).toMatchObject({ value: "first-second", parts: 2 });
    expect((await failure(get(host, "web01", "role", { source: "guest" }))).code).toBe("not-found");
  });

  it("a VM without a component gives a note, not a failure", async () => {
    const result = await list(sampleHost(), "off", { source: "guest" });
    expect(result.items).toEqual([]);
    expect(result.notes[0]).toContain("no KVP exchange component");
  });
});

describe("set (upsert)", () => {
  it("writes 1000 new items in 8 AddKvpItems calls, waiting for each job", async () => {
    const host = sampleHost({ jobPolls: 2 });
    const records = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    host.calls.reset();
    const report = await writeItems(host, "web01", records, { mode: "upsert", ...noWait });
    expect(report.added).toHaveLength(1000);
    expect(report.methodCalls).toBe(8);
    expect(host.calls.of("invoke AddKvpItems")).toBe(8);
    expect(host.calls.of("get Msvm_ConcreteJob")).toBe(8 * 3);
    expect(host.vms[0]!.host.size).toBe(1001);
  });

  it("adds new keys and modifies stored ones in one call each", async () => {
    const host = sampleHost();
    const report = await writeItems(
      host,
      "web01",
      [
        { key: "role", value: "db" },
        { key: "tier", value: "1" },
      ],
      { mode: "upsert", ...noWait },
    );
    expect(report).toMatchObject({ added: ["tier"], modified: ["role"], methodCalls: 2 });
    expect(host.methodLog.map((c) => [c.method, c.items.map((i) => i.name)])).toEqual([
      ["AddKvpItems", ["tier"]],
      ["ModifyKvpItems", ["role"]],
    ]);
    expect(Object.fromEntries(host.vms[0]!.host)).toEqual({ role: "db", tier: "1" });
  });

  it("refuses a value the guest cannot receive whole, before connecting further", async () => {
    const host = sampleHost();
    expect(
      (await failure(writeItems(host, "web01", [{ key: "k", value: "x".repeat(1100) }], { mode: "upsert" }))).code,
    ).toBe("usage");
    expect(host.calls.total).toBe(0);
  });

  it("--chunk writes parts that get reassembles, and a rewrite removes stale parts", async () => {
    const host = sampleHost();
    await writeItems(host, "web01", [{ key: "doc", value: "a".repeat(3000) }], {
      mode: "upsert",
      chunk: true,
      ...noWait,
    });
    expect([...host.vms[0]!.host.keys()]).toEqual(["role", "doc#1/3", "doc#2/3", "doc#3/3"]);
    expect((await get(host, "web01", "doc", { source: "host" })).item).toMatchObject({
      value: "a".repeat(3000),
      parts: 3,
    });
    const report = await writeItems(host, "web01", [{ key: "doc", value: "b".repeat(1500) }], {
      mode: "upsert",
      chunk: true,
      ...noWait,
    });
    expect(report).toMatchObject({ added: ["doc#1/2", "doc#2/2"], removed: ["doc#1/3", "doc#2/3", "doc#3/3"] });
    expect((await get(host, "web01", "doc", { source: "host" })).item.value).toBe("b".repeat(1500));
  });

  it("--host-only writes HostOnlyItems", async () => {
    const host = sampleHost();
    await writeItems(host, "web01", [{ key: "secret", value: "s" }], { mode: "upsert", hostOnly: true, ...noWait });
    expect(Object.fromEntries(host.vms[0]!.hostOnly)).toEqual({ secret: "s" });
    expect((await get(host, "web01", "secret")).item.source).toBe("host-only");
  });

  it("a failed batch says which items are applied and which are not", async () => {
    const host = sampleHost({
      inject: (_method, _items, call) =>
        call === 1
          ? { jobState: 10, errorCode: 32768, errorDescription: "The operation failed.", errorMessage: "Disk full" }
          : undefined,
    });
    const records = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    const error = await failure(writeItems(host, "web01", records, { mode: "upsert", ...noWait }));
    expect(error.code).toBe("job-failed");
    expect(error.message).toContain('cannot add 128 items "k128", "k129"');
    expect(error.message).toContain('of VM "web01"');
    expect(error.message).toContain("error 32768 (failed): The operation failed.: Disk full");
    expect(error.message).toContain("applied: 128");
    expect(error.message).toContain("not applied: 172");
    expect(error.details).toMatchObject({ unknown: [] });
    expect((error.details as { applied: string[] }).applied).toHaveLength(128);
  });

  it("a partly applied batch is reported item by item after re-reading", async () => {
    const host = sampleHost({ partialFailure: true });
    host.vms[0]!.host.set("k2", "x");
    // The plan saw k2 stored, but it is removed before the call: Modify fails at k2.
    const records = [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: "new" }));
    host.vms[0]!.host.set("k0", "old").set("k1", "old").set("k3", "old");
    const realInvoke = host.invokeKvpMethod.bind(host);
    host.invokeKvpMethod = async (method, vmId, items) => {
      host.vms[0]!.host.delete("k2");
      return realInvoke(method, vmId, items);
    };
    const error = await failure(writeItems(host, "web01", records, { mode: "upsert", ...noWait }));
    expect(error.message).toContain('The KVP item "k2" does not exist.');
    expect(error.details).toMatchObject({ applied: ["k0", "k1"], notApplied: ["k2", "k3"] });
  });

  it("an error return code is refused, naming its meaning", async () => {
    const host = sampleHost({ inject: () => ({ returnValue: 32769 }) });
    const error = await failure(writeItems(host, "web01", [{ key: "a", value: "1" }], { mode: "upsert" }));
    expect(error.code).toBe("refused");
    expect(error.message).toContain("AddKvpItems returned 32769 (access denied)");
  });
});

describe("add, remove, status", () => {
  it("add refuses an existing key and writes nothing", async () => {
    const host = sampleHost();
    const error = await failure(
      writeItems(
        host,
        "web01",
        [
          { key: "new", value: "1" },
          { key: "role", value: "x" },
        ],
        { mode: "add" },
      ),
    );
    expect(error.code).toBe("refused");
    expect(host.methodLog).toEqual([]);
  });

  it("remove removes keys and their parts; an absent key removes nothing", async () => {
    const host = sampleHost();
    await writeItems(host, "web01", [{ key: "doc", value: "a".repeat(3000) }], {
      mode: "upsert",
      chunk: true,
      ...noWait,
    });
    expect((await failure(removeItems(host, "web01", ["doc", "nope"]))).code).toBe("not-found");
    const report = await removeItems(host, "web01", ["doc", "role"], noWait);
    expect(report.removed).toEqual(["doc#1/3", "doc#2/3", "doc#3/3", "role"]);
    expect(host.vms[0]!.host.size).toBe(0);
  });

  it("status reports the service health and intrinsic facts", async () => {
    const result = await status(sampleHost(), "web01");
    expect(result).toMatchObject({
      ok: true,
      operationalStatus: 2,
      health: "OK",
      guestItems: 3,
      intrinsic: { OSName: "Debian GNU/Linux" },
    });
    expect(await status(sampleHost(), "off")).toMatchObject({ component: false, ok: false });
  });
});

describe("waitForJob", () => {
  it("stops at the deadline with the job unfinished, on an injected clock", async () => {
    let now = 0;
    const host = sampleHost({ jobPolls: 1000 });
    const { jobId } = await host.invokeKvpMethod("AddKvpItems", WEB01, []);
    const sleeps: number[] = [];
    const result = await waitForJob(host, jobId!, {
      timeoutMs: 4000,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    expect(result.finished).toBe(false);
    // Steady 50 ms for two seconds (40 pauses), then doubling up to one second, cut at the deadline.
    expect(sleeps).toEqual([...Array(40).fill(50), 100, 200, 400, 800, 500]);
    expect(result.polls).toBe(46);
  });

  it("a job still running at the deadline fails the write as job-timeout", async () => {
    let now = 0;
    const host = sampleHost({ jobPolls: 1000 });
    const error = await failure(
      writeItems(host, "web01", [{ key: "a", value: "1" }], {
        mode: "upsert",
        timeoutMs: 1000,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      }),
    );
    expect(error.code).toBe("job-timeout");
    expect(error.message).toContain("it may still complete");
  });

  it("a job that cannot be read to its end is job-lost, with what the host shows applied", async () => {
    const host = sampleHost({ jobPolls: 3 });
    host.getJob = async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:5986");
    };
    const error = await failure(writeItems(host, "web01", [{ key: "a", value: "1" }], { mode: "upsert", ...noWait }));
    expect(error.code).toBe("job-lost");
    expect(error.message).toContain("lost track of its job");
    expect(error.message).toContain("ECONNREFUSED");
    // The memory host applied the call before its job was lost: the re-read says so.
    expect(error.details).toMatchObject({ applied: ["a"], notApplied: [], unknown: [] });
  });
});
