// WS-Management over plain HTTP with NTLM message sealing
// (docs/ws-management.md#message-sealing-over-http): our client against our
// server in WinRM's default mode (sealedHttp), with a man in the middle where the wire is the
// point, and a hand-made server (built from the pure functions) for replies our server would
// never send.
import http from "node:http";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import { WsmanClient, challengeToken } from "./client.js";
import { type WsmanServer, type WsmanServerEvent, type WsmanServerOptions, createWsmanServer } from "./server.js";
import {
  NTLM_FLAGS,
  buildChallengeMessage,
  buildClientAuthenticate,
  buildNegotiateMessage,
  buildServerChallenge,
  verifyAuthenticate,
} from "../auth/ntlm.js";
import { NtlmSession } from "../auth/ntlm-session.js";
import { parseFault } from "../soap/faults.js";
import { buildGetRequest } from "../soap/requests.js";
import { buildGetResponse, parseGetResponse } from "../soap/responses.js";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { FAKE_ITEMS, V2, fakeComponent, fakeWmiHandler } from "../test-support/fake-wmi.js";
import { type HttpMessage, type HttpProxy, headerOf, startHttpProxy } from "../test-support/http-proxy.js";
import {
  ENCRYPTED_CONTENT_TYPE,
  SOAP_CONTENT_TYPE,
  decodeSoapText,
  isEncryptedContentType,
  sealBody,
  unsealBody,
} from "./winrm-encryption.js";

const USER = "Administrator";
const PASSWORD = "Pa55w.rd";
const USERS = { [USER]: PASSWORD };
const KVP = `${V2}/Msvm_KvpExchangeComponent`;
const ITEMS = FAKE_ITEMS;
const component = fakeComponent;
const handler = fakeWmiHandler();

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer(
  extra: Partial<WsmanServerOptions> = {},
): Promise<{ server: WsmanServer; endpoint: string; events: WsmanServerEvent[] }> {
  const server = createWsmanServer({ sealedHttp: true, users: USERS, auth: ["ntlm"], handler, ...extra });
  const events: WsmanServerEvent[] = [];
  server.onEvent((e) => events.push(e));
  const endpoint = await server.listen();
  cleanups.push(() => server.close());
  return { server, endpoint, events };
}

function client(endpoint: string, extra: Partial<ConstructorParameters<typeof WsmanClient>[0]> = {}): WsmanClient {
  const c = new WsmanClient({
    endpoint,
    auth: { kind: "ntlm", user: USER, password: PASSWORD },
    timeoutMs: 10_000,
    ...extra,
  });
  cleanups.push(() => c.close());
  return c;
}

async function proxy(target: string, hooks: Parameters<typeof startHttpProxy>[1] = {}): Promise<HttpProxy> {
  const p = await startHttpProxy(target, hooks);
  cleanups.push(() => p.close());
  return p;
}

const isSealed = (m: HttpMessage) => isEncryptedContentType(headerOf(m.head, "content-type"));
const get = (c: WsmanClient, i: number) => c.get(KVP, [{ name: "SystemName", value: `VM-${i}` }]);

