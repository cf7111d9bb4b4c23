/**
 * WS-Management SOAP messages for WMI, both directions, as pure string functions:
 * the client builds requests and parses responses, the server parses requests and builds
 * responses and faults. Shapes follow DSP0226 / MS-WSMV and the messages libvirt's Hyper-V
 * driver sends; every parse goes through kvp-core's hardened XML parser.
 */
import {
  type WsmanEpr,
  type WsmanSelector,
  type XmlLimits,
  WSA_ANONYMOUS,
  escapeXmlAttribute,
  escapeXmlText,
  toCdata,
} from "@hyperv-kvp/kvp-core/cim";
import { WsmanError, type WsmanFault } from "./errors.js";
import {
  ACTIONS,
  NS_ADDRESSING,
  NS_ENUMERATION,
  NS_SOAP,
  NS_WSMAN,
  NS_WSMAN_FAULT,
  NS_XSI,
  WQL_DIALECT,
} from "./namespaces.js";
import {
  type NsElement,
  DEFAULT_SOAP_LIMITS,
  childOf,
  deepTextOf,
  elementsOf,
  parseNsXml,
  requireChild,
  textOf,
} from "./xml-tree.js";

// ---------------------------------------------------------------------------------------
// Model

/**
 * A property value of a WMI instance over WS-Management: text, repeated text (an array), or
 * null (`xsi:nil="true"`). A one-element array reads back as a plain string and an empty
 * array as an absent property: the wire cannot tell them apart (see {@link valueAsArray}).
 */
export type WsmanValue = string | readonly string[] | null;

/** A method parameter or output: a value, or an endpoint reference (a CIM REF). */
export type WsmanParameter = WsmanValue | WsmanEpr;

/** Properties in document order; a Map so no property name can reach a prototype. */
export type WsmanProperties = ReadonlyMap<string, WsmanValue>;

/** A WMI instance as WS-Management carries it: `<p:Class xmlns:p="ResourceURI">`. */
export interface WsmanInstance {
  /** The class's resource URI, the namespace of the instance element. */
  readonly resourceUri: string;
  /** The class name, the local name of the instance element. */
  readonly className: string;
  readonly properties: WsmanProperties;
}

/** `value` as an array: null and undefined become `[]`, a string `[value]`. */
export function valueAsArray(value: WsmanValue | undefined): readonly string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

/** How strings are embedded as element text: entity-escaped (default) or CDATA as libvirt does. */
export type EmbedStyle = "escape" | "cdata";

/** Options shared by every request builder. */
export interface WsmanRequestOptions {
  /** wsa:To, the endpoint URL (`https://host:5986/wsman`). */
  readonly to: string;
  /** wsman:ResourceURI of the class (or `…/v2/*` for WQL enumeration). */
  readonly resourceUri: string;
  /** wsa:MessageID; default `uuid:` + a random UUID. */
  readonly messageId?: string;
  /** wsman:MaxEnvelopeSize in bytes; default 512,000 (WinRM's default limit). */
  readonly maxEnvelopeSize?: number;
  /** wsman:OperationTimeout in milliseconds; default 60,000. */
  readonly operationTimeoutMs?: number;
  /** wsman:Locale; default `en-US`. */
  readonly locale?: string;
}

