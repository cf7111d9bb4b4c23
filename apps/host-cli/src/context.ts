/** What commands touch outside themselves, injectable so tests run kvp-host in process. */
import type { WsmanClientOptions } from "@hyperv-kvp/wsman";
import type { HyperVTransport } from "./transport.js";
import type { HyperVNamespace } from "./transports/wsman.js";

/** What to talk to, besides how to connect. */
export interface ConnectTarget {
  /** root/virtualization/v2 (one host) or root/HyperVCluster/v2 (`--cluster`). */
  readonly namespace: HyperVNamespace;
}

export interface CliContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Record<string, string | undefined>;
  /** Reads standard input to the end (for `--from-file -`). */
  readonly readStdin: () => Promise<string>;
  /** Reads a file as UTF-8 (`--from-file`, `--ca`). */
  readonly readFile: (path: string) => Promise<string>;
  /** Asks for a password without echo; undefined when there is no terminal to ask on. */
  readonly promptPassword: ((prompt: string) => Promise<string>) | undefined;
  /** Opens the transport to the host (or, with `namespace` cluster, to the failover cluster). */
  readonly connect: (options: WsmanClientOptions, target: ConnectTarget) => Promise<HyperVTransport>;
  /** Clock and sleep for job polling; defaults Date.now and a timer. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where `watch` listens for SIGINT/SIGTERM; default `process`. */
  readonly signals?: { once(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown; off(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown };
  /** The pause between `watch` reads (ends early when the signal aborts); default a timer. */
  readonly watchSleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The real process: streams, environment, files, a TTY prompt, WS-Management. */
export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    readFile: async (path) => (await import("node:fs/promises")).readFile(path, "utf8"),
    promptPassword: process.stdin.isTTY && process.stderr.isTTY ? promptHidden : undefined,
    connect: async (options, target) => {
      const { WsmanClient } = await import("@hyperv-kvp/wsman");
      const { WsmanTransport } = await import("./transports/wsman.js");
      return new WsmanTransport(new WsmanClient(options), { namespace: target.namespace });
    },
  };
}

/** Reads a line from the terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let answer = "";
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new Error("password prompt interrupted"));
        if (ch === "\u007f" || ch === "\b") answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on("data", onData);
  });
}
