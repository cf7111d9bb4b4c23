/**
 * The IO edge of a WS-Management server (for the simulator): HTTP(S) on node:http, Basic and
 * NTLM authentication (NTLM per connection, as WinRM does), NTLM message sealing over plain
 * HTTP (WinRM's default listener), SOAP parsing, enumeration contexts and faults. The caller
 * supplies only a handler that answers parsed requests.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { parseBasicAuthorization, verifyBasicAuthorization } from "../auth/basic.js";
import { WsmanError, isWsmanError } from "../errors.js";
import { buildServerChallenge, verifyAuthenticate } from "../auth/ntlm.js";
import { NtlmSession, missingSealingFlags } from "../auth/ntlm-session.js";
import { type WsmanFaultInit, buildFault } from "../soap/faults.js";
import { type WsmanRequest, parseRequest } from "../soap/requests.js";
import {
  buildEnumerateResponse,
  buildGetResponse,
  buildInvokeResponse,
  buildPullResponse,
  buildReleaseResponse,
} from "../soap/responses.js";
import type { ParameterInput, WsmanInstance, WsmanParameter } from "../soap/values.js";
import {
  ENCRYPTED_CONTENT_TYPE,
  SOAP_CONTENT_TYPE,
  decodeSoapText,
  isEncryptedContentType,
  sealBody,
  unsealBody,
} from "./winrm-encryption.js";

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

/**
 * An authentication attempt that failed, for the server's own logs and tests. The client
 * only ever sees a 401 (telling it more would let anyone probe for user names), so this is
 * where `unknown-user` and `wrong-password` are told apart.
 */
export interface AuthFailure {
  readonly scheme: "basic" | "ntlm";
  /**
   * `unknown-user`, `wrong-password`, `anonymous`, `not-ntlmv2`, `bad-mic`, `missing`,
   * `no-sealing` (NTLM without the flags sealing needs, on a sealed-HTTP server),
   * `basic-over-http` (Basic refused on a sealed-HTTP server), `scheme … not enabled`, or
   * a description of a malformed token.
   */
  readonly reason: string;
  readonly user?: string;
}

/** Something the server refused, for its operator's diagnostics (see {@link WsmanServer.onEvent}). */
export type WsmanServerEvent =
  | { readonly kind: "auth-failure"; readonly failure: AuthFailure }
  /** A sealed request failed verification (altered, replayed, reordered); the connection was closed. */
  | { readonly kind: "integrity-failure"; readonly user: string; readonly reason: string }
  /** An authenticated but unsealed SOAP request on a sealed-HTTP server (WinRM answers 500). */
  | { readonly kind: "unsealed-refused"; readonly user: string };

/**
 * How the server listens: `https` (TLS protects everything; Basic and NTLM as enabled;
 * sealed messages accepted too), `sealed-http` (WinRM's default HTTP listener: NTLM only,
 * every SOAP message sealed), `http` (WinRM with AllowUnencrypted=true: unsealed accepted,
 * sealed too).
 */
export type WsmanServerMode = "https" | "sealed-http" | "http";

