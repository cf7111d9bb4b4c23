/**
 * The values WS-Management messages carry, in both directions: property and parameter values
 * (text, arrays, nil), endpoint references and selector sets, and WMI instances; how each is
 * written as elements and read back.
 */
import {
  type CimInstancePath,
  type WsmanEpr,
  type WsmanSelector,
  eprToPath,
  escapeXmlAttribute,
  escapeXmlText,
  toCdata,
} from "@hyperv-kvp/kvp-core/cim";
import { WsmanError } from "../errors.js";
import { NS_ADDRESSING, NS_WSCIM_COMMON, NS_WSMAN, NS_XSI } from "./namespaces.js";
import { type NsElement, childOf, elementsOf, invalidMessage, textOf } from "./xml-tree.js";

/**
 * A property value of a WMI instance over WS-Management: text, repeated text (an array), or
 * null (`xsi:nil="true"`). A one-element array reads back as a plain string and an empty
 * array as an absent property: the wire cannot tell them apart (see {@link valueAsArray}).
 */
export type WsmanValue = string | readonly string[] | null;

/**
 * A method parameter or output: a value, an endpoint reference (a CIM REF), or an array of
 * them (a REF array, repeated elements each holding an EPR).
 */
export type WsmanParameter = WsmanValue | WsmanEpr | readonly WsmanEpr[];

/** Properties in document order; a Map so no property name can reach a prototype. */
export type WsmanProperties = ReadonlyMap<string, WsmanValue>;

/**
 * A reference-valued property (a CIM REF) as WS-Management carries it: an endpoint reference,
 * and the WMI instance path it names.
 */
export interface WsmanReference {
  readonly epr: WsmanEpr;
  /**
   * The instance path the EPR names (kvp-core's `eprToPath`: WMI and DMTF class URIs, every
   * selector a string key); absent when the EPR names something else.
   */
  readonly path?: CimInstancePath;
}

/** Reference-valued properties by name; each a list, one element for a scalar REF. */
export type WsmanReferences = ReadonlyMap<string, readonly WsmanReference[]>;

/** A WMI instance as WS-Management carries it: `<p:Class xmlns:p="ResourceURI">`. */
export interface WsmanInstance {
  /** The class's resource URI, the namespace of the instance element. */
  readonly resourceUri: string;
  /** The class name, the local name of the instance element. */
  readonly className: string;
  /** The properties that hold values (text, arrays, nil); references are in {@link references}. */
  readonly properties: WsmanProperties;
  /**
   * Properties whose value is an endpoint reference, as association classes have
   * (`Msvm_SystemDevice`'s GroupComponent and PartComponent); absent or empty when none.
   */
  readonly references?: WsmanReferences;
  /**
   * The instance's own address (`cim:Location`), which WinRM writes as the last child of an
   * instance in Get and Pull replies (docs/ws-management.md#instances-and-references).
   */
  readonly location?: WsmanReference;
}

/** An item of an enumeration page that could not be read: left out, with why. */
export interface WsmanSkippedItem {
  /** Its position among the page's items, from 0. */
  readonly index: number;
  /** Its element's local name (normally the class name). */
  readonly className: string;
  /** Why it could not be read (this library's words; the server's text is not quoted). */
  readonly message: string;
}

/** `value` as an array: null and undefined become `[]`, a string `[value]`. */
export function valueAsArray(value: WsmanValue | undefined): readonly string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

/** How strings are embedded as element text: entity-escaped (default) or CDATA as libvirt does. */
export type EmbedStyle = "escape" | "cdata";

/** Parameters or properties: a Map (order kept) or a plain record. */
export type ParameterInput<V> = ReadonlyMap<string, V> | Readonly<Record<string, V>>;

/** The entries of parameters given as a Map or a record, in order. */
export function entriesOf<V>(input: ParameterInput<V>): [string, V][] {
  return input instanceof Map ? [...(input as ReadonlyMap<string, V>)] : Object.entries(input as Record<string, V>);
}

/** Whether a parameter is an endpoint reference rather than a value. */
export function isEpr(value: WsmanParameter): value is WsmanEpr {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Whether a parameter is a non-empty array of endpoint references (a REF array). */
export function isEprArray(value: WsmanParameter): value is readonly WsmanEpr[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => v !== null && typeof v === "object");
}

