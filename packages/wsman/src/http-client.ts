/**
 * The IO edge of the client: WS-Management over node:http/https with one keep-alive socket,
 * so an NTLM handshake and the requests after it share a TCP connection (`fetch` cannot
 * promise that). Errors are {@link WsmanError}s that say what to do.
 */
import http from "node:http";
import https from "node:https";
import type { WsmanSelector } from "@hyperv-kvp/kvp-core";
import { buildBasicAuthorization } from "./basic.js";
import { WsmanError } from "./errors.js";
import { buildClientAuthenticate, buildNegotiateMessage } from "./ntlm.js";
import {
  type InvokeResult,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  buildEnumerateRequest,
  buildGetRequest,
  buildInvokeRequest,
  buildPullRequest,
  buildReleaseRequest,
  describeFault,
  parseEnumerateResponse,
  parseFault,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
} from "./soap.js";

/** Credentials: Basic (WinRM's Basic mode, HTTPS only in practice) or NTLMv2. */
export interface WsmanAuth {
  readonly kind: "basic" | "ntlm";
  readonly user: string;
  readonly password: string;
  /** NTLM domain; default empty (a local account of the host). */
  readonly domain?: string;
}

/** Options of {@link WsmanClient}. */
export interface WsmanClientOptions {
  /** `https://host:5986/wsman` (or `http://…:5985/wsman` with {@link allowUnencrypted}). */
  readonly endpoint: string;
  readonly auth: WsmanAuth;
  /** PEM CA certificate(s) to trust instead of the system's. */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Skip certificate verification (explicit switch; never the default). */
  readonly insecure?: boolean;
  /** Allow plain HTTP (credentials and data then travel unprotected), as WinRM's AllowUnencrypted. */
  readonly allowUnencrypted?: boolean;
  /** Per HTTP exchange, milliseconds; default 60,000. Also sent as wsman:OperationTimeout. */
  readonly timeoutMs?: number;
  /** Most instances one {@link WsmanClient.enumerate} collects; default 100,000. */
  readonly maxItems?: number;
  /** Largest response body, bytes; default 8 MiB. */
  readonly maxResponseBytes?: number;
  /** Items asked for per Enumerate/Pull; default 100. */
  readonly pageSize?: number;
}

interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

const UNTRUSTED_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
]);
const CONNECT_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is WinRM listening on that port?)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host down",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed",
};

/** A WS-Management client for WMI: Get, WQL enumeration, Invoke. */
export class WsmanClient {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxItems: number;
  private readonly maxResponseBytes: number;
  private readonly pageSize: number;
  private ntlmAuthenticated = false;