/** Default wsman:MaxEnvelopeSize, bytes. */
export const DEFAULT_MAX_ENVELOPE_SIZE = 512_000;
/** Default wsman:OperationTimeout, milliseconds. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------
// Writing

const ENVELOPE_OPEN =
  `<s:Envelope xmlns:s="${NS_SOAP}" xmlns:a="${NS_ADDRESSING}" xmlns:n="${NS_ENUMERATION}"` +
  ` xmlns:w="${NS_WSMAN}" xmlns:xsi="${NS_XSI}">`;

function text(value: string, what: string): string {
  return escapeXmlText(value, what);
}

function attr(value: string, what: string): string {
  return escapeXmlAttribute(value, what);
}

function embed(value: string, what: string, style: EmbedStyle): string {
  return style === "cdata" ? toCdata(value, what) : escapeXmlText(value, what);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function assertName(name: string, what: string): void {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new WsmanError("invalid-argument", `invalid ${what}: ${JSON.stringify(String(name))} is not an XML name`);
  }
}

function newMessageId(): string {
  return `uuid:${globalThis.crypto.randomUUID()}`;
}

function positive(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new WsmanError("invalid-argument", `invalid ${what}: ${value}`);
  return value;
}

function selectorSetXml(selectors: readonly WsmanSelector[], depth = 0): string {
  if (depth > 8) throw new WsmanError("invalid-argument", "invalid selectors: references nested more than 8 deep");
  let out = "<w:SelectorSet>";
  for (const s of selectors) {
    const name = attr(s.name, "selector name");
    out +=
      typeof s.value === "string"
        ? `<w:Selector Name="${name}">${text(s.value, `selector ${s.name}`)}</w:Selector>`
        : `<w:Selector Name="${name}"><a:EndpointReference>${eprXml(s.value, depth + 1)}</a:EndpointReference></w:Selector>`;
  }
  return `${out}</w:SelectorSet>`;
}

/** The content of an endpoint-reference element: Address and ReferenceParameters. */
function eprXml(epr: WsmanEpr, depth = 0): string {
  return (
    `<a:Address>${text(epr.address, "EPR address")}</a:Address><a:ReferenceParameters>` +
    `<w:ResourceURI>${text(epr.resourceUri, "EPR resource URI")}</w:ResourceURI>` +
    `${selectorSetXml(epr.selectors, depth)}</a:ReferenceParameters>`
  );
}

function requestHeader(options: WsmanRequestOptions, action: string, selectors?: readonly WsmanSelector[]): string {
  const timeout = positive(options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS, "operation timeout");
  return (
    `<s:Header><a:To>${text(options.to, "endpoint")}</a:To>` +
    `<w:ResourceURI s:mustUnderstand="true">${text(options.resourceUri, "resource URI")}</w:ResourceURI>` +
    `<a:ReplyTo><a:Address s:mustUnderstand="true">${WSA_ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<a:Action s:mustUnderstand="true">${text(action, "action")}</a:Action>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${positive(options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE, "max envelope size")}</w:MaxEnvelopeSize>` +
    `<a:MessageID>${text(options.messageId ?? newMessageId(), "message ID")}</a:MessageID>` +
    `<w:Locale xml:lang="${attr(options.locale ?? "en-US", "locale")}" s:mustUnderstand="false"/>` +
    `<w:OperationTimeout>PT${(timeout / 1000).toFixed(3)}S</w:OperationTimeout>` +
    (selectors !== undefined && selectors.length > 0 ? selectorSetXml(selectors) : "") +
    "</s:Header>"
  );
}

/** A WS-Transfer Get of the instance named by `selectors`. */
export function buildGetRequest(
  options: WsmanRequestOptions & { readonly selectors: readonly WsmanSelector[] },
): string {
  return `${ENVELOPE_OPEN}${requestHeader(options, ACTIONS.get, options.selectors)}<s:Body/></s:Envelope>`;
}

/**
 * A WS-Enumeration Enumerate with a WQL filter. With `maxElements`, asks for optimized
 * enumeration (the first items come back in the EnumerateResponse).
 */
export function buildEnumerateRequest(
  options: WsmanRequestOptions & { readonly wql: string; readonly maxElements?: number },
): string {
  const optimize =
    options.maxElements === undefined
      ? ""
      : `<w:OptimizeEnumeration/><w:MaxElements>${positive(options.maxElements, "max elements")}</w:MaxElements>`;
  return (
    `${ENVELOPE_OPEN}${requestHeader(options, ACTIONS.enumerate)}<s:Body><n:Enumerate>${optimize}` +
    `<w:Filter Dialect="${WQL_DIALECT}">${text(options.wql, "WQL query")}</w:Filter></n:Enumerate></s:Body></s:Envelope>`
  );
}

