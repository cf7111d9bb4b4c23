/**
 * SOAP needs namespaces, kvp-core's parser keeps names as written: this resolves each
 * element and attribute name against the xmlns declarations in scope, on top of the
 * hardened {@link parseXml} (limits, no DTD, no entities).
 */
import { isKvpError } from "@hyperv-kvp/kvp-core";
import { type XmlElement, type XmlLimits, parseXml } from "@hyperv-kvp/kvp-core/cim";
import { WsmanError } from "../errors.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";

/** An element with resolved names. */
export interface NsElement {
  /** Namespace URI; empty for no namespace. */
  readonly ns: string;
  /** Local name. */
  readonly local: string;
  /** Attributes keyed `{ns}local`, or `local` for unprefixed ones; xmlns declarations left out. */
  readonly attributes: ReadonlyMap<string, string>;
  /** Child elements and text, in document order. */
  readonly children: readonly (NsElement | string)[];
}

/**
 * Limits for SOAP envelopes: 4 Mi characters (WinRM's MaxEnvelopeSize is at most a few
 * hundred KB; Pull responses of many instances stay well below), depth 32, 65,536 elements,
 * 32 attributes per element.
 */
export const DEFAULT_SOAP_LIMITS: Readonly<Required<XmlLimits>> = Object.freeze({
  maxInputChars: 4 * 1_048_576,
  maxDepth: 32,
  maxElements: 65_536,
  maxAttributes: 32,
});

/** The error for a message that is not what WS-Management says it must be. */
export function invalidMessage(message: string): WsmanError {
  return new WsmanError("invalid-message", `invalid SOAP message: ${message}`);
}

/**
 * Parses `text` and resolves namespaces.
 * @throws {WsmanError} `invalid-message` for XML that is not well formed or uses an
 *   undeclared prefix; `limit-exceeded` past a limit.
 */
export function parseNsXml(text: string, limits: XmlLimits = DEFAULT_SOAP_LIMITS): NsElement {
  if (typeof text !== "string") throw invalidMessage("not a string");
  let root: XmlElement;
  try {
    root = parseXml(text, limits);
  } catch (error) {
    if (isKvpError(error, "limit-exceeded")) throw new WsmanError("limit-exceeded", error.message, { cause: error });
    throw new WsmanError("invalid-message", `invalid SOAP message: ${(error as Error).message}`, { cause: error });
  }
  return resolve(root, new Map([["xml", NS_XML]]));
}

function resolve(element: XmlElement, outer: ReadonlyMap<string, string>): NsElement {
  let scope = outer;
  for (const [name, value] of element.attributes) {
    if (name === "xmlns" || name.startsWith("xmlns:")) {
      if (scope === outer) scope = new Map(outer);
      (scope as Map<string, string>).set(name === "xmlns" ? "" : name.slice(6), value);
    }
  }
  const [ns, local] = split(element.name, scope, true);
  const attributes = new Map<string, string>();
  for (const [name, value] of element.attributes) {
    if (name === "xmlns" || name.startsWith("xmlns:")) continue;
    const [ans, alocal] = split(name, scope, false);
    attributes.set(ans === "" ? alocal : `{${ans}}${alocal}`, value);
  }
  const children = element.children.map((child) => (typeof child === "string" ? child : resolve(child, scope)));
  return { ns, local, attributes, children };
}

function split(qname: string, scope: ReadonlyMap<string, string>, isElement: boolean): [string, string] {
  const colon = qname.indexOf(":");
  if (colon < 0) return [isElement ? (scope.get("") ?? "") : "", qname];
  const prefix = qname.slice(0, colon);
  if (prefix === "xmlns") return [NS_XMLNS, qname.slice(colon + 1)];
  const ns = scope.get(prefix);
  if (ns === undefined) throw invalidMessage(`prefix ${prefix}: is not declared (in ${qname})`);
  return [ns, qname.slice(colon + 1)];
}

/** Child elements of `element`. */
export function elementsOf(element: NsElement): NsElement[] {
  return element.children.filter((c): c is NsElement => typeof c !== "string");
}

/** The first child element with namespace `ns` and local name `local`, if any. */
export function childOf(element: NsElement, ns: string, local: string): NsElement | undefined {
  for (const c of element.children) if (typeof c !== "string" && c.ns === ns && c.local === local) return c;
  return undefined;
}

/** The text directly inside `element` (text and CDATA, child elements skipped). */
export function textOf(element: NsElement): string {
  let out = "";
  for (const c of element.children) if (typeof c === "string") out += c;
  return out;
}

/** All text below `element`, depth first. */
export function deepTextOf(element: NsElement): string {
  let out = "";
  for (const c of element.children) out += typeof c === "string" ? c : ` ${deepTextOf(c)}`;
  return out;
}

/** The child, or a `invalid-message` error naming what is missing. */
export function requireChild(element: NsElement, ns: string, local: string, what: string): NsElement {
  const c = childOf(element, ns, local);
  if (c === undefined) throw new WsmanError("invalid-message", `invalid SOAP message: ${what} has no ${local} element`);
  return c;
}
