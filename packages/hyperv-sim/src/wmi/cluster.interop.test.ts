import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { decodeKvpItem, decodeWmiErrors, encodeKvpItem, pathToEpr, wqlString } from "@hyperv-kvp/kvp-core/cim";
import { WsmanClient, type WsmanInstance, isWsmanError, valueAsArray } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSimError } from "../errors.js";
import { type SelfSignedCertificate, makeSelfSignedCertificate } from "../self-signed-certificate.js";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { CLUSTER_NAMESPACE, CLUSTER_RESOURCE_URI } from "./cluster-model.js";
import { type WmiCluster, startWmiCluster } from "./cluster.js";
import { V2_NAMESPACE, V2_RESOURCE_URI } from "./wmi-classes.js";

// A two-node cluster over real loopback HTTPS, with wsman's client, every VM backed by the
// REAL hv_kvp_daemon: root/HyperVCluster/v2 on either node sees and reaches every VM;
// root/virtualization/v2 on a node sees only that node's VMs.

const policy = realDaemonPolicy();
const PASSWORD = "Clu5ter-Pa55!";
const CLU = CLUSTER_RESOURCE_URI;
const V2 = V2_RESOURCE_URI;
const VMS_QUERY = "SELECT * FROM Msvm_ComputerSystem WHERE Description='Microsoft Virtual Machine'";

const text = (i: WsmanInstance, name: string) => i.properties.get(name) as string;
const item = (name: string, data = "") => encodeKvpItem({ name, data, source: "host" });

function serviceSelectors(systemName: string) {
  return [
    { name: "CreationClassName", value: "Msvm_VirtualSystemManagementService" },
    { name: "Name", value: "vmms" },
    { name: "SystemCreationClassName", value: "Msvm_ComputerSystem" },
    { name: "SystemName", value: systemName },
  ];
}

