/**
 * The SOAP 1.2 envelope every WS-Management message shares: its opening tag, message IDs,
 * the header of a reply, and reading an envelope into Header and Body.
 */
import { type XmlLimits, WSA_ANONYMOUS } from "@hyperv-kvp/kvp-core/cim";
import { NS_ADDRESSING, NS_ENUMERATION, NS_SOAP, NS_WSMAN, NS_XSI } from "./namespaces.js";
import { type NsElement, DEFAULT_SOAP_LIMITS, childOf, invalidMessage, parseNsXml, textOf } from "./xml-tree.js";
import { type EmbedStyle, xmlText } from "./values.js";

/** The opening tag of every envelope, with the prefixes all messages use (s, a, n, w, xsi). */
export const ENVELOPE_OPEN =
  `<s:Envelope xmlns:s="${NS_SOAP}" xmlns:a="${NS_ADDRESSING}" xmlns:n="${NS_ENUMERATION}"` +
  ` xmlns:w="${NS_WSMAN}" xmlns:xsi="${NS_XSI}">`;

/** A fresh `wsa:MessageID`: `uuid:` and a random UUID. */
export function newMessageId(): string {
  return `uuid:${globalThis.crypto.randomUUID()}`;
}

interface Envelope {
  readonly header: NsElement | undefined;
  readonly body: NsElement;
}

/**
 * The Header (if any) and Body of a SOAP 1.2 envelope, parsed with `limits` (default
 * {@link DEFAULT_SOAP_LIMITS}).
 * @throws {WsmanError} `invalid-message`; `limit-exceeded`.
 */
export function readEnvelope(xml: string, limits: XmlLimits | undefined): Envelope {
  const root = parseNsXml(xml, limits ?? DEFAULT_SOAP_LIMITS);
  if (root.local !== "Envelope" || root.ns !== NS_SOAP) {
    throw invalidMessage(`root element is {${root.ns}}${root.local}, not a SOAP 1.2 Envelope`);
  }
  const body = childOf(root, NS_SOAP, "Body");
  if (body === undefined) throw invalidMessage("the envelope has no Body");
  return { header: childOf(root, NS_SOAP, "Header"), body };
}

/** The trimmed text of header element `{ns}local`, or undefined. */
export function headerText(header: NsElement | undefined, ns: string, local: string): string | undefined {
  const e = header === undefined ? undefined : childOf(header, ns, local);
  return e === undefined ? undefined : textOf(e).trim();
}

/** Options of the response builders. */
export interface ResponseOptions {
  /** wsa:RelatesTo: the MessageID of the request. */
  readonly relatesTo?: string;
  readonly embed?: EmbedStyle;
}

/** The header of a reply: anonymous To, `action`, a new MessageID and RelatesTo the request. */
export function responseHeader(action: string, relatesTo: string | undefined): string {
  return (
    `<s:Header><a:To>${WSA_ANONYMOUS}</a:To><a:Action>${xmlText(action, "action")}</a:Action>` +
    `<a:MessageID>${newMessageId()}</a:MessageID>` +
    (relatesTo === undefined ? "" : `<a:RelatesTo>${xmlText(relatesTo, "RelatesTo")}</a:RelatesTo>`) +
    "</s:Header>"
  );
}