describe("sealed HTTP: our client and server", () => {
  it("get, enumerate across pages, invoke and faults, all on one TCP connection", async () => {
    const { server, endpoint } = await startServer();
    expect(server.mode).toBe("sealed-http");
    const c = client(endpoint, { pageSize: 2 });
    expect(c.sealed).toBe(true);
    expect(await get(c, 2)).toEqual(component(2));
    expect(await c.enumerate(`${V2}/*`, "SELECT * FROM Msvm_KvpExchangeComponent")).toEqual(ITEMS);
    expect(
      (await c.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "AddKvpItems", [], { DataItems: ["x"] }))
        .returnValue,
    ).toBe(0);
    const fault = await thrownAsync(c.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "Fail", [], {}));
    expect(fault).toMatchObject({ code: "fault", fault: { subcode: "w:InvalidParameter", detail: `for ${USER}` } });
    expect(server.connectionCount).toBe(1);
    // A new connection authenticates again, with a new session.
    c.close();
    expect(await get(c, 4)).toEqual(component(4));
    expect(server.connectionCount).toBe(2);
  });

  it("on the wire: NEGOTIATE with an empty body, AUTHENTICATE with the first sealed request, then only sealed bodies", async () => {
    const { endpoint } = await startServer();
    const p = await proxy(endpoint);
    const c = client(p.endpoint, { pageSize: 2 });
    expect(await get(c, 3)).toEqual(component(3));
    expect(await c.enumerate(`${V2}/*`, "SELECT * FROM Msvm_KvpExchangeComponent")).toHaveLength(5);
    // A fault is a sealed answer like any other: the session goes on without a new handshake.
    expect(await thrownAsync(c.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "Fail", [], {}))).toMatchObject({
      code: "fault",
    });
    expect(await get(c, 4)).toEqual(component(4));
    expect(p.connections).toBe(1);
    const requests = p.log.filter((e) => e.direction === "request").map((e) => e.message);
    const responses = p.log.filter((e) => e.direction === "response").map((e) => e.message);
    expect(headerOf(requests[0]!.head, "authorization")).toMatch(/^Negotiate TlRMTVNTUAAB/);
    expect(requests[0]!.body.length).toBe(0);
    expect(responses[0]!.head).toMatch(/^HTTP\/1\.1 401/);
    expect(headerOf(requests[1]!.head, "authorization")).toMatch(/^Negotiate TlRMTVNTUAAD/);
    expect(headerOf(requests[1]!.head, "content-type")).toBe(ENCRYPTED_CONTENT_TYPE);
    for (const r of requests.slice(2)) expect(headerOf(r.head, "authorization")).toBeUndefined();
    for (const m of [...requests.slice(1), ...responses.slice(1)]) {
      expect(isSealed(m)).toBe(true);
      // Nothing of the SOAP shows: not the class, not the envelope, not the data.
      const text = m.body.toString("latin1");
      for (const secret of ["Msvm_KvpExchangeComponent", "Envelope", "VM-3", "INSTANCE"])
        expect(text).not.toContain(secret);
    }
  });

  it("a WinRM-style server with AllowUnencrypted accepts sealed messages too", async () => {
    const { server, endpoint } = await startServer({
      sealedHttp: false,
      allowUnencrypted: true,
      auth: ["basic", "ntlm"],
    });
    expect(server.mode).toBe("http");
    const p = await proxy(endpoint);
    expect(await get(client(p.endpoint), 1)).toEqual(component(1));
    expect(p.log.filter((e) => e.message.body.length > 0).every((e) => isSealed(e.message))).toBe(true);
  });

  it("with allowUnencrypted the client sends unsealed, which the sealed server refuses as WinRM does (500)", async () => {
    const { endpoint, events } = await startServer();
    const c = client(endpoint, { allowUnencrypted: true });
    expect(c.sealed).toBe(false);
    const error = await thrownAsync(get(c, 1));
    expect(error).toMatchObject({
      code: "fault",
      fault: { subcode: "w:AccessDenied", reason: expect.stringMatching(/refuses unencrypted messages/) },
    });
    expect(events).toContainEqual({ kind: "unsealed-refused", user: USER });
  });

  it("Basic: refused by the client over HTTP unless allowed, and by the sealed server always", async () => {
    const { endpoint, events } = await startServer({ auth: ["basic", "ntlm"] });
    expect(() => new WsmanClient({ endpoint, auth: { kind: "basic", user: USER, password: PASSWORD } })).toThrow(
      expect.objectContaining({ code: "unencrypted-refused" }),
    );
    const c = client(endpoint, { auth: { kind: "basic", user: USER, password: PASSWORD }, allowUnencrypted: true });
    const error = await thrownAsync(get(c, 1));
    expect(isWsmanError(error, "unauthorized")).toBe(true);
    expect(events).toContainEqual({
      kind: "auth-failure",
      failure: { scheme: "basic", reason: "basic-over-http", user: USER },
    });
    // Basic is not even offered.
    const res = await fetch(endpoint, { method: "POST", body: "" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Negotiate");
  });

  it.each([
    ["wrong password", USER, "nope", "wrong-password"],
    ["unknown user", "mallory", PASSWORD, "unknown-user"],
  ])(
    "%s: the client gets a 401 and says NTLM cannot tell; the server's events can",
    async (_name, user, password, reason) => {
      const { endpoint, events } = await startServer();
      const error = await thrownAsync(get(client(endpoint, { auth: { kind: "ntlm", user, password } }), 1));
      expect(isWsmanError(error, "unauthorized")).toBe(true);
      expect((error as Error).message).toContain(user);
      expect((error as Error).message).toMatch(/wrong password or unknown user \(NTLM answers both with the same 401/);
      expect(events).toContainEqual({ kind: "auth-failure", failure: { scheme: "ntlm", reason, user } });
    },
  );

  it("when the server loses the connection's session (a new TCP connection behind the client's back), the client authenticates again", async () => {
    const { server, endpoint } = await startServer();
    // Requests 0-1 are the handshake with the first Get; request 2 (the second Get, sealed
    // with the old session) reaches the server on a new connection.
    const p = await proxy(endpoint, { reconnectBefore: (index) => index === 2 });
    const c = client(p.endpoint);
    expect(await get(c, 1)).toEqual(component(1));
    expect(await get(c, 2)).toEqual(component(2));
    expect(await get(c, 3)).toEqual(component(3));
    expect(server.connectionCount).toBe(2);
    const statuses = p.log.filter((e) => e.direction === "response").map((e) => Number(e.message.head.split(" ")[1]));
    expect(statuses).toEqual([401, 200, 401, 401, 200, 200]);
  });

  it("a new connection behind the client's back, met by a full-size request (128 items), is authenticated again too", async () => {
    // The server refuses the sealed request from its headers; the body (a few hundred KB, as
    // a full AddKvpItems call) is drained, not kept, so the 401 reaches the client.
    const { server, endpoint } = await startServer();
    const c = client(endpoint);
    expect(await get(c, 1)).toEqual(component(1));
    // As when the server's keep-alive timeout closes an idle connection.
    server.server.closeAllConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const items = Array.from({ length: 128 }, (_, i) => `${i}:${"v".repeat(2500)}`);
    const result = await c.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "AddKvpItems", [], { DataItems: items });
    expect(result.returnValue).toBe(0);
    expect(server.connectionCount).toBe(2);
  });

  it("concurrent calls on one client go one at a time: one handshake, every answer to its caller, no failed login", async () => {
    const { server, endpoint, events } = await startServer();
    const p = await proxy(endpoint);
    const c = client(p.endpoint, { pageSize: 2 });
    // The first burst starts with no session: one NEGOTIATE, one AUTHENTICATE, not one each.
    expect(await Promise.all([1, 2, 3, 4].map((i) => get(c, i)))).toEqual([1, 2, 3, 4].map(component));
    const [items, , fault] = await Promise.allSettled([
      c.enumerate(`${V2}/*`, "SELECT * FROM Msvm_KvpExchangeComponent"),
      get(c, 5),
      c.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "Fail", [], {}),
      get(c, 2),
    ]);
    expect(items).toEqual({ status: "fulfilled", value: ITEMS });
    expect(fault).toMatchObject({ status: "rejected", reason: { code: "fault" } });
    expect(events).toEqual([]);
    expect(server.connectionCount).toBe(1);
    const authorizations = p.log
      .filter((e) => e.direction === "request")
      .map((e) => headerOf(e.message.head, "authorization"))
      .filter((a) => a !== undefined);
    expect(authorizations).toHaveLength(2);
  });

  it("concurrent calls without sealing (NTLM with allowUnencrypted) authenticate once too", async () => {
    const { endpoint, events } = await startServer({ sealedHttp: false, allowUnencrypted: true, auth: ["ntlm"] });
    const c = client(endpoint, { allowUnencrypted: true });
    expect(c.sealed).toBe(false);
    expect(await Promise.all([1, 2, 3].map((i) => get(c, i)))).toEqual([1, 2, 3].map(component));
    expect(events).toEqual([]);
  });

  it("refuses contradictory server modes", () => {
    const cert = { key: "k", cert: "c" };
    expect(() => createWsmanServer({ sealedHttp: true, https: cert, users: USERS, auth: ["ntlm"], handler })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    expect(() =>
      createWsmanServer({ sealedHttp: true, allowUnencrypted: true, users: USERS, auth: ["ntlm"], handler }),
    ).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    expect(() => createWsmanServer({ sealedHttp: true, users: USERS, auth: ["basic"], handler })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
  });
});

describe("sealed HTTP: replies altered on the way are refused by the client", () => {
  /** Flips a byte inside the sealed data of the `nth` sealed reply (0-based). */
  function flipSealedReply(nth: number) {
    let seen = 0;
    return (m: HttpMessage): HttpMessage => {
      if (!isSealed(m) || seen++ !== nth) return m;
      const body = Buffer.from(m.body);
      // The body ends with the sealed data and then "--Encrypted Boundary--\r\n" (24 bytes).
      body[body.length - 24 - 5]! ^= 0x20;
      return { head: m.head, body };
    };
  }

  it("a flipped byte in a sealed reply is an integrity error; the next call starts a new session", async () => {
    const { server, endpoint } = await startServer();
    const p = await proxy(endpoint, { response: flipSealedReply(1) });
    const c = client(p.endpoint);
    expect(await get(c, 1)).toEqual(component(1));
    const error = await thrownAsync(get(c, 2));
    expect(isWsmanError(error, "integrity")).toBe(true);
    expect((error as Error).message).toMatch(/altered in transit/);
    expect(await get(c, 3)).toEqual(component(3));
    expect(server.connectionCount).toBe(2);
  });

  it("a replayed reply (an earlier sealed answer sent again) is an integrity error", async () => {
    let first: Buffer | undefined;
    let sealedReplies = 0;
    const { endpoint } = await startServer();
    const p = await proxy(endpoint, {
      response: (m) => {
        if (!isSealed(m)) return m;
        sealedReplies++;
        if (sealedReplies === 1) first = m.body;
        return sealedReplies === 2 ? { head: m.head, body: first! } : m;
      },
    });
    const c = client(p.endpoint);
    await get(c, 1);
    const error = await thrownAsync(get(c, 1));
    expect(error).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/sequence number 0 where 1 was expected: it was replayed, reordered or dropped/),
    });
  });

  it("a reply length that disagrees with OriginalContent is an integrity error", async () => {
    const { endpoint } = await startServer();
    let n = 0;
    const p = await proxy(endpoint, {
      response: (m) =>
        isSealed(m) && n++ === 0
          ? {
              head: m.head,
              body: Buffer.from(
                m.body.toString("latin1").replace(/Length=(\d+)/, (_x, d) => `Length=${Number(d) + 1}`),
                "latin1",
              ),
            }
          : m,
    });
    expect(await thrownAsync(get(client(p.endpoint), 1))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/Length=\d+ but carries/),
    });
  });
});