  /**
   * @throws {WsmanError} `invalid-argument` for a bad endpoint; `unencrypted-refused` for
   *   `http:` without `allowUnencrypted`.
   */
  constructor(private readonly options: WsmanClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new WsmanError("invalid-argument", `invalid endpoint: ${JSON.stringify(options.endpoint)} is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new WsmanError("invalid-argument", `invalid endpoint: ${options.endpoint} is not http(s)`);
    }
    if (url.protocol === "http:" && !options.allowUnencrypted) {
      throw new WsmanError(
        "unencrypted-refused",
        `refusing plain HTTP to ${options.endpoint}: use https://…:5986/wsman, or allow unencrypted traffic explicitly`,
      );
    }
    this.url = url;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxItems = options.maxItems ?? 100_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    this.pageSize = options.pageSize ?? 100;
    const common = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    if (url.protocol === "https:") {
      const ca = options.ca === undefined ? undefined : (Array.isArray(options.ca) ? options.ca : [options.ca]).map((c) => (typeof c === "string" ? c : Buffer.from(c)));
      this.agent = new https.Agent({ ...common, rejectUnauthorized: !options.insecure, ...(ca === undefined ? {} : { ca }) });
    } else {
      this.agent = new http.Agent(common);
    }
  }

  /** Closes the kept-alive connection. */
  close(): void {
    this.agent.destroy();
    this.ntlmAuthenticated = false;
  }

  private common(resourceUri: string) {
    return { to: this.url.href, resourceUri, operationTimeoutMs: this.timeoutMs };
  }

  /** The instance of `resourceUri` named by `selectors`. @throws {WsmanError} */
  async get(resourceUri: string, selectors: readonly WsmanSelector[]): Promise<WsmanInstance> {
    return parseGetResponse(await this.send(buildGetRequest({ ...this.common(resourceUri), selectors })));
  }

  /**
   * Every instance a WQL query returns: Enumerate then Pull until EndOfSequence, at most
   * `maxItems` (past that the enumeration is released and `limit-exceeded` thrown).
   * @param resourceUri usually `…/wmi/root/virtualization/v2/*`.
   * @throws {WsmanError}
   */
  async enumerate(resourceUri: string, wql: string): Promise<WsmanInstance[]> {
    const common = this.common(resourceUri);
    let page = parseEnumerateResponse(await this.send(buildEnumerateRequest({ ...common, wql, maxElements: this.pageSize })));
    const items = [...page.items];
    // Empty pages count too, so a server that never ends cannot keep us pulling forever.
    let pulls = 0;
    while (!page.endOfSequence && page.context !== undefined) {
      if (items.length > this.maxItems || ++pulls > this.maxItems + 10) {
        await this.send(buildReleaseRequest({ ...common, context: page.context })).catch(() => undefined);
        throw new WsmanError("limit-exceeded", `enumeration returned more than ${this.maxItems} instances`);
      }
      page = parsePullResponse(await this.send(buildPullRequest({ ...common, context: page.context, maxElements: this.pageSize })));
      items.push(...page.items);
    }
    if (items.length > this.maxItems) throw new WsmanError("limit-exceeded", `enumeration returned more than ${this.maxItems} instances`);
    return items;
  }

  /**
   * Invokes `method` on the instance named by `selectors`.
   * @throws {WsmanError}
   */
  async invoke(
    resourceUri: string,
    method: string,
    selectors: readonly WsmanSelector[],
    parameters: ParameterInput<WsmanParameter>,
  ): Promise<InvokeResult> {
    return parseInvokeResponse(await this.send(buildInvokeRequest({ ...this.common(resourceUri), method, selectors, parameters })), method);
  }

  /** Sends one SOAP request, authenticating as needed; returns the response body. */
  private async send(body: string): Promise<string> {
    let reply: HttpReply;
    if (this.options.auth.kind === "basic") {
      reply = await this.exchange(body, buildBasicAuthorization(this.options.auth.user, this.options.auth.password));
    } else if (this.ntlmAuthenticated) {
      reply = await this.exchange(body, undefined);
      // The kept-alive connection was closed: authenticate the new one.
      if (reply.status === 401) reply = await this.ntlmHandshake(body);
    } else {
      reply = await this.ntlmHandshake(body);
    }
    return this.check(reply);
  }

  private async ntlmHandshake(body: string): Promise<HttpReply> {
    this.ntlmAuthenticated = false;
    const auth = this.options.auth;
    const negotiate = buildNegotiateMessage();
    const first = await this.exchange("", `Negotiate ${Buffer.from(negotiate).toString("base64")}`);
    if (first.status !== 401) return first;
    const token = challengeToken(first.headers["www-authenticate"]);
    if (token === undefined) {
      throw new WsmanError("unauthorized", `${this.url.href} did not answer the NTLM negotiation (does it allow Negotiate authentication?)`);
    }
    const { message } = buildClientAuthenticate({
      user: auth.user,
      password: auth.password,
      ...(auth.domain === undefined ? {} : { domain: auth.domain }),
      negotiate,
      challenge: token,
    });
    const reply = await this.exchange(body, `Negotiate ${Buffer.from(message).toString("base64")}`);
    if (reply.status !== 401) this.ntlmAuthenticated = true;
    return reply;
  }

  private check(reply: HttpReply): string {
    if (reply.status === 200) return reply.body;
    if (reply.status === 401) {
      throw new WsmanError(
        "unauthorized",
        `${this.url.href} refused the credentials of ${this.options.auth.user} (${this.options.auth.kind}): wrong user name or password, or that authentication is not enabled`,
      );
    }
    const fault = parseFault(reply.body);
    if (fault !== undefined) throw new WsmanError("fault", `WS-Management fault: ${describeFault(fault)}`, { fault });
    throw new WsmanError("http-error", `${this.url.href} answered HTTP ${reply.status}${reply.body ? `: ${reply.body.slice(0, 200)}` : ""}`);
  }

  private exchange(body: string, authorization: string | undefined): Promise<HttpReply> {
    const payload = Buffer.from(body, "utf8");
    const headers: http.OutgoingHttpHeaders = {
      "Content-Type": "application/soap+xml;charset=UTF-8",
      "Content-Length": payload.length,
      Connection: "keep-alive",
    };
    if (authorization !== undefined) headers["Authorization"] = authorization;
    const transport = this.url.protocol === "https:" ? https : http;
    return new Promise<HttpReply>((resolve, reject) => {
      const req = transport.request(this.url, { method: "POST", agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) {
            req.destroy(new WsmanError("limit-exceeded", `response from ${this.url.href} larger than ${this.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => reject(this.mapError(e)));
      });
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(new WsmanError("timeout", `no answer from ${this.url.href} within ${this.timeoutMs} ms`));
      });
      req.on("error", (e) => reject(this.mapError(e)));
      req.end(payload);
    });
  }

  private mapError(error: unknown): WsmanError {
    if (error instanceof WsmanError) return error;
    const code = (error as { code?: string }).code ?? "";
    const endpoint = this.url.href;
    if (UNTRUSTED_CODES.has(code)) {
      return new WsmanError(
        "tls-untrusted",
        `the TLS certificate of ${endpoint} is not trusted (${code}): pass the CA certificate that signed it with --ca FILE, or --insecure to skip verification`,
        { cause: error },
      );
    }
    if (code.startsWith("ERR_TLS") || code.startsWith("CERT_") || code.startsWith("ERR_SSL")) {
      return new WsmanError("tls-error", `TLS with ${endpoint} failed (${code}): ${(error as Error).message}`, { cause: error });
    }
    const what = CONNECT_CODES[code];
    if (what !== undefined) return new WsmanError("connection-failed", `cannot reach ${endpoint}: ${what}`, { cause: error });
    return new WsmanError("connection-failed", `cannot talk to ${endpoint}: ${(error as Error).message}`, { cause: error });
  }
}

/** The NTLM token of a `WWW-Authenticate: Negotiate <base64>` (or `NTLM <base64>`) header. */
export function challengeToken(header: string | string[] | undefined): Uint8Array | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : header.split(/,\s*(?=[A-Za-z]+(?:\s|$))/);
  for (const v of values) {
    const m = /^\s*(?:Negotiate|NTLM)\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(v);
    if (m !== null) return new Uint8Array(Buffer.from(m[1]!, "base64"));
  }
  return undefined;
}

