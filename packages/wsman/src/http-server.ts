/**
 * The IO edge of a WS-Management server (for the simulator): HTTP(S) on node:http, Basic and
 * NTLM authentication (NTLM per connection, as WinRM does), SOAP parsing, enumeration
 * contexts and faults. The caller supplies only a handler that answers parsed requests.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { verifyBasicAuthorization } from "./basic.js";
import { WsmanError, isWsmanError } from "./errors.js";
import { buildServerChallenge, verifyAuthenticate } from "./ntlm.js";
import {
  type ParameterInput,
  type WsmanFaultInit,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanRequest,
  buildEnumerateResponse,
  buildFault,
  buildGetResponse,
  buildInvokeResponse,
  buildPullResponse,
  buildReleaseResponse,
  parseRequest,
} from "./soap.js";

/** What a handler answers. */
export type WsmanHandlerResult =
  | { readonly kind: "get"; readonly instance: WsmanInstance }
  | { readonly kind: "enumerate"; readonly items: readonly WsmanInstance[] }
  | { readonly kind: "invoke"; readonly returnValue: number; readonly outputs?: ParameterInput<WsmanParameter> }
  | { readonly kind: "fault"; readonly fault: WsmanFaultInit };

/** Answers Get, Enumerate (all items; paging is done for you) and Invoke requests. */
export type WsmanHandler = (
  request: Extract<WsmanRequest, { kind: "get" | "enumerate" | "invoke" }>,
  context: { readonly user: string },
) => WsmanHandlerResult | Promise<WsmanHandlerResult>;

/** An authentication attempt that failed, for logs and tests. */
export interface AuthFailure {
  readonly scheme: "basic" | "ntlm";
  readonly reason: string;
  readonly user?: string;
}

/** Options of {@link createWsmanServer}. */
export interface WsmanServerOptions {
  /** PEM key and certificate: serve HTTPS. */
  readonly https?: { readonly key: string | Uint8Array; readonly cert: string | Uint8Array };
  /** Serve plain HTTP without https (explicit switch, as WinRM's AllowUnencrypted). */
  readonly allowUnencrypted?: boolean;
  /** User name → password; names compared ignoring case. */
  readonly users: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** Enabled schemes. */
  readonly auth: readonly ("basic" | "ntlm")[];
  readonly handler: WsmanHandler;
  /** Largest request body, bytes; default 4 MiB. */
  readonly maxRequestBytes?: number;
  /** Open enumeration contexts kept; default 1,000 (the oldest is dropped). */
  readonly maxEnumerations?: number;
  /** NetBIOS name in NTLM challenges; default `WSMAN`. */
  readonly computerName?: string;
  /** Called for each failed authentication. */
  readonly onAuthFailure?: (failure: AuthFailure) => void;
}

