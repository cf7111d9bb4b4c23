// The client against servers that misbehave on purpose: answers too big in total, answers that
// trickle in, garbage, resets, and endpoints carrying a password. Every server here is an
// in-process node:http or node:net server on 127.0.0.1 written for the case. Bounded time is
// asserted as "settles before a generous hang guard", bounded memory through the client's own
// count of the body bytes it read (never more than its cap plus one socket chunk).
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { WsmanError, isWsmanError } from "../errors.js";
import { buildEnumerateResponse, buildPullResponse } from "../soap/responses.js";
import type { WsmanInstance } from "../soap/values.js";
import { WsmanClient } from "./client.js";

const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
const CLASS = `${V2}/Msvm_KvpExchangeComponent`;
/** Longer than any answer here may take; reaching it means the client hung. */
const HANG_GUARD_MS = 20_000;
/** The most one socket read hands over (Node's highWaterMark for sockets is 64 KiB). */
const ONE_CHUNK = 64 * 1024;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/wsman`;
}

function client(endpoint: string, extra: Partial<ConstructorParameters<typeof WsmanClient>[0]> = {}): WsmanClient {
  const c = new WsmanClient({
    endpoint,
    auth: { kind: "basic", user: "u", password: "p" },
    allowUnencrypted: true,
    timeoutMs: 500,
    ...extra,
  });
  cleanups.push(() => c.close());
  return c;
}

/** Settles `promise` (as an outcome) or fails the test when the hang guard passes first. */
async function settles<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("hang guard: the call never settled")), HANG_GUARD_MS);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      guard,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function bigInstance(i: number, size: number): WsmanInstance {
  return {
    resourceUri: CLASS,
    className: "Msvm_KvpExchangeComponent",
    properties: new Map([
      ["SystemName", `VM-${i}`],
      ["Caption", "x".repeat(size)],
    ]),
  };
}

describe("an enumeration's total is bounded in bytes", () => {
  it("a server that pulls out page after page under the per-response cap gets limit-exceeded", async () => {
    const page = 200 * 1024;
    let sent = 0;
    let pulls = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        // The server gives up (ends the sequence) long after the client should have.
        const end = sent > 20 * 1024 * 1024;
        const body = (pulls++ === 0 ? buildEnumerateResponse : buildPullResponse)(
          end
            ? { items: [], endOfSequence: true }
            : { items: [bigInstance(pulls, page)], context: "c", endOfSequence: false },
        );
        sent += body.length;
        res.writeHead(200, { "Content-Type": "application/soap+xml;charset=UTF-8" }).end(body);
      });
    });
    const c = client(await listen(server), { maxResponseBytes: 1024 * 1024, maxEnumerationBytes: 2 * 1024 * 1024 });
    const { error } = await settles(c.enumerate(`${V2}/*`, "SELECT * FROM Msvm_KvpExchangeComponent"));
    expect(isWsmanError(error, "limit-exceeded")).toBe(true);
    expect((error as WsmanError).message).toMatch(/more than 2097152 bytes/);
    expect(sent).toBeLessThan(3 * 1024 * 1024 + page * 2);
  });

  it("the default bound is documented in bytes (64 MiB)", () => {
    expect(WsmanClient.DEFAULT_MAX_ENUMERATION_BYTES).toBe(64 * 1024 * 1024);
  });
});

describe("every exchange has a deadline, not an idle timeout", () => {
  it("a server that answers one byte at a time, never idle for long, times out", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/soap+xml" });
      const timer = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(timer));
    });
    const c = client(await listen(server), { timeoutMs: 400 });
    const { error } = await settles(c.get(CLASS, [{ name: "SystemName", value: "VM-1" }]));
    expect(isWsmanError(error, "timeout")).toBe(true);
  });

  it("so does the NTLM handshake's first leg trickling its 401", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Length": 100_000 });
      const timer = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(timer));
    });
    const c = client(await listen(server), { timeoutMs: 400, auth: { kind: "ntlm", user: "u", password: "p" } });
    const { error } = await settles(c.get(CLASS, []));
    expect(isWsmanError(error, "timeout")).toBe(true);
  });
});

describe("an endpoint with user information is refused", () => {
  it.each(["http://admin:S3cret!@host/wsman", "https://admin@host:5986/wsman", "http://:S3cret!@host/wsman"])(
    "%s",
    (endpoint) => {
      let error: unknown;
      try {
        new WsmanClient({ endpoint, auth: { kind: "ntlm", user: "u", password: "p" } });
      } catch (e) {
        error = e;
      }
      expect(isWsmanError(error, "invalid-argument")).toBe(true);
      expect((error as Error).message).toMatch(/user name or password in the endpoint/);
      expect((error as Error).message).not.toContain("S3cret");
    },
  );
});

describe("server text travels in a field, not pre-escaped, and capped", () => {
  it("an HTTP error body is kept raw in serverText, capped in length", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(500, { "Content-Type": "text/plain" }).end(`\u001b]0;owned\u0007\u001b[2J${"y".repeat(5000)}`);
    });
    const c = client(await listen(server));
    const { error } = await settles(c.get(CLASS, []));
    expect(isWsmanError(error, "http-error")).toBe(true);
    const e = error as WsmanError;
    expect(e.message).not.toContain("\u001b");
    expect(e.serverText?.startsWith("\u001b]0;owned")).toBe(true);
    expect(e.serverText!.length).toBeLessThanOrEqual(WsmanError.MAX_SERVER_TEXT);
  });
});

/** What a hostile server does with one request. */
type Behaviour =
  | { readonly kind: "status"; readonly status: number; readonly body: string }
  | { readonly kind: "huge"; readonly declared: boolean }
  | { readonly kind: "trickle"; readonly everyMs: number }
  | { readonly kind: "garbage"; readonly bytes: Uint8Array }
  | { readonly kind: "reset-after"; readonly bytes: number }
  | { readonly kind: "silent" }
  | { readonly kind: "endless-pages"; readonly size: number };

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constantFrom(200, 204, 301, 400, 401, 404, 500, 503),
    body: fc.string({ maxLength: 300, unit: "binary" }),
  }),
  fc.record({ kind: fc.constant("huge" as const), declared: fc.boolean() }),
  fc.record({ kind: fc.constant("trickle" as const), everyMs: fc.integer({ min: 5, max: 60 }) }),
  fc.record({ kind: fc.constant("garbage" as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 2000 }) }),
  fc.record({ kind: fc.constant("reset-after" as const), bytes: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ kind: fc.constant("silent" as const) }),
  fc.record({ kind: fc.constant("endless-pages" as const), size: fc.integer({ min: 1, max: 200_000 }) }),
);