describe("sealed HTTP: requests altered, replayed or reordered are refused by the server", () => {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

  function post(
    agent: http.Agent,
    endpoint: string,
    body: Uint8Array,
    headers: http.OutgoingHttpHeaders,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        endpoint,
        { method: "POST", agent, headers: { "Content-Length": body.length, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  /** A client built by hand from the pure functions, on one kept-alive socket. */
  async function rawSession(endpoint: string) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const negotiate = buildNegotiateMessage();
    const first = await post(agent, endpoint, new Uint8Array(0), { Authorization: `Negotiate ${b64(negotiate)}` });
    const { message, keys } = buildClientAuthenticate({
      user: USER,
      password: PASSWORD,
      negotiate,
      challenge: challengeToken(first.headers["www-authenticate"])!,
    });
    const session = new NtlmSession(keys, "client");
    const request = (i: number) =>
      new TextEncoder().encode(
        buildGetRequest({ to: endpoint, resourceUri: KVP, selectors: [{ name: "SystemName", value: `VM-${i}` }] }),
      );
    const send = (body: Uint8Array, headers: http.OutgoingHttpHeaders = {}) =>
      post(agent, endpoint, body, { "Content-Type": ENCRYPTED_CONTENT_TYPE, ...headers });
    const open = (reply: { headers: http.IncomingHttpHeaders; body: Buffer }) => {
      const { message: m, originalType } = unsealBody(session, reply.body, reply.headers["content-type"]!);
      return parseGetResponse(decodeSoapText(m, originalType));
    };
    return { session, send, open, request, authorization: `Negotiate ${b64(message)}` };
  }

  function refusal(reply: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }) {
    expect(reply.status).toBe(400);
    expect(reply.headers.connection).toBe("close");
    expect(isEncryptedContentType(reply.headers["content-type"])).toBe(false);
    return parseFault(reply.body.toString("utf8"));
  }

  it("an empty AUTHENTICATE (pywinrm's way) authenticates the connection, then sealed requests flow", async () => {
    const { endpoint } = await startServer();
    const s = await rawSession(endpoint);
    const auth = await s.send(new Uint8Array(0), { Authorization: s.authorization, "Content-Type": SOAP_CONTENT_TYPE });
    expect(auth.status).toBe(200);
    expect(auth.body.length).toBe(0);
    for (const i of [1, 2, 3]) expect(s.open(await s.send(sealBody(s.session, s.request(i))))).toEqual(component(i));
  });

  it("a flipped byte in a sealed request: 400 with a fault, connection closed, an event for the operator", async () => {
    const { endpoint, events } = await startServer();
    const s = await rawSession(endpoint);
    expect(s.open(await s.send(sealBody(s.session, s.request(1)), { Authorization: s.authorization }))).toEqual(
      component(1),
    );
    const body = sealBody(s.session, s.request(2));
    body[body.length - 24 - 3]! ^= 0x01;
    const fault = refusal(await s.send(body));
    expect(fault?.reason).toMatch(/could not verify the sealed message: .*altered in transit.*authenticate again/);
    expect(events).toContainEqual({ kind: "integrity-failure", user: USER, reason: expect.stringMatching(/altered/) });
    // The session is gone with the connection: a new one must authenticate.
    expect((await s.send(sealBody(s.session, s.request(3)))).status).toBe(401);
  });

  it("a replayed sealed request is refused", async () => {
    const { endpoint } = await startServer();
    const s = await rawSession(endpoint);
    expect(s.open(await s.send(sealBody(s.session, s.request(1)), { Authorization: s.authorization }))).toEqual(
      component(1),
    );
    const second = sealBody(s.session, s.request(2));
    expect(s.open(await s.send(second))).toEqual(component(2));
    const fault = refusal(await s.send(second));
    expect(fault?.reason).toMatch(/sequence number 1 where 2 was expected: it was replayed/);
  });

  it("reordered sealed requests are refused", async () => {
    const { endpoint } = await startServer();
    const s = await rawSession(endpoint);
    await s.send(sealBody(s.session, s.request(1)), { Authorization: s.authorization });
    sealBody(s.session, s.request(2));
    const third = sealBody(s.session, s.request(3));
    expect(refusal(await s.send(third))?.reason).toMatch(/sequence number 2 where 1 was expected/);
  });

  it("our client reports the server's refusal of its request as an integrity error", async () => {
    const { endpoint } = await startServer();
    let sealedRequests = 0;
    const p = await proxy(endpoint, {
      request: (m) => {
        if (!isSealed(m) || sealedRequests++ !== 1) return m;
        const body = Buffer.from(m.body);
        body[body.length - 24 - 2]! ^= 0x04;
        return { head: m.head, body };
      },
    });
    const c = client(p.endpoint);
    await get(c, 1);
    const error = await thrownAsync(get(c, 2));
    expect(error).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/refused our sealed request \(HTTP 400: was it altered/),
      // The server's words are in serverText, never in the message.
      serverText: expect.stringMatching(/could not verify the sealed message/),
    });
    expect(await get(c, 3)).toEqual(component(3));
  });
});

