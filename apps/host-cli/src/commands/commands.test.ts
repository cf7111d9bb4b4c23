// The commands against hyperv-sim's WMI host in this process (test-support/sim-host.ts).
import { thrownAsync } from "@hyperv-kvp/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostCliError } from "../host-error.js";
import { waitForJob } from "../jobs.js";
import { resolveVm } from "../resolve-vm.js";
import { DUP_A, DUP_B, type SimHost, WEB01, startSimHost } from "../test-support/sim-host.js";
import { get } from "./get.js";
import { list } from "./list.js";
import { status } from "./status.js";
import { vms } from "./vms.js";
import { removeItems, writeItems } from "./write.js";

const noWait = { sleep: async () => {} };

let host: SimHost;
beforeEach(async () => {
  host = await startSimHost();
});
afterEach(async () => {
  await host.close();
});

describe("VM resolution", () => {
  it("finds by name, by GUID in any case and with braces", async () => {
    const { wmi } = host;
    expect((await resolveVm(wmi, "web01")).id).toBe(WEB01);
    expect((await resolveVm(wmi, "WEB01")).id).toBe(WEB01);
    expect((await resolveVm(wmi, `{${WEB01.toLowerCase()}}`)).name).toBe("web01");
  });

  it("an ambiguous name lists the candidates", async () => {
    const error = await thrownAsync(resolveVm(host.wmi, "dup"), HostCliError);
    expect(error.code).toBe("ambiguous");
    expect(error.message).toContain(DUP_A);
    expect(error.message).toContain(DUP_B);
  });

  it("an unknown name is not-found", async () => {
    expect((await thrownAsync(resolveVm(host.wmi, "nope"), HostCliError)).code).toBe("not-found");
  });

  it("vms lists every VM (not the host), sorted", async () => {
    const found = await vms(host.wmi);
    expect(found.map((v) => v.name)).toEqual(["dup", "dup", "off", "web01"]);
    expect(found.find((v) => v.name === "off")?.enabledState).toBe(3);
  });
});

describe("list and get", () => {
  it("lists every source and reassembles chunked guest reports", async () => {
    const result = await list(host.wmi, "web01");
    expect(result.items).toEqual([
      { source: "guest", key: "ReadyState", value: "ready" },
      { source: "guest", key: "report", value: "first-second", parts: 2 },
      { source: "intrinsic", key: "FullyQualifiedDomainName", value: "web01.example.test" },
      { source: "intrinsic", key: "OSName", value: "Debian GNU/Linux" },
      { source: "host", key: "role", value: "web" },
    ]);
    expect(result.notes).toEqual([]);
  });

  it("filters by source, and --raw keeps parts", async () => {
    expect((await list(host.wmi, "web01", { source: "host" })).items.map((i) => i.key)).toEqual(["role"]);
    expect((await list(host.wmi, "web01", { source: "guest", raw: true })).items.map((i) => i.key)).toEqual([
      "ReadyState",
      "report#1/2",
      "report#2/2",
    ]);
  });

  it("get finds a reassembled key; an absent key is not-found", async () => {
    expect((await get(host.wmi, "web01", "report")).item).toMatchObject({ value: "first-second", parts: 2 });
    expect((await thrownAsync(get(host.wmi, "web01", "role", { source: "guest" }), HostCliError)).code).toBe(
      "not-found",
    );
  });

  it("a VM without a component gives a note, not a failure", async () => {
    const result = await list(host.wmi, "off", { source: "guest" });
    expect(result.items).toEqual([]);
    expect(result.notes[0]).toContain("no KVP exchange component");
  });

  it("the realized settings are looked up once per run; the setting data on every read", async () => {
    await list(host.wmi, "web01", { source: "host" });
    await list(host.wmi, "web01", { source: "host" });
    expect(host.wmi.calls.snapshot()).toEqual({
      "query Msvm_ComputerSystem": 2,
      "enumerate Msvm_VirtualSystemSettingData": 1,
      "enumerate Msvm_KvpExchangeComponentSettingData": 2,
    });
  });
});

