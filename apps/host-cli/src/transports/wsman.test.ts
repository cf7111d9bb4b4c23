import { type WsmanSelector, encodeKvpItem } from "@hyperv-kvp/kvp-core";
import {
  type InvokeResult,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  buildEnumerateRequest,
  buildGetRequest,
  buildInvokeRequest,
  buildInvokeResponse,
  parseInvokeResponse,
} from "@hyperv-kvp/wsman";
import { describe, expect, it } from "vitest";
import { vmsByNameQuery } from "../wql.js";
import { V2_ENUMERATION_URI, type WsmanClientLike, WsmanTransport, kvpSettingDataQuery, realizedSettingsQuery } from "./wsman.js";

const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
const VM = "11111111-2222-3333-4444-555555555555";
const TO = "https://hv01:5986/wsman";

function instance(className: string, properties: Record<string, string | string[] | null>): WsmanInstance {
  return { resourceUri: `${V2}/${className}`, className, properties: new Map(Object.entries(properties)) };
}

type Sent =
  | { op: "enumerate"; resourceUri: string; wql: string }
  | { op: "get"; resourceUri: string; selectors: readonly WsmanSelector[] }
  | { op: "invoke"; resourceUri: string; method: string; selectors: readonly WsmanSelector[]; parameters: ParameterInput<WsmanParameter> };

