// Each operation as both ends see it: the client builds the request, the server parses it and
// builds the response, the client parses that.
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
import {
  buildEnumerateResponse,
  buildGetResponse,
  buildInvokeResponse,
  buildPullResponse,
  buildReleaseResponse,
  parseEmptyResponse,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
} from "./responses.js";
import type { WsmanInstance, WsmanValue } from "./values.js";

describe("round trips: client build → server parse → server build → client parse", () => {
  const instance: WsmanInstance = {
    resourceUri: `${V2}/Msvm_KvpExchangeComponent`,
    className: "Msvm_KvpExchangeComponent",
    properties: new Map<string, WsmanValue>([
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
});
