// The bridge's allow-list: it must let through every request kvp-host's Hyper-V logic makes
// (else the PowerShell transport breaks) and nothing else. The script holds the same lists
// (powershell-script.test.ts compares them).
import type { CimInstance, CimInstancePath } from "@hyperv-kvp/kvp-core/cim";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { list } from "../commands/list.js";
import { status } from "../commands/status.js";
import { vms } from "../commands/vms.js";
import { removeItems, writeItems } from "../commands/write.js";
import { HYPERV_NAMESPACES, type HyperVNamespace, HyperVWmi, vmPath } from "../hyperv-wmi.js";
import { type SimHost, WEB01, startSimHost } from "../test-support/sim-host.js";
import type { CimArgument, CimClient, CimEnumeration, CimMethodResult } from "../transport.js";
import { allVmsQuery, componentQuery, vmByIdQuery, vmsByNameQuery } from "../wql.js";
import { MAX_WQL_CHARS, WQL_SELECT_PATTERN, refusalOf } from "./bridge-allow-list.js";
import { type BridgeRequestBody, enumerateRequest, invokeRequest, toBridgePath } from "./powershell-protocol.js";
import { WsmanCimClient } from "./wsman.js";

/** Passes every call on, after writing it as the bridge request it would be and asking the allow-list. */
class AllowListWitness implements CimClient {
  readonly requests: BridgeRequestBody[] = [];
  readonly refusals: string[] = [];

  constructor(private readonly inner: CimClient) {}

  private see(request: BridgeRequestBody): void {
    this.requests.push(request);
    const refusal = refusalOf(request);
    if (refusal !== undefined) this.refusals.push(refusal);
  }

  query(namespace: string, wql: string): Promise<CimInstance[]> {
    this.see({ op: "query", namespace, wql });
    return this.inner.query(namespace, wql);
  }

  enumerate(what: CimEnumeration): Promise<CimInstance[]> {
    this.see(enumerateRequest(what));
    return this.inner.enumerate(what);
  }

  get(path: CimInstancePath): Promise<CimInstance> {
    this.see({ op: "get", path: toBridgePath(path) });
    return this.inner.get(path);
  }

  invoke(path: CimInstancePath, method: string, args: ReadonlyMap<string, CimArgument>): Promise<CimMethodResult> {
    this.see(invokeRequest(path, method, args));
    return this.inner.invoke(path, method, args);
  }

  close(): void {
    this.inner.close();
  }
}

describe("the allow-list lets through everything kvp-host asks, in either namespace", () => {
  let host: SimHost;
  beforeEach(async () => {
    host = await startSimHost();
  });
  afterEach(async () => {
    await host.close();
  });

  const witnessed = (namespace: HyperVNamespace) => {
    const witness = new AllowListWitness(
      new WsmanCimClient(host.sim.client({ beforeRequest: () => host.sim.settle() })),
    );
    return { witness, wmi: new HyperVWmi(witness, { namespace }) };
  };

  it.each([HYPERV_NAMESPACES.host, HYPERV_NAMESPACES.cluster])("%s", async (namespace) => {
    const { witness, wmi } = witnessed(namespace);
    // The simulator's single host answers the host namespace only; the requests are what count.
    const run = async (command: () => Promise<unknown>) => {
      await command().catch(() => undefined);
    };
    await run(() => vms(wmi));
    await run(() => list(wmi, "web01"));
    await run(() => list(wmi, WEB01));
    await run(() => status(wmi, "web01"));
    await run(() => writeItems(wmi, "web01", [{ key: "a", value: "1" }], { mode: "upsert", sleep: async () => {} }));
    await run(() => removeItems(wmi, "web01", ["a"], { sleep: async () => {} }));
    await run(async () => {
      const { jobId } = await wmi.invokeKvpMethod("AddKvpItems", WEB01, []);
      await wmi.getJob(jobId ?? "JOB");
      await wmi.getJobErrors(jobId ?? "JOB");
    });
    await run(() => wmi.getJobErrors("NO-SUCH-JOB"));
    expect(witness.refusals).toEqual([]);
    const kinds = new Set(
      witness.requests.map((r) =>
        r.op === "enumerate" ? ("className" in r ? `enumerate ${r.className}` : `associators ${r.resultClass}`) : r.op,
      ),
    );
    if (namespace === HYPERV_NAMESPACES.host) {
      expect(kinds).toEqual(
        new Set([
          "query",
          "associators Msvm_VirtualSystemSettingData",
          "associators Msvm_KvpExchangeComponentSettingData",
          "enumerate Msvm_VirtualSystemManagementService",
          "invoke",
          "get",
        ]),
      );
    }
  });
});

