import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import { WsmanClient, challengeToken } from "./client.js";
import { type AuthFailure, type WsmanHandler, type WsmanServer, createWsmanServer } from "./server.js";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { OPENSSL, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { type TestCertificate, makeSelfSignedCertificate } from "../test-support/certificate.js";
import { FAKE_ITEMS, V2, fakeComponent, fakeWmiHandler } from "../test-support/fake-wmi.js";

const USERS = { Administrator: "Pa55w.rd" };
const ITEMS = FAKE_ITEMS;
const component = fakeComponent;
const handler = fakeWmiHandler({ jobs: true });

let cert: TestCertificate;
let failures: AuthFailure[] = [];
const started: WsmanServer[] = [];

async function start(
  kind: "https" | "http",
  auth: readonly ("basic" | "ntlm")[] = ["basic", "ntlm"],
  extra: { handler?: WsmanHandler } = {},
) {
  const server = createWsmanServer({
    ...(kind === "https" ? { https: { key: cert.key, cert: cert.cert } } : { allowUnencrypted: true }),
    users: USERS,
    auth,
    handler: extra.handler ?? handler,
    onAuthFailure: (f) => failures.push(f),
  });
  started.push(server);
  return { server, endpoint: await server.listen() };
}

// The HTTPS listener needs a certificate, which only the openssl CLI makes here.
describeNeeding("the client against the server, over HTTPS and plain HTTP", [OPENSSL], () => {
  beforeAll(() => {
    cert = makeSelfSignedCertificate();
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    cert?.cleanup();
  });

  describe("HTTPS", () => {
    it("refuses a self-signed certificate by default and says how to fix it", async () => {
      const { endpoint } = await start("https");
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "basic", user: "Administrator", password: USERS.Administrator },
        timeoutMs: 5000,
      });
      const error = await thrownAsync(
        client.get(`${V2}/Msvm_KvpExchangeComponent`, [{ name: "SystemName", value: "VM-1" }]),
      );
      expect(isWsmanError(error, "tls-untrusted")).toBe(true);
      expect(String((error as Error).message)).toMatch(/--ca FILE.*--insecure/);
      client.close();
    });

    it("accepts it with the CA file, or with insecure", async () => {
      const { endpoint } = await start("https");
      for (const trust of [{ ca: readFileSync(cert.certPath, "utf8") }, { insecure: true }]) {
        const client = new WsmanClient({
          endpoint,
          auth: { kind: "basic", user: "Administrator", password: USERS.Administrator },
          ...trust,
        });
        const instance = await client.get(`${V2}/Msvm_KvpExchangeComponent`, [{ name: "SystemName", value: "VM-3" }]);
        expect(instance).toEqual(component(3));
        client.close();
      }
    });

    it("Basic: get, enumerate across pages, invoke, faults", async () => {
      const { endpoint } = await start("https", ["basic"]);
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "basic", user: "administrator", password: USERS.Administrator },
        ca: cert.cert,
        pageSize: 2,
      });
      expect(await client.enumerate(`${V2}/*`, "SELECT * FROM Msvm_KvpExchangeComponent")).toEqual(ITEMS);
      expect(await client.enumerate(`${V2}/*`, "SELECT * FROM Nothing")).toEqual([]);
      const result = await client.invoke(
        `${V2}/Msvm_VirtualSystemManagementService`,
        "AddKvpItems",
        [{ name: "Name", value: "vmms" }],
        { DataItems: ["a", "b", "c"] },
      );
      expect(result).toMatchObject({ returnValue: 4096, jobInstanceId: "JOB-3" });
      const fault = await thrownAsync(client.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "Fail", [], {}));
      expect(isWsmanError(fault, "fault")).toBe(true);
      expect((fault as { fault: unknown }).fault).toMatchObject({
        subcode: "w:InvalidParameter",
        reason: "bad parameter",
        detail: "for Administrator",
      });
      client.close();
    });

    it("enumerate stops at maxItems and releases the context", async () => {
      const { endpoint } = await start("https", ["basic"]);
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "basic", user: "Administrator", password: USERS.Administrator },
        ca: cert.cert,
        pageSize: 1,
        maxItems: 2,
      });
      expect(await thrownAsync(client.enumerate(`${V2}/*`, "SELECT * FROM X"))).toMatchObject({
        code: "limit-exceeded",
      });
      client.close();
    });

    it("NTLM: the whole session runs on one TCP connection", async () => {
      const { server, endpoint } = await start("https", ["ntlm"]);
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "ntlm", user: "Administrator", password: USERS.Administrator },
        ca: cert.cert,
        pageSize: 2,
      });
      expect(await client.get(`${V2}/Msvm_KvpExchangeComponent`, [{ name: "SystemName", value: "VM-2" }])).toEqual(
        component(2),
      );
      expect(await client.enumerate(`${V2}/*`, "SELECT * FROM Msvm_KvpExchangeComponent")).toEqual(ITEMS);
      expect(
        (await client.invoke(`${V2}/Msvm_VirtualSystemManagementService`, "RemoveKvpItems", [], { DataItems: ["x"] }))
          .returnValue,
      ).toBe(4096);
      expect(server.connectionCount).toBe(1);
      client.close();
      // A new connection must authenticate again.
      expect(await client.get(`${V2}/Msvm_KvpExchangeComponent`, [{ name: "SystemName", value: "VM-4" }])).toEqual(
        component(4),
      );
      expect(server.connectionCount).toBe(2);
      client.close();
    });

    it.each(["basic", "ntlm"] as const)(
      "%s: wrong password and unknown user are 401s, told apart on the server",
      async (kind) => {
        const { endpoint } = await start("https", [kind]);
        failures = [];
        for (const [user, password, reason] of [
          ["Administrator", "nope", "wrong-password"],
          ["mallory", USERS.Administrator, "unknown-user"],
        ] as const) {
          const client = new WsmanClient({ endpoint, auth: { kind, user, password }, ca: cert.cert });
          const error = await thrownAsync(client.get(`${V2}/X`, []));
          expect(isWsmanError(error, "unauthorized")).toBe(true);
          expect((error as Error).message).toContain(user);
          expect(failures.at(-1)).toMatchObject({ scheme: kind, reason, user });
          client.close();
        }
      },
    );

    it("NTLM client against a Basic-only server says so", async () => {
      const { endpoint } = await start("https", ["basic"]);
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "ntlm", user: "Administrator", password: USERS.Administrator },
        ca: cert.cert,
      });
      expect(await thrownAsync(client.get(`${V2}/X`, []))).toMatchObject({ code: "unauthorized" });
      client.close();
    });
  });

  describe("plain HTTP", () => {
    it("unsealed is refused on both sides unless allowed explicitly (sealed HTTP: sealed-transport.test.ts)", async () => {
      expect(() => createWsmanServer({ users: USERS, auth: ["basic"], handler })).toThrow(
        expect.objectContaining({ code: "unencrypted-refused" }),
      );
      expect(
        () =>
          new WsmanClient({
            endpoint: "http://127.0.0.1:5985/wsman",
            auth: { kind: "basic", user: "a", password: "b" },
          }),
      ).toThrow(expect.objectContaining({ code: "unencrypted-refused" }));
      // NTLM over HTTP seals by default; allowUnencrypted turns sealing off.
      expect(
        new WsmanClient({ endpoint: "http://127.0.0.1:5985/wsman", auth: { kind: "ntlm", user: "a", password: "b" } })
          .sealed,
      ).toBe(true);
      expect(
        new WsmanClient({ endpoint: "https://127.0.0.1:5986/wsman", auth: { kind: "ntlm", user: "a", password: "b" } })
          .sealed,
      ).toBe(false);
      const { endpoint, server } = await start("http");
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "ntlm", user: "Administrator", password: USERS.Administrator },
        allowUnencrypted: true,
      });
      expect(client.sealed).toBe(false);
      expect(await client.get(`${V2}/Msvm_KvpExchangeComponent`, [{ name: "SystemName", value: "VM-5" }])).toEqual(
        component(5),
      );
      expect(server.connectionCount).toBe(1);
      client.close();
    });
  });

  describe("failures", () => {
    it("server down: connection refused names the endpoint", async () => {
      const { server, endpoint } = await start("https");
      await server.close();
      const client = new WsmanClient({ endpoint, auth: { kind: "basic", user: "a", password: "b" }, ca: cert.cert });
      const error = await thrownAsync(client.get(`${V2}/X`, []));
      expect(isWsmanError(error, "connection-failed")).toBe(true);
      expect((error as Error).message).toContain(endpoint);
      expect((error as Error).message).toContain("connection refused");
    });

    it("timeout", async () => {
      const { endpoint } = await start("https", ["basic"], { handler: () => new Promise(() => {}) });
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "basic", user: "Administrator", password: USERS.Administrator },
        ca: cert.cert,
        timeoutMs: 200,
      });
      expect(await thrownAsync(client.get(`${V2}/X`, []))).toMatchObject({ code: "timeout" });
      client.close();
    });

    it("a handler that throws becomes a Receiver fault", async () => {
      const { endpoint } = await start("https", ["basic"], {
        handler: () => {
          throw new Error("boom");
        },
      });
      const client = new WsmanClient({
        endpoint,
        auth: { kind: "basic", user: "Administrator", password: USERS.Administrator },
        ca: cert.cert,
      });
      const error = await thrownAsync(client.get(`${V2}/X`, []));
      expect(error).toMatchObject({
        code: "fault",
        fault: { code: "s:Receiver", subcode: "w:InternalError", detail: "boom" },
      });
      client.close();
    });

    it("garbage SOAP gets a Sender fault", async () => {
      const { endpoint } = await start("https", ["basic"]);
      const res = await fetchInsecure(endpoint, "<not-soap/>");
      expect(res.status).toBe(500);
      expect(res.body).toContain("w:SchemaValidationError");
    });

    it("reads NTLM tokens from WWW-Authenticate", () => {
      expect(challengeToken(['Basic realm="x"', "Negotiate TlRMTQ=="])).toEqual(
        new Uint8Array(Buffer.from("TlRMTQ==", "base64")),
      );
      expect(challengeToken("Negotiate")).toBeUndefined();
      expect(challengeToken(undefined)).toBeUndefined();
    });
  });
});

async function fetchInsecure(endpoint: string, body: string): Promise<{ status: number; body: string }> {
  const https = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = https.request(
      endpoint,
      {
        method: "POST",
        rejectUnauthorized: false,
        headers: { Authorization: `Basic ${Buffer.from(`Administrator:${USERS.Administrator}`).toString("base64")}` },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString("utf8");
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
