/**
 * A WS-Management client that reaches a simulated host's WMI handler inside the same process:
 * every request is written as the SOAP envelope wsman's WsmanClient sends, read back as the
 * server reads it, answered by the handler, written as the server's reply and parsed as the
 * client parses it. Only HTTP, TLS and authentication are left out, so what a caller sees is
 * what it would see over the network (a one-element array arrives as a plain string, an empty
 * one not at all, faults as WsmanError `fault`), without a port, a certificate or a password.
 * The operations and their signatures are WsmanClient's get, enumerate and invoke.
 */
import type { WsmanSelector } from "@hyperv-kvp/kvp-core/cim";
import {
  type InvokeResult,
  type ParameterInput,
  type WsmanFaultInit,
  type WsmanHandler,
  type WsmanHandlerResult,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanRequest,
  WsmanError,
  buildEnumerateRequest,
  buildEnumerateResponse,
  buildFault,
  buildGetRequest,
  buildGetResponse,
  buildInvokeRequest,
  buildInvokeResponse,
  isWsmanError,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
  parseRequest,
} from "@hyperv-kvp/wsman";

/** The endpoint written into wsa:To (nothing listens there). */
export const IN_PROCESS_ENDPOINT = "http://in-process.invalid/wsman";

/** Options of {@link InProcessWsmanClient}. */
export interface InProcessClientOptions {
  /** The user the handler is told made each request; default `Administrator`. */
  readonly user?: string;
  /**
   * Awaited before each request is handled. A host passes its `settle` here to make job
   * timing deterministic: every job started earlier has finished before the next read.
   */
  readonly beforeRequest?: () => Promise<void>;
}

type HandledRequest = Extract<WsmanRequest, { kind: "get" | "enumerate" | "invoke" }>;

/** See the module doc. */
export class InProcessWsmanClient {
  private closed = false;

  constructor(
    private readonly handler: WsmanHandler,
    private readonly options: InProcessClientOptions = {},
  ) {}

  /** The instance of `resourceUri` named by `selectors`. @throws {WsmanError} `fault`, `connection-failed` once closed. */
  async get(resourceUri: string, selectors: readonly WsmanSelector[]): Promise<WsmanInstance> {
    const reply = await this.exchange(buildGetRequest({ to: IN_PROCESS_ENDPOINT, resourceUri, selectors }), (r, a) =>
      r.kind === "get" && a.kind === "get" ? buildGetResponse(a.instance) : undefined,
    );
    return parseGetResponse(reply);
  }

  /** Every instance a WQL query returns (one page: the handler answers all at once). @throws {WsmanError} */
  async enumerate(resourceUri: string, wql: string): Promise<WsmanInstance[]> {
    const reply = await this.exchange(
      buildEnumerateRequest({ to: IN_PROCESS_ENDPOINT, resourceUri, wql, maxElements: 100_000 }),
      (r, a) =>
        r.kind === "enumerate" && a.kind === "enumerate"
          ? buildEnumerateResponse({ items: a.items, endOfSequence: true })
          : undefined,
    );
    return [...parseEnumerateResponse(reply).items];
  }

  /** Invokes `method` on the instance named by `selectors`. @throws {WsmanError} */
  async invoke(
    resourceUri: string,
    method: string,
    selectors: readonly WsmanSelector[],
    parameters: ParameterInput<WsmanParameter>,
  ): Promise<InvokeResult> {
    const reply = await this.exchange(
      buildInvokeRequest({ to: IN_PROCESS_ENDPOINT, resourceUri, method, selectors, parameters }),
      (r, a) =>
        r.kind === "invoke" && a.kind === "invoke"
          ? buildInvokeResponse({
              resourceUri: r.resourceUri,
              method: r.method,
              returnValue: a.returnValue,
              ...(a.outputs === undefined ? {} : { outputs: a.outputs }),
            })
          : undefined,
    );
    return parseInvokeResponse(reply, method);
  }

  /** Later requests fail with `connection-failed`, as a closed WsmanClient's would reach nobody. */
  close(): void {
    this.closed = true;
  }

  /** One request through the handler; the reply envelope, a fault envelope when the handler faults. */
  private async exchange(
    envelope: string,
    reply: (request: HandledRequest, answer: WsmanHandlerResult) => string | undefined,
  ): Promise<string> {
    if (this.closed) throw new WsmanError("connection-failed", "the in-process WS-Management client is closed");
    await this.options.beforeRequest?.();
    const request = parseRequest(envelope);
    if (request.kind !== "get" && request.kind !== "enumerate" && request.kind !== "invoke")
      throw new WsmanError("invalid-argument", `the in-process client does not send ${request.kind} requests`);
    let answer: WsmanHandlerResult;
    try {
      answer = await this.handler(request, { user: this.options.user ?? "Administrator" });
    } catch (error) {
      // As wsman's server answers a handler that throws.
      answer = { kind: "fault", fault: faultOf(error) };
    }
    if (answer.kind === "fault") return buildFault(answer.fault);
    return (
      reply(request, answer) ??
      buildFault({
        code: "s:Receiver",
        subcode: "w:InternalError",
        reason: `The handler answered a ${request.kind} request with ${answer.kind}.`,
      })
    );
  }
}

function faultOf(error: unknown): WsmanFaultInit {
  if (isWsmanError(error, "fault") && error.fault !== undefined) {
    const f = error.fault;
    return {
      code: f.code === "s:Receiver" ? "s:Receiver" : "s:Sender",
      subcode: /^(s|a|n|w):/.test(f.subcode) ? f.subcode : "w:InternalError",
      reason: f.reason,
      detail: f.detail,
    };
  }
  return {
    code: "s:Receiver",
    subcode: "w:InternalError",
    reason: "The WS-Management service cannot process the request.",
    detail: error instanceof Error ? error.message : String(error),
  };
}
