import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import {
  buildEnumerateResponse,
  buildGetResponse,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
} from "./responses.js";
import type { WsmanInstance } from "./values.js";

// The shapes below follow what WinRM writes (docs/ws-management.md#instances-and-references):
// association instances whose keys are endpoint references, the cim:Location WinRM appends
// to every instance of a Get or Pull, and method outputs with arrays of references.
const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
const ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
const OPEN =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
  ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"' +
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Header/><s:Body>';
const CLOSE = "</s:Body></s:Envelope>";

function epr(className: string, selectors: string): string {
  return (
    `<a:Address>${ANON}</a:Address><a:ReferenceParameters><w:ResourceURI>${V2}/${className}</w:ResourceURI>` +
    `<w:SelectorSet>${selectors}</w:SelectorSet></a:ReferenceParameters>`
  );
}
const VM_SELECTORS =
  '<w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector><w:Selector Name="Name">4B1A2B3C-0000-4000-8000-000000000001</w:Selector>';
const DEVICE_SELECTORS =
  '<w:Selector Name="CreationClassName">Msvm_KvpExchangeComponent</w:Selector><w:Selector Name="DeviceID">Microsoft:4B1A\\KVP</w:Selector>' +
  '<w:Selector Name="SystemCreationClassName">Msvm_ComputerSystem</w:Selector><w:Selector Name="SystemName">4B1A2B3C-0000-4000-8000-000000000001</w:Selector>';

const systemDevice =
  `<p:Msvm_SystemDevice xmlns:p="${V2}/Msvm_SystemDevice" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common">` +
  `<p:GroupComponent>${epr("Msvm_ComputerSystem", VM_SELECTORS)}</p:GroupComponent>` +
  `<p:PartComponent>${epr("Msvm_KvpExchangeComponent", DEVICE_SELECTORS)}</p:PartComponent>` +
  `<cim:Location>${epr("Msvm_SystemDevice", `<w:Selector Name="GroupComponent"><a:EndpointReference>${epr("Msvm_ComputerSystem", VM_SELECTORS)}</a:EndpointReference></w:Selector>`)}</cim:Location>` +
  "</p:Msvm_SystemDevice>";

const component =
  `<p:Msvm_KvpExchangeComponent xmlns:p="${V2}/Msvm_KvpExchangeComponent" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common">` +
  "<p:ElementName>Key-Value Pair Exchange</p:ElementName><p:EnabledState>2</p:EnabledState>" +
  `<p:InstallDate xsi:nil="true"/><p:TimeOfLastStateChange><cim:Datetime>2024-01-02T03:04:05.123Z</cim:Datetime></p:TimeOfLastStateChange>` +
  `<cim:Location>${epr("Msvm_KvpExchangeComponent", DEVICE_SELECTORS)}</cim:Location>` +
  "</p:Msvm_KvpExchangeComponent>";