/** A running server. */
export interface WsmanServer {
  readonly server: http.Server;
  /** TCP connections accepted so far. */
  readonly connectionCount: number;
  /** Listens on 127.0.0.1 (default) and a port the OS picks (default); returns the endpoint URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

interface ConnectionState {
  negotiate?: Uint8Array;
  challenge?: Uint8Array;
  user?: string;
}

const SOAP_TYPE = "application/soap+xml;charset=UTF-8";

/**
 * Creates (does not start) a WS-Management server.
 * @throws {WsmanError} `unencrypted-refused` without `https` unless `allowUnencrypted`.
 */
export function createWsmanServer(options: WsmanServerOptions): WsmanServer {
  if (options.https === undefined && !options.allowUnencrypted) {
    throw new WsmanError("unencrypted-refused", "refusing to serve WS-Management over plain HTTP: give https key and cert, or allow unencrypted explicitly");
  }
  const users = options.users instanceof Map ? (options.users as ReadonlyMap<string, string>) : new Map(Object.entries(options.users));
  const maxRequestBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  const maxEnumerations = options.maxEnumerations ?? 1000;
  const connections = new WeakMap<Socket, ConnectionState>();
  const enumerations = new Map<string, { items: readonly WsmanInstance[]; offset: number; user: string }>();
  let connectionCount = 0;

  const challenges = (): string[] => [...(options.auth.includes("ntlm") ? ["Negotiate"] : []), ...(options.auth.includes("basic") ? ['Basic realm="WSMAN"'] : [])];

  function deny(res: http.ServerResponse, failure?: AuthFailure): void {
    if (failure !== undefined) options.onAuthFailure?.(failure);
    res.writeHead(401, { "WWW-Authenticate": challenges(), "Content-Length": 0 });
    res.end();
  }

  /** The authenticated user, or undefined when a 401 was sent. */
  function authenticate(req: http.IncomingMessage, res: http.ServerResponse, state: ConnectionState): string | undefined {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (state.user !== undefined) return state.user;
      deny(res);
      return undefined;
    }
    const scheme = /^\s*(\S+)/.exec(header)?.[1]?.toLowerCase();
    if (scheme === "basic" && options.auth.includes("basic")) {
      const r = verifyBasicAuthorization(header, users);
      if (r.ok) return r.user;
      deny(res, { scheme: "basic", reason: r.reason, ...(r.user === undefined ? {} : { user: r.user }) });
      return undefined;
    }
    if ((scheme === "negotiate" || scheme === "ntlm") && options.auth.includes("ntlm")) {
      const m = /^\s*\S+\s+([A-Za-z0-9+/]+=*)\s*$/.exec(header);
      const token = m === null ? new Uint8Array(0) : new Uint8Array(Buffer.from(m[1]!, "base64"));
      const type = token.length >= 12 ? new DataView(token.buffer, token.byteOffset).getUint32(8, true) : 0;
      try {
        if (type === 1) {
          const { message } = buildServerChallenge(token, options.computerName === undefined ? {} : { computerName: options.computerName });
          state.negotiate = token;
          state.challenge = message;
          delete state.user;
          res.writeHead(401, { "WWW-Authenticate": `${scheme === "ntlm" ? "NTLM" : "Negotiate"} ${Buffer.from(message).toString("base64")}`, "Content-Length": 0 });
          res.end();
          return undefined;
        }
        if (type === 3 && state.negotiate !== undefined && state.challenge !== undefined) {
          const r = verifyAuthenticate({ negotiate: state.negotiate, challenge: state.challenge, authenticate: token, users });
          delete state.negotiate;
          delete state.challenge;
          if (r.ok) {
            state.user = r.user;
            return r.user;
          }
          deny(res, { scheme: "ntlm", reason: r.reason, user: r.user });
          return undefined;
        }
        deny(res, { scheme: "ntlm", reason: type === 3 ? "no-challenge-on-this-connection" : "invalid-token" });
      } catch (error) {
        deny(res, { scheme: "ntlm", reason: isWsmanError(error) ? error.message : "invalid-token" });
      }
      return undefined;
    }
    deny(res, { scheme: scheme === "basic" ? "basic" : "ntlm", reason: `scheme ${scheme ?? "?"} not enabled` });
    return undefined;
  }

  function reply(res: http.ServerResponse, status: number, body: string): void {
    const payload = Buffer.from(body, "utf8");
    res.writeHead(status, { "Content-Type": SOAP_TYPE, "Content-Length": payload.length });
    res.end(payload);
  }

  function fault(res: http.ServerResponse, init: WsmanFaultInit, relatesTo?: string): void {
    reply(res, 500, buildFault(init, relatesTo === undefined ? {} : { relatesTo }));
  }

  function page(items: readonly WsmanInstance[], offset: number, max: number, user: string, existing?: string) {
    const end = Math.min(items.length, offset + max);
    const slice = items.slice(offset, end);
    if (end >= items.length) {
      if (existing !== undefined) enumerations.delete(existing);
      return { items: slice, endOfSequence: true };
    }
    const context = existing ?? `uuid:${randomUUID()}`;
    enumerations.delete(context);
    enumerations.set(context, { items, offset: end, user });
    while (enumerations.size > maxEnumerations) enumerations.delete(enumerations.keys().next().value!);
    return { context, items: slice, endOfSequence: false };
  }