/** A raw TCP server playing `b` to every request. */
async function hostile(b: Behaviour): Promise<string> {
  let pulls = 0;
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    let seen = "";
    socket.on("data", (d: Buffer) => {
      seen += d.toString("latin1");
      // One response per request head seen; bodies are small enough to arrive with it.
      if (!seen.includes("\r\n\r\n")) return;
      seen = "";
      switch (b.kind) {
        case "status": {
          const body = Buffer.from(b.body, "utf8");
          socket.write(`HTTP/1.1 ${b.status} X\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n`);
          socket.write(body);
          break;
        }
        case "huge": {
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n${b.declared ? "Content-Length: 1000000000\r\n" : "Connection: close\r\n"}\r\n`,
          );
          const chunk = Buffer.alloc(ONE_CHUNK, 0x41);
          const pump = () => {
            while (!socket.destroyed && socket.write(chunk));
            if (!socket.destroyed) socket.once("drain", pump);
          };
          pump();
          break;
        }
        case "trickle": {
          socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 100000\r\n\r\n");
          const timer = setInterval(() => socket.write("<"), b.everyMs);
          socket.on("close", () => clearInterval(timer));
          break;
        }
        case "garbage":
          socket.end(Buffer.from(b.bytes));
          break;
        case "reset-after": {
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: ${b.bytes + 10}\r\n\r\n`,
          );
          socket.write("x".repeat(b.bytes));
          socket.resetAndDestroy();
          break;
        }
        case "silent":
          break;
        case "endless-pages": {
          const page = { items: [bigInstance(pulls, b.size)], context: "c", endOfSequence: false };
          const body = Buffer.from((pulls++ === 0 ? buildEnumerateResponse : buildPullResponse)(page));
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: ${body.length}\r\n\r\n`,
          );
          socket.write(body);
          break;
        }
      }
    });
  });
  return listen(server);
}

describe("fuzz: hostile servers end in typed errors, bounded memory, bounded time", () => {
  it("whatever the server does, the call settles with a WsmanError (or a value) and reads at most its caps", async () => {
    const maxResponseBytes = 256 * 1024;
    const maxEnumerationBytes = 1024 * 1024;
    await fc.assert(
      fc.asyncProperty(behaviour, fc.boolean(), fc.constantFrom("basic", "ntlm"), async (b, enumerate, kind) => {
        const c = new WsmanClient({
          endpoint: await hostile(b),
          auth: { kind: kind as "basic" | "ntlm", user: "u", password: "p" },
          allowUnencrypted: kind === "basic",
          timeoutMs: 300,
          maxResponseBytes,
          maxEnumerationBytes,
          // Endless small pages end on the item bound; a few hundred round trips, not 100,000.
          maxItems: 200,
        });
        try {
          const { error } = await settles<unknown>(
            enumerate ? c.enumerate(`${V2}/*`, "SELECT * FROM X") : c.get(CLASS, [{ name: "SystemName", value: "a" }]),
          );
          if (error !== undefined) expect(error).toBeInstanceOf(WsmanError);
          expect(c.largestResponseBytes).toBeLessThanOrEqual(maxResponseBytes + ONE_CHUNK);
          expect(c.enumerationBytes).toBeLessThanOrEqual(maxEnumerationBytes + ONE_CHUNK);
        } finally {
          c.close();
          await cleanups.pop()!();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