/** Records what the transport asks of WsmanClient and answers from `replies`. */
function recordingClient(replies: { enumerate?: (wql: string) => WsmanInstance[]; invoke?: (method: string) => InvokeResult; get?: () => WsmanInstance }) {
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

describe("WsmanTransport requests", () => {
  it("enumerates VMs with WQL at …/v2/*, the string escaped", async () => {
    const { client, sent } = recordingClient({
      enumerate: () => [instance("Msvm_ComputerSystem", { Name: VM, ElementName: 'we"b', EnabledState: "2" })],
    });
    const t = new WsmanTransport(client);
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
          ? [instance("Msvm_KvpExchangeComponent", { GuestExchangeItems: guest, GuestIntrinsicExchangeItems: null, OperationalStatus: ["2", "6"] })]
          : wql.includes("ResultClass=Msvm_VirtualSystemSettingData")
            ? [instance("Msvm_VirtualSystemSettingData", { InstanceID: `Microsoft:${VM}` })]
            : [instance("Msvm_KvpExchangeComponentSettingData", { HostExchangeItems: [guest, guest], DisableHostKVPItems: "false" })],
    });
    const t = new WsmanTransport(client);
    expect(await t.getKvpComponent(VM)).toEqual({ guestItems: [guest], intrinsicItems: [], operationalStatus: [2, 6], statusDescriptions: [] });
    expect(await t.getKvpSettingData(VM)).toEqual({ hostItems: [guest, guest], hostOnlyItems: [], disableHostKvpItems: false });
    await t.getKvpSettingData(VM);
    expect(sent.map((s) => (s as { wql: string }).wql)).toEqual([
      `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${VM}"`,
      `ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="${VM}"} WHERE AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData`,
      `ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID="Microsoft:${VM}"} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData`,
      // The realized settings' InstanceID is cached: the second read is one query.
      kvpSettingDataQuery(`Microsoft:${VM}`),
    ]);
    expect(realizedSettingsQuery(VM)).toBe(sent[1] && (sent[1] as { wql: string }).wql);
  });

  it("invokes AddKvpItems on the service with TargetSystem as an EPR and DataItems repeated, escaped", async () => {
    const jobEpr = { address: "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous", resourceUri: `${V2}/Msvm_ConcreteJob`, selectors: [{ name: "InstanceID", value: "JOB-1" }] };
    const { client, sent } = recordingClient({
      enumerate: () => [service],
      // A real reply, built and parsed by wsman, so the Job EPR goes through the parser.
      invoke: (method) => parseInvokeResponse(buildInvokeResponse({ resourceUri: `${V2}/Msvm_VirtualSystemManagementService`, method, returnValue: 4096, outputs: { Job: jobEpr } }), method),
      get: () => instance("Msvm_ConcreteJob", { InstanceID: "JOB-1", JobState: "7", ErrorCode: "0" }),
    });
    const t = new WsmanTransport(client);
    const items = [encodeKvpItem({ name: "a&b", data: "<x>", source: "host" }), encodeKvpItem({ name: "c", data: "", source: "host" })];
    expect(await t.invokeKvpMethod("AddKvpItems", VM, items)).toEqual({ returnValue: 4096, jobId: "JOB-1" });
    const call = sent[1] as Extract<Sent, { op: "invoke" }>;
    expect(sent[0]).toMatchObject({ op: "enumerate", wql: "SELECT * FROM Msvm_VirtualSystemManagementService" });
    const soap = buildInvokeRequest({ to: TO, resourceUri: call.resourceUri, method: call.method, selectors: call.selectors, parameters: call.parameters, messageId: "uuid:1" });
    expect(soap).toContain(`<a:Action s:mustUnderstand="true">${V2}/Msvm_VirtualSystemManagementService/AddKvpItems</a:Action>`);
    expect(soap).toContain(
      '<w:SelectorSet><w:Selector Name="CreationClassName">Msvm_VirtualSystemManagementService</w:Selector><w:Selector Name="Name">vmms</w:Selector>' +
        '<w:Selector Name="SystemCreationClassName">Msvm_ComputerSystem</w:Selector><w:Selector Name="SystemName">HV01</w:Selector></w:SelectorSet>',
    );
    expect(soap).toContain(
      `<p:AddKvpItems_INPUT xmlns:p="${V2}/Msvm_VirtualSystemManagementService"><p:TargetSystem><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>` +
        `<a:ReferenceParameters><w:ResourceURI>${V2}/Msvm_ComputerSystem</w:ResourceURI><w:SelectorSet><w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>` +
        `<w:Selector Name="Name">${VM}</w:Selector></w:SelectorSet></a:ReferenceParameters></p:TargetSystem><p:DataItems>`,
    );
    // The embedded CIM-XML is escaped a second time as element text (spec §7).
    expect(soap).toContain('&lt;PROPERTY NAME="Data" TYPE="string"&gt;&lt;VALUE&gt;&amp;lt;x&amp;gt;&lt;/VALUE&gt;');
    expect(soap).toContain("&lt;VALUE&gt;a&amp;amp;b&lt;/VALUE&gt;");
    expect(soap.match(/<p:DataItems>/g)).toHaveLength(2);

    // The job is read at the EPR's resource URI with its InstanceID selector.
    expect(await t.getJob("JOB-1")).toMatchObject({ instanceId: "JOB-1", jobState: 7, errorCode: 0 });
    const get = sent[2] as Extract<Sent, { op: "get" }>;
    expect(buildGetRequest({ to: TO, resourceUri: get.resourceUri, selectors: get.selectors, messageId: "uuid:1" })).toContain(
      `<w:ResourceURI s:mustUnderstand="true">${V2}/Msvm_ConcreteJob</w:ResourceURI>`,
    );
    expect(get.selectors).toEqual([{ name: "InstanceID", value: "JOB-1" }]);
    await t.invokeKvpMethod("ModifyKvpItems", VM, items);
    expect(t.calls.snapshot()).toEqual({ "query Msvm_VirtualSystemManagementService": 1, "invoke AddKvpItems": 1, "get Msvm_ConcreteJob": 1, "invoke ModifyKvpItems": 1 });
    expect(V2_ENUMERATION_URI).toBe(`${V2}/*`);
  });

  it("reads GetErrorEx's embedded Msvm_Error instances", async () => {
    const error =
      '<INSTANCE CLASSNAME="Msvm_Error"><PROPERTY NAME="Message" TYPE="string"><VALUE>The key exists.</VALUE></PROPERTY></INSTANCE>';
    const { client } = recordingClient({ invoke: () => ({ returnValue: 0, outputs: new Map([["Errors", [error]]]) }) });
    expect(await new WsmanTransport(client).getJobErrors("JOB-1")).toMatchObject([{ className: "Msvm_Error", message: "The key exists." }]);
  });
});