describe("sealed HTTP: a server misbehaving in ways ours never does", () => {
  /**
   * A server made of the pure functions: NTLM handshake, then `reply` decides what goes back
   * for each sealed request (given the unsealed SOAP and the server's session).
   */
  async function fakeServer(
    reply: (
      session: NtlmSession,
      index: number,
    ) => { status: number; headers: http.OutgoingHttpHeaders; body: Uint8Array },
    challengeFlags?: number,
  ) {
    const users = new Map([[USER, PASSWORD]]);
    const states = new WeakMap<
      object,
      { negotiate?: Uint8Array; challenge?: Uint8Array; session?: NtlmSession; count: number }
    >();
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        let state = states.get(req.socket);
        if (state === undefined) {
          state = { count: 0 };
          states.set(req.socket, state);
        }
        const token = /Negotiate (\S+)/.exec(req.headers.authorization ?? "")?.[1];
        const bytes = token === undefined ? undefined : new Uint8Array(Buffer.from(token, "base64"));
        if (bytes !== undefined && bytes[8] === 1) {
          state.negotiate = bytes;
          state.challenge =
            challengeFlags === undefined
              ? buildServerChallenge(bytes).message
              : buildChallengeMessage({
                  flags: challengeFlags,
                  targetName: "FAKE",
                  serverChallenge: new Uint8Array(8).fill(7),
                  targetInfo: [],
                });
          res
            .writeHead(401, {
              "WWW-Authenticate": `Negotiate ${Buffer.from(state.challenge).toString("base64")}`,
              "Content-Length": 0,
            })
            .end();
          return;
        }
        if (bytes !== undefined && bytes[8] === 3) {
          const r = verifyAuthenticate({
            negotiate: state.negotiate!,
            challenge: state.challenge!,
            authenticate: bytes,
            users,
          });
          if (!r.ok) {
            res.writeHead(401, { "Content-Length": 0 }).end();
            return;
          }
          state.session = new NtlmSession(r.keys, "server");
        }
        unsealBody(state.session!, Buffer.concat(chunks), req.headers["content-type"]!);
        const out = reply(state.session!, state.count++);
        res.writeHead(out.status, { ...out.headers, "Content-Length": out.body.length }).end(out.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/wsman`;
  }
  const soap = (i: number) => new TextEncoder().encode(buildGetResponse(component(i)));

  it("replies delivered out of order (seq 1 before seq 0) are an integrity error", async () => {
    const endpoint = await fakeServer((session) => {
      sealBody(session, soap(1));
      return { status: 200, headers: { "Content-Type": ENCRYPTED_CONTENT_TYPE }, body: sealBody(session, soap(2)) };
    });
    expect(await thrownAsync(get(client(endpoint), 1))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/sequence number 1 where 0 was expected/),
    });
  });

  it("an unsealed 200 answer to a sealed request is refused", async () => {
    const endpoint = await fakeServer(() => ({
      status: 200,
      headers: { "Content-Type": SOAP_CONTENT_TYPE },
      body: soap(1),
    }));
    expect(await thrownAsync(get(client(endpoint), 1))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/without sealing its reply/),
    });
  });

  it("sealed replies in the server's own layout variations are read (lower-case, LF, blank line)", async () => {
    const endpoint = await fakeServer((session) => {
      const body = Buffer.from(sealBody(session, soap(5)));
      const text = body
        .toString("latin1")
        .replace(
          "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n",
          "content-type: application/http-spnego-session-encrypted\n",
        )
        .replace("\tContent-Type: application/octet-stream\r\n", "Content-Type: application/octet-stream\r\n\r\n");
      return {
        status: 200,
        headers: {
          "Content-Type":
            'multipart/encrypted; protocol="application/http-spnego-session-encrypted"; boundary="Encrypted Boundary"',
        },
        body: Buffer.from(text, "latin1"),
      };
    });
    expect(await get(client(endpoint), 5)).toEqual(component(5));
  });

  it("a server that will not seal: the client refuses to fall back to unsealed", async () => {
    const flags =
      NTLM_FLAGS.UNICODE |
      NTLM_FLAGS.NTLM |
      NTLM_FLAGS.EXTENDED_SESSIONSECURITY |
      NTLM_FLAGS.TARGET_INFO |
      NTLM_FLAGS.N128 |
      NTLM_FLAGS.SIGN;
    const endpoint = await fakeServer(() => ({ status: 200, headers: {}, body: new Uint8Array(0) }), flags);
    const error = await thrownAsync(get(client(endpoint), 1));
    expect(error).toMatchObject({
      code: "unencrypted-refused",
      message: expect.stringMatching(/did not agree to NTLM sealing \(no SEAL\)/),
    });
  });
});
