/**
 * The IO edge of the client: WS-Management over node:http/https with one keep-alive socket,
 * so an NTLM handshake and the requests after it share a TCP connection (`fetch` cannot
 * promise that). Over plain HTTP with NTLM every request is sealed with the NTLM session and
 * every reply unsealed and verified, as WinRM requires by default. Errors are
 * {@link WsmanError}s that say what to do.
 */
import http from "node:http";
import https from "node:https";
import type { WsmanSelector } from "@hyperv-kvp/kvp-core/cim";
import { buildBasicAuthorization } from "../auth/basic.js";
import { WsmanError, isWsmanError } from "../errors.js";
import { buildClientAuthenticate, buildNegotiateMessage } from "../auth/ntlm.js";
import { NtlmSession, missingSealingFlags } from "../auth/ntlm-session.js";
import { faultError, parseFault } from "../soap/faults.js";
import {
  buildEnumerateRequest,
  buildGetRequest,
  buildInvokeRequest,
  buildPullRequest,
  buildReleaseRequest,
} from "../soap/requests.js";
import {
  type EnumerationPage,
  type InvokeResult,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
  parsePullResponse,
} from "../soap/responses.js";
import type { ParameterInput, WsmanInstance, WsmanParameter, WsmanSkippedItem } from "../soap/values.js";
import {
  ENCRYPTED_CONTENT_TYPE,
  SOAP_CONTENT_TYPE,
  decodeSoapText,
  isEncryptedContentType,
  sealBody,
  unsealBody,
} from "./winrm-encryption.js";

/** Credentials: Basic (WinRM's Basic mode, HTTPS only in practice) or NTLMv2 (sealed over HTTP). */
export interface WsmanAuth {
  readonly kind: "basic" | "ntlm";
  readonly user: string;
  readonly password: string;
  /** NTLM domain; default empty (a local account of the host). */
  readonly domain?: string;
}

/** Options of {@link WsmanClient}. */
export interface WsmanClientOptions {
  /**
   * `https://host:5986/wsman`, or `http://host:5985/wsman`: with NTLM every message is then
   * sealed with the NTLM session (WinRM's default); Basic over HTTP needs {@link allowUnencrypted}.
   */
  readonly endpoint: string;
  readonly auth: WsmanAuth;
  /** PEM CA certificate(s) to trust instead of the system's. */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Skip certificate verification (explicit switch; never the default). */
  readonly insecure?: boolean;
  /**
   * Send unsealed SOAP over plain HTTP, for servers configured with WinRM's
   * AllowUnencrypted=true (data, and with Basic the password, then travel readable): needed
   * for Basic over `http:`; with NTLM over `http:` it turns sealing off. No effect on `https:`.
   */
  readonly allowUnencrypted?: boolean;
  /**
   * Deadline of each HTTP exchange (request sent to whole response read, NTLM handshake legs
   * included), milliseconds; default 60,000. A server that keeps the socket busy with a byte
   * now and then does not extend it. Also sent as wsman:OperationTimeout.
   */
  readonly timeoutMs?: number;
  /** Most instances one {@link WsmanClient.enumerate} collects; default 100,000. */
  readonly maxItems?: number;
  /** Largest response body, bytes; default 8 MiB. */
  readonly maxResponseBytes?: number;
  /**
   * Most response bytes one {@link WsmanClient.enumerate} reads over all its pages; default
   * {@link WsmanClient.DEFAULT_MAX_ENUMERATION_BYTES} (64 MiB). Past it: `limit-exceeded`.
   */
  readonly maxEnumerationBytes?: number;
  /** Items asked for per Enumerate/Pull; default 100. */
  readonly pageSize?: number;
}

interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A reply with its SOAP text (unsealed when it came sealed). */
interface SoapReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

const EMPTY = new Uint8Array(0);

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