describe("set (upsert)", () => {
  it("writes 257 new items in 3 AddKvpItems calls of at most 128, waiting for each job", async () => {
    const sizes: number[] = [];
    host.sim.model.interceptKvpMethod = ({ items }) => {
      sizes.push(items.length);
      return undefined;
    };
    const records = Array.from({ length: 257 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const report = await writeItems(host.wmi, "web01", records, { mode: "upsert", ...noWait });
    expect(report.added).toHaveLength(257);
    expect(report.methodCalls).toBe(3);
    expect(sizes).toEqual([128, 128, 1]);
    expect(host.wmi.calls.snapshot()).toEqual({
      "query Msvm_ComputerSystem": 1,
      "enumerate Msvm_VirtualSystemSettingData": 1,
      "enumerate Msvm_KvpExchangeComponentSettingData": 1,
      "enumerate Msvm_VirtualSystemManagementService": 1,
      "invoke AddKvpItems": 3,
      // The simulator finished each job before it was first read.
      "get Msvm_ConcreteJob": 3,
    });
    expect(host.hostItems(WEB01).size).toBe(258);
  });

  it("adds new keys and modifies stored ones in one call each", async () => {
    const calls: [string, string[]][] = [];
    host.sim.model.interceptKvpMethod = ({ method, items }) => {
      calls.push([method, items.map((i) => i.name)]);
      return undefined;
    };
    const report = await writeItems(
      host.wmi,
      "web01",
      [
        { key: "role", value: "db" },
        { key: "tier", value: "1" },
      ],
      { mode: "upsert", ...noWait },
    );
    expect(report).toMatchObject({ added: ["tier"], modified: ["role"], methodCalls: 2 });
    expect(calls).toEqual([
      ["AddKvpItems", ["tier"]],
      ["ModifyKvpItems", ["role"]],
    ]);
    expect(Object.fromEntries(host.hostItems(WEB01))).toEqual({ role: "db", tier: "1" });
  });

  it("sends each item as the embedded CIM-XML Hyper-V reads, TargetSystem first", async () => {
    const seen: string[][] = [];
    host.client.intercept = (call) => {
      if (call.op === "invoke") seen.push([...call.args!.keys()]);
    };
    await writeItems(host.wmi, "web01", [{ key: "a&b", value: "<x>" }], { mode: "upsert", ...noWait });
    expect(seen).toEqual([["TargetSystem", "DataItems"]]);
    expect(host.hostItems(WEB01).get("a&b")).toBe("<x>");
  });

  it("refuses a value the guest cannot receive whole, before connecting further", async () => {
    expect(
      (
        await thrownAsync(
          writeItems(host.wmi, "web01", [{ key: "k", value: "x".repeat(1100) }], { mode: "upsert" }),
          HostCliError,
        )
      ).code,
    ).toBe("usage");
    expect(host.wmi.calls.total).toBe(0);
  });

  it("--chunk writes parts that get reassembles, and a rewrite removes stale parts", async () => {
    await writeItems(host.wmi, "web01", [{ key: "doc", value: "a".repeat(3000) }], {
      mode: "upsert",
      chunk: true,
      ...noWait,
    });
    expect([...host.hostItems(WEB01).keys()]).toEqual(["role", "doc#1/3", "doc#2/3", "doc#3/3"]);
    expect((await get(host.wmi, "web01", "doc", { source: "host" })).item).toMatchObject({
      value: "a".repeat(3000),
      parts: 3,
    });
    const report = await writeItems(host.wmi, "web01", [{ key: "doc", value: "b".repeat(1500) }], {
      mode: "upsert",
      chunk: true,
      ...noWait,
    });
    expect(report).toMatchObject({ added: ["doc#1/2", "doc#2/2"], removed: ["doc#1/3", "doc#2/3", "doc#3/3"] });
    expect((await get(host.wmi, "web01", "doc", { source: "host" })).item.value).toBe("b".repeat(1500));
  });

  it("--host-only writes HostOnlyItems", async () => {
    await writeItems(host.wmi, "web01", [{ key: "secret", value: "s" }], { mode: "upsert", hostOnly: true, ...noWait });
    expect(Object.fromEntries(host.hostOnlyItems(WEB01))).toEqual({ secret: "s" });
    expect((await get(host.wmi, "web01", "secret")).item.source).toBe("host-only");
  });

  it("a failed batch says which items are applied and which are not", async () => {
    let call = 0;
    host.sim.model.interceptKvpMethod = () =>
      call++ === 1
        ? { kind: "fail", failure: { errorCode: 32768, description: "Disk full.", cimStatusCode: 1 } }
        : undefined;
    const records = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    const error = await thrownAsync(
      writeItems(host.wmi, "web01", records, { mode: "upsert", ...noWait }),
      HostCliError,
    );
    expect(error.code).toBe("job-failed");
    expect(error.message).toContain('cannot add 128 items "k128", "k129"');
    expect(error.message).toContain('of VM "web01"');
    expect(error.message).toContain("ended in state Exception (10): error 32768 (failed): Disk full.");
    expect(error.message).toContain("applied: 128");
    expect(error.message).toContain("not applied: 172");
    expect(error.details).toMatchObject({ unknown: [] });
    expect((error.details as { applied: string[] }).applied).toHaveLength(128);
  });

  it("a partly applied batch is reported item by item after re-reading", async () => {
    for (const key of ["k0", "k1", "k2", "k3"]) host.hostItems(WEB01).set(key, "old");
    // Hyper-V does not document whether a failing call applies part of its items: the
    // simulator is told to apply the first two, then fail.
    host.sim.model.interceptKvpMethod = () => ({
      kind: "fail",
      applied: 2,
      failure: { errorCode: 32773, description: 'The KVP item "k2" does not exist.', cimStatusCode: 6 },
    });
    const records = [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: "new" }));
    const error = await thrownAsync(
      writeItems(host.wmi, "web01", records, { mode: "upsert", ...noWait }),
      HostCliError,
    );
    expect(error.message).toContain('The KVP item "k2" does not exist.');
    expect(error.details).toMatchObject({ applied: ["k0", "k1"], notApplied: ["k2", "k3"], unknown: [] });
  });

  it("an error return code is refused, naming its meaning", async () => {
    host.sim.model.interceptKvpMethod = () => ({ kind: "reject", returnValue: 32769 });
    const error = await thrownAsync(
      writeItems(host.wmi, "web01", [{ key: "a", value: "1" }], { mode: "upsert" }),
      HostCliError,
    );
    expect(error.code).toBe("refused");
    expect(error.message).toContain("AddKvpItems returned 32769 (access denied)");
  });
});

