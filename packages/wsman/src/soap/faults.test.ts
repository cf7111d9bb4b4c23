import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import { buildFault, parseFault } from "./faults.js";
import {
  buildGetResponse,
  parseEmptyResponse,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
} from "./responses.js";

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
      const error = thrown(() => parse(faultXml));
      expect(isWsmanError(error, "fault")).toBe(true);
      if (isWsmanError(error)) {
        expect(error.fault).toEqual({
          code: "s:Sender",
          subcode: "w:InvalidSelectors",
          reason: "The request contained invalid selectors for the resource.",
          detail: "Name is wrong",
          wsmanFaultCode: "2150858843",
        });
        // Server text travels in serverText, never in the message (see WsmanError's doc).
        expect(error.message).toBe("WS-Management fault");
        expect(error.serverText).toContain("w:InvalidSelectors");
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