describe("instances with references", () => {
  it("reads a Get whose instance ends with cim:Location", () => {
    const instance = parseGetResponse(`${OPEN}${component}${CLOSE}`);
    expect(instance.className).toBe("Msvm_KvpExchangeComponent");
    expect(instance.properties.get("ElementName")).toBe("Key-Value Pair Exchange");
    expect(instance.properties.get("TimeOfLastStateChange")).toBe("2024-01-02T03:04:05.123Z");
    expect(instance.properties.has("Location")).toBe(false);
    expect(instance.location?.epr.resourceUri).toBe(`${V2}/Msvm_KvpExchangeComponent`);
    expect(instance.location?.path).toEqual({
      namespace: "root/virtualization/v2",
      className: "Msvm_KvpExchangeComponent",
      keys: [
        { name: "CreationClassName", type: "string", value: "Msvm_KvpExchangeComponent" },
        { name: "DeviceID", type: "string", value: "Microsoft:4B1A\\KVP" },
        { name: "SystemCreationClassName", type: "string", value: "Msvm_ComputerSystem" },
        { name: "SystemName", type: "string", value: "4B1A2B3C-0000-4000-8000-000000000001" },
      ],
    });
  });

  it("reads an association's GroupComponent and PartComponent as typed references", () => {
    const page = parsePullResponse(
      `${OPEN}<n:PullResponse><n:Items>${systemDevice}${systemDevice}</n:Items><n:EndOfSequence/></n:PullResponse>${CLOSE}`,
    );
    expect(page.items).toHaveLength(2);
    expect(page.skipped ?? []).toEqual([]);
    const [item] = page.items as [WsmanInstance];
    expect([...item.properties]).toEqual([]);
    const group = item.references?.get("GroupComponent");
    expect(group).toHaveLength(1);
    expect(group?.[0]?.path).toEqual({
      namespace: "root/virtualization/v2",
      className: "Msvm_ComputerSystem",
      keys: [
        { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
        { name: "Name", type: "string", value: "4B1A2B3C-0000-4000-8000-000000000001" },
      ],
    });
    expect(group?.[0]?.epr.address).toBe(ANON);
    expect(item.references?.get("PartComponent")?.[0]?.path?.className).toBe("Msvm_KvpExchangeComponent");
    // The location's selector is itself a reference: a reference key.
    expect(item.location?.path?.keys[0]).toMatchObject({ name: "GroupComponent", type: "reference" });
  });

  it("reads an array of references in an instance", () => {
    const xml =
      `${OPEN}<p:Msvm_Holder xmlns:p="${V2}/Msvm_Holder">` +
      `<p:Parts>${epr("Msvm_ComputerSystem", VM_SELECTORS)}</p:Parts><p:Parts>${epr("Msvm_KvpExchangeComponent", DEVICE_SELECTORS)}</p:Parts>` +
      `</p:Msvm_Holder>${CLOSE}`;
    const refs = parseGetResponse(xml).references?.get("Parts");
    expect(refs?.map((r) => r.path?.className)).toEqual(["Msvm_ComputerSystem", "Msvm_KvpExchangeComponent"]);
  });

  it("keeps a reference to something that is not a WMI class, without a path", () => {
    const xml =
      `${OPEN}<p:X xmlns:p="${V2}/X"><p:Other><a:Address>${ANON}</a:Address><a:ReferenceParameters>` +
      "<w:ResourceURI>http://example.com/not-a-class</w:ResourceURI></a:ReferenceParameters></p:Other></p:X>" +
      CLOSE;
    const [ref] = parseGetResponse(xml).references?.get("Other") ?? [];
    expect(ref?.epr.resourceUri).toBe("http://example.com/not-a-class");
    expect(ref?.path).toBeUndefined();
  });

  it("reads an Invoke output with an array of references", () => {
    const xml =
      `${OPEN}<p:DefineSystem_OUTPUT xmlns:p="${V2}/Msvm_VirtualSystemManagementService">` +
      `<p:ResultingResourceSettings>${epr("Msvm_ComputerSystem", VM_SELECTORS)}</p:ResultingResourceSettings>` +
      `<p:ResultingResourceSettings>${epr("Msvm_KvpExchangeComponent", DEVICE_SELECTORS)}</p:ResultingResourceSettings>` +
      `<p:ReturnValue>0</p:ReturnValue></p:DefineSystem_OUTPUT>${CLOSE}`;
    const result = parseInvokeResponse(xml, "DefineSystem");
    const refs = result.outputs.get("ResultingResourceSettings");
    expect(Array.isArray(refs)).toBe(true);
    expect((refs as readonly { resourceUri: string }[]).map((r) => r.resourceUri)).toEqual([
      `${V2}/Msvm_ComputerSystem`,
      `${V2}/Msvm_KvpExchangeComponent`,
    ]);
  });

  it("refuses text and references mixed under one name", () => {
    const xml = `${OPEN}<p:X xmlns:p="${V2}/X"><p:A>text</p:A><p:A>${epr("Msvm_ComputerSystem", VM_SELECTORS)}</p:A></p:X>${CLOSE}`;
    const error = thrown(() => parseGetResponse(xml));
    expect(isWsmanError(error, "invalid-message")).toBe(true);
  });
});

describe("an unreadable item costs itself, not the page", () => {
  const bad = `<p:Broken xmlns:p="${V2}/Broken"><p:A><p:Unexpected/></p:A></p:Broken>`;

  it("skips it with a note in a Pull", () => {
    const page = parsePullResponse(
      `${OPEN}<n:PullResponse><n:EnumerationContext>ctx</n:EnumerationContext><n:Items>${component}${bad}${systemDevice}</n:Items></n:PullResponse>${CLOSE}`,
    );
    expect(page.items.map((i) => i.className)).toEqual(["Msvm_KvpExchangeComponent", "Msvm_SystemDevice"]);
    expect(page.skipped).toEqual([{ index: 1, className: "Broken", message: expect.stringContaining("Unexpected") }]);
    expect(page.context).toBe("ctx");
  });

  it("skips it in an optimized Enumerate", () => {
    const page = parseEnumerateResponse(
      `${OPEN}<n:EnumerateResponse><n:EnumerationContext/><w:Items>${bad}${component}</w:Items><w:EndOfSequence/></n:EnumerateResponse>${CLOSE}`,
    );
    expect(page.items).toHaveLength(1);
    expect(page.skipped?.map((s) => s.index)).toEqual([0]);
    expect(page.endOfSequence).toBe(true);
  });

  it("reads the instance of a w:Item (EnumerateObjectAndEPR)", () => {
    const page = parsePullResponse(
      `${OPEN}<n:PullResponse><n:Items><w:Item>${component}<a:EndpointReference>${epr("Msvm_KvpExchangeComponent", DEVICE_SELECTORS)}</a:EndpointReference></w:Item></n:Items><n:EndOfSequence/></n:PullResponse>${CLOSE}`,
    );
    expect(page.items.map((i) => i.className)).toEqual(["Msvm_KvpExchangeComponent"]);
  });
});

describe("references round-trip through the server's builders", () => {
  it("writes references and location back", () => {
    const read = parseGetResponse(`${OPEN}${systemDevice}${CLOSE}`);
    const again = parseGetResponse(buildGetResponse(read));
    expect(again.references).toEqual(read.references);
    expect(again.location).toEqual(read.location);
    const page = parseEnumerateResponse(buildEnumerateResponse({ items: [read], endOfSequence: true }));
    expect(page.items[0]?.references).toEqual(read.references);
  });
});