/** The reference an EPR makes: the EPR and, when it names a WMI or CIM class, its path. */
export function referenceOf(epr: WsmanEpr): WsmanReference {
  try {
    return { epr, path: eprToPath(epr) };
  } catch {
    // Not a class URI kvp-core reads (or selectors that are not CIM names): still a
    // reference, only without a path.
    return { epr };
  }
}

/** `value` escaped as element text; `what` names it in the error when XML cannot carry it. */
export function xmlText(value: string, what: string): string {
  return escapeXmlText(value, what);
}

/** `value` escaped as a double-quoted attribute value. */
export function xmlAttribute(value: string, what: string): string {
  return escapeXmlAttribute(value, what);
}

/** `value` as element text in the given style: escaped, or a CDATA section. */
export function embedText(value: string, what: string, style: EmbedStyle): string {
  return style === "cdata" ? toCdata(value, what) : escapeXmlText(value, what);
}

/** An XML name as element and method names must be (no namespace prefix). */
export const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** @throws {WsmanError} `invalid-argument` when `name` is not an {@link XML_NAME}. */
export function assertName(name: string, what: string): void {
  if (typeof name !== "string" || !XML_NAME.test(name)) {
    throw new WsmanError("invalid-argument", `invalid ${what}: ${JSON.stringify(String(name))} is not an XML name`);
  }
}

/** A `w:SelectorSet`; EPR-valued selectors nest, at most 8 deep. */
export function selectorSetXml(selectors: readonly WsmanSelector[], depth = 0): string {
  if (depth > 8) throw new WsmanError("invalid-argument", "invalid selectors: references nested more than 8 deep");
  let out = "<w:SelectorSet>";
  for (const s of selectors) {
    const name = xmlAttribute(s.name, "selector name");
    out +=
      typeof s.value === "string"
        ? `<w:Selector Name="${name}">${xmlText(s.value, `selector ${s.name}`)}</w:Selector>`
        : `<w:Selector Name="${name}"><a:EndpointReference>${eprXml(s.value, depth + 1)}</a:EndpointReference></w:Selector>`;
  }
  return `${out}</w:SelectorSet>`;
}

/** The content of an endpoint-reference element: Address and ReferenceParameters. */
function eprXml(epr: WsmanEpr, depth = 0): string {
  return (
    `<a:Address>${xmlText(epr.address, "EPR address")}</a:Address><a:ReferenceParameters>` +
    `<w:ResourceURI>${xmlText(epr.resourceUri, "EPR resource URI")}</w:ResourceURI>` +
    `${selectorSetXml(epr.selectors, depth)}</a:ReferenceParameters>`
  );
}

/** One parameter or property as elements `prefix:name`: repeated for arrays, `xsi:nil` for null, Address + ReferenceParameters for an EPR. */
export function valueElements(prefix: string, name: string, value: WsmanParameter, style: EmbedStyle): string {
  assertName(name, "property name");
  const tag = `${prefix}:${name}`;
  if (value === null) return `<${tag} xsi:nil="true"/>`;
  if (typeof value === "string") return `<${tag}>${embedText(value, name, style)}</${tag}>`;
  if (isEpr(value)) return `<${tag}>${eprXml(value)}</${tag}>`;
  if (isEprArray(value)) return value.map((epr) => `<${tag}>${eprXml(epr)}</${tag}>`).join("");
  let out = "";
  for (const item of value as readonly unknown[]) {
    if (typeof item !== "string")
      throw new WsmanError("invalid-argument", `invalid value of ${name}: array items must be strings`);
    out += `<${tag}>${embedText(item, name, style)}</${tag}>`;
  }
  return out;
}

/**
 * An instance as `<p:Class xmlns:p="ResourceURI">` with one child per property: arrays
 * repeated, null as `xsi:nil="true"` (xsi is declared on the envelope).
 */
export function instanceXml(instance: WsmanInstance, style: EmbedStyle = "escape"): string {
  assertName(instance.className, "class name");
  let body = "";
  for (const [name, value] of instance.properties) body += valueElements("p", name, value, style);
  for (const [name, refs] of instance.references ?? []) {
    if (refs.length > 0)
      body += valueElements("p", name, refs.length === 1 ? refs[0]!.epr : refs.map((r) => r.epr), style);
  }
  if (instance.location !== undefined)
    body += `<cim:Location xmlns:cim="${NS_WSCIM_COMMON}">${eprXml(instance.location.epr)}</cim:Location>`;
  return `<p:${instance.className} xmlns:p="${xmlAttribute(instance.resourceUri, "resource URI")}">${body}</p:${instance.className}>`;
}