/** A WS-Enumeration Pull continuing `context`. */
export function buildPullRequest(
  options: WsmanRequestOptions & { readonly context: string; readonly maxElements?: number },
): string {
  const max =
    options.maxElements === undefined
      ? ""
      : `<n:MaxElements>${positive(options.maxElements, "max elements")}</n:MaxElements>`;
  return (
    `${ENVELOPE_OPEN}${requestHeader(options, ACTIONS.pull)}<s:Body><n:Pull>` +
    `<n:EnumerationContext>${text(options.context, "enumeration context")}</n:EnumerationContext>${max}</n:Pull></s:Body></s:Envelope>`
  );
}

/** A WS-Enumeration Release of `context` (ends an enumeration early). */
export function buildReleaseRequest(options: WsmanRequestOptions & { readonly context: string }): string {
  return (
    `${ENVELOPE_OPEN}${requestHeader(options, ACTIONS.release)}<s:Body><n:Release>` +
    `<n:EnumerationContext>${text(options.context, "enumeration context")}</n:EnumerationContext></n:Release></s:Body></s:Envelope>`
  );
}

/** Parameters or properties: a Map (order kept) or a plain record. */
export type ParameterInput<V> = ReadonlyMap<string, V> | Readonly<Record<string, V>>;

function entriesOf<V>(input: ParameterInput<V>): [string, V][] {
  return input instanceof Map ? [...(input as ReadonlyMap<string, V>)] : Object.entries(input as Record<string, V>);
}

