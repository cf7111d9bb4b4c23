/**
 * SOAP faults with Microsoft's WSManFault detail: the server builds them, the client reads
 * them (responses.ts turns one into a `fault` error) and describes them for messages.
 */
import type { XmlLimits } from "@hyperv-kvp/kvp-core/cim";
import { WsmanError, type WsmanFault } from "../errors.js";
import { ENVELOPE_OPEN, type ResponseOptions, readEnvelope, responseHeader } from "./envelope.js";
import { ACTIONS, NS_SOAP, NS_WSMAN, NS_WSMAN_FAULT } from "./namespaces.js";
import { xmlAttribute, xmlText } from "./values.js";
import { type NsElement, childOf, deepTextOf, elementsOf, textOf } from "./xml-tree.js";

/** What a server fault says; code and subcode are prefixed QNames with prefix s, a, n or w. */
export interface WsmanFaultInit {
  /** `s:Sender` (the request is wrong) or `s:Receiver` (the server failed). */
  readonly code: "s:Sender" | "s:Receiver";
  /** e.g. `w:InvalidSelectors`, `a:ActionNotSupported`, `w:AccessDenied`, `w:InternalError`. */
  readonly subcode: string;
  readonly reason: string;
  /** Text of the WSManFault Message, if any. */
  readonly detail?: string;
  /** WSManFault Code attribute (a Windows error number). */
  readonly wsmanFaultCode?: string;
}

/** A SOAP 1.2 fault with a WSManFault detail. */
export function buildFault(fault: WsmanFaultInit, options: ResponseOptions = {}): string {
  if (!/^(s|a|n|w):[A-Za-z][A-Za-z0-9]*$/.test(fault.subcode)) {
    throw new WsmanError(
      "invalid-argument",
      `invalid fault subcode: ${JSON.stringify(fault.subcode)} (prefix s, a, n or w)`,
    );
  }
  const code = fault.wsmanFaultCode === undefined ? "" : ` Code="${xmlAttribute(fault.wsmanFaultCode, "fault code")}"`;
  const detail =
    fault.detail === undefined && fault.wsmanFaultCode === undefined
      ? ""
      : `<s:Detail><f:WSManFault xmlns:f="${NS_WSMAN_FAULT}"${code}><f:Message>${xmlText(fault.detail ?? "", "fault detail")}</f:Message></f:WSManFault></s:Detail>`;
  return (
    `${ENVELOPE_OPEN}${responseHeader(ACTIONS.fault, options.relatesTo)}<s:Body><s:Fault>` +
    `<s:Code><s:Value>${fault.code}</s:Value><s:Subcode><s:Value>${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${xmlText(fault.reason, "fault reason")}</s:Text></s:Reason>${detail}</s:Fault></s:Body></s:Envelope>`
  );
}

/** The fault in `body`, if it is one. */
/** The fault in a Body, if it is one: code, subcode, reason, detail and WSManFault code. */
export function readFault(body: NsElement): WsmanFault | undefined {
  const f = childOf(body, NS_SOAP, "Fault");
  if (f === undefined) return undefined;
  const code = childOf(f, NS_SOAP, "Code");
  const value = code === undefined ? undefined : childOf(code, NS_SOAP, "Value");
  const sub = code === undefined ? undefined : childOf(code, NS_SOAP, "Subcode");
  const subValue = sub === undefined ? undefined : childOf(sub, NS_SOAP, "Value");
  const reason = childOf(f, NS_SOAP, "Reason");
  const reasonText = reason === undefined ? undefined : childOf(reason, NS_SOAP, "Text");
  const detail = childOf(f, NS_SOAP, "Detail");
  const wsmanFault = detail === undefined ? undefined : childOf(detail, NS_WSMAN_FAULT, "WSManFault");
  const faultCode = wsmanFault?.attributes.get("Code");
  const result: { -readonly [K in keyof WsmanFault]: WsmanFault[K] } = {
    code: value === undefined ? "" : textOf(value).trim(),
    subcode: subValue === undefined ? "" : textOf(subValue).trim(),
    reason: reasonText === undefined ? "" : textOf(reasonText).trim(),
    detail: detail === undefined ? "" : deepTextOf(detail).replace(/\s+/g, " ").trim(),
  };
  if (faultCode !== undefined) result.wsmanFaultCode = faultCode;
  if (detail !== undefined) {
    const refinement = childOf(detail, NS_WSMAN, "FaultDetail");
    if (refinement !== undefined) result.faultDetail = textOf(refinement).trim();
    // WinRM's CIM error: an MSFT_WmiError instance, in whichever resource URI namespace.
    const wmiError = elementsOf(detail).find((e) => e.local === "MSFT_WmiError");
    const wmiCode = wmiError === undefined ? undefined : elementsOf(wmiError).find((e) => e.local === "error_Code");
    if (wmiCode !== undefined && /^\s*[0-9]{1,10}\s*$/.test(textOf(wmiCode)))
      result.wmiErrorCode = textOf(wmiCode).trim();
  }
  return result;
}

/** The text of a fault for messages: reason, subcode and detail. */
export function describeFault(fault: WsmanFault): string {
  const parts = [fault.reason || "SOAP fault"];
  if (fault.subcode) parts.push(`(${fault.subcode})`);
  if (fault.detail && fault.detail !== fault.reason) parts.push(`: ${fault.detail}`);
  return parts.join(" ").replace(/ :/, ":");
}

/**
 * The error for a fault the server answered: our words in the message, the fault's own text
 * (reason, subcode, detail) in {@link WsmanError.serverText} for the caller to make printable.
 */
export function faultError(fault: WsmanFault): WsmanError {
  return new WsmanError("fault", "WS-Management fault", { fault, serverText: describeFault(fault) });
}

/** The fault in a response envelope, or undefined when it is not a fault (or not SOAP at all). */
export function parseFault(xml: string, limits?: XmlLimits): WsmanFault | undefined {
  try {
    return readFault(readEnvelope(xml, limits).body);
  } catch {
    return undefined;
  }
}
