/**
 * The IO edge of the PowerShell transport: one child process speaking the JSON-lines protocol
 * of `powershell-protocol.ts` on its standard input and output.
 *
 * One request at a time, not pipelined: the bridge is one PowerShell runspace that handles
 * lines in order anyway, so pipelining would gain nothing, and with one request outstanding a
 * timeout or a crash names exactly the request it hit, and a late answer can never be taken
 * for the next request's (after a timeout the process is stopped). Callers may still call
 * concurrently: requests queue.
 *
 * Output is hostile until read: lines are bounded ({@link DEFAULT_MAX_LINE_BYTES}), must be
 * UTF-8 and JSON, and are checked by the protocol's readers. Standard error is kept (the last
 * {@link STDERR_TAIL_LINES} lines) to name in errors, and passed to `onStderr` line by line.
 *
 * Failures are {@link TransportError}s: `unavailable` (PowerShell missing or not starting),
 * `lost` (the bridge ended), `timeout`, `unreadable` (a line that is not UTF-8, not JSON, too
 * long, or not the protocol's), `closed`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { TransportError } from "../transport-error.js";
import {
  type BridgeHello,
  type BridgeRequestBody,
  type ReadAnswer,
  readAnswer,
  readHello,
} from "./powershell-protocol.js";

/** Default longest line the bridge may write, bytes: 8 MiB (WsmanClient's default reply limit). */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Default wait for one answer, milliseconds: 60 s (WsmanClient's default). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Default wait for the hello line, milliseconds: 30 s (Windows PowerShell can take seconds to start on a busy host). */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/** How long close() lets the bridge end by itself before stopping it, milliseconds. */
export const CLOSE_GRACE_MS = 2_000;
/** Lines of standard error kept to name in errors. */
export const STDERR_TAIL_LINES = 20;
/** Longest standard-error line kept, characters (longer ones are cut). */
export const STDERR_LINE_MAX_CHARS = 1_000;
/** What to do instead when PowerShell is missing or unusable (the WS-Management transport needs a host). */
const OVER_WSMAN = "reach the host over WS-Management (--host or --endpoint)";
/** Lines of standard error an error message quotes. */
const STDERR_QUOTED_LINES = 5;

/** How to start the bridge and how long to wait for it. */
export interface BridgeProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
  /** Default {@link DEFAULT_START_TIMEOUT_MS}. */
  readonly startTimeoutMs?: number;
  /** Default {@link DEFAULT_MAX_LINE_BYTES}. */
  readonly maxLineBytes?: number;
  /** Told each line the bridge writes on standard error. */
  readonly onStderr?: (line: string) => void;
}

interface Waiter<T> {
  readonly what: string;
  readonly resolve: (value: T) => void;
  readonly reject: (error: TransportError) => void;
  readonly timer: NodeJS.Timeout;
}

/** Text from the bridge made safe for one line of a message. */
function printable(text: string, max = 200): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

