import { rmSync } from "node:fs";
import {
  type CimInstancePath,
  decodeKvpItem,
  decodeWmiErrors,
  encodeKvpItem,
  pathToEpr,
} from "@hyperv-kvp/kvp-core/cim";
import { WsmanClient, type WsmanInstance, isWsmanError, valueAsArray } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SelfSignedCertificate, makeSelfSignedCertificate } from "../self-signed-certificate.js";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { V2_NAMESPACE, V2_RESOURCE_URI } from "./wmi-classes.js";
import { type WmiHost, startWmiHost } from "./wmi-server.js";

// The in-process client against the same host as a WsmanClient over loopback HTTPS: what one
// sees, the other sees. VMs backed by the REAL hv_kvp_daemon.

const policy = realDaemonPolicy();
const PASSWORD = "In-Pr0cess!";
const ALL = `${V2_RESOURCE_URI}/*`;
const SERVICE = `${V2_RESOURCE_URI}/Msvm_VirtualSystemManagementService`;
const JOB = `${V2_RESOURCE_URI}/Msvm_ConcreteJob`;
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

const item = (name: string, data = "") => encodeKvpItem({ name, data, source: "host" });
const text = (i: WsmanInstance, name: string) => i.properties.get(name) as string;

describe("InProcessWsmanClient vs WsmanClient over HTTPS, one simulated host (real hv_kvp_daemon)", () => {
  if (standInForMissingTools(policy)) return;

  let cert: SelfSignedCertificate;
  let host: WmiHost;
  let remote: WsmanClient;
  const guid = (i: number) => host.vms[i]!.guid;

  beforeAll(async () => {
    cert = makeSelfSignedCertificate();
    host = await startWmiHost({
      vms: ["web01", "web02"],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { Administrator: PASSWORD },
    });
    remote = new WsmanClient({
      endpoint: host.endpoint,
      ca: cert.cert,
      timeoutMs: 10_000,
      auth: { kind: "ntlm", user: "Administrator", password: PASSWORD },
    });
  }, 30_000);

  afterAll(async () => {
    remote?.close();
    await host?.close();
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
  });

  const invoke = (client: Pick<WsmanClient, "invoke">, method: string, vm: string, items: string[]) =>
    client.invoke(SERVICE, method, SERVICE_SELECTORS, { TargetSystem: pathToEpr(vmPath(vm)), DataItems: items });

  it("reads the same instances, shaped by the wire alike (a one-element array arrives as a string)", async () => {
    const local = host.client();
    for (const wql of [
      'SELECT * FROM Msvm_ComputerSystem WHERE Description="Microsoft Virtual Machine"',
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${guid(0)}"`,
      "SELECT * FROM Msvm_VirtualSystemManagementService",
    ])
      expect(await local.enumerate(ALL, wql)).toEqual(await remote.enumerate(ALL, wql));
    const [component] = await local.enumerate(
      ALL,
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${guid(0)}"`,
    );
    expect(component!.properties.get("OperationalStatus")).toBe("2");
  });

  it("invokes, polls and reads errors as the network client does; faults are WsmanError fault", async () => {
    const local = host.client({ beforeRequest: () => host.settle() });
    const added = await invoke(local, "AddKvpItems", guid(0), [item("Role", "web")]);
    expect(added.returnValue).toBe(4096);
    expect(added.job?.resourceUri).toBe(JOB);
    // beforeRequest settled the job: the first read finds it done.
    const job = await local.get(JOB, [{ name: "InstanceID", value: added.jobInstanceId! }]);
    expect(text(job, "JobState")).toBe("7");
    expect(job).toEqual(await remote.get(JOB, [{ name: "InstanceID", value: added.jobInstanceId! }]));
    const again = await invoke(local, "AddKvpItems", guid(0), [item("Role", "db")]);
    expect(text(await local.get(JOB, [{ name: "InstanceID", value: again.jobInstanceId! }]), "JobState")).toBe("10");
    const errors = await local.invoke(JOB, "GetErrorEx", [{ name: "InstanceID", value: again.jobInstanceId! }], {});
    expect(decodeWmiErrors(valueAsArray(errors.outputs.get("Errors") as string))[0]).toMatchObject({
      cimStatusCode: 11,
    });
    await expect(local.get(JOB, [{ name: "InstanceID", value: "nope" }])).rejects.toSatisfy(
      (e) => isWsmanError(e, "fault") && e.fault?.subcode === "w:InvalidSelectors",
    );
    await expect(local.enumerate(ALL, "SELECT * FROM Win32_Process")).rejects.toSatisfy(
      (e) => isWsmanError(e, "fault") && e.fault?.subcode === "w:CannotProcessFilter",
    );
    local.close();
    await expect(local.enumerate(ALL, "SELECT * FROM Msvm_VirtualSystemManagementService")).rejects.toSatisfy((e) =>
      isWsmanError(e, "connection-failed"),
    );
  });

  it("pauseJobs holds jobs Running, unapplied, until resumeJobs", async () => {
    const local = host.client();
    host.pauseJobs();
    const call = await invoke(local, "AddKvpItems", guid(1), [item("Held", "1")]);
    await new Promise((r) => setTimeout(r, 50));
    expect(text(await local.get(JOB, [{ name: "InstanceID", value: call.jobInstanceId! }]), "JobState")).toBe("4");
    expect(host.model.vms[1]!.hostItems.get("Held")).toBe("1");
    host.resumeJobs();
    await host.settle();
    expect(text(await local.get(JOB, [{ name: "InstanceID", value: call.jobInstanceId! }]), "JobState")).toBe("7");
  });

  it("interceptKvpMethod injects a refusal, or a failed job that applied only some items", async () => {
    const local = host.client({ beforeRequest: () => host.settle() });
    host.model.interceptKvpMethod = ({ items }) =>
      items.length === 1
        ? { kind: "reject", returnValue: 32769 }
        : {
            kind: "fail",
            applied: 1,
            failure: { errorCode: 32768, description: "Disk full.", cimStatusCode: 1 },
          };
    try {
      expect((await invoke(local, "AddKvpItems", guid(1), [item("One")])).returnValue).toBe(32769);
      const call = await invoke(local, "AddKvpItems", guid(1), [item("First", "1"), item("Second", "2")]);
      const job = await local.get(JOB, [{ name: "InstanceID", value: call.jobInstanceId! }]);
      expect([text(job, "JobState"), text(job, "ErrorDescription")]).toEqual(["10", "Disk full."]);
      // web02's setting data: the first item of the failed call is applied, the second not.
      const [, second] = await local.enumerate(ALL, "SELECT * FROM Msvm_KvpExchangeComponentSettingData");
      expect(valueAsArray(second!.properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x).name)).toEqual([
        "Held",
        "First",
      ]);
    } finally {
      host.model.interceptKvpMethod = undefined;
    }
  });

  it("a VM without a KVP exchange component is missing from the query, not an error", async () => {
    const local = host.client();
    const wql = `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${guid(1)}"`;
    host.model.vms[1]!.kvpComponent = false;
    try {
      expect(await local.enumerate(ALL, wql)).toEqual([]);
    } finally {
      host.model.vms[1]!.kvpComponent = true;
    }
    expect(await local.enumerate(ALL, wql)).toHaveLength(1);
  });
});
