import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import { parseRequest } from "./requests.js";
import {
  buildGetResponse,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
} from "./responses.js";

// Responses are what a client reads from the other side; requests (parseRequest) what the
// server reads: both parsers are checked here.
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
      const error = thrown(() => parse(xml));
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
});