/** Escapes every non-ASCII character as `\uXXXX`: the request is then ASCII whatever code page reads it. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A running bridge process (see the module doc). */
export class BridgeProcess {
  private readonly child: ChildProcessWithoutNullStreams | undefined;
  private readonly requestTimeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly onStderrLine: ((line: string) => void) | undefined;
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });
  private readonly stderrDecoder = new TextDecoder("utf-8");
  private stderrPartial = "";
  private readonly stderrTail: string[] = [];
  private hello: Waiter<BridgeHello> | undefined;
  private pending: (Waiter<ReadAnswer> & { readonly id: number }) | undefined;
  private failure: TransportError | undefined;
  private closing = false;
  private exitedFlag = false;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  /** Resolves when the process has ended and its output is read. */
  readonly exited: Promise<void>;

  private constructor(
    private readonly options: BridgeProcessOptions,
    onHello: Waiter<BridgeHello>,
    markExited: () => void,
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.onStderrLine = options.onStderr;
    this.hello = onHello;
    let resolveExited: () => void = () => undefined;
    this.exited = new Promise<void>((resolve) => {
      resolveExited = resolve;
    });
    const done = () => {
      if (this.exitedFlag) return;
      this.exitedFlag = true;
      markExited();
      resolveExited();
    };
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(options.command, [...options.args], {
        stdio: ["pipe", "pipe", "pipe"],
        windowsHide: true,
        ...(options.env === undefined ? {} : { env: options.env as NodeJS.ProcessEnv }),
      });
    } catch (error) {
      // Invalid arguments throw here; a missing executable arrives as an 'error' event.
      this.child = undefined;
      queueMicrotask(() => {
        this.fail(this.spawnError(error));
        done();
      });
      return;
    }
    this.child = child;
    child.stdout.on("data", (chunk: Buffer) => this.onStdout(chunk));
    child.stderr.on("data", (chunk: Buffer) => this.onStderr(chunk));
    // Writing to a bridge that died fails here; the 'close' event says why it died.
    child.stdin.on("error", () => undefined);
    child.on("error", (error) => {
      this.fail(this.spawnError(error));
      // A process that never started may emit no 'close'.
      if (child.pid === undefined) done();
    });
    child.on("close", (code, signal) => {
      this.flushStderr();
      this.onExit(code, signal);
      done();
    });
  }

  /**
   * Starts the bridge and waits for its hello line.
   * @throws {TransportError} `unavailable` (missing, cannot start, another protocol version),
   *   `lost` (ended before its hello), `timeout`, `unreadable`.
   */
  static start(options: BridgeProcessOptions): Promise<{ bridge: BridgeProcess; hello: BridgeHello }> {
    return new Promise((resolve, reject) => {
      const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
      let bridge: BridgeProcess | undefined;
      const timer = setTimeout(() => {
        bridge?.fail(
          new TransportError(
            "timeout",
            `the PowerShell bridge (${options.command}) did not start within ${startTimeoutMs / 1000} s${bridge?.stderrSuffix() ?? ""}; it was stopped`,
          ),
        );
      }, startTimeoutMs);
      bridge = new BridgeProcess(
        options,
        {
          what: "its hello",
          timer,
          resolve: (hello) => resolve({ bridge: bridge!, hello }),
          reject,
        },
        () => clearTimeout(timer),
      );
    });
  }

  /** Whether requests can still be sent: false once the bridge failed, was stopped or closed. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** Whether the process has ended. */
  get hasExited(): boolean {
    return this.exitedFlag;
  }

  /**
   * Sends one request and resolves with its answer (a failed answer too: the caller decides).
   * `label` names the request in errors.
   * @throws {TransportError} `lost`, `timeout`, `unreadable`, `closed`.
   */
  request(body: BridgeRequestBody, label: string): Promise<ReadAnswer> {
    const run = () => this.send(body, label);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private send(body: BridgeRequestBody, label: string): Promise<ReadAnswer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ReadAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new TransportError(
            "timeout",
            `the PowerShell bridge did not answer ${label} within ${this.requestTimeoutMs / 1000} s${this.stderrSuffix()}; it was stopped`,
          ),
        );
      }, this.requestTimeoutMs);
      this.pending = { id, what: label, resolve, reject, timer };
      this.child?.stdin.write(`${asciiJson({ id, ...body })}\n`);
    });
  }

  /**
   * Ends the bridge: closes its standard input (the script's loop ends there) and stops the
   * process if it has not ended after {@link CLOSE_GRACE_MS}. A request still waiting fails
   * with `closed`, and so does every later one.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.fail(new TransportError("closed", "the PowerShell transport is closed"), false);
    const child = this.child;
    if (child === undefined || this.exitedFlag) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill(), CLOSE_GRACE_MS);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Fails what waits and everything after; stops the process unless `stop` is false. */
  private fail(error: TransportError, stop = true): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (const waiter of [this.hello, this.pending]) {
      if (waiter === undefined) continue;
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.hello = undefined;
    this.pending = undefined;
    if (stop && this.child !== undefined && !this.exitedFlag) this.child.kill();
  }

  private spawnError(error: unknown): TransportError {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (code === "ENOENT") {
      return new TransportError(
        "unavailable",
        `PowerShell not found: ${this.options.command} (${message}); install it, or ${OVER_WSMAN}`,
      );
    }
    return new TransportError(
      "unavailable",
      `cannot start PowerShell (${this.options.command}): ${message}; ${OVER_WSMAN}`,
    );
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.failure !== undefined) return;
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const waiting = this.hello?.what ?? this.pending?.what;
    if (this.hello !== undefined && this.stderrTail.length === 0) {
      // Not a PowerShell that ran the script at all: say what would work instead.
      this.fail(
        new TransportError(
          "unavailable",
          `${this.options.command} ${how} before the bridge's hello, with nothing on stderr: it did not run the bridge script (Wine's stub powershell.exe does that); kvp-host needs Windows PowerShell 5.1 or PowerShell 7 (--pwsh), or another executable in $KVP_HOST_POWERSHELL, or ${OVER_WSMAN}`,
        ),
        false,
      );
      return;
    }
    const when = waiting === undefined ? "" : ` before answering ${waiting}`;
    this.fail(new TransportError("lost", `the PowerShell bridge ${how}${when}${this.stderrSuffix()}`), false);
  }

  private onStdout(chunk: Buffer): void {
    let start = 0;
    while (this.failure === undefined) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      if (this.bufferedBytes + (end - start) > this.maxLineBytes) {
        this.fail(
          new TransportError(
            "unreadable",
            `the PowerShell bridge wrote a line longer than ${this.maxLineBytes} bytes${this.waitingFor()}; it was stopped`,
          ),
        );
        return;
      }
      if (newline === -1) {
        if (end > start) {
          this.chunks.push(chunk.subarray(start));
          this.bufferedBytes += end - start;
        }
        return;
      }
      const line =
        this.chunks.length === 0
          ? chunk.subarray(start, end)
          : Buffer.concat([...this.chunks, chunk.subarray(start, end)]);
      this.chunks.length = 0;
      this.bufferedBytes = 0;
      this.onLine(line);
      start = newline + 1;
    }
  }

  private onLine(bytes: Buffer): void {
    const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
    let text: string;
    try {
      text = this.utf8.decode(body);
    } catch {
      this.fail(
        new TransportError(
          "unreadable",
          `the PowerShell bridge wrote a line that is not UTF-8${this.waitingFor()}${this.stderrSuffix()}; it was stopped`,
        ),
      );
      return;
    }
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.fail(
        new TransportError(
          "unreadable",
          `the PowerShell bridge wrote a line that is not JSON${this.waitingFor()}: ${JSON.stringify(printable(text, 120))}${this.stderrSuffix()}; it was stopped`,
        ),
      );
      return;
    }
    try {
      if (this.hello !== undefined) {
        const waiter = this.hello;
        const hello = readHello(value);
        this.hello = undefined;
        clearTimeout(waiter.timer);
        waiter.resolve(hello);
      } else if (this.pending !== undefined) {
        const waiter = this.pending;
        const answer = readAnswer(value, waiter.id);
        this.pending = undefined;
        clearTimeout(waiter.timer);
        waiter.resolve(answer);
      } else {
        this.fail(
          new TransportError(
            "unreadable",
            "invalid answer from the PowerShell bridge: a line no request asked for; it was stopped",
          ),
        );
      }
    } catch (error) {
      this.fail(error instanceof TransportError ? error : new TransportError("unreadable", String(error)));
    }
  }

  private onStderr(chunk: Buffer): void {
    this.stderrPartial += this.stderrDecoder.decode(chunk, { stream: true });
    const lines = this.stderrPartial.split(/\r?\n/);
    this.stderrPartial = lines.pop() ?? "";
    // A line that never ends is kept as far as the limit, never grown without bound.
    if (this.stderrPartial.length > STDERR_LINE_MAX_CHARS * 4)
      this.stderrPartial = this.stderrPartial.slice(0, STDERR_LINE_MAX_CHARS);
    for (const line of lines) this.keepStderr(line);
  }

  private flushStderr(): void {
    this.stderrPartial += this.stderrDecoder.decode();
    if (this.stderrPartial !== "") this.keepStderr(this.stderrPartial);
    this.stderrPartial = "";
  }

  private keepStderr(line: string): void {
    const kept = line.length > STDERR_LINE_MAX_CHARS ? line.slice(0, STDERR_LINE_MAX_CHARS) : line;
    if (kept.trim() === "") return;
    this.stderrTail.push(kept);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    this.onStderrLine?.(kept);
  }

  /** The last lines of standard error, as `; stderr: a | b`, or "" when there were none. */
  private stderrSuffix(): string {
    const lines = this.stderrTail.slice(-STDERR_QUOTED_LINES).map((line) => printable(line));
    return lines.length === 0 ? "" : `; its stderr ends: ${lines.join(" | ")}`;
  }

  private waitingFor(): string {
    const what = this.hello?.what ?? this.pending?.what;
    return what === undefined ? "" : ` (answering ${what})`;
  }

  /** The last lines the bridge wrote on standard error. */
  get stderrLines(): readonly string[] {
    return [...this.stderrTail];
  }
}
