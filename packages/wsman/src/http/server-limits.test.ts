// The server against clients that never authenticate: it answers 401 from the headers, before
// reading a body it would have to hold, and caps what it accepts from strangers.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fakeWmiHandler } from "../test-support/fake-wmi.js";
import { type WsmanServerOptions, createWsmanServer } from "./server.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function start(extra: Partial<WsmanServerOptions> = {}) {
  const server = createWsmanServer({
    sealedHttp: true,
    users: { Administrator: "pw" },
    auth: ["ntlm"],
    handler: fakeWmiHandler(),
    ...extra,
  });
  const endpoint = await server.listen();
  cleanups.push(() => server.close());
  return { server, port: Number(new URL(endpoint).port) };
}

/** Sends `head` (and `body`), resolves with what the server wrote until it paused 200 ms or closed. */
function converse(port: number, head: string, body = ""): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    cleanups.push(() => socket.destroy());
    let text = "";
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      resolve({ text, closed });
    };
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      clearTimeout(timer);
      if (/\r\n\r\n/.test(text)) timer = setTimeout(() => finish(false), 200);
    });
    socket.on("close", () => finish(true));
    socket.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" ? finish(true) : reject(e)));
    socket.write(head + body);
  });
}

const post = (length: number, extra = "") =>
  `POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: ${length}\r\n${extra}\r\n`;

describe("unauthenticated requests are refused before their body is read", () => {
  it("a 4 MiB upload without credentials gets its 401 after the headers alone, and the connection closes", async () => {
    const { port } = await start();
    // Only the head and 1 KiB of the promised 4 MiB: the old server waited for the rest.
    const { text, closed } = await converse(port, post(4 * 1024 * 1024), "x".repeat(1024));
    expect(text).toMatch(/^HTTP\/1\.1 401/);
    expect(text).toMatch(/connection: close/i);
    expect(closed).toBe(true);
  });

  it("a small unauthenticated body is drained and the connection kept for the handshake", async () => {
    const { port } = await start();
    const { text, closed } = await converse(port, post(10), "0123456789");
    expect(text).toMatch(/^HTTP\/1\.1 401/);
    expect(text).toMatch(/www-authenticate: negotiate/i);
    expect(text).not.toMatch(/connection: close/i);
    expect(closed).toBe(false);
  });

  it("a chunked body of unknown length without credentials is refused and the connection closed", async () => {
    const { port } = await start();
    const head = "POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    const { text, closed } = await converse(port, head, "400\r\n" + "x".repeat(1024) + "\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 401/);
    expect(closed).toBe(true);
  });

  it("caps are configurable, with documented defaults; concurrent connections are capped", async () => {
    const { server } = await start();
    expect(server.server.maxConnections).toBe(100);
    const { server: small, port } = await start({ maxUnauthenticatedBytes: 4, maxConnections: 3 });
    expect(small.server.maxConnections).toBe(3);
    const { text, closed } = await converse(port, post(10), "0123456789");
    expect(text).toMatch(/^HTTP\/1\.1 401/);
    expect(closed).toBe(true);
  });
});