function vmEpr(namespace: string, guid: string) {
  return pathToEpr({
    namespace,
    className: "Msvm_ComputerSystem",
    keys: [
      { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
      { name: "Name", type: "string", value: guid },
    ],
  });
}

describe("a two-node cluster over WS-Management, VMs backed by the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let cert: SelfSignedCertificate;
  let cluster: WmiCluster;
  let viaCluster: WsmanClient;
  let viaHv01: WsmanClient;
  let viaHv02: WsmanClient;
  const guid = (name: string) => cluster.vms.find((v) => v.name === name)!.guid;

  beforeAll(async () => {
    cert = makeSelfSignedCertificate();
    cluster = await startWmiCluster({
      name: "HVCLU01",
      nodes: [
        { name: "HV01", vms: ["web01", "db01"] },
        { name: "HV02", vms: ["web02"] },
      ],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { Administrator: PASSWORD },
    });
    const client = (endpoint: string, kind: "basic" | "ntlm" = "basic") =>
      new WsmanClient({
        endpoint,
        ca: cert.cert,
        timeoutMs: 10_000,
        auth: { kind, user: "Administrator", password: PASSWORD },
      });
    viaCluster = client(cluster.clusterEndpoint, "ntlm");
    viaHv01 = client(cluster.endpointOf("hv01"));
    viaHv02 = client(cluster.endpointOf("HV02"));
  }, 30_000);

  afterAll(async () => {
    for (const c of [viaCluster, viaHv01, viaHv02]) c?.close();
    const dirs = cluster?.vms.map((v) => v.poolDir) ?? [];
    await cluster?.close();
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
  });

  function pool(vmName: string, n: 0 | 1 | 3): Map<string, string> {
    const file = join(cluster.vms.find((v) => v.name === vmName)!.poolDir, poolFileName(n));
    if (!existsSync(file)) return new Map();
    return new Map(decodePool(new Uint8Array(readFileSync(file))).records.map((r) => [r.key, r.value]));
  }

  function invoke(
    client: WsmanClient,
    namespaceUri: string,
    method: string,
    vmGuid: string,
    items: string[],
    systemName = "HVCLU01",
  ) {
    const namespace = namespaceUri === CLU ? CLUSTER_NAMESPACE : V2_NAMESPACE;
    return client.invoke(`${namespaceUri}/Msvm_VirtualSystemManagementService`, method, serviceSelectors(systemName), {
      TargetSystem: vmEpr(namespace, vmGuid),
      DataItems: items,
    });
  }

  async function finished(client: WsmanClient, namespaceUri: string, jobId: string): Promise<WsmanInstance> {
    for (let i = 0; i < 200; i++) {
      const job = await client.get(`${namespaceUri}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: jobId }]);
      if (text(job, "JobState") !== "4") return job;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("job did not finish");
  }

  async function hostItems(client: WsmanClient, namespaceUri: string, vmGuid: string): Promise<string[]> {
    const [settings] = await client.enumerate(
      `${namespaceUri}/*`,
      `ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name=${wqlString(vmGuid)}} WHERE AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData`,
    );
    const [data] = await client.enumerate(
      `${namespaceUri}/*`,
      `ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID=${wqlString(text(settings!, "InstanceID"))}} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData`,
    );
    expect(data!.resourceUri).toBe(`${namespaceUri}/Msvm_KvpExchangeComponentSettingData`);
    return valueAsArray(data!.properties.get("HostExchangeItems")).map((x) => {
      const decoded = decodeKvpItem(x);
      return `${decoded.name}=${decoded.data}`;
    });
  }

  it("root/HyperVCluster/v2 lists every node's VMs once, from the cluster endpoint and from either node", async () => {
    const expected = [`db01 ${guid("db01")}`, `web01 ${guid("web01")}`, `web02 ${guid("web02")}`];
    for (const client of [viaCluster, viaHv02]) {
      const vms = await client.enumerate(`${CLU}/*`, VMS_QUERY);
      expect(vms.map((v) => `${text(v, "ElementName")} ${text(v, "Name")}`).sort()).toEqual(expected);
      for (const v of vms) expect(v.resourceUri).toBe(`${CLU}/Msvm_ComputerSystem`);
    }
    // The cluster is the one hosting system there; the nodes' own are not listed.
    const all = await viaCluster.enumerate(`${CLU}/*`, "SELECT * FROM Msvm_ComputerSystem");
    expect(all.map((s) => text(s, "Name"))).toEqual(["HVCLU01", ...cluster.vms.map((v) => v.guid)]);
    expect(
      text(
        await viaHv01.get(`${CLU}/Msvm_ComputerSystem`, [
          { name: "CreationClassName", value: "Msvm_ComputerSystem" },
          { name: "Name", value: "hvclu01" },
        ]),
        "Caption",
      ),
    ).toBe("Hosting Computer System");
    // A node's own namespace shows only what it runs.
    expect((await viaHv01.enumerate(`${V2}/*`, VMS_QUERY)).map((v) => text(v, "ElementName")).sort()).toEqual([
      "db01",
      "web01",
    ]);
    expect(
      (await viaHv02.enumerate(`${V2}/*`, "SELECT * FROM Msvm_ComputerSystem")).map((v) => text(v, "Name")),
    ).toEqual(["HV02", guid("web02")]);
  });

  it("has one management service scoped to the cluster; each node keeps its own", async () => {
    const [service, ...more] = await viaCluster.enumerate(
      `${CLU}/*`,
      "SELECT * FROM Msvm_VirtualSystemManagementService",
    );
    expect(more).toEqual([]);
    expect([text(service!, "Name"), text(service!, "SystemName")]).toEqual(["vmms", "HVCLU01"]);
    expect(service!.resourceUri).toBe(`${CLU}/Msvm_VirtualSystemManagementService`);
    expect(
      await viaCluster.enumerate(
        `${CLU}/*`,
        "SELECT * FROM Msvm_VirtualSystemManagementService WHERE SystemName='HV01'",
      ),
    ).toEqual([]);
    const [own] = await viaHv02.enumerate(`${V2}/*`, "SELECT * FROM Msvm_VirtualSystemManagementService");
    expect(text(own!, "SystemName")).toBe("HV02");
  });

  it("AddKvpItems through the cluster reaches the owning node's guest; the job is polled through the cluster", async () => {
    // Asked on HV01's endpoint (the cluster name's owner) for a VM that runs on HV02.
    const result = await invoke(viaCluster, CLU, "AddKvpItems", guid("web02"), [
      item("Role", "web"),
      item("Owner", "ops ✓"),
    ]);
    expect(result.returnValue).toBe(4096);
    expect(result.job?.resourceUri).toBe(`${CLU}/Msvm_ConcreteJob`);
    const job = await finished(viaCluster, CLU, result.jobInstanceId!);
    expect([text(job, "JobState"), text(job, "ErrorCode")]).toEqual(["7", "0"]);
    expect(job.resourceUri).toBe(`${CLU}/Msvm_ConcreteJob`);
    expect(pool("web02", 0)).toEqual(
      new Map([
        ["Role", "web"],
        ["Owner", "ops ✓"],
      ]),
    );
    expect(pool("web01", 0)).toEqual(new Map());
    expect(await hostItems(viaCluster, CLU, guid("web02"))).toEqual(["Role=web", "Owner=ops ✓"]);
    // The job lives on the node that ran it.
    expect(
      text(
        await viaHv02.get(`${V2}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: result.jobInstanceId! }]),
        "JobState",
      ),
    ).toBe("7");
    await expect(
      viaHv01.get(`${V2}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: result.jobInstanceId! }]),
    ).rejects.toSatisfy((e) => isWsmanError(e, "fault"));
  });

  it("reads what the guest of a VM on another node reports, through the cluster", async () => {
    writeFileSync(
      join(cluster.vms.find((v) => v.name === "web02")!.poolDir, poolFileName(1)),
      encodePool([{ key: "AppVersion", value: "2.0" }]),
    );
    const [component, ...more] = await viaCluster.enumerate(
      `${CLU}/*`,
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName=${wqlString(guid("web02"))}`,
    );
    expect(more).toEqual([]);
    expect(component!.resourceUri).toBe(`${CLU}/Msvm_KvpExchangeComponent`);
    expect(valueAsArray(component!.properties.get("GuestExchangeItems")).map((x) => decodeKvpItem(x).name)).toEqual([
      "AppVersion",
    ]);
    expect(
      valueAsArray(component!.properties.get("GuestIntrinsicExchangeItems")).map((x) => decodeKvpItem(x).name),
    ).toContain("IntegrationServicesVersion");
  });

  it("a failing job ends in Exception and its GetErrorEx is answered through the cluster", async () => {
    const result = await invoke(viaCluster, CLU, "AddKvpItems", guid("web02"), [item("Role", "again")]);
    const job = await finished(viaCluster, CLU, result.jobInstanceId!);
    expect([text(job, "JobState"), text(job, "ErrorCode")]).toEqual(["10", "32773"]);
    const errors = await viaCluster.invoke(
      `${CLU}/Msvm_ConcreteJob`,
      "GetErrorEx",
      [{ name: "InstanceID", value: result.jobInstanceId! }],
      {},
    );
    expect(decodeWmiErrors(valueAsArray(errors.outputs.get("Errors") as string))[0]).toMatchObject({
      cimStatusCode: 11,
    });
    expect(pool("web02", 0).get("Role")).toBe("web");
  });

  it("refuses a node's service selectors, unknown VMs and jobs, and unsupported queries", async () => {
    await expect(invoke(viaCluster, CLU, "AddKvpItems", guid("web01"), [item("x")], "HV01")).rejects.toSatisfy(
      (e) => isWsmanError(e, "fault") && /InvalidSelectors/.test(String(e.fault?.subcode)),
    );
    expect(
      (await invoke(viaCluster, CLU, "AddKvpItems", "99999999-9999-4999-8999-999999999999", [item("x")])).returnValue,
    ).toBe(32773);
    await expect(viaCluster.get(`${CLU}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: "nope" }])).rejects.toSatisfy(
      (e) => isWsmanError(e, "fault"),
    );
    for (const query of [
      "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE 'w%'",
      "SELECT * FROM Msvm_ComputerSystem WHERE NoSuchProperty='x'",
      "SELECT * FROM Win32_Process",
    ]) {
      await expect(viaCluster.enumerate(`${CLU}/*`, query)).rejects.toSatisfy(
        (e) => isWsmanError(e, "fault") && /CannotProcessFilter/.test(String(e.fault?.subcode)),
      );
    }
  });

  it("live migration: host items travel, the cluster keeps finding the VM, the old node no longer lists it", async () => {
    const web01 = guid("web01");
    const before = await invoke(viaCluster, CLU, "AddKvpItems", web01, [item("Role", "web")]);
    expect(text(await finished(viaCluster, CLU, before.jobInstanceId!), "JobState")).toBe("7");
    expect(pool("web01", 3).get("PhysicalHostName")).toBe("HV01");

    await cluster.migrateVm(web01, "hv02");
    expect(cluster.ownerOf(web01)).toBe("HV02");
    expect(cluster.vms.find((v) => v.guid === web01)?.node).toBe("HV02");

    // The cluster still finds it, once, by name.
    const found = await viaCluster.enumerate(`${CLU}/*`, `${VMS_QUERY} AND ElementName='web01'`);
    expect(found.map((v) => text(v, "Name"))).toEqual([web01]);
    expect(await hostItems(viaCluster, CLU, web01)).toEqual(["Role=web"]);
    // The old node's own namespace no longer lists it, and refuses to write to it; the new node's does.
    expect(
      await viaHv01.enumerate(`${V2}/*`, `SELECT * FROM Msvm_ComputerSystem WHERE Name=${wqlString(web01)}`),
    ).toEqual([]);
    expect((await invoke(viaHv01, V2, "ModifyKvpItems", web01, [item("Role", "x")], "HV01")).returnValue).toBe(32773);
    expect(await hostItems(viaHv02, V2, web01)).toEqual(["Role=web"]);

    // Writes through the cluster now go to HV02 and reach the same, still running guest.
    const after = await invoke(viaCluster, CLU, "ModifyKvpItems", web01, [item("Role", "web-v2")]);
    expect(text(await finished(viaCluster, CLU, after.jobInstanceId!), "JobState")).toBe("7");
    expect(pool("web01", 0)).toEqual(new Map([["Role", "web-v2"]]));
    expect(
      text(
        await viaHv02.get(`${V2}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: after.jobInstanceId! }]),
        "JobState",
      ),
    ).toBe("7");
    // The guest learns its new host (pool 3); the job that ran before the move is still readable.
    expect(pool("web01", 3).get("PhysicalHostName")).toBe("HV02");
    expect(
      text(
        await viaCluster.get(`${CLU}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: before.jobInstanceId! }]),
        "JobState",
      ),
    ).toBe("7");
  });
});

describe("startWmiCluster refuses a bad shape", () => {
  const common = { users: { a: "b" }, allowUnencrypted: true, daemon: "model" } as const;

  it.each([
    [{ name: "HV01", nodes: [{ name: "hv01", vms: [] }] }, /HV01|hv01 is used twice/],
    [{ name: "clu", nodes: [] }, /no nodes/],
  ])("%j", async (shape, message) => {
    await expect(startWmiCluster({ ...common, ...shape })).rejects.toSatisfy(
      (e) => isSimError(e, "invalid-argument") && message.test(e.message),
    );
  });

  it("refuses one VM GUID on two nodes, stopping what it started", async () => {
    const vm = { name: "x", guid: "44444444-4444-4444-8444-444444444444" };
    await expect(
      startWmiCluster({
        ...common,
        name: "clu",
        nodes: [
          { name: "a", vms: [vm] },
          { name: "b", vms: [vm] },
        ],
      }),
    ).rejects.toSatisfy(
      (e) =>
        isSimError(e, "invalid-argument") && /44444444-4444-4444-8444-444444444444 is already used/.test(e.message),
    );
  });
});

describe("a live migration while a job runs (model daemon)", () => {
  it("the job finishes on the node that started it, into the same guest; the cluster reads it Completed", async () => {
    const cluster = await startWmiCluster({
      name: "clu",
      nodes: [
        { name: "a", vms: ["web01"] },
        { name: "b", vms: [] },
      ],
      daemon: "model",
      allowUnencrypted: true,
      users: { u: "p" },
      jobDelayMs: 300,
    });
    const client = new WsmanClient({
      endpoint: cluster.clusterEndpoint,
      allowUnencrypted: true,
      auth: { kind: "basic", user: "u", password: "p" },
    });
    try {
      const vm = cluster.vms[0]!;
      const result = await client.invoke(
        `${CLU}/Msvm_VirtualSystemManagementService`,
        "AddKvpItems",
        serviceSelectors("clu"),
        {
          TargetSystem: vmEpr(CLUSTER_NAMESPACE, vm.guid),
          DataItems: [item("Role", "web")],
        },
      );
      expect(result.returnValue).toBe(4096);
      const jobId = result.jobInstanceId!;
      const readJob = () => client.get(`${CLU}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: jobId }]);
      expect(text(await readJob(), "JobState")).toBe("4");
      await cluster.migrateVm(vm.guid, "b");
      expect(cluster.ownerOf(vm.guid)).toBe("b");
      // Still running, still found through the cluster on the node that started it.
      expect(text(await readJob(), "JobState")).toBe("4");
      expect(cluster.model.findJob(jobId)?.node.hostName).toBe("a");
      await cluster.settle();
      expect(text(await readJob(), "JobState")).toBe("7");
      // The guest that kept running across the move received the item; its host items moved with it.
      expect((await vm.host.enumerate(0)).records).toContainEqual(
        expect.objectContaining({ key: "Role", value: "web" }),
      );
      expect(cluster.model.node("b")!.findVm(vm.guid)).toBeDefined();
      expect(cluster.model.node("a")!.findVm(vm.guid)).toBeUndefined();
    } finally {
      client.close();
      await cluster.close();
    }
  });
});