  async function respond(body: string, user: string, res: http.ServerResponse): Promise<void> {
    let request: WsmanRequest;
    try {
      request = parseRequest(body);
    } catch (error) {
      const message = isWsmanError(error) ? error.message : String(error);
      fault(res, { code: "s:Sender", subcode: "w:SchemaValidationError", reason: "The SOAP XML in the message does not match the corresponding XML schema definition.", detail: message });
      return;
    }
    const relatesTo = request.messageId || undefined;
    const options_ = relatesTo === undefined ? {} : { relatesTo };
    if (request.kind === "pull" || request.kind === "release") {
      const state = enumerations.get(request.context);
      if (state === undefined || state.user !== user) {
        fault(res, { code: "s:Sender", subcode: "n:InvalidEnumerationContext", reason: "The enumeration context supplied in the message is not valid." }, relatesTo);
        return;
      }
      if (request.kind === "release") {
        enumerations.delete(request.context);
        reply(res, 200, buildReleaseResponse(options_));
      } else {
        reply(res, 200, buildPullResponse(page(state.items, state.offset, request.maxElements ?? 20, user, request.context), options_));
      }
      return;
    }
    let result: WsmanHandlerResult;
    try {
      result = await options.handler(request, { user });
    } catch (error) {
      if (isWsmanError(error, "fault") && error.fault !== undefined) {
        const f = error.fault;
        const code = f.code === "s:Receiver" ? "s:Receiver" : "s:Sender";
        fault(res, { code, subcode: /^(s|a|n|w):/.test(f.subcode) ? f.subcode : "w:InternalError", reason: f.reason, detail: f.detail }, relatesTo);
      } else {
        fault(res, { code: "s:Receiver", subcode: "w:InternalError", reason: "The WS-Management service cannot process the request.", detail: (error as Error)?.message ?? String(error) }, relatesTo);
      }
      return;
    }
    if (result.kind === "fault") {
      fault(res, result.fault, relatesTo);
    } else if (result.kind === "get" && request.kind === "get") {
      reply(res, 200, buildGetResponse(result.instance, options_));
    } else if (result.kind === "enumerate" && request.kind === "enumerate") {
      // Without optimization the first items wait for the first Pull.
      reply(res, 200, buildEnumerateResponse(page(result.items, 0, request.optimize ? (request.maxElements ?? 1) : 0, user), options_));
    } else if (result.kind === "invoke" && request.kind === "invoke") {
      reply(
        res,
        200,
        buildInvokeResponse(
          { resourceUri: request.resourceUri, method: request.method, returnValue: result.returnValue, ...(result.outputs === undefined ? {} : { outputs: result.outputs }) },
          options_,
        ),
      );
    } else {
      fault(res, { code: "s:Receiver", subcode: "w:InternalError", reason: `The handler answered a ${request.kind} request with ${result.kind}.` }, relatesTo);
    }
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    let state = connections.get(socket);
    if (state === undefined) {
      state = {};
      connections.set(socket, state);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxRequestBytes) tooBig = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (req.method !== "POST") {
        res.writeHead(405, { Allow: "POST", "Content-Length": 0 }).end();
        return;
      }
      const user = authenticate(req, res, state);
      if (user === undefined) return;
      if (tooBig) {
        fault(res, { code: "s:Sender", subcode: "w:EncodingLimit", reason: `The request is larger than ${maxRequestBytes} bytes.` });
        return;
      }
      respond(Buffer.concat(chunks).toString("utf8"), user, res).catch((error: unknown) => {
        if (!res.headersSent) fault(res, { code: "s:Receiver", subcode: "w:InternalError", reason: String(error) });
      });
    });
  };

  const server = options.https === undefined ? http.createServer(listener) : https.createServer({ key: toBuffer(options.https.key), cert: toBuffer(options.https.cert) }, listener);
  server.keepAliveTimeout = 30_000;
  server.on(options.https === undefined ? "connection" : "secureConnection", () => {
    connectionCount++;
  });

  return {
    server,
    get connectionCount() {
      return connectionCount;
    },
    listen(port = 0, host = "127.0.0.1") {
      return new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          resolve(`${options.https === undefined ? "http" : "https"}://${host}:${address.port}/wsman`);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function toBuffer(value: string | Uint8Array): string | Buffer {
  return typeof value === "string" ? value : Buffer.from(value);
}
