import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import {
  type CimInstancePath,
  decodeKvpItem,
  decodeWmiErrors,
  encodeKvpItem,
  pathToEpr,
  wqlString,
} from "@hyperv-kvp/kvp-core/cim";
import { WsmanClient, type WsmanInstance, isWsmanError, valueAsArray } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { V2_NAMESPACE, V2_RESOURCE_URI } from "./wmi-classes.js";
import { type WmiHost, startWmiHost } from "./wmi-server.js";
import { type SelfSignedCertificate, makeSelfSignedCertificate } from "../self-signed-certificate.js";

// Over real loopback HTTPS, with wsman's client, against VMs backed by the REAL hv_kvp_daemon.

const policy = realDaemonPolicy();
const PASSWORD = "Pa55w0rd!";
const SERVICE = `${V2_RESOURCE_URI}/Msvm_VirtualSystemManagementService`;
const SERVICE_SELECTORS = [
  { name: "CreationClassName", value: "Msvm_VirtualSystemManagementService" },
  { name: "Name", value: "vmms" },
  { name: "SystemCreationClassName", value: "Msvm_ComputerSystem" },
  { name: "SystemName", value: "HV-HOST01" },
];

function vmPath(guid: string): CimInstancePath {
  return {
    namespace: V2_NAMESPACE,
    className: "Msvm_ComputerSystem",
    keys: [
      { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
      { name: "Name", type: "string", value: guid },
    ],
  };
}

const text = (i: WsmanInstance, name: string) => i.properties.get(name) as string;

describe("WMI over WS-Management, VMs backed by the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let cert: SelfSignedCertificate;
  let host: WmiHost;
  let basic: WsmanClient;
  let ntlm: WsmanClient;
  let web01: string;

  beforeAll(async () => {
    cert = makeSelfSignedCertificate();
    host = await startWmiHost({
      vms: ["web01", "dup", "dup"],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { Administrator: PASSWORD },
    });
    const common = { endpoint: host.endpoint, ca: cert.cert, timeoutMs: 10_000 };
    basic = new WsmanClient({ ...common, auth: { kind: "basic", user: "Administrator", password: PASSWORD } });
    ntlm = new WsmanClient({ ...common, auth: { kind: "ntlm", user: "administrator", password: PASSWORD } });
    web01 = host.vms[0]!.guid;
  }, 30_000);

  afterAll(async () => {
    basic?.close();
    ntlm?.close();
    const dirs = host?.vms.map((v) => v.poolDir) ?? [];
    await host?.close();
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
  });

  async function invoke(client: WsmanClient, method: string, guid: string, items: string[]) {
    return client.invoke(SERVICE, method, SERVICE_SELECTORS, {
      TargetSystem: pathToEpr(vmPath(guid)),
      DataItems: items,
    });
  }

  async function finished(client: WsmanClient, jobId: string): Promise<WsmanInstance> {
    for (let i = 0; i < 200; i++) {
      const job = await client.get(`${V2_RESOURCE_URI}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: jobId }]);
      if (text(job, "JobState") !== "4") return job;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("job did not finish");
  }

  function pool0(): Map<string, string> {
    const bytes = readFileSync(join(host.vms[0]!.poolDir, poolFileName(0)));
    return new Map(decodePool(new Uint8Array(bytes)).records.map((r) => [r.key, r.value]));
  }

  const item = (name: string, data = "") => encodeKvpItem({ name, data, source: "host" });

  it("finds VMs by name with WQL (NTLM); two VMs may share a name", async () => {
    const [vm, ...more] = await ntlm.enumerate(
      `${V2_RESOURCE_URI}/*`,
      `SELECT * FROM Msvm_ComputerSystem WHERE ElementName=${wqlString("web01")}`,
    );
    expect(more).toEqual([]);
    expect(text(vm!, "Name")).toBe(web01);
    expect(text(vm!, "EnabledState")).toBe("2");
    const dups = await ntlm.enumerate(
      `${V2_RESOURCE_URI}/*`,
      "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='dup'",
    );
    expect(dups.map((d) => text(d, "Name")).sort()).toEqual([host.vms[1]!.guid, host.vms[2]!.guid].sort());
    expect(
      await ntlm.enumerate(`${V2_RESOURCE_URI}/*`, `SELECT * FROM Msvm_ComputerSystem WHERE ElementName="nope"`),
    ).toEqual([]);
  });

  it("AddKvpItems of 2 items reaches the guest's .kvp_pool_0 through the daemon (Basic)", async () => {
    const result = await invoke(basic, "AddKvpItems", web01, [item("Role", "web"), item("Owner", "ops team ✓")]);
    expect(result.returnValue).toBe(4096);
    const job = await finished(basic, result.jobInstanceId!);
    expect(text(job, "JobState")).toBe("7");
    expect(pool0()).toEqual(
      new Map([
        ["Role", "web"],
        ["Owner", "ops team ✓"],
      ]),
    );
    const [setting] = await basic.enumerate(
      `${V2_RESOURCE_URI}/Msvm_KvpExchangeComponentSettingData`,
      `SELECT * FROM Msvm_KvpExchangeComponentSettingData WHERE InstanceID=${wqlString(`Microsoft:${web01}\\KvpExchangeComponentSettingData`)}`,
    );
    expect(valueAsArray(setting!.properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x).name)).toEqual([
      "Role",
      "Owner",
    ]);
    // The route a real host offers (docs/wmi-and-cim.md#finding-a-vm-and-its-items):
    // VM → realized Msvm_VirtualSystemSettingData → KVP setting data.
    const [settings, ...more] = await basic.enumerate(
      `${V2_RESOURCE_URI}/*`,
      `ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name=${wqlString(web01)}} WHERE AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData`,
    );
    expect(more).toEqual([]);
    expect(text(settings!, "InstanceID")).toBe(`Microsoft:${web01}`);
    const [viaAssoc] = await ntlm.enumerate(
      `${V2_RESOURCE_URI}/*`,
      `ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID=${wqlString(text(settings!, "InstanceID"))}} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData`,
    );
    expect(valueAsArray(viaAssoc!.properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x).name)).toEqual([
      "Role",
      "Owner",
    ]);
  });

  it("shows what the guest writes to pool 1 in GuestExchangeItems, read through the daemon", async () => {
    writeFileSync(
      join(host.vms[0]!.poolDir, poolFileName(1)),
      encodePool([
        { key: "AppVersion", value: "1.2.3" },
        { key: "Ready", value: "yes" },
      ]),
    );
    const [component, ...more] = await ntlm.enumerate(
      `${V2_RESOURCE_URI}/*`,
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${web01}"`,
    );
    expect(more).toEqual([]);
    expect(valueAsArray(component!.properties.get("OperationalStatus"))).toEqual(["2"]);
    const guest = valueAsArray(component!.properties.get("GuestExchangeItems")).map((x) => decodeKvpItem(x));
    expect(guest.map((g) => [g.name, g.data, g.source])).toEqual([
      ["AppVersion", "1.2.3", "guest"],
      ["Ready", "yes", "guest"],
    ]);
    const intrinsic = valueAsArray(component!.properties.get("GuestIntrinsicExchangeItems")).map((x) =>
      decodeKvpItem(x),
    );
    expect(intrinsic.map((i) => i.name)).toContain("IntegrationServicesVersion");
  });

  it("ModifyKvpItems and RemoveKvpItems change pool 0", async () => {
    const modify = await invoke(ntlm, "ModifyKvpItems", web01, [item("Role", "db")]);
    expect(text(await finished(ntlm, modify.jobInstanceId!), "JobState")).toBe("7");
    expect(pool0().get("Role")).toBe("db");
    const remove = await invoke(ntlm, "RemoveKvpItems", web01, [item("Owner", "ignored")]);
    expect(text(await finished(ntlm, remove.jobInstanceId!), "JobState")).toBe("7");
    expect(pool0()).toEqual(new Map([["Role", "db"]]));
  });

  it("Add of an existing key ends the job in Exception with a readable description, nothing applied", async () => {
    const result = await invoke(basic, "AddKvpItems", web01, [item("Fresh", "1"), item("Role", "x")]);
    expect(result.returnValue).toBe(4096);
    const job = await finished(basic, result.jobInstanceId!);
    expect(text(job, "JobState")).toBe("10");
    expect(text(job, "ErrorCode")).toBe("32773");
    expect(text(job, "ErrorDescription")).toMatch(/KVP item "Role" already exists on virtual machine "web01"/);
    const errors = await basic.invoke(
      `${V2_RESOURCE_URI}/Msvm_ConcreteJob`,
      "GetErrorEx",
      [{ name: "InstanceID", value: result.jobInstanceId! }],
      {},
    );
    expect(errors.returnValue).toBe(0);
    expect(decodeWmiErrors(valueAsArray(errors.outputs.get("Errors") as string))[0]).toMatchObject({
      cimStatusCode: 11,
    });
    expect(pool0()).toEqual(new Map([["Role", "db"]]));
  });

  it("129 items → 32773 without a job; exactly 128 are accepted", async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => item(`bulk${i}`, "v"));
    const refused = await invoke(basic, "AddKvpItems", web01, many(129));
    expect(refused.returnValue).toBe(32773);
    expect(refused.job).toBeUndefined();
    const accepted = await invoke(basic, "AddKvpItems", host.vms[1]!.guid, many(128));
    expect(text(await finished(basic, accepted.jobInstanceId!), "JobState")).toBe("7");
  }, 20_000);

  it("an unknown VM → 32773; an unknown job → fault", async () => {
    expect((await invoke(basic, "AddKvpItems", "99999999-9999-4999-8999-999999999999", [item("a")])).returnValue).toBe(
      32773,
    );
    await expect(
      basic.get(`${V2_RESOURCE_URI}/Msvm_ConcreteJob`, [{ name: "InstanceID", value: "nope" }]),
    ).rejects.toSatisfy((e) => isWsmanError(e, "fault"));
  });

  it.each(["basic", "ntlm"] as const)("a wrong password over %s → 401 (unauthorized)", async (kind) => {
    const client = new WsmanClient({
      endpoint: host.endpoint,
      ca: cert.cert,
      auth: { kind, user: "Administrator", password: "wrong" },
    });
    try {
      await expect(client.enumerate(`${V2_RESOURCE_URI}/Msvm_ComputerSystem`, "")).rejects.toSatisfy((e) =>
        isWsmanError(e, "unauthorized"),
      );
    } finally {
      client.close();
    }
  });

  it.each([
    "SELECT Name FROM Msvm_ComputerSystem",
    "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE 'w%'",
    "SELECT * FROM Win32_Process",
    "SELECT * FROM Msvm_ComputerSystem WHERE NoSuchProperty='x'",
    "SELECT * FROM Msvm_KvpExchangeComponent WHERE GuestExchangeItems='x'",
    "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='unterminated",
    "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='x'}",
    "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='x'} WHERE AssocClass=Msvm_SystemDevice ResultClass=Msvm_KvpExchangeComponent",
    "ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID='x'} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_ResourceAllocationSettingData",
  ])("unsupported WQL is a WS-Man fault, not a crash: %s", async (query) => {
    await expect(ntlm.enumerate(`${V2_RESOURCE_URI}/*`, query)).rejects.toSatisfy(
      (e) => isWsmanError(e, "fault") && /CannotProcessFilter/.test(String(e.fault?.subcode)),
    );
    expect(
      await ntlm.enumerate(`${V2_RESOURCE_URI}/*`, "SELECT * FROM Msvm_VirtualSystemManagementService"),
    ).toHaveLength(1);
  });

  it("a VM whose daemon stopped reports OperationalStatus 12 (No contact)", async () => {
    const guid = host.vms[2]!.guid;
    await host.stopVm(guid);
    const [component] = await basic.enumerate(
      `${V2_RESOURCE_URI}/*`,
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName='${guid}'`,
    );
    expect(valueAsArray(component!.properties.get("OperationalStatus"))).toEqual(["12"]);
    expect(component!.properties.get("GuestIntrinsicExchangeItems")).toBeUndefined();
  });

  it("refuses plain HTTP unless allowed", async () => {
    await expect(startWmiHost({ vms: [], users: { a: "b" } })).rejects.toSatisfy((e) =>
      isWsmanError(e, "unencrypted-refused"),
    );
  });
});