function readEpr(element: NsElement, depth = 0): WsmanEpr {
  if (depth > 8) throw invalidMessage("endpoint references nested more than 8 deep");
  const address = childOf(element, NS_ADDRESSING, "Address");
  const params = childOf(element, NS_ADDRESSING, "ReferenceParameters");
  if (address === undefined || params === undefined)
    throw invalidMessage(`${element.local} is not an endpoint reference`);
  const uri = childOf(params, NS_WSMAN, "ResourceURI");
  if (uri === undefined) throw invalidMessage(`endpoint reference ${element.local} has no ResourceURI`);
  const set = childOf(params, NS_WSMAN, "SelectorSet");
  return {
    address: textOf(address).trim(),
    resourceUri: textOf(uri).trim(),
    selectors: set === undefined ? [] : readSelectors(set, depth),
  };
}

/** The selectors of a `w:SelectorSet`, EPR-valued ones read as references. */
export function readSelectors(set: NsElement, depth = 0): WsmanSelector[] {
  return elementsOf(set)
    .filter((e) => e.ns === NS_WSMAN && e.local === "Selector")
    .map((s) => {
      const name = s.attributes.get("Name");
      if (name === undefined) throw invalidMessage("a Selector has no Name");
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
  throw invalidMessage(`property ${element.local} has unexpected child element ${only.local}`);
}

/** Children of `element` grouped by local name: repeated names become arrays. */
export function readParameters(element: NsElement): Map<string, WsmanParameter> {
  const out = new Map<string, WsmanParameter>();
  for (const child of elementsOf(element)) {
    const value = readValue(child);
    if (!out.has(child.local)) {
      out.set(child.local, value);
      continue;
    }
    out.set(child.local, appendValue(child.local, out.get(child.local) ?? null, value));
  }
  return out;
}

/** `previous` with one more repeated element's value: an array of text or of references. */
function appendValue(name: string, previous: WsmanParameter, value: string | WsmanEpr | null): WsmanParameter {
  const refs = isEpr(previous) ? [previous] : isEprArray(previous) ? [...previous] : undefined;
  if (refs !== undefined) {
    // A nil among references cannot be told from a missing item, as among text.
    if (value === null) return refs;
    if (typeof value === "string") throw invalidMessage(`${name} mixes references and text`);
    refs.push(value);
    return refs;
  }
  if (value !== null && typeof value === "object") {
    if (previous === null || (Array.isArray(previous) && previous.length === 0)) return [value];
    throw invalidMessage(`${name} mixes references and text`);
  }
  // A nil inside an array cannot be told from a missing item; arrays keep their strings.
  const items =
    previous === null ? [] : typeof previous === "string" ? [previous] : [...(previous as readonly string[])];
  if (value !== null) items.push(value);
  return items;
}

/**
 * An instance element `<p:Class xmlns:p="ResourceURI">`: values in `properties`, references
 * in `references`, `cim:Location` in `location`.
 * @throws {WsmanError} `invalid-message` for a property that is neither (unknown child
 *   elements, references mixed with text, references nested more than 8 deep).
 */
export function readInstance(element: NsElement): WsmanInstance {
  const properties = new Map<string, WsmanValue>();
  const references = new Map<string, WsmanReference[]>();
  let location: WsmanReference | undefined;
  const values = new Map<string, WsmanParameter>();
  for (const child of elementsOf(element)) {
    if (child.ns === NS_WSCIM_COMMON && child.local === "Location") {
      location = referenceOf(readEpr(child));
      continue;
    }
    const value = readValue(child);
    values.set(
      child.local,
      values.has(child.local) ? appendValue(child.local, values.get(child.local) ?? null, value) : value,
    );
  }
  for (const [name, value] of values) {
    if (isEpr(value)) references.set(name, [referenceOf(value)]);
    else if (isEprArray(value)) references.set(name, value.map(referenceOf));
    else properties.set(name, value as WsmanValue);
  }
  const instance: { -readonly [K in keyof WsmanInstance]: WsmanInstance[K] } = {
    resourceUri: element.ns,
    className: element.local,
    properties,
  };
  if (references.size > 0) instance.references = references;
  if (location !== undefined) instance.location = location;
  return instance;
}
