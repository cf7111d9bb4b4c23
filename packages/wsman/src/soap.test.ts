import { pathToEpr } from "@hyperv-kvp/kvp-core/cim";
import { describe, expect, it } from "vitest";
import { isWsmanError } from "./errors.js";
import {
  type WsmanInstance,
  buildEnumerateRequest,
  buildEnumerateResponse,
  buildFault,
  buildGetRequest,
  buildGetResponse,
  buildInvokeRequest,
  buildInvokeResponse,
  buildPullRequest,
  buildPullResponse,
  buildReleaseRequest,
  buildReleaseResponse,
  parseEmptyResponse,
  parseEnumerateResponse,
  parseFault,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
  parseRequest,
  valueAsArray,
} from "./soap.js";

const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
const COMMON = {
  to: "https://host:5986/wsman",
  messageId: "uuid:00000000-0000-4000-8000-000000000001",
  operationTimeoutMs: 30_000,
};
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
const VM_GUID = "A1B2C3D4-0000-1111-2222-333344445555";
const VSMS_SELECTORS = [
  { name: "CreationClassName", value: "Msvm_VirtualSystemManagementService" },
  { name: "Name", value: "vmms" },
  { name: "SystemCreationClassName", value: "Msvm_ComputerSystem" },
  { name: "SystemName", value: "HOST" },
];
const TARGET = pathToEpr({
  namespace: "root/virtualization/v2",
  className: "Msvm_ComputerSystem",
  keys: [
    { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
    { name: "Name", type: "string", value: VM_GUID },
  ],
});
const ITEM =
  '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>a&amp;b</VALUE></PROPERTY></INSTANCE>';

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
      parameters: new Map<string, import("./soap.js").WsmanParameter>([
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

describe("round trips: client build → server parse → server build → client parse", () => {
  const instance: WsmanInstance = {
    resourceUri: `${V2}/Msvm_KvpExchangeComponent`,
    className: "Msvm_KvpExchangeComponent",
    properties: new Map<string, import("./soap.js").WsmanValue>([
      ["SystemName", VM_GUID],
      ["GuestIntrinsicExchangeItems", [ITEM, `${ITEM} ]]> \r\n`]],
      ["Caption", null],
      ["OperationalStatus", ["2", "0"]],
    ]),
  };

  it("Get", () => {
    const request = parseRequest(
      buildGetRequest({
        ...COMMON,
        resourceUri: instance.resourceUri,
        selectors: [{ name: "SystemName", value: VM_GUID }],
      }),
    );
    expect(request).toMatchObject({
      kind: "get",
      resourceUri: instance.resourceUri,
      selectors: [{ name: "SystemName", value: VM_GUID }],
      maxEnvelopeSize: 512000,
      operationTimeout: "PT30.000S",
    });
    for (const embed of ["escape", "cdata"] as const) {
      const back = parseGetResponse(buildGetResponse(instance, { relatesTo: request.messageId, embed }));
      expect(back).toEqual(instance);
    }
  });

  it("Enumerate, Pull, Release", () => {
    const request = parseRequest(
      buildEnumerateRequest({
        ...COMMON,
        resourceUri: `${V2}/*`,
        wql: "SELECT * FROM Msvm_KvpExchangeComponent",
        maxElements: 1,
      }),
    );
    expect(request).toMatchObject({
      kind: "enumerate",
      optimize: true,
      maxElements: 1,
      filter: {
        dialect: "http://schemas.microsoft.com/wbem/wsman/1/WQL",
        query: "SELECT * FROM Msvm_KvpExchangeComponent",
      },
    });
    expect(
      parseEnumerateResponse(buildEnumerateResponse({ context: "uuid:c1", items: [instance], endOfSequence: false })),
    ).toEqual({
      context: "uuid:c1",
      items: [instance],
      endOfSequence: false,
    });
    expect(
      parseEnumerateResponse(buildEnumerateResponse({ context: "uuid:c1", items: [], endOfSequence: false })),
    ).toEqual({
      context: "uuid:c1",
      items: [],
      endOfSequence: false,
    });
    const pull = parseRequest(
      buildPullRequest({ ...COMMON, resourceUri: `${V2}/*`, context: "uuid:c1", maxElements: 10 }),
    );
    expect(pull).toMatchObject({ kind: "pull", context: "uuid:c1", maxElements: 10 });
    expect(parsePullResponse(buildPullResponse({ items: [instance, instance], endOfSequence: true }))).toEqual({
      items: [instance, instance],
      endOfSequence: true,
    });
    expect(parseRequest(buildReleaseRequest({ ...COMMON, resourceUri: `${V2}/*`, context: "uuid:c1" }))).toMatchObject({
      kind: "release",
      context: "uuid:c1",
    });
    expect(() => parseEmptyResponse(buildReleaseResponse())).not.toThrow();
  });

  it("Invoke with EPR and arrays, and its output with a Job EPR", () => {
    const uri = `${V2}/Msvm_VirtualSystemManagementService`;
    const request = parseRequest(
      buildInvokeRequest({
        ...COMMON,
        resourceUri: uri,
        method: "ModifyKvpItems",
        selectors: VSMS_SELECTORS,
        parameters: { TargetSystem: TARGET, DataItems: [ITEM, ITEM], Note: null },
      }),
    );
    expect(request.kind).toBe("invoke");
    if (request.kind !== "invoke") return;
    expect(request.method).toBe("ModifyKvpItems");
    expect(request.selectors).toEqual(VSMS_SELECTORS);
    expect(request.parameters.get("TargetSystem")).toEqual(TARGET);
    expect(request.parameters.get("DataItems")).toEqual([ITEM, ITEM]);
    expect(request.parameters.get("Note")).toBeNull();

    const job = {
      address: TARGET.address,
      resourceUri: `${V2}/Msvm_ConcreteJob`,
      selectors: [{ name: "InstanceID", value: "JOB-1" }],
    };
    const result = parseInvokeResponse(
      buildInvokeResponse({ resourceUri: uri, method: "ModifyKvpItems", returnValue: 4096, outputs: { Job: job } }),
      "ModifyKvpItems",
    );
    expect(result.returnValue).toBe(4096);
    expect(result.job).toEqual(job);
    expect(result.jobInstanceId).toBe("JOB-1");
    expect(
      parseInvokeResponse(buildInvokeResponse({ resourceUri: uri, method: "M", returnValue: 0 })).job,
    ).toBeUndefined();
    expect(() =>
      parseInvokeResponse(buildInvokeResponse({ resourceUri: uri, method: "M", returnValue: 0 }), "Other"),
    ).toThrow(/expected Other_OUTPUT/);
  });

  it("nested EPR selectors survive", () => {
    const nested = { address: "x", resourceUri: `${V2}/A`, selectors: [{ name: "Ref", value: TARGET }] };
    const request = parseRequest(buildGetRequest({ ...COMMON, resourceUri: `${V2}/A`, selectors: nested.selectors }));
    expect(request.selectors).toEqual(nested.selectors);
  });

  it("valueAsArray", () => {
    expect(valueAsArray(undefined)).toEqual([]);
    expect(valueAsArray(null)).toEqual([]);
    expect(valueAsArray("a")).toEqual(["a"]);
    expect(valueAsArray(["a", "b"])).toEqual(["a", "b"]);
  });
});

describe("faults", () => {
  const faultXml = buildFault(
    {
      code: "s:Sender",
      subcode: "w:InvalidSelectors",
      reason: "The request contained invalid selectors for the resource.",
      detail: "Name is wrong",
      wsmanFaultCode: "2150858843",
    },
    { relatesTo: "uuid:1" },
  );
  it("parse into a typed error from every response parser", () => {
    for (const parse of [
      parseGetResponse,
      parseEnumerateResponse,
      parsePullResponse,
      parseEmptyResponse,
      (x: string) => parseInvokeResponse(x),
    ]) {
      let error: unknown;
      try {
        parse(faultXml);
      } catch (e) {
        error = e;
      }
      expect(isWsmanError(error, "fault")).toBe(true);
      if (isWsmanError(error)) {
        expect(error.fault).toEqual({
          code: "s:Sender",
          subcode: "w:InvalidSelectors",
          reason: "The request contained invalid selectors for the resource.",
          detail: "Name is wrong",
          wsmanFaultCode: "2150858843",
        });
        expect(error.message).toContain("w:InvalidSelectors");
      }
    }
  });
  it("reads a WinRM-style fault with provider detail", () => {
    const xml =
      '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">' +
      "<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action></s:Header><s:Body><s:Fault>" +
      "<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>" +
      '<s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. </s:Text></s:Reason>' +
      '<s:Detail><p:MSFT_WmiError xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError"><p:Message>Invalid query </p:Message></p:MSFT_WmiError></s:Detail>' +
      "</s:Fault></s:Body></s:Envelope>";
    expect(parseFault(xml)).toEqual({
      code: "s:Receiver",
      subcode: "w:InternalError",
      reason: "The WS-Management service cannot process the request.",
      detail: "Invalid query",
    });
    expect(parseFault(buildGetResponse({ resourceUri: "u:x", className: "X", properties: new Map() }))).toBeUndefined();
  });
  it("refuses a subcode with an unknown prefix", () => {
    expect(() => buildFault({ code: "s:Sender", subcode: "x:Foo", reason: "r" })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
  });
});

describe("hostile input gives typed errors", () => {
  const cases: [string, string][] = [
    ["empty", ""],
    ["garbage", "\u0000\u0001 not xml"],
    ["html", "<html><body>502 Bad Gateway</body></html>"],
    [
      "DOCTYPE with entity",
      '<!DOCTYPE s [<!ENTITY x "y">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&x;</s:Body></s:Envelope>',
    ],
    ["undeclared prefix", "<s:Envelope><s:Body/></s:Envelope>"],
    ["SOAP 1.1", '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'],
    ["no body", '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>'],
    [
      "truncated",
      buildGetResponse({ resourceUri: "u:x", className: "X", properties: new Map([["A", "1"]]) }).slice(0, 300),
    ],
    [
      "__proto__ property",
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><p:X xmlns:p="u:x"><p:__proto__>1</p:__proto__><p:constructor><p:y/></p:constructor></p:X></s:Body></s:Envelope>',
    ],
  ];
  it.each(cases)("%s", (_name, xml) => {
    for (const parse of [
      parseGetResponse,
      parseEnumerateResponse,
      parsePullResponse,
      (x: string) => parseInvokeResponse(x),
      parseRequest,
    ]) {
      let error: unknown;
      try {
        parse(xml);
      } catch (e) {
        error = e;
      }
      expect(isWsmanError(error), `${String(error)}`).toBe(true);
    }
  });
  it("keeps __proto__ as a plain property name", () => {
    const xml =
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><p:X xmlns:p="u:x"><p:__proto__>1</p:__proto__></p:X></s:Body></s:Envelope>';
    const instance = parseGetResponse(xml);
    expect(instance.properties.get("__proto__")).toBe("1");
    expect(({} as Record<string, unknown>)["1"]).toBeUndefined();
  });
  it("reports limits apart from garbage", () => {
    const deep = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${"<a>".repeat(40)}${"</a>".repeat(40)}</s:Body></s:Envelope>`;
    expect(() => parseGetResponse(deep)).toThrow(expect.objectContaining({ code: "limit-exceeded" }));
    expect(() => parseRequest("<a/>", { maxInputChars: 2 })).toThrow(
      expect.objectContaining({ code: "limit-exceeded" }),
    );
  });
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