/** A WS-Management client for WMI: Get, WQL enumeration, Invoke. Calls may overlap; they are sent one at a time. */
export class WsmanClient {
  /** The default of {@link WsmanClientOptions.maxEnumerationBytes}: 64 MiB. */
  static readonly DEFAULT_MAX_ENUMERATION_BYTES = 64 * 1024 * 1024;
  private readonly url: URL;
  private readonly maxEnumerationBytes: number;
  private largestResponse = 0;
  private lastEnumeration = 0;
  private lastSkipped: WsmanSkippedItem[] = [];
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxItems: number;
  private readonly maxResponseBytes: number;
  private readonly pageSize: number;
  /** Seal every message with the NTLM session: NTLM over plain HTTP unless allowUnencrypted. */
  private readonly sealing: boolean;
  private ntlmAuthenticated = false;
  /** The sealing session of the current connection, once authenticated. */
  private session: NtlmSession | undefined;
  /** Settles when the last request sent has its answer (see {@link send}). */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * @throws {WsmanError} `invalid-argument` for a bad endpoint (one with a user name or
   *   password in it too: Node would send them as a cleartext Basic header on every request);
   *   `unencrypted-refused` for Basic over `http:` without `allowUnencrypted`.
   */
  constructor(private readonly options: WsmanClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new WsmanError(
        "invalid-argument",
        `invalid endpoint: ${JSON.stringify(withoutUserinfo(options.endpoint))} is not a URL`,
      );
    }
    if (url.username !== "" || url.password !== "") {
      url.username = "";
      url.password = "";
      throw new WsmanError(
        "invalid-argument",
        `invalid endpoint: refusing a user name or password in the endpoint URL (${url.href}): it would travel as a cleartext Basic header and show in messages; give the credentials as auth instead`,
      );
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new WsmanError("invalid-argument", `invalid endpoint: ${url.href} is not http(s)`);
    }
    if (url.protocol === "http:" && options.auth.kind === "basic" && !options.allowUnencrypted) {
      throw new WsmanError(
        "unencrypted-refused",
        `refusing Basic authentication over plain HTTP to ${options.endpoint}: the password and data would travel readable; use https://…:5986/wsman, NTLM (which seals every message), or allow unencrypted traffic explicitly`,
      );
    }
    this.url = url;
    this.sealing = url.protocol === "http:" && options.auth.kind === "ntlm" && !options.allowUnencrypted;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxItems = options.maxItems ?? 100_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    this.pageSize = options.pageSize ?? 100;
    this.maxEnumerationBytes = options.maxEnumerationBytes ?? WsmanClient.DEFAULT_MAX_ENUMERATION_BYTES;
    const common = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    if (url.protocol === "https:") {
      const ca =
        options.ca === undefined
          ? undefined
          : (Array.isArray(options.ca) ? options.ca : [options.ca]).map((c) =>
              typeof c === "string" ? c : Buffer.from(c),
            );
      this.agent = new https.Agent({
        ...common,
        rejectUnauthorized: !options.insecure,
        ...(ca === undefined ? {} : { ca }),
      });
    } else {
      this.agent = new http.Agent(common);
    }
  }

  /** True when messages are sealed with NTLM (plain HTTP with NTLM, without allowUnencrypted). */
  get sealed(): boolean {
    return this.sealing;
  }

  /**
   * Diagnostics: the most body bytes one exchange of this client has read (the socket chunk
   * that crossed a limit included: at most the limit plus one chunk).
   */
  get largestResponseBytes(): number {
    return this.largestResponse;
  }

  /** Diagnostics: the response body bytes the latest {@link enumerate} read over all its pages. */
  get enumerationBytes(): number {
    return this.lastEnumeration;
  }

  /**
   * The items the latest {@link enumerate} left out because they could not be read (each
   * costs itself, never the enumeration), with why; empty when every item was read. `index`
   * counts over the whole enumeration.
   */
  get enumerationSkipped(): readonly WsmanSkippedItem[] {
    return this.lastSkipped;
  }

  /** Closes the kept-alive connection. */
  close(): void {
    this.agent.destroy();
    this.ntlmAuthenticated = false;
    this.session = undefined;
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
   * `maxItems` instances and `maxEnumerationBytes` of responses (past either the enumeration
   * is released and `limit-exceeded` thrown; a page that would cross the byte bound is cut off
   * as it arrives, so no more than the bound plus one socket chunk is ever read).
   * @param resourceUri usually `…/wmi/root/virtualization/v2/*`.
   * @throws {WsmanError}
   */
  async enumerate(resourceUri: string, wql: string): Promise<WsmanInstance[]> {
    const common = this.common(resourceUri);
    const budget: ReadBudget = { left: this.maxEnumerationBytes, total: this.maxEnumerationBytes, read: 0 };
    this.lastEnumeration = 0;
    const skipped: WsmanSkippedItem[] = [];
    this.lastSkipped = skipped;
    let seen = 0;
    const collect = (p: EnumerationPage) => {
      for (const s of p.skipped ?? []) skipped.push({ ...s, index: seen + s.index });
      seen += p.items.length + (p.skipped?.length ?? 0);
      items.push(...p.items);
    };
    const fetch = async (body: string): Promise<string> => {
      try {
        return await this.send(body, budget);
      } finally {
        this.lastEnumeration = budget.read;
      }
    };
    let page = parseEnumerateResponse(
      await fetch(buildEnumerateRequest({ ...common, wql, maxElements: this.pageSize })),
    );
    const items: WsmanInstance[] = [];
    collect(page);
    // Empty pages count too, so a server that never ends cannot keep us pulling forever.
    let pulls = 0;
    while (!page.endOfSequence && page.context !== undefined) {
      if (items.length > this.maxItems || ++pulls > this.maxItems + 10) {
        await this.send(buildReleaseRequest({ ...common, context: page.context })).catch(() => undefined);
        throw new WsmanError("limit-exceeded", `enumeration returned more than ${this.maxItems} instances`);
      }
      page = parsePullResponse(
        await fetch(buildPullRequest({ ...common, context: page.context, maxElements: this.pageSize })),
      );
      collect(page);
    }
    if (items.length > this.maxItems)
      throw new WsmanError("limit-exceeded", `enumeration returned more than ${this.maxItems} instances`);
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
    return parseInvokeResponse(
      await this.send(buildInvokeRequest({ ...this.common(resourceUri), method, selectors, parameters })),
      method,
    );
  }

  /**
   * Sends one SOAP request, authenticating as needed; returns the response body. Requests of
   * one client go one at a time, whoever calls: the NTLM handshake is a conversation the
   * server keeps per connection (a second NEGOTIATE in the middle replaces the first's
   * challenge, and both logins fail as if the password were wrong), and sealed messages must
   * arrive in the order of their sequence numbers.
   */
  private send(body: string, budget?: ReadBudget): Promise<string> {
    const run = () => this.sendNow(body, budget);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async sendNow(body: string, budget: ReadBudget | undefined): Promise<string> {
    const payload = new TextEncoder().encode(body);
    if (this.sealing) return this.sendSealed(payload, budget);
    let reply: HttpReply;
    if (this.options.auth.kind === "basic") {
      reply = await this.exchange(
        payload,
        SOAP_CONTENT_TYPE,
        buildBasicAuthorization(this.options.auth.user, this.options.auth.password),
        budget,
      );
    } else if (this.ntlmAuthenticated) {
      reply = await this.exchange(payload, SOAP_CONTENT_TYPE, undefined, budget);
      // The kept-alive connection was closed: authenticate the new one.
      if (reply.status === 401) reply = await this.ntlmHandshake(payload, budget);
    } else {
      reply = await this.ntlmHandshake(payload, budget);
    }
    return this.check({ ...reply, body: reply.body.toString("utf8") });
  }

  private async ntlmHandshake(payload: Uint8Array, budget: ReadBudget | undefined): Promise<HttpReply> {
    this.ntlmAuthenticated = false;
    const negotiate = buildNegotiateMessage();
    const first = await this.exchange(
      EMPTY,
      SOAP_CONTENT_TYPE,
      `Negotiate ${Buffer.from(negotiate).toString("base64")}`,
      budget,
    );
    if (first.status !== 401) return first;
    const { message } = this.authenticateMessage(negotiate, first);
    const reply = await this.exchange(
      payload,
      SOAP_CONTENT_TYPE,
      `Negotiate ${Buffer.from(message).toString("base64")}`,
      budget,
    );
    if (reply.status !== 401) this.ntlmAuthenticated = true;
    return reply;
  }

  /** The AUTHENTICATE message (and keys) for the CHALLENGE in a 401 `reply`. */
  private authenticateMessage(negotiate: Uint8Array, reply: HttpReply): ReturnType<typeof buildClientAuthenticate> {
    const auth = this.options.auth;
    const token = challengeToken(reply.headers["www-authenticate"]);
    if (token === undefined) {
      throw new WsmanError(
        "unauthorized",
        `${this.url.href} did not answer the NTLM negotiation (does it allow Negotiate authentication?)`,
      );
    }
    return buildClientAuthenticate({
      user: auth.user,
      password: auth.password,
      ...(auth.domain === undefined ? {} : { domain: auth.domain }),
      negotiate,
      challenge: token,
    });
  }

  /**
   * Sends `payload` sealed: on the authenticated connection, or after a handshake whose
   * AUTHENTICATE carries the first sealed request (the NEGOTIATE goes with an empty body),
   * all on one TCP connection. The reply is unsealed and verified.
   */
  private async sendSealed(payload: Uint8Array, budget: ReadBudget | undefined): Promise<string> {
    let result: SoapReply & { readonly sealed: boolean };
    try {
      result = await this.exchangeSealed(payload, budget);
    } catch (error) {
      // Sequence numbers and RC4 streams are now unknown to one side: start over on a new
      // connection next time (a reply cut off by a limit or deadline leaves them unknown too).
      this.session = undefined;
      if (isWsmanError(error, "integrity") || isWsmanError(error, "limit-exceeded") || isWsmanError(error, "timeout"))
        this.agent.destroy();
      throw error;
    }
    // Only a sealed answer proves the server's streams are still in step with ours.
    if (!result.sealed) this.session = undefined;
    return this.check(result);
  }

  private async exchangeSealed(
    payload: Uint8Array,
    budget: ReadBudget | undefined,
  ): Promise<SoapReply & { readonly sealed: boolean }> {
    if (this.session !== undefined) {
      const session = this.session;
      const reply = await this.exchange(sealBody(session, payload), ENCRYPTED_CONTENT_TYPE, undefined, budget);
      // A 401 here means the kept-alive connection was replaced: authenticate the new one.
      if (!(reply.status === 401 && !isEncryptedContentType(reply.headers["content-type"])))
        return this.openSealed(reply, session);
      this.session = undefined;
    }
    const negotiate = buildNegotiateMessage();
    const first = await this.exchange(
      EMPTY,
      SOAP_CONTENT_TYPE,
      `Negotiate ${Buffer.from(negotiate).toString("base64")}`,
      budget,
    );
    if (first.status !== 401) {
      throw new WsmanError(
        "http-error",
        `${this.url.href} answered the NTLM negotiation with HTTP ${first.status} instead of a challenge`,
      );
    }
    const { message, keys } = this.authenticateMessage(negotiate, first);
    const missing = missingSealingFlags(keys.flags);
    if (missing.length > 0) {
      throw new WsmanError(
        "unencrypted-refused",
        `${this.url.href} did not agree to NTLM sealing (no ${missing.join(", ")}): refusing to send the SOAP unsealed over plain HTTP; use https://…:5986/wsman, or allow unencrypted traffic explicitly if the server accepts it`,
      );
    }
    const session = new NtlmSession(keys, "client");
    this.session = session;
    return this.openSealed(
      await this.exchange(
        sealBody(session, payload),
        ENCRYPTED_CONTENT_TYPE,
        `Negotiate ${Buffer.from(message).toString("base64")}`,
        budget,
      ),
      session,
    );
  }

  /**
   * The SOAP text of a reply to a sealed request: unsealed and verified when sealed. An
   * unsealed 200 is refused (anyone on the path could have written it); an unsealed 400 is
   * the server refusing our sealed request; other unsealed errors pass through to
   * {@link check} for their message.
   * @throws {WsmanError} `integrity`.
   */
  private openSealed(reply: HttpReply, session: NtlmSession): SoapReply & { readonly sealed: boolean } {
    const contentType = reply.headers["content-type"];
    if (isEncryptedContentType(contentType)) {
      const { message, originalType } = unsealBody(session, reply.body, contentType!);
      return {
        status: reply.status,
        headers: reply.headers,
        body: decodeSoapText(message, originalType),
        sealed: true,
      };
    }
    const text = reply.body.toString("utf8");
    if (reply.status === 200) {
      throw new WsmanError(
        "integrity",
        `${this.url.href} answered a sealed request without sealing its reply: refusing an answer anyone on the path could have written`,
      );
    }
    if (reply.status === 400) {
      const fault = parseFault(text);
      throw new WsmanError(
        "integrity",
        `${this.url.href} refused our sealed request (HTTP 400: was it altered on the way?)`,
        fault === undefined ? { serverText: text } : { fault, serverText: fault.reason },
      );
    }
    return { status: reply.status, headers: reply.headers, body: text, sealed: false };
  }

  private check(reply: SoapReply): string {
    if (reply.status === 200) return reply.body;
    if (reply.status === 401) {
      const { kind, user } = this.options.auth;
      throw new WsmanError(
        "unauthorized",
        kind === "ntlm"
          ? `${this.url.href} refused the NTLM credentials of ${user}: wrong password or unknown user (NTLM answers both with the same 401; the host's security log tells which), or Negotiate authentication is not enabled there`
          : `${this.url.href} refused the Basic credentials of ${user}: wrong password or unknown user (the host's log tells which), or Basic authentication is not enabled there (WinRM's default)`,
      );
    }
    const fault = parseFault(reply.body);
    if (fault !== undefined) throw faultError(fault);
    const hint =
      reply.status === 500 && this.url.protocol === "http:" && !this.sealing
        ? " (a WinRM that refuses unencrypted traffic answers 500 to unsealed messages: with NTLM, drop allowUnencrypted so messages are sealed)"
        : "";
    throw new WsmanError("http-error", `${this.url.href} answered HTTP ${reply.status}${hint}`, {
      serverText: reply.body,
    });
  }

  /**
   * One HTTP exchange under a deadline of `timeoutMs` from sending to the last byte of the
   * answer, reading at most `maxResponseBytes` (and what is left of `budget`).
   */
  private exchange(
    payload: Uint8Array,
    contentType: string,
    authorization: string | undefined,
    budget?: ReadBudget,
  ): Promise<HttpReply> {
    const headers: http.OutgoingHttpHeaders = {
      "Content-Type": contentType,
      "Content-Length": payload.length,
      Connection: "keep-alive",
    };
    if (authorization !== undefined) headers["Authorization"] = authorization;
    const transport = this.url.protocol === "https:" ? https : http;
    return new Promise<HttpReply>((resolve, reject) => {
      let settled = false;
      const done = (result: HttpReply | WsmanError) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (result instanceof WsmanError) reject(result);
        else resolve(result);
      };
      const req = transport.request(this.url, { method: "POST", agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          this.largestResponse = Math.max(this.largestResponse, size);
          if (budget !== undefined) budget.read += chunk.length;
          const overTotal = budget !== undefined && size > budget.left;
          if (size > this.maxResponseBytes || overTotal) {
            const error = overTotal
              ? new WsmanError(
                  "limit-exceeded",
                  `enumeration from ${this.url.href} larger than ${budget!.total} bytes in total (more than ${budget!.total} bytes over its pages)`,
                )
              : new WsmanError(
                  "limit-exceeded",
                  `response from ${this.url.href} larger than ${this.maxResponseBytes} bytes`,
                );
            req.destroy(error);
            done(error);
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          if (budget !== undefined) budget.left -= size;
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on("error", (e) => done(this.mapError(e)));
        res.on("aborted", () => done(this.mapError(Object.assign(new Error("aborted"), { code: "ECONNRESET" }))));
      });
      // A deadline, not an idle timeout: a byte every few seconds must not keep us waiting.
      const deadline = setTimeout(() => {
        const error = new WsmanError("timeout", `no complete answer from ${this.url.href} within ${this.timeoutMs} ms`);
        req.destroy(error);
        done(error);
      }, this.timeoutMs);
      req.on("error", (e) => done(this.mapError(e)));
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
      return new WsmanError("tls-error", `TLS with ${endpoint} failed (${code}): ${(error as Error).message}`, {
        cause: error,
      });
    }
    const what = CONNECT_CODES[code];
    if (what !== undefined)
      return new WsmanError("connection-failed", `cannot reach ${endpoint}: ${what}`, { cause: error });
    return new WsmanError("connection-failed", `cannot talk to ${endpoint}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** What is left to read of an enumeration's byte bound, and what its exchanges read. */
interface ReadBudget {
  left: number;
  readonly total: number;
  read: number;
}

/** `endpoint` with any `user:password@` cut out, for messages about an endpoint that is not a URL. */
function withoutUserinfo(endpoint: string): string {
  return endpoint.replace(/^([^:/?#]*:\/\/)[^/?#]*@/, "$1…@");
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