/** Options of {@link createWsmanServer}. */
export interface WsmanServerOptions {
  /** PEM key and certificate: serve HTTPS. */
  readonly https?: { readonly key: string | Uint8Array; readonly cert: string | Uint8Array };
  /**
   * Serve plain HTTP that accepts unsealed SOAP and Basic (explicit switch, as WinRM's
   * AllowUnencrypted=true). Sealed requests are accepted too.
   */
  readonly allowUnencrypted?: boolean;
  /**
   * Serve plain HTTP the way WinRM's default HTTP listener does (AllowUnencrypted=false):
   * NTLM only, every SOAP request sealed with the connection's NTLM session
   * (multipart/encrypted, MS-WSMV 2.2.9.1.1) and every reply sealed likewise. Unsealed SOAP
   * gets HTTP 500 with an AccessDenied fault (what WinRM answers), Basic a 401, a sealed
   * request that does not verify HTTP 400 with a fault and the connection closed. Excludes
   * `https` and `allowUnencrypted`; `auth` must include `ntlm`.
   */
  readonly sealedHttp?: boolean;
  /** User name → password; names compared ignoring case. */
  readonly users: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** Enabled schemes. */
  readonly auth: readonly ("basic" | "ntlm")[];
  readonly handler: WsmanHandler;
  /** Largest request body of an authenticated request, bytes; default 4 MiB. */
  readonly maxRequestBytes?: number;
  /**
   * Largest body a request that fails authentication may have and still keep its connection,
   * bytes; default 1 MiB. Authentication is decided from the headers before any body is read:
   * a refused request gets its 401 at once, its body (up to this size, declared by
   * Content-Length) is read and dropped as it arrives, never kept; a longer or chunked one
   * gets `Connection: close` and is never read. The default leaves room for a client whose
   * kept-alive connection was closed to send its next request (a full AddKvpItems call is a
   * few hundred KB) and still read the 401 that tells it to authenticate again.
   */
  readonly maxUnauthenticatedBytes?: number;
  /** Most TCP connections open at once (more are dropped as they arrive); default 100. */
  readonly maxConnections?: number;
  /** Open enumeration contexts kept; default 1,000 (the oldest is dropped). */
  readonly maxEnumerations?: number;
  /** NetBIOS name in NTLM challenges; default `WSMAN`. */
  readonly computerName?: string;
  /** Called for each failed authentication (also reported through {@link WsmanServer.onEvent}). */
  readonly onAuthFailure?: (failure: AuthFailure) => void;
}

/** A running server. */
export interface WsmanServer {
  readonly server: http.Server;
  /** How it listens (see {@link WsmanServerMode}). */
  readonly mode: WsmanServerMode;
  /** TCP connections accepted so far. */
  readonly connectionCount: number;
  /**
   * Adds a listener for refusals (failed authentications, integrity failures, unsealed
   * requests on a sealed-HTTP server); returns the function that removes it. A listener that
   * throws is ignored.
   */
  onEvent(listener: (event: WsmanServerEvent) => void): () => void;
  /** Listens on 127.0.0.1 (default) and a port the OS picks (default); returns the endpoint URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

interface ConnectionState {
  negotiate?: Uint8Array;
  challenge?: Uint8Array;
  user?: string;
  /** The sealing session of the NTLM authentication on this connection. */
  session?: NtlmSession;
  /** Requests of one connection are answered in order: sealing is a stream. */
  queue: Promise<void>;
}

/** A reply before sealing. */
interface Reply {
  readonly status: number;
  readonly body: string;
}

const REFUSE_UNSEALED =
  "The WS-Management service refuses unencrypted messages over HTTP (its AllowUnencrypted setting is false): seal the request with the NTLM session (multipart/encrypted), or use HTTPS.";

/**
 * Creates (does not start) a WS-Management server.
 * @throws {WsmanError} `unencrypted-refused` without `https`, `sealedHttp` or
 *   `allowUnencrypted`; `invalid-argument` for `sealedHttp` with `https` or
 *   `allowUnencrypted`, or without `ntlm` in `auth`.
 */
