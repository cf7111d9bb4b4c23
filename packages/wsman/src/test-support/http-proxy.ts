/**
 * A man in the middle for tests: a TCP proxy that splits both directions of each connection
 * into HTTP/1.1 messages (head + Content-Length body, which is all our client and server
 * write) and lets a test record, alter or replace them. One upstream connection per
 * downstream connection, so NTLM's per-connection state survives the proxy.
 */
import net from "node:net";

/** One HTTP message as it crossed the proxy. */
export interface HttpMessage {
  /** Start line and headers, without the blank line. */
  readonly head: string;
  readonly body: Buffer;
}

/** What a hook may do with a message: pass it (possibly changed) or replace it. */
export type MessageHook = (message: HttpMessage, index: number, connection: number) => HttpMessage;

/** Options of {@link startHttpProxy}. */
export interface HttpProxyOptions {
  /** Client → server messages; `index` counts them over all connections. */
  readonly request?: MessageHook;
  /** Server → client messages. */
  readonly response?: MessageHook;
  /**
   * True to forward request `index` on a fresh upstream connection (the old one closed), the
   * client's connection staying open: as if the server had lost the connection's state.
   */
  readonly reconnectBefore?: (index: number) => boolean;
}

/** A running proxy. */
export interface HttpProxy {
  /** The endpoint URL to give the client (same path as the target). */
  readonly endpoint: string;
  /** Every message in the order it crossed, after the hooks. */
  readonly log: {
    readonly direction: "request" | "response";
    readonly connection: number;
    readonly message: HttpMessage;
  }[];
  readonly connections: number;
  close(): Promise<void>;
}

/** The value of header `name` in `head` (case-insensitive), or undefined. */
export function headerOf(head: string, name: string): string | undefined {
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name.toLowerCase())
      return line.slice(colon + 1).trim();
  }
  return undefined;
}

function serialize(message: HttpMessage): Buffer {
  const head = message.head
    .split("\r\n")
    .map((line) => (/^content-length\s*:/i.test(line) ? `Content-Length: ${message.body.length}` : line))
    .join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), message.body]);
}

/** Splits a byte stream into HTTP messages, calling `emit` for each complete one. */
function splitter(emit: (message: HttpMessage) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = pending.subarray(0, end).toString("latin1");
      const length = Number(headerOf(head, "content-length") ?? "0");
      if (pending.length < end + 4 + length) return;
      emit({ head, body: Buffer.from(pending.subarray(end + 4, end + 4 + length)) });
      pending = pending.subarray(end + 4 + length);
    }
  };
}

/** Starts a proxy on 127.0.0.1 in front of `target` (an http:// endpoint URL). */
export async function startHttpProxy(target: string, options: HttpProxyOptions = {}): Promise<HttpProxy> {
  const url = new URL(target);
  const log: HttpProxy["log"] = [];
  let connections = 0;
  let requests = 0;
  let responses = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const connection = connections++;
    sockets.add(down);
    let up: net.Socket;
    const end = () => {
      down.destroy();
      up.destroy();
    };
    const connectUp = () => {
      up = net.connect(Number(url.port), url.hostname);
      sockets.add(up);
      up.on(
        "data",
        splitter((m) => {
          const out = options.response ? options.response(m, responses, connection) : m;
          responses++;
          log.push({ direction: "response", connection, message: out });
          down.write(serialize(out));
        }),
      );
      up.on("close", end);
      up.on("error", end);
    };
    connectUp();
    down.on(
      "data",
      splitter((m) => {
        const index = requests++;
        const out = options.request ? options.request(m, index, connection) : m;
        if (options.reconnectBefore?.(index)) {
          up.removeAllListeners("close");
          up.removeAllListeners("error");
          up.destroy();
          connectUp();
        }
        log.push({ direction: "request", connection, message: out });
        up.write(serialize(out));
      }),
    );
    down.on("close", end);
    down.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}${url.pathname}`,
    log,
    get connections() {
      return connections;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
