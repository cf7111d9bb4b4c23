import { describe, expect, it } from "vitest";
import { COMMON, ITEM, TARGET, V2, VM_GUID, VSMS_SELECTORS } from "../test-support/soap-samples.js";
import {
  buildEnumerateRequest,
  buildGetRequest,
  buildInvokeRequest,
  buildPullRequest,
  buildReleaseRequest,
  parseRequest,
} from "./requests.js";
import type { WsmanParameter } from "./values.js";

const HEAD =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
  ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"' +
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Header><a:To>https://host:5986/wsman</a:To>';
const TAIL_HEADER = (action: string) =>
  '<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>' +
  `<a:Action s:mustUnderstand="true">${action}</a:Action>` +
  '<w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>' +
  "<a:MessageID>uuid:00000000-0000-4000-8000-000000000001</a:MessageID>" +
  '<w:Locale xml:lang="en-US" s:mustUnderstand="false"/><w:OperationTimeout>PT30.000S</w:OperationTimeout>';

describe("client requests, exact XML", () => {
  it("Get", () => {
    expect(
      buildGetRequest({
        ...COMMON,
        resourceUri: `${V2}/Msvm_ComputerSystem`,
        selectors: [{ name: "Name", value: VM_GUID }],
      }),
    ).toBe(
      `${HEAD}<w:ResourceURI s:mustUnderstand="true">${V2}/Msvm_ComputerSystem</w:ResourceURI>${TAIL_HEADER("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get")}` +
        `<w:SelectorSet><w:Selector Name="Name">${VM_GUID}</w:Selector></w:SelectorSet></s:Header><s:Body/></s:Envelope>`,
    );
  });

  it("Enumerate with a WQL filter (escaped) and optimized enumeration", () => {
    const wql = 'SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="a<b"';
    expect(buildEnumerateRequest({ ...COMMON, resourceUri: `${V2}/*`, wql, maxElements: 20 })).toBe(
      `${HEAD}<w:ResourceURI s:mustUnderstand="true">${V2}/*</w:ResourceURI>${TAIL_HEADER("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate")}` +
        "</s:Header><s:Body><n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>20</w:MaxElements>" +
        '<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="a&lt;b"</w:Filter>' +
        "</n:Enumerate></s:Body></s:Envelope>",
    );
  });

  it("Pull and Release", () => {
    expect(buildPullRequest({ ...COMMON, resourceUri: `${V2}/*`, context: "uuid:ctx", maxElements: 5 })).toBe(
      `${HEAD}<w:ResourceURI s:mustUnderstand="true">${V2}/*</w:ResourceURI>${TAIL_HEADER("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull")}` +
        "</s:Header><s:Body><n:Pull><n:EnumerationContext>uuid:ctx</n:EnumerationContext><n:MaxElements>5</n:MaxElements></n:Pull></s:Body></s:Envelope>",
    );
    expect(buildReleaseRequest({ ...COMMON, resourceUri: `${V2}/*`, context: "uuid:ctx" })).toBe(
      `${HEAD}<w:ResourceURI s:mustUnderstand="true">${V2}/*</w:ResourceURI>${TAIL_HEADER("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release")}` +
        "</s:Header><s:Body><n:Release><n:EnumerationContext>uuid:ctx</n:EnumerationContext></n:Release></s:Body></s:Envelope>",
    );
  });

  it("Invoke AddKvpItems with an EPR and a string array of embedded CIM-XML", () => {
    const uri = `${V2}/Msvm_VirtualSystemManagementService`;
    const xml = buildInvokeRequest({
      ...COMMON,
      resourceUri: uri,
      method: "AddKvpItems",
      selectors: VSMS_SELECTORS,
      parameters: new Map<string, WsmanParameter>([
        ["TargetSystem", TARGET],
        ["DataItems", [ITEM, ITEM]],
      ]),
    });
    const escaped = ITEM.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    expect(xml).toBe(
      `${HEAD}<w:ResourceURI s:mustUnderstand="true">${uri}</w:ResourceURI>${TAIL_HEADER(`${uri}/AddKvpItems`)}` +
        "<w:SelectorSet>" +
        VSMS_SELECTORS.map((s) => `<w:Selector Name="${s.name}">${s.value}</w:Selector>`).join("") +
        "</w:SelectorSet></s:Header><s:Body>" +
        `<p:AddKvpItems_INPUT xmlns:p="${uri}"><p:TargetSystem>` +
        "<a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>" +
        `<w:ResourceURI>${V2}/Msvm_ComputerSystem</w:ResourceURI><w:SelectorSet>` +
        `<w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector><w:Selector Name="Name">${VM_GUID}</w:Selector>` +
        "</w:SelectorSet></a:ReferenceParameters></p:TargetSystem>" +
        `<p:DataItems>${escaped}</p:DataItems><p:DataItems>${escaped}</p:DataItems></p:AddKvpItems_INPUT></s:Body></s:Envelope>`,
    );
  });

  it("CDATA embedding, as libvirt does", () => {
    const xml = buildInvokeRequest({
      ...COMMON,
      resourceUri: `${V2}/Msvm_VirtualSystemManagementService`,
      method: "RemoveKvpItems",
      selectors: [],
      parameters: { DataItems: [ITEM] },
      embed: "cdata",
    });
    expect(xml).toContain(`<p:DataItems><![CDATA[${ITEM}]]></p:DataItems>`);
    expect(parseRequest(xml)).toMatchObject({ kind: "invoke", method: "RemoveKvpItems" });
  });

  it("refuses what cannot go on the wire", () => {
    const base = { ...COMMON, resourceUri: `${V2}/X`, selectors: [] };
    expect(() => buildInvokeRequest({ ...base, method: "bad name", parameters: {} })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    expect(() => buildInvokeRequest({ ...base, method: "M", parameters: { "a<b": "x" } })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    expect(() => buildInvokeRequest({ ...base, method: "M", parameters: { A: "\u0001" } })).toThrow(
      expect.objectContaining({ code: "invalid-text" }),
    );
    expect(() => buildPullRequest({ ...COMMON, resourceUri: "x", context: "c", maxElements: 0 })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
  });
});

describe("parseRequest", () => {
  it("refuses requests with unknown actions or mismatched bodies", () => {
    const get = buildGetRequest({ ...COMMON, resourceUri: `${V2}/X`, selectors: [] });
    expect(() => parseRequest(get.replace("transfer/Get", "transfer/Delete"))).toThrow(/not supported/);
    const invoke = buildInvokeRequest({
      ...COMMON,
      resourceUri: `${V2}/X`,
      method: "M",
      selectors: [],
      parameters: {},
    });
    expect(() => parseRequest(invoke.replace("M_INPUT", "N_INPUT").replace("M_INPUT", "N_INPUT"))).toThrow(
      /no M_INPUT/,
    );
  });
});