function isEpr(value: WsmanParameter): value is WsmanEpr {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function valueElements(prefix: string, name: string, value: WsmanParameter, style: EmbedStyle): string {
  assertName(name, "property name");
  const tag = `${prefix}:${name}`;
  if (value === null) return `<${tag} xsi:nil="true"/>`;
  if (typeof value === "string") return `<${tag}>${embed(value, name, style)}</${tag}>`;
  if (isEpr(value)) return `<${tag}>${eprXml(value)}</${tag}>`;
  let out = "";
  for (const item of value as readonly string[]) {
    if (typeof item !== "string")
      throw new WsmanError("invalid-argument", `invalid value of ${name}: array items must be strings`);
    out += `<${tag}>${embed(item, name, style)}</${tag}>`;
  }
  return out;
}

/**
 * A method invocation: Action `<ResourceURI>/<Method>`, the SelectorSet of the target
 * instance, and `<p:Method_INPUT xmlns:p="ResourceURI">` with one element per parameter
 * (arrays repeat the element, EPRs become Address + ReferenceParameters).
 */
export function buildInvokeRequest(
  options: WsmanRequestOptions & {
    readonly method: string;
    readonly selectors: readonly WsmanSelector[];
    readonly parameters: ParameterInput<WsmanParameter>;
    readonly embed?: EmbedStyle;
  },
): string {
  assertName(options.method, "method name");
  const style = options.embed ?? "escape";
  let body = "";
  for (const [name, value] of entriesOf(options.parameters)) body += valueElements("p", name, value, style);
  const input = `${options.method}_INPUT`;
  return (
    `${ENVELOPE_OPEN}${requestHeader(options, `${options.resourceUri}/${options.method}`, options.selectors)}<s:Body>` +
    `<p:${input} xmlns:p="${attr(options.resourceUri, "resource URI")}">${body}</p:${input}></s:Body></s:Envelope>`
  );
}

// -- server side --------------------------------------------------------------------------

function responseHeader(action: string, relatesTo: string | undefined): string {
  return (
    `<s:Header><a:To>${WSA_ANONYMOUS}</a:To><a:Action>${text(action, "action")}</a:Action>` +
    `<a:MessageID>${newMessageId()}</a:MessageID>` +
    (relatesTo === undefined ? "" : `<a:RelatesTo>${text(relatesTo, "RelatesTo")}</a:RelatesTo>`) +
    "</s:Header>"
  );
}

/**
 * An instance as `<p:Class xmlns:p="ResourceURI">` with one child per property: arrays
 * repeated, null as `xsi:nil="true"` (xsi is declared on the envelope).
 */
export function instanceXml(instance: WsmanInstance, style: EmbedStyle = "escape"): string {
  assertName(instance.className, "class name");
  let body = "";
  for (const [name, value] of instance.properties) body += valueElements("p", name, value, style);
  return `<p:${instance.className} xmlns:p="${attr(instance.resourceUri, "resource URI")}">${body}</p:${instance.className}>`;
}

/** Options of the response builders. */
export interface ResponseOptions {
  /** wsa:RelatesTo: the MessageID of the request. */
  readonly relatesTo?: string;
  readonly embed?: EmbedStyle;
}

/** A GetResponse carrying `instance`. */
export function buildGetResponse(instance: WsmanInstance, options: ResponseOptions = {}): string {
  return `${ENVELOPE_OPEN}${responseHeader(ACTIONS.getResponse, options.relatesTo)}<s:Body>${instanceXml(instance, options.embed)}</s:Body></s:Envelope>`;
}

/** One page of an enumeration: its context (absent at the end), items and end flag. */
export interface EnumerationPage {
  /** The context to Pull with next; absent when the sequence ended. */
  readonly context?: string;
  readonly items: readonly WsmanInstance[];
  readonly endOfSequence: boolean;
}

function itemsXml(page: EnumerationPage, prefix: "n" | "w", style: EmbedStyle | undefined): string {
  const context =
    page.context === undefined
      ? ""
      : `<n:EnumerationContext>${text(page.context, "enumeration context")}</n:EnumerationContext>`;
  const items =
    page.items.length === 0 && prefix === "w"
      ? ""
      : `<${prefix}:Items>${page.items.map((i) => instanceXml(i, style)).join("")}</${prefix}:Items>`;
  return `${context}${items}${page.endOfSequence ? `<${prefix}:EndOfSequence/>` : ""}`;
}

/** An EnumerateResponse; items only for optimized enumeration (they travel in wsman:Items). */
export function buildEnumerateResponse(page: EnumerationPage, options: ResponseOptions = {}): string {
  return `${ENVELOPE_OPEN}${responseHeader(ACTIONS.enumerateResponse, options.relatesTo)}<s:Body><n:EnumerateResponse>${itemsXml(page, "w", options.embed)}</n:EnumerateResponse></s:Body></s:Envelope>`;
}

/** A PullResponse. */
export function buildPullResponse(page: EnumerationPage, options: ResponseOptions = {}): string {
  return `${ENVELOPE_OPEN}${responseHeader(ACTIONS.pullResponse, options.relatesTo)}<s:Body><n:PullResponse>${itemsXml(page, "n", options.embed)}</n:PullResponse></s:Body></s:Envelope>`;
}

/** A ReleaseResponse (empty body). */
export function buildReleaseResponse(options: ResponseOptions = {}): string {
  return `${ENVELOPE_OPEN}${responseHeader(ACTIONS.releaseResponse, options.relatesTo)}<s:Body/></s:Envelope>`;
}

/**
 * The reply of a method: `<p:Method_OUTPUT xmlns:p="ResourceURI">` with the outputs (Job as
 * an EPR) and ReturnValue last, as WMI writes it.
 */
export function buildInvokeResponse(
  init: {
    readonly resourceUri: string;
    readonly method: string;
    readonly returnValue: number;
    readonly outputs?: ParameterInput<WsmanParameter>;
  },
  options: ResponseOptions = {},
): string {
  assertName(init.method, "method name");
  if (!Number.isSafeInteger(init.returnValue) || init.returnValue < 0) {
    throw new WsmanError("invalid-argument", `invalid return value: ${init.returnValue}`);
  }
  const style = options.embed ?? "escape";
  let body = "";
  for (const [name, value] of entriesOf(init.outputs ?? {})) body += valueElements("p", name, value, style);
  body += `<p:ReturnValue>${init.returnValue}</p:ReturnValue>`;
  const output = `${init.method}_OUTPUT`;
  return (
    `${ENVELOPE_OPEN}${responseHeader(`${init.resourceUri}/${init.method}Response`, options.relatesTo)}<s:Body>` +
    `<p:${output} xmlns:p="${attr(init.resourceUri, "resource URI")}">${body}</p:${output}></s:Body></s:Envelope>`
  );
}

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
  const code = fault.wsmanFaultCode === undefined ? "" : ` Code="${attr(fault.wsmanFaultCode, "fault code")}"`;
  const detail =
    fault.detail === undefined && fault.wsmanFaultCode === undefined
      ? ""
      : `<s:Detail><f:WSManFault xmlns:f="${NS_WSMAN_FAULT}"${code}><f:Message>${text(fault.detail ?? "", "fault detail")}</f:Message></f:WSManFault></s:Detail>`;
  return (
    `${ENVELOPE_OPEN}${responseHeader(ACTIONS.fault, options.relatesTo)}<s:Body><s:Fault>` +
    `<s:Code><s:Value>${fault.code}</s:Value><s:Subcode><s:Value>${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${text(fault.reason, "fault reason")}</s:Text></s:Reason>${detail}</s:Fault></s:Body></s:Envelope>`
  );
}

