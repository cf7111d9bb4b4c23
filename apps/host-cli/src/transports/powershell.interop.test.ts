// kvp-host's Hyper-V logic through the PowerShell stand-in (src/test-support/powershell-stand-in.ts,
// a separate process speaking the bridge's protocol on top of hyperv-sim over WS-Management),
// compared with the same logic over WsmanCimClient against the same simulated host, whose VMs
// run the real hv_kvp_daemon: without it (and cc for its shim) these tests fail
// (@hyperv-kvp/test-support/tools says how to skip them knowingly).
import { readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type SelfSignedCertificate,
  type WmiHost,
  makeSelfSignedCertificate,
  startWmiHost,
} from "@hyperv-kvp/hyperv-sim";
import { type KvpRecord, decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { encodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { WsmanClient } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostCliError, isHostCliError } from "../host-error.js";
import { list } from "../commands/list.js";
import { status } from "../commands/status.js";
import { vms } from "../commands/vms.js";
import { removeItems, writeItems } from "../commands/write.js";
import { HYPERV_NAMESPACES, HyperVWmi, vmPath } from "../hyperv-wmi.js";
import { waitForJob } from "../jobs.js";
import { type BridgedWmi, openBridged } from "../test-support/bridged-wmi.js";
import { bundleStandIn } from "../test-support/bundle-stand-in.js";
import { TransportError, isTransportError } from "../transport-error.js";
import { WsmanCimClient } from "./wsman.js";

const USER = "Administrator";
const PASSWORD = "Ps-Stand-1n!";
const policy = realDaemonPolicy();

describe("HyperVWmi through the PowerShell stand-in vs through WS-Management, against hyperv-sim's WMI host (real hv_kvp_daemon)", () => {
  if (standInForMissingTools(policy)) return;

  let cert: SelfSignedCertificate;
  let host: WmiHost;
  let dir: string;
  let ps: BridgedWmi;
  let ws: HyperVWmi;
  const stderr: string[] = [];
  const guidOf = (name: string) => host.vms.find((v) => v.name === name)!.guid;
  const pool0 = (name: string) =>
    new Map(
      decodePool(
        new Uint8Array(readFileSync(join(host.vms.find((v) => v.name === name)!.poolDir, poolFileName(0)))),
      ).records.map((r) => [r.key, r.value]),
    );
  /** A result with the VM of each side replaced, so the two sides compare. */
  const sameVm = <T extends { vm: unknown }>(result: T) => ({ ...result, vm: "VM" });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kvp-ps-stand-in-"));
    await bundleStandIn(join(dir, "powershell-stand-in.cjs"));
    cert = makeSelfSignedCertificate();
    host = await startWmiHost({
      vms: ["web01", "ps01", "ws01"],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [USER]: PASSWORD },
    });
    ps = await openBridged({
      command: process.execPath,
      args: [join(dir, "powershell-stand-in.cjs")],
      env: {
        ...process.env,
        KVP_STAND_IN_ENDPOINT: host.endpoint,
        KVP_STAND_IN_USER: USER,
        KVP_STAND_IN_PASSWORD: PASSWORD,
        KVP_STAND_IN_CA: cert.certPath,
      },
      onStderr: (line) => stderr.push(line),
    });
    ws = new HyperVWmi(
      new WsmanCimClient(
        new WsmanClient({
          endpoint: host.endpoint,
          auth: { kind: "ntlm", user: USER, password: PASSWORD },
          ca: cert.cert,
        }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    ps?.close();
    ws?.close();
    await ps?.exited;
    await host?.close();
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("the stand-in says hello like the script", () => {
    expect(ps.hello).toMatchObject({ bridge: "kvp-host-bridge", protocol: 2, psVersion: "stand-in" });
  });

  it("vms: the same VMs", async () => {
    const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    const fromPs = byId(await vms(ps));
    expect(fromPs).toEqual(byId(await vms(ws)));
    expect(fromPs.map((v) => v.name).sort()).toEqual(["ps01", "web01", "ws01"]);
  });

  it("list and status of one VM: the same items and health", async () => {
    expect(await list(ps, "web01")).toEqual(await list(ws, "web01"));
    const s = await status(ps, "web01");
    expect(s).toEqual(await status(ws, "web01"));
    expect(s).toMatchObject({ component: true, operationalStatus: 2, ok: true });
  });

  // 127 plain items and one value of 3,000 characters stored in 3 parts: 130 items, 2 calls.
  const big = Array.from({ length: 3000 }, (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).join("");
  const records: KvpRecord[] = [
    ...Array.from({ length: 127 }, (_, i) => ({ key: `bulk${i}`, value: `value ${i} ✓` })),
    { key: "Big", value: big },
  ];

  it("set of 130 items with --chunk: the same report, and the items land in the guest", async () => {
    const fromPs = await writeItems(ps, "ps01", records, { mode: "upsert", chunk: true });
    const fromWs = await writeItems(ws, "ws01", records, { mode: "upsert", chunk: true });
    expect(sameVm(fromPs)).toEqual(sameVm(fromWs));
    expect(fromPs.added).toHaveLength(130);
    expect(fromPs.methodCalls).toBe(2);
    const guest = pool0("ps01");
    expect(guest.get("bulk126")).toBe("value 126 ✓");
    expect(["Big#1/3", "Big#2/3", "Big#3/3"].map((k) => guest.get(k)).join("")).toBe(big);
    expect(pool0("ps01")).toEqual(pool0("ws01"));
  });

  it("list --source host: the same items, the chunked value reassembled", async () => {
    const fromPs = await list(ps, "ps01", { source: "host" });
    expect(sameVm(fromPs)).toEqual(sameVm(await list(ws, "ws01", { source: "host" })));
    expect(fromPs.items.find((i) => i.key === "Big")).toEqual({ source: "host", key: "Big", value: big, parts: 3 });
    // Each side reads the other's VM the same way too.
    expect(await list(ps, "ws01", { source: "host" })).toEqual(await list(ws, "ws01", { source: "host" }));
    expect(await list(ws, "ps01", { source: "host" })).toEqual(await list(ps, "ps01", { source: "host" }));
  });

  it("set again with one changed value: one ModifyKvpItems on each side", async () => {
    const changed = records.map((r) => (r.key === "bulk0" ? { ...r, value: "changed" } : r));
    const fromPs = await writeItems(ps, "ps01", changed, { mode: "upsert", chunk: true });
    expect(sameVm(fromPs)).toEqual(sameVm(await writeItems(ws, "ws01", changed, { mode: "upsert", chunk: true })));
    expect(fromPs).toMatchObject({ added: [], modified: ["bulk0"], methodCalls: 1 });
  });

  it("add of an existing key is refused the same way, before any call", async () => {
    const outcome = async (t: HyperVWmi, vm: string) => {
      const error = await thrownAsync(writeItems(t, vm, [{ key: "bulk1", value: "x" }], { mode: "add" }), HostCliError);
      expect(isHostCliError(error, "refused")).toBe(true);
      return error.message.replace(vm, "VM").replace(guidOf(vm), "GUID");
    };
    expect(await outcome(ps, "ps01")).toBe(await outcome(ws, "ws01"));
  });

  it("a job that fails on an existing key: the same return value, job state, error code and GetErrorEx errors", async () => {
    const outcome = async (t: HyperVWmi, vm: string) => {
      const item = encodeKvpItem({ name: "bulk2", data: "again", source: "host" });
      const call = await t.invokeKvpMethod("AddKvpItems", guidOf(vm), [item]);
      expect(call.returnValue).toBe(4096);
      const waited = await waitForJob(t, call.jobId!);
      const errors = await t.getJobErrors(call.jobId!);
      const scrub = <T>(value: T): T =>
        JSON.parse(
          JSON.stringify(value)
            .replaceAll(call.jobId!, "JOB")
            .replaceAll(guidOf(vm), "GUID")
            .replaceAll(`"${vm}"`, '"VM"')
            .replaceAll(`\\"${vm}\\"`, '\\"VM\\"'),
        );
      return scrub({
        returnValue: call.returnValue,
        finished: waited.finished,
        jobState: waited.job.jobState,
        errorCode: waited.job.errorCode,
        errorDescription: waited.job.errorDescription,
        errors,
      });
    };
    const fromPs = await outcome(ps, "ps01");
    expect(fromPs).toEqual(await outcome(ws, "ws01"));
    expect(fromPs.finished).toBe(true);
    expect(fromPs.jobState).not.toBe(7);
    expect(fromPs.errors.length).toBeGreaterThan(0);
    expect(pool0("ps01").get("bulk2")).toBe("value 2 ✓");
  });

  it("remove: the same report, gone from the guest", async () => {
    const fromPs = await removeItems(ps, "ps01", ["bulk3", "Big"]);
    expect(sameVm(fromPs)).toEqual(sameVm(await removeItems(ws, "ws01", ["bulk3", "Big"])));
    expect(fromPs.removed).toEqual(["bulk3", "Big#1/3", "Big#2/3", "Big#3/3"]);
    expect(pool0("ps01").has("bulk3")).toBe(false);
    expect(pool0("ps01")).toEqual(pool0("ws01"));
  });

  it("a failure from the host is the same error through either transport", async () => {
    const missing = await thrownAsync(ps.getJob("NO-SUCH-JOB"), TransportError);
    expect(missing.message).toMatch(
      /^get Msvm_ConcreteJob failed on the host: Not found \(NotFound, HRESULT 0x80041002\)$/,
    );
    const missingWs = await thrownAsync(ws.getJob("NO-SUCH-JOB"), TransportError);
    for (const error of [missing, missingWs]) {
      expect(isTransportError(error, "host-error")).toBe(true);
      expect(isTransportError(error) && error.hostError?.kind).toBe("not-found");
    }
    // The bridge refuses a class kvp-host does not use before asking WMI; WS-Management's
    // simulator refuses it as an unknown class: either way an invalid request.
    const badQuery = await thrownAsync(ps.queryVms("SELECT * FROM Msvm_NoSuchClass"), TransportError);
    expect(badQuery.message).toBe(
      "query Msvm_NoSuchClass failed on the host: invalid request: query of Msvm_NoSuchClass is not allowed",
    );
    for (const error of [badQuery, await thrownAsync(ws.queryVms("SELECT * FROM Msvm_NoSuchClass"), TransportError)])
      expect(isTransportError(error) && error.hostError?.kind).toBe("invalid-request");
    // The bridge goes on after a failure.
    expect((await vms(ps)).length).toBe(3);
    expect((await vms(ws)).length).toBe(3);
  });

  it("the bridge does only what its allow-list names", async () => {
    const bridge = ps.bridge;
    const ns = HYPERV_NAMESPACES.host;
    const refusals = [
      bridge.query(ns, 'SELECT * FROM Msvm_ComputerSystem WHERE ElementName="a" OR ElementName="b"'),
      bridge.query("root/cimv2", "SELECT * FROM Msvm_ComputerSystem"),
      bridge.enumerate({ namespace: ns, className: "Msvm_ComputerSystem" }),
      bridge.enumerate({
        source: vmPath(guidOf("web01")),
        assocClass: "Msvm_SystemDevice",
        resultClass: "Msvm_KvpExchangeComponent",
      }),
      bridge.get(vmPath(guidOf("web01"))),
      bridge.invoke(vmPath(guidOf("web01")), "RequestStateChange", new Map([["RequestedState", "3"]])),
      bridge.invoke(
        {
          namespace: ns,
          className: "Msvm_VirtualSystemManagementService",
          keys: [{ name: "Name", type: "string", value: "vmms" }],
        },
        "AddKvpItems",
        new Map([["DataItems", ["<INSTANCE/>"]]]),
      ),
    ];
    const messages: string[] = [];
    for (const refusal of refusals) {
      const error = await thrownAsync(refusal, TransportError);
      expect(isTransportError(error) && error.hostError?.kind, error.message).toBe("invalid-request");
      messages.push(error.message.replace(/^.* failed on the host: /, ""));
    }
    expect(messages).toEqual([
      "invalid request: WQL must be SELECT * FROM a class with equality conditions",
      "invalid request: namespace 'root/cimv2' is not one kvp-host uses",
      "invalid request: enumeration of Msvm_ComputerSystem is not allowed",
      "invalid request: association Msvm_ComputerSystem/Msvm_SystemDevice/Msvm_KvpExchangeComponent is not allowed",
      "invalid request: get of Msvm_ComputerSystem is not allowed",
      "invalid request: method Msvm_ComputerSystem.RequestStateChange is not allowed",
      "invalid request: AddKvpItems takes TargetSystem, DataItems",
    ]);
    // Nothing of that reached the host: the VM still runs and has no new items.
    expect(host.model.findVm(guidOf("web01"))?.running).toBe(true);
  });

  it("calls: the same labels and counts through either transport (job polls aside, which follow each job's pace)", () => {
    const { "get Msvm_ConcreteJob": pj, ...p } = ps.calls.snapshot();
    const { "get Msvm_ConcreteJob": wj, ...w } = ws.calls.snapshot();
    expect(pj).toBeGreaterThan(0);
    expect(wj).toBeGreaterThan(0);
    expect(p).toEqual(w);
    expect(p["invoke AddKvpItems"]).toBeGreaterThan(0);
    expect(stderr).toEqual([]);
  });
});