export function createWsmanServer(options: WsmanServerOptions): WsmanServer {
  if (options.sealedHttp && (options.https !== undefined || options.allowUnencrypted)) {
    throw new WsmanError(
      "invalid-argument",
      "sealedHttp excludes https and allowUnencrypted: it is WinRM's plain-HTTP listener that requires sealing",
    );
  }
  if (options.sealedHttp && !options.auth.includes("ntlm")) {
    throw new WsmanError("invalid-argument", "sealedHttp needs NTLM in auth: only an NTLM session can seal messages");
  }
  if (options.https === undefined && !options.allowUnencrypted && !options.sealedHttp) {
    throw new WsmanError(
      "unencrypted-refused",
      "refusing to serve WS-Management over plain HTTP without sealing: give https key and cert, ask for sealedHttp (WinRM's default), or allow unencrypted explicitly",
    );
  }
  const mode: WsmanServerMode = options.https !== undefined ? "https" : options.sealedHttp ? "sealed-http" : "http";
  const listeners = new Set<(event: WsmanServerEvent) => void>();
  const emit = (event: WsmanServerEvent): void => {
    for (const l of listeners) {
      try {
        l(event);
      } catch {
        // A diagnostics listener must not break the server.
      }
    }
  };
  const users =
    options.users instanceof Map
      ? (options.users as ReadonlyMap<string, string>)
      : new Map(Object.entries(options.users));
  const maxRequestBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  const maxUnauthenticatedBytes = options.maxUnauthenticatedBytes ?? 1024 * 1024;
  const maxEnumerations = options.maxEnumerations ?? 1000;
  const connections = new WeakMap<Socket, ConnectionState>();
  const enumerations = new Map<string, { items: readonly WsmanInstance[]; offset: number; user: string }>();
  let connectionCount = 0;

  // Basic cannot be sealed, so a sealed-HTTP server neither offers nor accepts it.
  const basicUsable = options.auth.includes("basic") && mode !== "sealed-http";
  const challenges = (): string[] => [
    ...(options.auth.includes("ntlm") ? ["Negotiate"] : []),
    ...(basicUsable ? ['Basic realm="WSMAN"'] : []),
  ];

  function deny(res: http.ServerResponse, failure?: AuthFailure): void {
    if (failure !== undefined) {
      try {
        options.onAuthFailure?.(failure);
      } catch {
        // As for listeners: diagnostics must not break the server.
      }
      emit({ kind: "auth-failure", failure });
    }
    res.writeHead(401, { "WWW-Authenticate": challenges(), "Content-Length": 0 });
    res.end();
  }

  /** The authenticated user, or undefined when a 401 was sent. */
  function authenticate(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    state: ConnectionState,
  ): string | undefined {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (state.user !== undefined) return state.user;
      deny(res);
      return undefined;
    }
    const scheme = /^\s*(\S+)/.exec(header)?.[1]?.toLowerCase();
    // Whether or not Basic is enabled, on a sealed-HTTP server the reason it fails is this.
    if (scheme === "basic" && mode === "sealed-http") {
      const user = parseBasicAuthorization(header)?.user;
      deny(res, { scheme: "basic", reason: "basic-over-http", ...(user === undefined ? {} : { user }) });
      return undefined;
    }
    if (scheme === "basic" && basicUsable) {
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
          const { message } = buildServerChallenge(
            token,
            options.computerName === undefined ? {} : { computerName: options.computerName },
          );
          state.negotiate = token;
          state.challenge = message;
          delete state.user;
          delete state.session;
          res.writeHead(401, {
            "WWW-Authenticate": `${scheme === "ntlm" ? "NTLM" : "Negotiate"} ${Buffer.from(message).toString("base64")}`,
            "Content-Length": 0,
          });
          res.end();
          return undefined;
        }
        if (type === 3 && state.negotiate !== undefined && state.challenge !== undefined) {
          const r = verifyAuthenticate({
            negotiate: state.negotiate,
            challenge: state.challenge,
            authenticate: token,
            users,
          });
          delete state.negotiate;
          delete state.challenge;
          if (r.ok) {
            const missing = missingSealingFlags(r.keys.flags);
            if (missing.length === 0) {
              state.session = new NtlmSession(r.keys, "server");
            } else if (mode === "sealed-http") {
              deny(res, { scheme: "ntlm", reason: "no-sealing", user: r.user });
              return undefined;
            }
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

  /** Writes `reply`, sealed with `session` when the request was sealed. */
  function write(
    res: http.ServerResponse,
    reply: Reply,
    session: NtlmSession | undefined,
    extra: http.OutgoingHttpHeaders = {},
  ): void {
    const plain = Buffer.from(reply.body, "utf8");
    const payload = session === undefined ? plain : sealBody(session, plain);
    res.writeHead(reply.status, {
      ...extra,
      "Content-Type": session === undefined ? SOAP_CONTENT_TYPE : ENCRYPTED_CONTENT_TYPE,
      "Content-Length": payload.length,
    });
    res.end(payload);
  }

  function fault(init: WsmanFaultInit, relatesTo?: string, status = 500): Reply {
    return { status, body: buildFault(init, relatesTo === undefined ? {} : { relatesTo }) };
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

  async function respond(body: string, user: string): Promise<Reply> {
    let request: WsmanRequest;
    try {
      request = parseRequest(body);
    } catch (error) {
      const message = isWsmanError(error) ? error.message : String(error);
      return fault({
        code: "s:Sender",
        subcode: "w:SchemaValidationError",
        reason: "The SOAP XML in the message does not match the corresponding XML schema definition.",
        detail: message,
      });
    }
    const relatesTo = request.messageId || undefined;
    const options_ = relatesTo === undefined ? {} : { relatesTo };
    if (request.kind === "pull" || request.kind === "release") {
      const state = enumerations.get(request.context);
      if (state === undefined || state.user !== user) {
        return fault(
          {
            code: "s:Sender",
            subcode: "n:InvalidEnumerationContext",
            reason: "The enumeration context supplied in the message is not valid.",
          },
          relatesTo,
        );
      }
      if (request.kind === "release") {
        enumerations.delete(request.context);
        return { status: 200, body: buildReleaseResponse(options_) };
      }
      return {
        status: 200,
        body: buildPullResponse(
          page(state.items, state.offset, request.maxElements ?? 20, user, request.context),
          options_,
        ),
      };
    }
    let result: WsmanHandlerResult;
    try {
      result = await options.handler(request, { user });
    } catch (error) {
      if (isWsmanError(error, "fault") && error.fault !== undefined) {
        const f = error.fault;
        const code = f.code === "s:Receiver" ? "s:Receiver" : "s:Sender";
        return fault(
          {
            code,
            subcode: /^(s|a|n|w):/.test(f.subcode) ? f.subcode : "w:InternalError",
            reason: f.reason,
            detail: f.detail,
          },
          relatesTo,
        );
      }
      return fault(
        {
          code: "s:Receiver",
          subcode: "w:InternalError",
          reason: "The WS-Management service cannot process the request.",
          detail: (error as Error)?.message ?? String(error),
        },
        relatesTo,
      );
    }
    if (result.kind === "fault") return fault(result.fault, relatesTo);
    if (result.kind === "get" && request.kind === "get")
      return { status: 200, body: buildGetResponse(result.instance, options_) };
    if (result.kind === "enumerate" && request.kind === "enumerate") {
      // Without optimization the first items wait for the first Pull.
      return {
        status: 200,
        body: buildEnumerateResponse(
          page(result.items, 0, request.optimize ? (request.maxElements ?? 1) : 0, user),
          options_,
        ),
      };
    }
    if (result.kind === "invoke" && request.kind === "invoke") {
      return {
        status: 200,
        body: buildInvokeResponse(
          {
            resourceUri: request.resourceUri,
            method: request.method,
            returnValue: result.returnValue,
            ...(result.outputs === undefined ? {} : { outputs: result.outputs }),
          },
          options_,
        ),
      };
    }
    return fault(
      {
        code: "s:Receiver",
        subcode: "w:InternalError",
        reason: `The handler answered a ${request.kind} request with ${result.kind}.`,
      },
      relatesTo,
    );
  }

  /**
   * Answers one request: refused from its headers when it does not authenticate (its body
   * drained when short, else left unread and the connection closed), else read (up to
   * `maxRequestBytes`) and answered.
   */
  async function serve(req: http.IncomingMessage, res: http.ServerResponse, state: ConnectionState): Promise<void> {
    const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
    const short = declared !== undefined && Number.isSafeInteger(declared) && declared <= maxUnauthenticatedBytes;
    // Decided before authenticating, as the 401 may be written by authenticate itself.
    if (!short) res.setHeader("Connection", "close");
    if (req.method !== "POST") {
      res.writeHead(405, { Allow: "POST", "Content-Length": 0 }).end();
      discard(req, short);
      return;
    }
    const user = authenticate(req, res, state);
    if (user === undefined) {
      discard(req, short);
      return;
    }
    if (!res.headersSent) res.removeHeader("Connection");
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    await new Promise<void>((resolve, reject) => {
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxRequestBytes) tooBig = true;
        else chunks.push(chunk);
      });
      req.on("end", resolve);
      req.on("error", reject);
    });
    await handle(req, res, state, user, Buffer.concat(chunks), tooBig);
  }

  /** Drops a refused request's body: read and forgotten when short, else the connection closes unread. */
  function discard(req: http.IncomingMessage, short: boolean): void {
    if (short) req.resume();
    else req.socket.destroySoon();
  }

  /** Answers one complete, authenticated request (unsealed as needed). */
  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    state: ConnectionState,
    user: string,
    body: Buffer,
    tooBig: boolean,
  ): Promise<void> {
    const contentType = req.headers["content-type"];
    const sealed = isEncryptedContentType(contentType);
    if (tooBig) {
      // The sealing stream cannot skip a message we did not read: this connection is done.
      if (sealed) forget(state);
      write(
        res,
        fault({
          code: "s:Sender",
          subcode: "w:EncodingLimit",
          reason: `The request is larger than ${maxRequestBytes} bytes.`,
        }),
        undefined,
        sealed ? { Connection: "close" } : {},
      );
      return;
    }
    let soap: string;
    let session: NtlmSession | undefined;
    if (sealed) {
      session = state.session;
      if (session === undefined) {
        write(
          res,
          fault(
            {
              code: "s:Sender",
              subcode: "w:AccessDenied",
              reason: "A sealed message needs an NTLM session on this connection: authenticate with Negotiate first.",
            },
            undefined,
            400,
          ),
          undefined,
        );
        return;
      }
      try {
        const { message, originalType } = unsealBody(session, body, contentType!);
        soap = decodeSoapText(message, originalType);
      } catch (error) {
        const reason = isWsmanError(error) ? error.message : String(error);
        forget(state);
        emit({ kind: "integrity-failure", user, reason });
        write(
          res,
          fault(
            {
              code: "s:Sender",
              subcode: "w:AccessDenied",
              reason: `The WS-Management service could not verify the sealed message: ${reason}. The connection is closed; authenticate again.`,
            },
            undefined,
            400,
          ),
          undefined,
          { Connection: "close" },
        );
        return;
      }
    } else if (body.length === 0) {
      // An empty POST only authenticates the connection (pywinrm sets up sealing this way).
      res.writeHead(200, { "Content-Length": 0 }).end();
      return;
    } else if (mode === "sealed-http") {
      emit({ kind: "unsealed-refused", user });
      write(res, fault({ code: "s:Sender", subcode: "w:AccessDenied", reason: REFUSE_UNSEALED }), undefined);
      return;
    } else {
      soap = body.toString("utf8");
    }
    let reply: Reply;
    try {
      reply = await respond(soap, user);
    } catch (error) {
      reply = fault({ code: "s:Receiver", subcode: "w:InternalError", reason: String(error) });
    }
    write(res, reply, session);
  }

  /** Drops what a connection authenticated: its sealing session can no longer be trusted. */
  function forget(state: ConnectionState): void {
    delete state.session;
    delete state.user;
    delete state.negotiate;
    delete state.challenge;
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket;
    let state = connections.get(socket);
    if (state === undefined) {
      state = { queue: Promise.resolve() };
      connections.set(socket, state);
    }
    // Requests of a connection are served in order (the NTLM handshake and the sealing stream
    // are per connection); a body is read only once its request has authenticated.
    const s = state;
    s.queue = s.queue
      .then(() => serve(req, res, s))
      .catch((error: unknown) => {
        if (!res.headersSent)
          write(res, fault({ code: "s:Receiver", subcode: "w:InternalError", reason: String(error) }), undefined);
      });
  };

  const server =
    options.https === undefined
      ? http.createServer(listener)
      : https.createServer({ key: toBuffer(options.https.key), cert: toBuffer(options.https.cert) }, listener);
  server.keepAliveTimeout = 30_000;
  server.maxConnections = options.maxConnections ?? 100;
  server.on(options.https === undefined ? "connection" : "secureConnection", () => {
    connectionCount++;
  });

  return {
    server,
    mode,
    get connectionCount() {
      return connectionCount;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
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