describe("WQL_SELECT_PATTERN", () => {
  it.each([
    allVmsQuery(),
    vmsByNameQuery("web01"),
    vmsByNameQuery('we"b\\01 — ☃ \n x'),
    vmsByNameQuery('a" OR Name="b'),
    vmByIdQuery("11111111-2222-3333-4444-555555555555"),
    componentQuery("11111111-2222-3333-4444-555555555555"),
  ])("takes the WQL kvp-host writes: %s", (wql) => {
    expect(WQL_SELECT_PATTERN.test(wql)).toBe(true);
  });

  it.each([
    'SELECT * FROM Msvm_ComputerSystem WHERE ElementName="a" OR ElementName="b"',
    // A quote that was not escaped ends the string early: what follows is not a condition.
    'SELECT * FROM Msvm_ComputerSystem WHERE ElementName="a" OR Name="b"',
    'SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE "a%"',
    "SELECT Name FROM Msvm_ComputerSystem",
    "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'",
    'SELECT * FROM Msvm_ComputerSystem WHERE ElementName="a\\x"',
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE ResultClass=Msvm_KvpExchangeComponent",
    "SELECT * FROM Msvm_ComputerSystem; SELECT * FROM Win32_Process",
    'select * from Msvm_ComputerSystem WHERE Name="x"',
    `SELECT * FROM Msvm_ComputerSystem WHERE ${Array.from({ length: 17 }, (_, i) => `P${i}="x"`).join(" AND ")}`,
  ])("refuses anything else: %s", (wql) => {
    expect(WQL_SELECT_PATTERN.test(wql)).toBe(false);
  });
});

describe("refusalOf", () => {
  const ns = HYPERV_NAMESPACES.host;
  const service: CimInstancePath = {
    namespace: ns,
    className: "Msvm_VirtualSystemManagementService",
    keys: [{ name: "Name", type: "string", value: "vmms" }],
  };
  const add = (args: [string, CimArgument][], method = "AddKvpItems", path = service) =>
    refusalOf(invokeRequest(path, method, new Map(args)));

  it("allows the calls kvp-host makes, in either namespace and with either slash", () => {
    expect(
      add([
        ["TargetSystem", vmPath("G")],
        ["DataItems", ["<INSTANCE/>"]],
      ]),
    ).toBeUndefined();
    expect(refusalOf({ op: "query", namespace: "ROOT\\HyperVCluster\\v2", wql: allVmsQuery() })).toBeUndefined();
  });

  it.each([
    [
      { op: "query", namespace: ns, wql: "SELECT * FROM Win32_Process" },
      "invalid request: query of Win32_Process is not allowed",
    ],
    [
      {
        op: "query",
        namespace: ns,
        wql: `SELECT * FROM Msvm_ComputerSystem WHERE ElementName="${"x".repeat(MAX_WQL_CHARS)}"`,
      },
      `invalid request: WQL longer than ${MAX_WQL_CHARS} characters`,
    ],
    [
      { op: "query", namespace: "root/cimv2", wql: allVmsQuery() },
      "invalid request: namespace 'root/cimv2' is not one kvp-host uses",
    ],
    [
      { op: "enumerate", namespace: ns, className: "Msvm_ConcreteJob" },
      "invalid request: enumeration of Msvm_ConcreteJob is not allowed",
    ],
    [{ op: "get", path: toBridgePath(vmPath("G")) }, "invalid request: get of Msvm_ComputerSystem is not allowed"],
  ] as [BridgeRequestBody, string][])("refuses %j", (request, message) => {
    expect(refusalOf(request)).toBe(message);
  });

  it("checks a method's arguments: every one, none other, of its type", () => {
    const target = vmPath("G");
    expect(add([["DataItems", ["x"]]])).toBe("invalid request: AddKvpItems takes TargetSystem, DataItems");
    expect(
      add([
        ["TargetSystem", target],
        ["DataItems", ["x"]],
        ["Extra", "y"],
      ]),
    ).toBe("invalid request: AddKvpItems takes TargetSystem, DataItems");
    expect(
      add([
        ["TargetSystem", target],
        ["DataItems", "x"],
      ]),
    ).toBe("invalid request: argument DataItems must be string[]");
    expect(
      add([
        ["TargetSystem", "G"],
        ["DataItems", ["x"]],
      ]),
    ).toBe("invalid request: argument TargetSystem must be a reference to Msvm_ComputerSystem");
    expect(
      add([
        ["TargetSystem", { ...target, className: "Msvm_VirtualSystemManagementService" }],
        ["DataItems", ["x"]],
      ]),
    ).toBe("invalid request: argument TargetSystem must be a reference to Msvm_ComputerSystem");
    expect(
      add([
        ["TargetSystem", { ...target, namespace: "root/cimv2" }],
        ["DataItems", ["x"]],
      ]),
    ).toBe("invalid request: argument TargetSystem must be a reference to Msvm_ComputerSystem");
    expect(add([], "DestroySystem")).toBe(
      "invalid request: method Msvm_VirtualSystemManagementService.DestroySystem is not allowed",
    );
    // Names compare exactly; a method inherited from Object.prototype is not a method of the list.
    expect(add([], "addkvpitems")).toMatch(/is not allowed/);
    expect(add([], "constructor", { ...service, className: "Object" })).toMatch(/is not allowed/);
  });
});
