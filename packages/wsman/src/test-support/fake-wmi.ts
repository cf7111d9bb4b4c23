/**
 * A tiny WMI for transport tests: five Msvm_KvpExchangeComponent instances `VM-1` … `VM-5`
 * (with embedded items and a NULL property), Get by the first selector, Enumerate (a WQL
 * filter containing "Nothing" finds none), and Invoke: `Fail` answers a SOAP fault naming the
 * user, anything else returns 0 or, with `jobs`, 4096 and a Job reference.
 */
import type { WsmanHandler } from "../http/server.js";
import type { WsmanInstance } from "../soap/values.js";

export const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";

/** Component instance `VM-i`. */
export function fakeComponent(i: number): WsmanInstance {
  return {
    resourceUri: `${V2}/Msvm_KvpExchangeComponent`,
    className: "Msvm_KvpExchangeComponent",
    properties: new Map<string, string | string[] | null>([
      ["SystemName", `VM-${i}`],
      ["GuestIntrinsicExchangeItems", ['<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"></INSTANCE>', "<INSTANCE/>"]],
      ["Caption", null],
    ]),
  };
}

/** What Enumerate returns. */
export const FAKE_ITEMS: readonly WsmanInstance[] = [1, 2, 3, 4, 5].map(fakeComponent);

/** The handler; with `jobs`, Invoke returns 4096 and a Job whose InstanceID counts the DataItems. */
export function fakeWmiHandler(options: { readonly jobs?: boolean } = {}): WsmanHandler {
  return (request, { user }) => {
    switch (request.kind) {
      case "get":
        return {
          kind: "get",
          instance: fakeComponent(Number(String(request.selectors[0]?.value ?? "0").replace("VM-", ""))),
        };
      case "enumerate":
        if (request.filter?.query.includes("Nothing")) return { kind: "enumerate", items: [] };
        return { kind: "enumerate", items: [...FAKE_ITEMS] };
      case "invoke":
        if (request.method === "Fail") {
          return {
            kind: "fault",
            fault: { code: "s:Sender", subcode: "w:InvalidParameter", reason: "bad parameter", detail: `for ${user}` },
          };
        }
        if (!options.jobs) return { kind: "invoke", returnValue: 0 };
        return {
          kind: "invoke",
          returnValue: 4096,
          outputs: {
            Job: {
              address: "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",
              resourceUri: `${V2}/Msvm_ConcreteJob`,
              selectors: [
                {
                  name: "InstanceID",
                  value: `JOB-${(request.parameters.get("DataItems") as readonly string[] | undefined)?.length}`,
                },
              ],
            },
          },
        };
    }
  };
}
