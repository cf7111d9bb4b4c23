/**
 * WS-Management responses, both ends: the server builds Get, Enumerate, Pull, Release and
 * method replies; the client parses them, a fault in any of them becoming a `fault` error.
 */
import type { WsmanEpr, XmlLimits } from "@hyperv-kvp/kvp-core/cim";
import { WsmanError, isWsmanError } from "../errors.js";
import { ENVELOPE_OPEN, type ResponseOptions, readEnvelope, responseHeader } from "./envelope.js";
import { faultError, readFault } from "./faults.js";
import { ACTIONS, NS_ADDRESSING, NS_ENUMERATION, NS_WSMAN } from "./namespaces.js";
import {
  type EmbedStyle,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanSkippedItem,
  assertName,
  entriesOf,
  instanceXml,
  isEpr,
  readInstance,
  readParameters,
  valueElements,
  xmlAttribute,
  xmlText,
} from "./values.js";
import { type NsElement, childOf, elementsOf, invalidMessage, requireChild, textOf } from "./xml-tree.js";

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
  /**
   * Items of the page that could not be read, left out of {@link items} (one unreadable
   * instance costs itself, not the page); absent or empty when every item was read.
   */
  readonly skipped?: readonly WsmanSkippedItem[];
}

function itemsXml(page: EnumerationPage, prefix: "n" | "w", style: EmbedStyle | undefined): string {
  const context =
    page.context === undefined
      ? ""
      : `<n:EnumerationContext>${xmlText(page.context, "enumeration context")}</n:EnumerationContext>`;
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
    `<p:${output} xmlns:p="${xmlAttribute(init.resourceUri, "resource URI")}">${body}</p:${output}></s:Body></s:Envelope>`
  );
}

/**
 * Reads a response envelope: its body, or the fault it carries as an error.
 * @throws {WsmanError} `fault` with {@link WsmanError.fault}; `invalid-message`; `limit-exceeded`.
 */
function readResponse(xml: string, limits: XmlLimits | undefined): NsElement {
  const { body } = readEnvelope(xml, limits);
  const fault = readFault(body);
  if (fault !== undefined) throw faultError(fault);
  return body;
}

/**
 * The instance in a GetResponse.
 * @throws {WsmanError} `fault` for a SOAP fault; `invalid-message`; `limit-exceeded`.
 */
export function parseGetResponse(xml: string, limits?: XmlLimits): WsmanInstance {
  const body = readResponse(xml, limits);
  const [instance] = elementsOf(body);
  if (instance === undefined) throw invalidMessage("GetResponse body is empty");
  return readInstance(instance);
}

/**
 * One item of a page: an instance, or the instance of a `w:Item` (EnumerationMode
 * EnumerateObjectAndEPR puts the EPR beside it, which the instance's own references already
 * name); a string says why it could not be read.
 */
function readItem(element: NsElement): WsmanInstance | string {
  let target = element;
  if (element.ns === NS_WSMAN && element.local === "Item") {
    const [first] = elementsOf(element).filter((e) => !(e.ns === NS_ADDRESSING && e.local === "EndpointReference"));
    if (first === undefined) return "a w:Item without an instance";
    target = first;
  }
  try {
    return readInstance(target);
  } catch (error) {
    if (isWsmanError(error, "invalid-message")) return error.message;
    throw error;
  }
}

function readPage(container: NsElement, itemsNs: string): EnumerationPage {
  const context = childOf(container, NS_ENUMERATION, "EnumerationContext");
  const items =
    childOf(container, itemsNs, "Items") ??
    childOf(container, itemsNs === NS_WSMAN ? NS_ENUMERATION : NS_WSMAN, "Items");
  const end =
    childOf(container, NS_ENUMERATION, "EndOfSequence") !== undefined ||
    childOf(container, NS_WSMAN, "EndOfSequence") !== undefined;
  const page: { context?: string; items: WsmanInstance[]; endOfSequence: boolean; skipped?: WsmanSkippedItem[] } = {
    items: [],
    endOfSequence: end,
  };
  const skipped: WsmanSkippedItem[] = [];
  const elements = items === undefined ? [] : elementsOf(items);
  for (const [index, element] of elements.entries()) {
    const item = readItem(element);
    if (typeof item === "string") skipped.push({ index, className: element.local, message: item });
    else page.items.push(item);
  }
  if (skipped.length > 0) page.skipped = skipped;
  const contextText = context === undefined ? "" : textOf(context).trim();
  if (contextText !== "") page.context = contextText;
  if (!page.endOfSequence && page.context === undefined)
    throw invalidMessage(`${container.local} has neither an EnumerationContext nor EndOfSequence`);
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
  if (output === undefined || !output.local.endsWith("_OUTPUT"))
    throw invalidMessage("the body has no <Method>_OUTPUT element");
  if (method !== undefined && output.local !== `${method}_OUTPUT`)
    throw invalidMessage(`expected ${method}_OUTPUT, got ${output.local}`);
  const outputs = readParameters(output);
  const rv = outputs.get("ReturnValue");
  if (typeof rv !== "string" || !/^\s*[0-9]{1,10}\s*$/.test(rv))
    throw invalidMessage(`${output.local} has no numeric ReturnValue`);
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
