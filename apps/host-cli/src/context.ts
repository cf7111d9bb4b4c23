/** What commands touch outside themselves, injectable so tests run kvp-host in process. */
import { type CliIo, processIo } from "@hyperv-kvp/cli-kit";
import type { WsmanClientOptions } from "@hyperv-kvp/wsman";
import { type HyperVNamespace, HyperVWmi } from "./hyperv-wmi.js";
import { type TransportKind, defaultTransportKind } from "./transport.js";

/**
 * How to reach the host: WS-Management with client options, or the local PowerShell bridge
 * (on the Hyper-V host itself, as the user running kvp-host). Either way to `namespace`:
 * root/virtualization/v2 (one host) or root/HyperVCluster/v2 (`--cluster`).
 */
export type ConnectRequest =
  | { readonly kind: "wsman"; readonly options: WsmanClientOptions; readonly namespace: HyperVNamespace }
  | {
      readonly kind: "powershell";
      readonly namespace: HyperVNamespace;
      /** Run pwsh (PowerShell 7) instead of powershell.exe. */
      readonly pwsh: boolean;
      /** The executable, when not the default found on PATH ($KVP_HOST_POWERSHELL). */
      readonly command?: string;
      /** Longest wait for one answer, milliseconds. */
      readonly timeoutMs: number;
    };

/** What kvp-host touches outside itself (beyond the kit's streams, environment and signals). */
export interface CliContext extends CliIo {
  /** Reads standard input to the end (for `--from-file -`); a string counts as decoded. */
  readonly readStdin: () => Promise<string | Uint8Array>;
  /** Reads a file (`--from-file`, `--ca`); a string counts as decoded. */
  readonly readFile: (path: string) => Promise<string | Uint8Array>;
  /** Asks for a password without echo; undefined when there is no terminal to ask on. */
  readonly promptPassword: ((prompt: string) => Promise<string>) | undefined;
  /**
   * Opens the host's WMI (or, with the cluster namespace, the failover cluster's) through the
   * transport the request names.
   * @throws {TransportError} when the transport cannot be opened.
   */
  readonly connect: (request: ConnectRequest) => Promise<HyperVWmi>;
  /** Clock and sleep for job polling; defaults Date.now and a timer. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The transport without --transport, --host or --endpoint: powershell on Windows, wsman elsewhere (default wsman). */
  readonly defaultTransport?: TransportKind;
  /** The platform whose shells the help's examples are written for: `win32` PowerShell and cmd, else sh (the default). */
  readonly platform?: string;
  /** The pause between `watch` reads (ends early when the signal aborts); default a timer. */
  readonly watchSleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The real process: streams, environment, files, a TTY prompt, WS-Management. */
export function processContext(): CliContext {
  return {
    ...processIo(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    readFile: async (path) => (await import("node:fs/promises")).readFile(path),
    // A getter: creating process.stdin costs milliseconds (fs streams for a file, net for a
    // pipe), which every run would pay, `--help` included, though only a password prompt needs it.
    get promptPassword() {
      return process.stdin.isTTY && process.stderr.isTTY ? promptHidden : undefined;
    },
    defaultTransport: defaultTransportKind(process.platform),
    platform: process.platform,
    connect: async (request) => {
      if (request.kind === "powershell") {
        const { openPowerShellClient } = await import("./transports/powershell.js");
        const client = await openPowerShellClient({
          pwsh: request.pwsh,
          requestTimeoutMs: request.timeoutMs,
          ...(request.command === undefined ? {} : { command: request.command }),
        });
        return new HyperVWmi(client, { namespace: request.namespace });
      }
      const { WsmanClient } = await import("@hyperv-kvp/wsman");
      const { WsmanCimClient, fromWsmanError, skippedItemsWarning } = await import("./transports/wsman.js");
      let client: InstanceType<typeof WsmanClient>;
      try {
        client = new WsmanClient(request.options);
      } catch (error) {
        // Options WsmanClient cannot use (an endpoint that is not a URL): a usage error.
        throw fromWsmanError(error);
      }
      const onSkipped = (skipped: Parameters<typeof skippedItemsWarning>[0]) =>
        process.stderr.write(`kvp-host: ${skippedItemsWarning(skipped)}\n`);
      return new HyperVWmi(new WsmanCimClient(client, { onSkipped }), { namespace: request.namespace });
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
