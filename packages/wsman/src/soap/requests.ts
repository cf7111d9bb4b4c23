/**
 * WS-Management requests, both ends: the client builds Get, Enumerate (WQL), Pull, Release
 * and method invocations; the server parses them. Shapes follow DSP0226 / MS-WSMV and the
 * messages libvirt's Hyper-V driver sends.
 */
import { WSA_ANONYMOUS, type WsmanSelector, type XmlLimits } from "@hyperv-kvp/kvp-core/cim";
import { WsmanError } from "../errors.js";
import { ENVELOPE_OPEN, headerText, newMessageId, readEnvelope } from "./envelope.js";
import { ACTIONS, NS_ADDRESSING, NS_ENUMERATION, NS_WSMAN, WQL_DIALECT } from "./namespaces.js";
import {
  type EmbedStyle,
  type ParameterInput,
  type WsmanParameter,
  XML_NAME,
  assertName,
  entriesOf,
  readParameters,
  readSelectors,
  selectorSetXml,
  valueElements,
  xmlAttribute,
  xmlText,
} from "./values.js";
import { type NsElement, childOf, invalidMessage, requireChild, textOf } from "./xml-tree.js";

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

function positive(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new WsmanError("invalid-argument", `invalid ${what}: ${value}`);
  return value;
}

function requestHeader(options: WsmanRequestOptions, action: string, selectors?: readonly WsmanSelector[]): string {
  const timeout = positive(options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS, "operation timeout");
  return (
    `<s:Header><a:To>${xmlText(options.to, "endpoint")}</a:To>` +
    `<w:ResourceURI s:mustUnderstand="true">${xmlText(options.resourceUri, "resource URI")}</w:ResourceURI>` +
    `<a:ReplyTo><a:Address s:mustUnderstand="true">${WSA_ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<a:Action s:mustUnderstand="true">${xmlText(action, "action")}</a:Action>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${positive(options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE, "max envelope size")}</w:MaxEnvelopeSize>` +
    `<a:MessageID>${xmlText(options.messageId ?? newMessageId(), "message ID")}</a:MessageID>` +
    `<w:Locale xml:lang="${xmlAttribute(options.locale ?? "en-US", "locale")}" s:mustUnderstand="false"/>` +
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
    `<w:Filter Dialect="${WQL_DIALECT}">${xmlText(options.wql, "WQL query")}</w:Filter></n:Enumerate></s:Body></s:Envelope>`
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
    `<n:EnumerationContext>${xmlText(options.context, "enumeration context")}</n:EnumerationContext>${max}</n:Pull></s:Body></s:Envelope>`
  );
}

/** A WS-Enumeration Release of `context` (ends an enumeration early). */
export function buildReleaseRequest(options: WsmanRequestOptions & { readonly context: string }): string {
  return (
    `${ENVELOPE_OPEN}${requestHeader(options, ACTIONS.release)}<s:Body><n:Release>` +
    `<n:EnumerationContext>${xmlText(options.context, "enumeration context")}</n:EnumerationContext></n:Release></s:Body></s:Envelope>`
  );
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
    `<p:${input} xmlns:p="${xmlAttribute(options.resourceUri, "resource URI")}">${body}</p:${input}></s:Body></s:Envelope>`
  );
}

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
    throw invalidMessage(`${what} is not a positive integer: ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/**
 * Reads a client request (server side). Unknown actions are refused.
 * @throws {WsmanError} `invalid-message` (not SOAP 1.2, no Action or ResourceURI, a body that
 *   does not match the action); `limit-exceeded`.
 */
export function parseRequest(xml: string, limits?: XmlLimits): WsmanRequest {
  const { header, body } = readEnvelope(xml, limits);
  if (header === undefined) throw invalidMessage("the envelope has no Header");
  const action = headerText(header, NS_ADDRESSING, "Action");
  if (!action) throw invalidMessage("no Action header");
  const resourceUri = headerText(header, NS_WSMAN, "ResourceURI");
  if (!resourceUri) throw invalidMessage("no ResourceURI header");
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
        throw invalidMessage(`action ${JSON.stringify(action.slice(0, 200))} is not supported`);
      const method = action.slice(resourceUri.length + 1);
      if (!XML_NAME.test(method))
        throw invalidMessage(`method name ${JSON.stringify(method.slice(0, 200))} is not an XML name`);
      const input = childOf(body, resourceUri, `${method}_INPUT`);
      if (input === undefined)
        throw invalidMessage(`the body has no ${method}_INPUT element in namespace ${resourceUri}`);
      return { ...common, kind: "invoke", method, parameters: readParameters(input) };
    }
  }
}
