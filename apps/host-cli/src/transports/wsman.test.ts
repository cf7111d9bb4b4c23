import { type WsmanSelector, encodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import {
  type InvokeResult,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  WsmanError,
  buildEnumerateRequest,
  buildGetRequest,
  buildInvokeRequest,
  buildInvokeResponse,
  parseInvokeResponse,
} from "@hyperv-kvp/wsman";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { HYPERV_NAMESPACES, type HyperVNamespace, HyperVWmi } from "../hyperv-wmi.js";
import { type TransportErrorCode, isTransportError } from "../transport-error.js";
import { vmsByNameQuery } from "../wql.js";
import {
  type WsmanClientLike,
  WsmanCimClient,
  enumerationUriOf,
  fromWsmanError,
  skippedItemsWarning,
  toCimInstance,
} from "./wsman.js";

/** kvp-host's Hyper-V logic over the WS-Management CIM client over `client`. */
function wmiOver(client: WsmanClientLike, namespace?: HyperVNamespace): HyperVWmi {
  return new HyperVWmi(new WsmanCimClient(client), namespace === undefined ? {} : { namespace });
}

const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
const CLU = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/HyperVCluster/v2";
const VM = "11111111-2222-3333-4444-555555555555";
const TO = "https://hv01:5986/wsman";

function instance(className: string, properties: Record<string, string | string[] | null>): WsmanInstance {
  return { resourceUri: `${V2}/${className}`, className, properties: new Map(Object.entries(properties)) };
}

type Sent =
  | { op: "enumerate"; resourceUri: string; wql: string }
  | { op: "get"; resourceUri: string; selectors: readonly WsmanSelector[] }
  | {
      op: "invoke";
      resourceUri: string;
      method: string;
      selectors: readonly WsmanSelector[];
      parameters: ParameterInput<WsmanParameter>;
    };

/** Records what the transport asks of WsmanClient and answers from `replies`. */
function recordingClient(replies: {
  enumerate?: (wql: string) => WsmanInstance[];
  invoke?: (method: string) => InvokeResult;
  get?: () => WsmanInstance;
}) {
  const sent: Sent[] = [];
  const client: WsmanClientLike = {
    enumerate: async (resourceUri, wql) => {
      sent.push({ op: "enumerate", resourceUri, wql });
      return replies.enumerate?.(wql) ?? [];
    },
    get: async (resourceUri, selectors) => {
      sent.push({ op: "get", resourceUri, selectors });
      return replies.get!();
    },
    invoke: async (resourceUri, method, selectors, parameters) => {
      sent.push({ op: "invoke", resourceUri, method, selectors, parameters });
      return replies.invoke!(method);
    },
    close: () => {},
  };
  return { client, sent };
}

const service = instance("Msvm_VirtualSystemManagementService", {
  CreationClassName: "Msvm_VirtualSystemManagementService",
  Name: "vmms",
  SystemCreationClassName: "Msvm_ComputerSystem",
  SystemName: "HV01",
});

describe("HyperVWmi over WsmanCimClient: the requests on the wire", () => {
  it("enumerates VMs with WQL at …/v2/*, the string escaped", async () => {
    const { client, sent } = recordingClient({
      enumerate: () => [instance("Msvm_ComputerSystem", { Name: VM, ElementName: 'we"b', EnabledState: "2" })],
    });
    const t = wmiOver(client);
    expect(await t.queryVms(vmsByNameQuery('we"b'))).toEqual([{ id: VM, name: 'we"b', enabledState: 2 }]);
    const call = sent[0] as Extract<Sent, { op: "enumerate" }>;
    const soap = buildEnumerateRequest({ to: TO, resourceUri: call.resourceUri, wql: call.wql, messageId: "uuid:1" });
    expect(call.resourceUri).toBe(`${V2}/*`);
    expect(soap).toContain(`<w:ResourceURI s:mustUnderstand="true">${V2}/*</w:ResourceURI>`);
    expect(soap).toContain(
      '<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">SELECT * FROM Msvm_ComputerSystem WHERE Description="Microsoft Virtual Machine" AND ElementName="we\\"b"</w:Filter>',
    );
    expect(t.calls.snapshot()).toEqual({ "query Msvm_ComputerSystem": 1 });
  });

  it("reads the component by SystemName and the setting data through the realized settings", async () => {
    const guest = encodeKvpItem({ name: "a", data: "<1>", source: "guest" });
    const { client, sent } = recordingClient({
      enumerate: (wql) =>
        wql.includes("Msvm_KvpExchangeComponent WHERE")
          ? [
              instance("Msvm_KvpExchangeComponent", {
                GuestExchangeItems: guest,
                GuestIntrinsicExchangeItems: null,
                OperationalStatus: ["2", "6"],
              }),
            ]
          : wql.includes("ResultClass=Msvm_VirtualSystemSettingData")
            ? [instance("Msvm_VirtualSystemSettingData", { InstanceID: `Microsoft:${VM}` })]
            : [
                instance("Msvm_KvpExchangeComponentSettingData", {
                  HostExchangeItems: [guest, guest],
                  DisableHostKVPItems: "false",
                }),
              ],
    });
    const t = wmiOver(client);
    expect(await t.getKvpComponent(VM)).toEqual({
      guestItems: [guest],
      intrinsicItems: [],
      operationalStatus: [2, 6],
      statusDescriptions: [],
    });
    expect(await t.getKvpSettingData(VM)).toEqual({
      hostItems: [guest, guest],
      hostOnlyItems: [],
      disableHostKvpItems: false,
    });
    await t.getKvpSettingData(VM);
    expect(sent.map((s) => (s as { wql: string }).wql)).toEqual([
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${VM}"`,
      `ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="${VM}"} WHERE AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData`,
      `ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID="Microsoft:${VM}"} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData`,
      // The realized settings' InstanceID is cached: the second read is one query.
      `ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID="Microsoft:${VM}"} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData`,
    ]);
    expect(sent.every((s) => s.resourceUri === `${V2}/*`)).toBe(true);
    expect(t.calls.snapshot()).toEqual({
      "query Msvm_KvpExchangeComponent": 1,
      "enumerate Msvm_VirtualSystemSettingData": 1,
      "enumerate Msvm_KvpExchangeComponentSettingData": 2,
    });
  });

  it("invokes AddKvpItems on the service with TargetSystem as an EPR and DataItems repeated, escaped", async () => {
    const jobEpr = {
      address: "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",
      resourceUri: `${V2}/Msvm_ConcreteJob`,
      selectors: [{ name: "InstanceID", value: "JOB-1" }],
    };
    const { client, sent } = recordingClient({
      enumerate: () => [service],
      // A real reply, built and parsed by wsman, so the Job EPR goes through the parser.
      invoke: (method) =>
        parseInvokeResponse(
          buildInvokeResponse({
            resourceUri: `${V2}/Msvm_VirtualSystemManagementService`,
            method,
            returnValue: 4096,
            outputs: { Job: jobEpr },
          }),
          method,
        ),
      get: () => instance("Msvm_ConcreteJob", { InstanceID: "JOB-1", JobState: "7", ErrorCode: "0" }),
    });
    const t = wmiOver(client);
    const items = [
      encodeKvpItem({ name: "a&b", data: "<x>", source: "host" }),
      encodeKvpItem({ name: "c", data: "", source: "host" }),
    ];
    expect(await t.invokeKvpMethod("AddKvpItems", VM, items)).toEqual({ returnValue: 4096, jobId: "JOB-1" });
    const call = sent[1] as Extract<Sent, { op: "invoke" }>;
    expect(sent[0]).toMatchObject({ op: "enumerate", wql: "SELECT * FROM Msvm_VirtualSystemManagementService" });
    const soap = buildInvokeRequest({
      to: TO,
      resourceUri: call.resourceUri,
      method: call.method,
      selectors: call.selectors,
      parameters: call.parameters,
      messageId: "uuid:1",
    });
    expect(soap).toContain(
      `<a:Action s:mustUnderstand="true">${V2}/Msvm_VirtualSystemManagementService/AddKvpItems</a:Action>`,
    );
    expect(soap).toContain(
      '<w:SelectorSet><w:Selector Name="CreationClassName">Msvm_VirtualSystemManagementService</w:Selector><w:Selector Name="Name">vmms</w:Selector>' +
        '<w:Selector Name="SystemCreationClassName">Msvm_ComputerSystem</w:Selector><w:Selector Name="SystemName">HV01</w:Selector></w:SelectorSet>',
    );
    expect(soap).toContain(
      `<p:AddKvpItems_INPUT xmlns:p="${V2}/Msvm_VirtualSystemManagementService"><p:TargetSystem><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>` +
        `<a:ReferenceParameters><w:ResourceURI>${V2}/Msvm_ComputerSystem</w:ResourceURI><w:SelectorSet><w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>` +
        `<w:Selector Name="Name">${VM}</w:Selector></w:SelectorSet></a:ReferenceParameters></p:TargetSystem><p:DataItems>`,
    );
    // The embedded CIM-XML is escaped a second time as element text (docs/ws-management.md#message-shapes).
    expect(soap).toContain('&lt;PROPERTY NAME="Data" TYPE="string"&gt;&lt;VALUE&gt;&amp;lt;x&amp;gt;&lt;/VALUE&gt;');
    expect(soap).toContain("&lt;VALUE&gt;a&amp;amp;b&lt;/VALUE&gt;");
    expect(soap.match(/<p:DataItems>/g)).toHaveLength(2);

    // The job is read at the EPR's resource URI with its InstanceID selector.
    expect(await t.getJob("JOB-1")).toMatchObject({ instanceId: "JOB-1", jobState: 7, errorCode: 0 });
    const get = sent[2] as Extract<Sent, { op: "get" }>;
    expect(
      buildGetRequest({ to: TO, resourceUri: get.resourceUri, selectors: get.selectors, messageId: "uuid:1" }),
    ).toContain(`<w:ResourceURI s:mustUnderstand="true">${V2}/Msvm_ConcreteJob</w:ResourceURI>`);
    expect(get.selectors).toEqual([{ name: "InstanceID", value: "JOB-1" }]);
    await t.invokeKvpMethod("ModifyKvpItems", VM, items);
    // The service is looked up once.
    expect(sent.filter((s) => s.op === "enumerate")).toHaveLength(1);
    expect(t.calls.snapshot()).toEqual({
      "enumerate Msvm_VirtualSystemManagementService": 1,
      "invoke AddKvpItems": 1,
      "get Msvm_ConcreteJob": 1,
      "invoke ModifyKvpItems": 1,
    });
    expect(enumerationUriOf(HYPERV_NAMESPACES.host)).toBe(`${V2}/*`);
  });

  it("reads GetErrorEx's embedded Msvm_Error instances", async () => {
    const error =
      '<INSTANCE CLASSNAME="Msvm_Error"><PROPERTY NAME="Message" TYPE="string"><VALUE>The key exists.</VALUE></PROPERTY></INSTANCE>';
    const { client, sent } = recordingClient({
      invoke: () => ({ returnValue: 0, outputs: new Map([["Errors", [error, error]]]) }),
    });
    expect(await wmiOver(client).getJobErrors("JOB-1")).toMatchObject([
      { className: "Msvm_Error", message: "The key exists." },
      { className: "Msvm_Error", message: "The key exists." },
    ]);
    // Without the method's Job reference, the job is addressed as Msvm_ConcreteJob of the namespace.
    expect(sent[0]).toMatchObject({
      op: "invoke",
      resourceUri: `${V2}/Msvm_ConcreteJob`,
      method: "GetErrorEx",
      selectors: [{ name: "InstanceID", value: "JOB-1" }],
    });
  });
});

describe("WsmanError as TransportError: the same message, one code set for every transport", () => {
  it.each([
    ["connection-failed", "unreachable"],
    ["timeout", "timeout"],
    ["unauthorized", "unauthorized"],
    ["tls-untrusted", "tls"],
    ["tls-error", "tls"],
    ["invalid-argument", "config"],
    ["unencrypted-refused", "config"],
    ["invalid-message", "unreadable"],
    ["limit-exceeded", "unreadable"],
    ["integrity", "unreadable"],
    ["http-error", "unreadable"],
  ] as const)("%s is %s", (wsman, code: TransportErrorCode) => {
    const original = new WsmanError(wsman, `message of ${wsman}`);
    const error = fromWsmanError(original);
    expect(isTransportError(error, code)).toBe(true);
    expect((error as Error).message).toBe(`message of ${wsman}`);
    expect((error as Error).cause).toBe(original);
  });

  it.each([
    ["w:InvalidSelectors", "not-found"],
    ["w:AccessDenied", "access-denied"],
    ["w:CannotProcessFilter", "invalid-request"],
    ["w:InternalError", "failed"],
  ] as const)("a fault %s is a host-error of kind %s", (subcode, kind) => {
    const error = fromWsmanError(
      new WsmanError("fault", "WS-Management fault", { fault: { code: "s:Sender", subcode, reason: "r", detail: "" } }),
    );
    expect(isTransportError(error, "host-error") && error.hostError).toEqual({ kind, code: subcode });
  });

  it("leaves other errors as they are", () => {
    const other = new Error("x");
    expect(fromWsmanError(other)).toBe(other);
  });
});

describe("HyperVWmi over WsmanCimClient in a cluster's namespace (root/HyperVCluster/v2)", () => {
  const clusterService = instance("Msvm_VirtualSystemManagementService", {
    CreationClassName: "Msvm_VirtualSystemManagementService",
    Name: "vmms",
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: "HVCLU01",
  });

  it("sends every request to the cluster namespace: WQL, the service, TargetSystem and the job", async () => {
    const { client, sent } = recordingClient({
      enumerate: (wql) =>
        wql.includes("Msvm_VirtualSystemManagementService")
          ? [clusterService]
          : [instance("Msvm_ComputerSystem", { Name: VM, ElementName: "web01" })],
      // The Job EPR in the cluster namespace, as a cluster's service returns it.
      invoke: () => {
        const job = {
          address: "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",
          resourceUri: `${CLU}/Msvm_ConcreteJob`,
          selectors: [{ name: "InstanceID", value: "JOB-2" }],
        };
        return { returnValue: 4096, job, jobInstanceId: "JOB-2", outputs: new Map([["Job", job]]) };
      },
      get: () => instance("Msvm_ConcreteJob", { InstanceID: "JOB-2", JobState: "7", ErrorCode: "0" }),
    });
    const t = wmiOver(client, HYPERV_NAMESPACES.cluster);
    expect(t.namespace).toBe("root/HyperVCluster/v2");
    await t.queryVms(vmsByNameQuery("web01"));
    expect(
      await t.invokeKvpMethod("AddKvpItems", VM, [encodeKvpItem({ name: "a", data: "1", source: "host" })]),
    ).toEqual({ returnValue: 4096, jobId: "JOB-2" });
    await t.getJob("JOB-2");
    expect(sent.map((s) => s.resourceUri)).toEqual([
      `${CLU}/*`,
      `${CLU}/*`,
      `${CLU}/Msvm_VirtualSystemManagementService`,
      `${CLU}/Msvm_ConcreteJob`,
    ]);
    const call = sent[2] as Extract<Sent, { op: "invoke" }>;
    const soap = buildInvokeRequest({
      to: TO,
      resourceUri: call.resourceUri,
      method: call.method,
      selectors: call.selectors,
      parameters: call.parameters,
      messageId: "uuid:1",
    });
    expect(soap).toContain('<w:Selector Name="SystemName">HVCLU01</w:Selector>');
    expect(soap).toContain(
      `<w:ResourceURI>${CLU}/Msvm_ComputerSystem</w:ResourceURI><w:SelectorSet><w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>`,
    );
    expect(enumerationUriOf(HYPERV_NAMESPACES.cluster)).toBe(`${CLU}/*`);
    // The default stays the host's own namespace.
    expect(wmiOver(client).namespace).toBe("root/virtualization/v2");
  });

  it("refuses a namespace it does not know", () => {
    const { client } = recordingClient({});
    const error = thrown(() => wmiOver(client, "root/cimv2" as HyperVNamespace));
    expect(isTransportError(error, "config")).toBe(true);
    expect((error as Error).message).toMatch(/invalid namespace "root\/cimv2"/);
  });

  it("says, with a cluster's refusal to read KVP classes, that Microsoft does not list them there", async () => {
    const refusal = new WsmanError("fault", "WS-Management fault: invalid class", {
      fault: { code: "s:Sender", subcode: "w:CannotProcessFilter", reason: "invalid class", detail: "" },
    });
    const { client } = recordingClient({
      enumerate: () => {
        throw refusal;
      },
    });
    const error = await wmiOver(client, HYPERV_NAMESPACES.cluster)
      .getKvpComponent(VM)
      .catch((e: unknown) => e);
    expect(isTransportError(error, "host-error") && error.hostError).toEqual({
      kind: "invalid-request",
      code: "w:CannotProcessFilter",
    });
    expect((error as Error).message).toBe(
      "WS-Management fault: invalid class (Msvm_KvpExchangeComponent is not among the classes Microsoft documents for root/HyperVCluster/v2; read the VM's KVP items from the node that runs it, in root/virtualization/v2)",
    );
    // Other refusals, and the host's namespace, keep the fault's message as it is.
    for (const other of [
      await wmiOver(client, HYPERV_NAMESPACES.cluster)
        .queryVms("SELECT 1")
        .catch((e: unknown) => e),
      await wmiOver(client)
        .getKvpComponent(VM)
        .catch((e: unknown) => e),
    ]) {
      expect(isTransportError(other, "host-error")).toBe(true);
      expect((other as Error).message).toBe(refusal.message);
      expect((other as Error).cause).toBe(refusal);
    }
  });
});

describe("toCimInstance", () => {
  it("turns an association's endpoint references into CIM references", () => {
    const vm = {
      namespace: "root/virtualization/v2",
      className: "Msvm_ComputerSystem",
      keys: [{ name: "Name", type: "string" as const, value: VM }],
    };
    const epr = { address: "a", resourceUri: `${V2}/Msvm_ComputerSystem`, selectors: [{ name: "Name", value: VM }] };
    const cim = toCimInstance({
      resourceUri: `${V2}/Msvm_SystemDevice`,
      className: "Msvm_SystemDevice",
      properties: new Map([["Note", "x"]]),
      references: new Map([
        ["GroupComponent", [{ epr, path: vm }]],
        // Neither an array of references nor one without a path can be a CIM REF property.
        [
          "Many",
          [
            { epr, path: vm },
            { epr, path: vm },
          ],
        ],
        ["Elsewhere", [{ epr }]],
      ]),
    });
    expect(cim.properties).toEqual([
      { name: "Note", type: "string", value: "x" },
      { name: "GroupComponent", type: "reference", value: vm },
    ]);
  });
});

describe("items an enumeration left out", () => {
  it("are told to onSkipped after the answer, and the warning names them, escaped", async () => {
    const skipped = [
      { index: 1, className: "Msvm_Kvp\u001b[2J", message: "property Data: not a string" },
      { index: 4, className: "Msvm_KvpExchangeDataItem", message: "a reference it cannot read" },
    ];
    const client: WsmanClientLike = {
      enumerate: async () => [instance("Msvm_ComputerSystem", { Name: VM })],
      get: async () => {
        throw new Error("not used");
      },
      invoke: async () => {
        throw new Error("not used");
      },
      close: () => {},
      enumerationSkipped: skipped,
    };
    const told: (typeof skipped)[] = [];
    const cim = new WsmanCimClient(client, { onSkipped: (s) => told.push([...s]) });
    expect(await cim.query("root/virtualization/v2", "SELECT * FROM Msvm_ComputerSystem")).toHaveLength(1);
    expect(told).toEqual([skipped]);
    expect(skippedItemsWarning(skipped)).toBe(
      "warning: 2 item(s) of Msvm_Kvp\\u001b[2J, Msvm_KvpExchangeDataItem in the host's answer could not be read and are left out (property Data: not a string)",
    );
    // Nothing left out: nothing told.
    const quiet = new WsmanCimClient({ ...client, enumerationSkipped: [] }, { onSkipped: (s) => told.push([...s]) });
    await quiet.query("root/virtualization/v2", "SELECT * FROM Msvm_ComputerSystem");
    expect(told).toHaveLength(1);
  });
});