// ---------------------------------------------------------------------------------------
// Reading

function bad(message: string): WsmanError {
  return new WsmanError("invalid-message", `invalid SOAP message: ${message}`);
}

interface Envelope {
  readonly header: NsElement | undefined;
  readonly body: NsElement;
}

function readEnvelope(xml: string, limits: XmlLimits | undefined): Envelope {
  const root = parseNsXml(xml, limits ?? DEFAULT_SOAP_LIMITS);
  if (root.local !== "Envelope" || root.ns !== NS_SOAP) {
    throw bad(`root element is {${root.ns}}${root.local}, not a SOAP 1.2 Envelope`);
  }
  const body = childOf(root, NS_SOAP, "Body");
  if (body === undefined) throw bad("the envelope has no Body");
  return { header: childOf(root, NS_SOAP, "Header"), body };
}

function headerText(header: NsElement | undefined, ns: string, local: string): string | undefined {
  const e = header === undefined ? undefined : childOf(header, ns, local);
  return e === undefined ? undefined : textOf(e).trim();
}

/** The fault in `body`, if it is one. */
function readFault(body: NsElement): WsmanFault | undefined {
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
 * Reads a response envelope: its body, or the fault it carries as an error.
 * @throws {WsmanError} `fault` with {@link WsmanError.fault}; `invalid-message`; `limit-exceeded`.
 */
function readResponse(xml: string, limits: XmlLimits | undefined): NsElement {
  const { body } = readEnvelope(xml, limits);
  const fault = readFault(body);
  if (fault !== undefined) throw new WsmanError("fault", `WS-Management fault: ${describeFault(fault)}`, { fault });
  return body;
}

/** The fault in a response envelope, or undefined when it is not a fault (or not SOAP at all). */
export function parseFault(xml: string, limits?: XmlLimits): WsmanFault | undefined {
  try {
    return readFault(readEnvelope(xml, limits).body);
  } catch {
    return undefined;
  }
}

function readEpr(element: NsElement, depth = 0): WsmanEpr {
  if (depth > 8) throw bad("endpoint references nested more than 8 deep");
  const address = childOf(element, NS_ADDRESSING, "Address");
  const params = childOf(element, NS_ADDRESSING, "ReferenceParameters");
  if (address === undefined || params === undefined) throw bad(`${element.local} is not an endpoint reference`);
  const uri = childOf(params, NS_WSMAN, "ResourceURI");
  if (uri === undefined) throw bad(`endpoint reference ${element.local} has no ResourceURI`);
  const set = childOf(params, NS_WSMAN, "SelectorSet");
  return {
    address: textOf(address).trim(),
    resourceUri: textOf(uri).trim(),
    selectors: set === undefined ? [] : readSelectors(set, depth),
  };
}

function readSelectors(set: NsElement, depth = 0): WsmanSelector[] {
  return elementsOf(set)
    .filter((e) => e.ns === NS_WSMAN && e.local === "Selector")
    .map((s) => {
      const name = s.attributes.get("Name");
      if (name === undefined) throw bad("a Selector has no Name");
      const nested = childOf(s, NS_ADDRESSING, "EndpointReference");
      return { name, value: nested === undefined ? textOf(s) : readEpr(nested, depth + 1) };
    });
}

const DATETIME_LOCALS = new Set(["Datetime", "Date", "Time", "Interval"]);

/** One property element: nil, an EPR, a CIM datetime wrapper, or text. */
function readValue(element: NsElement): string | WsmanEpr | null {
  if (element.attributes.get(`{${NS_XSI}}nil`) === "true") return null;
  const kids = elementsOf(element);
  if (kids.length === 0) return textOf(element);
  if (childOf(element, NS_ADDRESSING, "Address") !== undefined) return readEpr(element);
  const only = kids[0]!;
  if (kids.length === 1 && DATETIME_LOCALS.has(only.local)) return textOf(only);
  throw bad(`property ${element.local} has unexpected child element ${only.local}`);
}

/** Children of `element` grouped by local name: repeated names become arrays. */
function readParameters(element: NsElement): Map<string, WsmanParameter> {
  const out = new Map<string, WsmanParameter>();
  for (const child of elementsOf(element)) {
    const value = readValue(child);
    if (!out.has(child.local)) {
      out.set(child.local, value);
      continue;
    }
    const previous = out.get(child.local) ?? null;
    if (isEpr(previous as WsmanParameter) || (value !== null && typeof value === "object")) {
      throw bad(`${child.local} repeats an endpoint reference (arrays of references are not supported)`);
    }
    // A nil inside an array cannot be told from a missing item; arrays keep their strings.
    const items =
      previous === null ? [] : typeof previous === "string" ? [previous] : [...(previous as readonly string[])];
    if (value !== null) items.push(value);
    out.set(child.local, items);
  }
  return out;
}

function readInstance(element: NsElement): WsmanInstance {
  const properties = new Map<string, WsmanValue>();
  for (const [name, value] of readParameters(element)) {
    if (isEpr(value)) throw bad(`property ${name} of ${element.local} is a reference (not supported in instances)`);
    properties.set(name, value as WsmanValue);
  }
  return { resourceUri: element.ns, className: element.local, properties };
}

/**
 * The instance in a GetResponse.
 * @throws {WsmanError} `fault` for a SOAP fault; `invalid-message`; `limit-exceeded`.
 */
export function parseGetResponse(xml: string, limits?: XmlLimits): WsmanInstance {
  const body = readResponse(xml, limits);
  const [instance] = elementsOf(body);
  if (instance === undefined) throw bad("GetResponse body is empty");
  return readInstance(instance);
}

function readPage(container: NsElement, itemsNs: string): EnumerationPage {
  const context = childOf(container, NS_ENUMERATION, "EnumerationContext");
  const items =
    childOf(container, itemsNs, "Items") ??
    childOf(container, itemsNs === NS_WSMAN ? NS_ENUMERATION : NS_WSMAN, "Items");
  const end =
    childOf(container, NS_ENUMERATION, "EndOfSequence") !== undefined ||
    childOf(container, NS_WSMAN, "EndOfSequence") !== undefined;
  const page: { context?: string; items: WsmanInstance[]; endOfSequence: boolean } = {
    items: items === undefined ? [] : elementsOf(items).map(readInstance),
    endOfSequence: end,
  };
  const contextText = context === undefined ? "" : textOf(context).trim();
  if (contextText !== "") page.context = contextText;
  if (!page.endOfSequence && page.context === undefined)
    throw bad(`${container.local} has neither an EnumerationContext nor EndOfSequence`);
  return page;
}

/**
 * An EnumerateResponse: the context, plus items and end flag for optimized enumeration.
 * @throws {WsmanError} `fault`; `invalid-message`; `limit-exceeded`.
 */
export function parseEnumerateResponse(xml: string, limits?: XmlLimits): EnumerationPage {
  const body = readResponse(xml, limits);
  return readPage(requireChild(body, NS_ENUMERATION, "EnumerateResponse", "the body"), NS_WSMAN);
}

/**
 * A PullResponse: items, the next context and whether the sequence ended.
 * @throws {WsmanError} `fault`; `invalid-message`; `limit-exceeded`.
 */
export function parsePullResponse(xml: string, limits?: XmlLimits): EnumerationPage {
  const body = readResponse(xml, limits);
  return readPage(requireChild(body, NS_ENUMERATION, "PullResponse", "the body"), NS_ENUMERATION);
}

/**
 * Checks a ReleaseResponse (or any response without content) is not a fault.
 * @throws {WsmanError} `fault`; `invalid-message`.
 */
export function parseEmptyResponse(xml: string, limits?: XmlLimits): void {
  readResponse(xml, limits);
}

/** The reply of a method. */
export interface InvokeResult {
  /** ReturnValue: 0 completed, 4096 job started, others are errors (kvp-core's describeReturnCode). */
  readonly returnValue: number;
  /** The Job output, an EPR of Msvm_ConcreteJob, when a job was started. */
  readonly job?: WsmanEpr;
  /** The InstanceID selector of {@link job}. */
  readonly jobInstanceId?: string;
  /** Every output but ReturnValue, by name. */
  readonly outputs: ReadonlyMap<string, WsmanParameter>;
}

/**
 * The `<p:Method_OUTPUT>` of an Invoke reply.
 * @param method when given, the OUTPUT element must be `<method>_OUTPUT`.
 * @throws {WsmanError} `fault`; `invalid-message` (no OUTPUT, no numeric ReturnValue).
 */
export function parseInvokeResponse(xml: string, method?: string, limits?: XmlLimits): InvokeResult {
  const body = readResponse(xml, limits);
  const [output] = elementsOf(body);
  if (output === undefined || !output.local.endsWith("_OUTPUT")) throw bad("the body has no <Method>_OUTPUT element");
  if (method !== undefined && output.local !== `${method}_OUTPUT`)
    throw bad(`expected ${method}_OUTPUT, got ${output.local}`);
  const outputs = readParameters(output);
  const rv = outputs.get("ReturnValue");
  if (typeof rv !== "string" || !/^\s*[0-9]{1,10}\s*$/.test(rv))
    throw bad(`${output.local} has no numeric ReturnValue`);
  outputs.delete("ReturnValue");
  const result: { -readonly [K in keyof InvokeResult]: InvokeResult[K] } = { returnValue: Number(rv), outputs };
  const job = outputs.get("Job");
  if (job !== undefined && isEpr(job)) {
    result.job = job;
    const id = job.selectors.find((s) => s.name === "InstanceID")?.value;
    if (typeof id === "string") result.jobInstanceId = id;
  }
  return result;
}

// -- server side --------------------------------------------------------------------------

/** What every parsed request carries. */
export interface WsmanRequestCommon {
  readonly action: string;
  readonly resourceUri: string;
  readonly messageId: string;
  readonly to: string;
  readonly selectors: readonly WsmanSelector[];
  readonly maxEnvelopeSize?: number;
  /** wsman:OperationTimeout as written (xs:duration). */
  readonly operationTimeout?: string;
}

/** A parsed client request, by operation. */
export type WsmanRequest =
  | (WsmanRequestCommon & { readonly kind: "get" })
  | (WsmanRequestCommon & {
      readonly kind: "enumerate";
      readonly filter?: { readonly dialect: string; readonly query: string };
      readonly optimize: boolean;
      readonly maxElements?: number;
    })
  | (WsmanRequestCommon & { readonly kind: "pull"; readonly context: string; readonly maxElements?: number })
  | (WsmanRequestCommon & { readonly kind: "release"; readonly context: string })
  | (WsmanRequestCommon & {
      readonly kind: "invoke";
      readonly method: string;
      readonly parameters: ReadonlyMap<string, WsmanParameter>;
    });

function count(element: NsElement | undefined, what: string): number | undefined {
  if (element === undefined) return undefined;
  const t = textOf(element).trim();
  if (!/^[0-9]{1,9}$/.test(t) || Number(t) === 0)
    throw bad(`${what} is not a positive integer: ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/**
 * Reads a client request (server side). Unknown actions are refused.
 * @throws {WsmanError} `invalid-message` (not SOAP 1.2, no Action or ResourceURI, a body that
 *   does not match the action); `limit-exceeded`.
 */
export function parseRequest(xml: string, limits?: XmlLimits): WsmanRequest {
  const { header, body } = readEnvelope(xml, limits);
  if (header === undefined) throw bad("the envelope has no Header");
  const action = headerText(header, NS_ADDRESSING, "Action");
  if (!action) throw bad("no Action header");
  const resourceUri = headerText(header, NS_WSMAN, "ResourceURI");
  if (!resourceUri) throw bad("no ResourceURI header");
  const set = childOf(header, NS_WSMAN, "SelectorSet");
  const maxEnvelope = count(childOf(header, NS_WSMAN, "MaxEnvelopeSize"), "MaxEnvelopeSize");
  const timeout = headerText(header, NS_WSMAN, "OperationTimeout");
  const common: { -readonly [K in keyof WsmanRequestCommon]: WsmanRequestCommon[K] } = {
    action,
    resourceUri,
    messageId: headerText(header, NS_ADDRESSING, "MessageID") ?? "",
    to: headerText(header, NS_ADDRESSING, "To") ?? "",
    selectors: set === undefined ? [] : readSelectors(set),
  };
  if (maxEnvelope !== undefined) common.maxEnvelopeSize = maxEnvelope;
  if (timeout !== undefined) common.operationTimeout = timeout;

  switch (action) {
    case ACTIONS.get:
      return { ...common, kind: "get" };
    case ACTIONS.enumerate: {
      const e = requireChild(body, NS_ENUMERATION, "Enumerate", "the body");
      const filter = childOf(e, NS_WSMAN, "Filter") ?? childOf(e, NS_ENUMERATION, "Filter");
      const max = count(childOf(e, NS_WSMAN, "MaxElements"), "MaxElements");
      return {
        ...common,
        kind: "enumerate",
        optimize: childOf(e, NS_WSMAN, "OptimizeEnumeration") !== undefined,
        ...(max === undefined ? {} : { maxElements: max }),
        ...(filter === undefined
          ? {}
          : { filter: { dialect: filter.attributes.get("Dialect") ?? "", query: textOf(filter) } }),
      };
    }
    case ACTIONS.pull:
    case ACTIONS.release: {
      const op = requireChild(body, NS_ENUMERATION, action === ACTIONS.pull ? "Pull" : "Release", "the body");
      const context = textOf(requireChild(op, NS_ENUMERATION, "EnumerationContext", op.local)).trim();
      if (action === ACTIONS.release) return { ...common, kind: "release", context };
      const max = count(childOf(op, NS_ENUMERATION, "MaxElements"), "MaxElements");
      return { ...common, kind: "pull", context, ...(max === undefined ? {} : { maxElements: max }) };
    }
    default: {
      if (!action.startsWith(`${resourceUri}/`))
        throw bad(`action ${JSON.stringify(action.slice(0, 200))} is not supported`);
      const method = action.slice(resourceUri.length + 1);
      if (!NAME.test(method)) throw bad(`method name ${JSON.stringify(method.slice(0, 200))} is not an XML name`);
      const input = childOf(body, resourceUri, `${method}_INPUT`);
      if (input === undefined) throw bad(`the body has no ${method}_INPUT element in namespace ${resourceUri}`);
      return { ...common, kind: "invoke", method, parameters: readParameters(input) };
    }
  }
}