describe("add, remove, status", () => {
  it("add refuses an existing key and writes nothing", async () => {
    const error = await thrownAsync(
      writeItems(
        host.wmi,
        "web01",
        [
          { key: "new", value: "1" },
          { key: "role", value: "x" },
        ],
        { mode: "add" },
      ),
      HostCliError,
    );
    expect(error.code).toBe("refused");
    expect(host.wmi.calls.of("invoke AddKvpItems")).toBe(0);
    expect(host.hostItems(WEB01).has("new")).toBe(false);
  });

  it("remove removes keys and their parts; an absent key removes nothing", async () => {
    await writeItems(host.wmi, "web01", [{ key: "doc", value: "a".repeat(3000) }], {
      mode: "upsert",
      chunk: true,
      ...noWait,
    });
    expect((await thrownAsync(removeItems(host.wmi, "web01", ["doc", "nope"]), HostCliError)).code).toBe("not-found");
    const report = await removeItems(host.wmi, "web01", ["doc", "role"], noWait);
    expect(report.removed).toEqual(["doc#1/3", "doc#2/3", "doc#3/3", "role"]);
    expect(host.hostItems(WEB01).size).toBe(0);
  });

  it("status reports the service health and intrinsic facts", async () => {
    const result = await status(host.wmi, "web01");
    expect(result).toMatchObject({
      ok: true,
      operationalStatus: 2,
      health: "OK",
      guestItems: 3,
      intrinsic: { OSName: "Debian GNU/Linux" },
    });
    expect(await status(host.wmi, "off")).toMatchObject({ component: false, ok: false });
  });
});

describe("waitForJob", () => {
  it("stops at the deadline with the job unfinished, on an injected clock", async () => {
    let now = 0;
    host.pauseJobs();
    const { jobId } = await host.wmi.invokeKvpMethod("AddKvpItems", WEB01, []);
    const sleeps: number[] = [];
    const result = await waitForJob(host.wmi, jobId!, {
      timeoutMs: 4000,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    expect(result.finished).toBe(false);
    expect(result.job.jobState).toBe(4);
    // Steady 50 ms for two seconds (40 pauses), then doubling up to one second, cut at the deadline.
    expect(sleeps).toEqual([...Array(40).fill(50), 100, 200, 400, 800, 500]);
    expect(result.polls).toBe(46);
  });

  it("a job still running at the deadline fails the write as job-timeout", async () => {
    let now = 0;
    host.pauseJobs();
    const error = await thrownAsync(
      writeItems(host.wmi, "web01", [{ key: "a", value: "1" }], {
        mode: "upsert",
        timeoutMs: 1000,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      }),
      HostCliError,
    );
    expect(error.code).toBe("job-timeout");
    expect(error.message).toContain("it may still complete");
  });

  it("a job that cannot be read to its end is job-lost, with what the host shows applied", async () => {
    host.client.intercept = (call) => {
      if (call.op === "get") throw new Error("connect ECONNREFUSED 127.0.0.1:5986");
    };
    const error = await thrownAsync(
      writeItems(host.wmi, "web01", [{ key: "a", value: "1" }], { mode: "upsert", ...noWait }),
      HostCliError,
    );
    expect(error.code).toBe("job-lost");
    expect(error.message).toContain("lost track of its job");
    expect(error.message).toContain("ECONNREFUSED");
    // The host applied the call before its job was lost: the re-read says so.
    expect(error.details).toMatchObject({ applied: ["a"], notApplied: [], unknown: [] });
  });
});
