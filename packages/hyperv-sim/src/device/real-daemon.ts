import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { type Server, type Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildShimOptions, buildShim } from "./build-shim.js";
import type { DaemonChannel } from "./daemon-channel.js";
import {
  KERNEL_VERSION,
  KvpOp,
  MESSAGE_BYTES,
  REGISTER_VERSION_BYTES,
  decodeKvpMessage,
  encodeField,
  encodeKvpMessage,
} from "./device-message.js";
import { SimError } from "../errors.js";
import { MessageFramer } from "./message-framer.js";

/** Where Debian's hyperv-daemons installs the daemon. */
export const DEFAULT_DAEMON_PATH = "/usr/sbin/hv_kvp_daemon";

/** Environment variable that overrides {@link DEFAULT_DAEMON_PATH}. */
export const DAEMON_PATH_ENV = "HV_KVP_DAEMON";

/** Environment variable telling the shim which Unix socket stands in for `/dev/vmbus/hv_kvp`. */
export const SHIM_SOCKET_ENV = "KVP_SIM_SOCKET";

/** Environment variable telling the shim which directory stands in for `/var/lib/hyperv`. */
export const SHIM_POOL_DIR_ENV = "KVP_SIM_POOL_DIR";

/**
 * Environment variable naming the shim's stall file (a test hook): while that file exists,
 * the daemon waits inside its pool lock. Set through {@link RealDaemonOptions.stallFile}.
 */
export const SHIM_STALL_FILE_ENV = "KVP_SIM_STALL_FILE";

/** Default wait for the daemon to start and register, in milliseconds. */
export const DEFAULT_START_TIMEOUT_MS = 5000;

/** Default wait for one reply, in milliseconds (the kernel itself gives the daemon 5 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/** Most bytes of the daemon's output kept for error messages (the latest ones). */
const MAX_LOG_BYTES = 16 * 1024;
/** How long a stopping daemon gets after SIGTERM before SIGKILL, in milliseconds. */
const KILL_GRACE_MS = 2000;
/** How long to wait for the last of the daemon's stderr once it is gone, in milliseconds. */
const EXIT_REPORT_WAIT_MS = 1000;
/** `sizeof(sockaddr_un.sun_path)` minus the NUL: longer socket paths cannot be connected to. */
const MAX_SOCKET_PATH = 107;

/** Options of {@link RealDaemon.start}. */
export interface RealDaemonOptions {
  /** The daemon binary; default `$HV_KVP_DAEMON`, else {@link DEFAULT_DAEMON_PATH}. */
  readonly daemonPath?: string;
  /**
   * Directory standing in for `/var/lib/hyperv`. Default: a new temporary directory, removed
   * by {@link RealDaemon.close}. A given directory is kept; the daemon creates it (mode 0755)
   * when missing, as it does `/var/lib/hyperv`.
   */
  readonly poolDir?: string;
  /** Wait for start-up and the register handshake, in ms (default {@link DEFAULT_START_TIMEOUT_MS}). */
  readonly startTimeoutMs?: number;
  /** Wait for each reply, in ms (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number;
  /** How to build the LD_PRELOAD shim. */
  readonly shim?: BuildShimOptions;
  /**
   * Test hook for lock tests: a path (it need not exist yet). While a file exists there, the
   * daemon stops each time it opens a pool file — which it does only while holding that
   * pool's fcntl lock — and goes on when the file is removed. So: create the file, send a
   * request, and the daemon holds the pool's lock until you remove it. Each stall prints
   * `hv_kvp_shim: stalling in fopen(…)` to the daemon's {@link RealDaemon.output}. Create the
   * file only after start-up (the daemon opens every pool then). Default: no stalls.
   */
  readonly stallFile?: string;
}

/** The daemon path {@link RealDaemon.start} uses for `path` (explicit, else env, else default). */
export function resolveDaemonPath(path?: string): string {
  return path ?? (process.env[DAEMON_PATH_ENV] || DEFAULT_DAEMON_PATH);
}

/** True when the daemon at `path` (resolved as {@link resolveDaemonPath}) exists and is executable. */
export function isDaemonInstalled(path?: string): boolean {
  try {
    accessSync(resolveDaemonPath(path), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface Waiter {
  resolve(message: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * Debian's unmodified `hv_kvp_daemon`, started in the foreground (`-n`) under the LD_PRELOAD
 * shim, with this object playing the kernel on the other end of its `/dev/vmbus/hv_kvp`.
 * The daemon's pools live in {@link poolDir}. If the daemon dies, pending and later requests
 * reject with `daemon-exited` and its output; if this process dies, the daemon reads EOF on
 * the device and exits, so no daemon outlives its simulator.
 */
export class RealDaemon implements DaemonChannel {
  readonly kind = "real" as const;
  private readonly framer = new MessageFramer();
  private waiter: Waiter | undefined;
  /** Serialises requests: the kernel has at most one transaction outstanding. */
  private queue: Promise<unknown> = Promise.resolve();
  private log = "";
  /** Set once the channel cannot be used any more; later requests reject with it. */
  private failure: SimError | undefined;
  private closing: Promise<void> | undefined;
  private socket: Socket | undefined;
  /** Why the daemon could not be started at all (not executable, not a program). */
  private spawnError: Error | undefined;
  /** Settles once the daemon has exited and its output pipes are drained. */
  private readonly childClosed: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly server: Server,
    private readonly workDir: string,
    readonly poolDir: string,
    readonly daemonPath: string,
    private readonly requestTimeoutMs: number,
  ) {
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString("utf8")).slice(-MAX_LOG_BYTES);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.childClosed = new Promise((resolve) => {
      child.once("close", () => resolve());
      // A process that never started emits "error" and perhaps nothing else.
      child.once("error", (error) => {
        if (child.pid === undefined) {
          this.spawnError = error;
          resolve();
        }
      });
    });
    child.once("exit", () => void this.fail());
  }

  /**
   * Builds the shim, starts the daemon, accepts its connection and completes the register
   * handshake (the daemon writes REGISTER1, the kernel answers with version "3.1").
   * @throws {SimError} `daemon-missing` (with the `apt-get install hyperv-daemons` hint),
   *   `compiler-missing` / `shim-build-failed`, `daemon-exited` when the daemon stops or
   *   never connects, `timeout`, `protocol` when its first message is not REGISTER1.
   */
  static async start(options: RealDaemonOptions = {}): Promise<RealDaemon> {
    const daemonPath = resolveDaemonPath(options.daemonPath);
    if (!isDaemonInstalled(daemonPath)) {
      throw new SimError(
        "daemon-missing",
        `hv_kvp_daemon not found or not executable at ${daemonPath}: install it with \`apt-get install hyperv-daemons\` (or set ${DAEMON_PATH_ENV})`,
      );
    }
    const shim = await buildShim(options.shim);
    const workDir = await mkdtemp(join(tmpdir(), "hyperv-sim-"));
    const poolDir = options.poolDir ?? join(workDir, "pools");
    const socketPath = join(workDir, "hv_kvp.sock");
    let server: Server | undefined;
    let child: ChildProcess | undefined;
    try {
      if (socketPath.length > MAX_SOCKET_PATH) {
        throw new SimError("invalid-argument", `socket path too long for a Unix socket: ${socketPath}`);
      }
      server = createServer();
      const accepted = nextConnection(server);
      await listen(server, socketPath);
      child = spawn(daemonPath, ["-n"], {
        env: {
          ...process.env,
          LD_PRELOAD: [shim, process.env["LD_PRELOAD"]].filter(Boolean).join(":"),
          [SHIM_SOCKET_ENV]: socketPath,
          [SHIM_POOL_DIR_ENV]: poolDir,
          // Empty turns the hook off, even when the caller's environment names a file.
          [SHIM_STALL_FILE_ENV]: options.stallFile ?? "",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const daemon = new RealDaemon(
        child,
        server,
        workDir,
        poolDir,
        daemonPath,
        options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      );
      try {
        await daemon.connect(accepted, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
      } catch (error) {
        await daemon.close();
        throw error;
      }
      return daemon;
    } catch (error) {
      if (!child) {
        server?.close();
        await rm(workDir, { recursive: true, force: true });
      }
      throw error;
    }
  }

  /** The daemon's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** What the daemon printed so far (its syslog lines, copied to stderr by the shim). */
  get output(): string {
    return this.log;
  }

  request(message: Uint8Array): Promise<Uint8Array> {
    const result = this.queue.then(() => this.exchange(message));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async connect(accepted: Promise<Socket>, timeoutMs: number): Promise<void> {
    const exited = this.childClosed.then(() => Promise.reject(this.exitError()));
    const socket = await this.withDeadline(Promise.race([accepted, exited]), timeoutMs, "open the device");
    // One opener, like the real device: later connections (the daemon reopening after a
    // failed read) find nobody listening and make the daemon exit.
    this.server.close();
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("close", () => void this.fail());
    socket.on("error", () => undefined);
    const register = await this.withDeadline(this.nextMessage(), timeoutMs, "register");
    const { operation } = decodeKvpMessage(register);
    if (operation !== KvpOp.REGISTER1) {
      throw new SimError("protocol", `hv_kvp_daemon's first message is operation ${operation}, expected REGISTER1`);
    }
    // The daemon does not answer this; it reads it and starts serving requests.
    await this.send(
      encodeKvpMessage({
        operation: KvpOp.REGISTER1,
        pool: 0,
        body: {
          kind: "register",
          version: encodeField(new TextEncoder().encode(KERNEL_VERSION), REGISTER_VERSION_BYTES),
        },
      }),
    );
  }

  private async exchange(message: Uint8Array): Promise<Uint8Array> {
    if (this.closing) throw new SimError("closed", "the simulated device was closed");
    if (this.failure) throw this.failure;
    if (message.length !== MESSAGE_BYTES) {
      throw new SimError("protocol", `invalid request: ${message.length} bytes, the device moves ${MESSAGE_BYTES}`);
    }
    const reply = this.nextMessage();
    // If the send fails, the channel's failure rejects `reply` with nobody awaiting it.
    reply.catch(() => undefined);
    await this.send(message);
    try {
      return await this.withDeadline(reply, this.requestTimeoutMs, "answer a request");
    } catch (error) {
      // A reply may still come and would be taken for the next request's: stop here.
      if (isTimeout(error)) this.failure ??= error as SimError;
      throw error;
    }
  }

  private nextMessage(): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private receive(chunk: Uint8Array): void {
    for (const message of this.framer.push(chunk)) {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) {
        waiter.resolve(message);
      } else {
        this.failure ??= new SimError("protocol", "hv_kvp_daemon wrote a message nobody asked for");
      }
    }
  }

  private send(message: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(this.failure ?? new SimError("closed", "device closed"));
    return new Promise((resolve, reject) => {
      socket.write(message, (error) => {
        if (!error) {
          resolve();
          return;
        }
        // A daemon that just died makes the write fail (EPIPE) before its exit is noticed:
        // give the exit a moment to arrive, so the error says how it died and what it printed.
        void Promise.race([this.childClosed, delay(EXIT_REPORT_WAIT_MS)]).then(() => {
          const exited = this.child.exitCode !== null || this.child.signalCode !== null;
          reject(this.failure ?? (exited ? this.exitError() : closedError(error)));
        });
      });
    });
  }

  /**
   * Marks the channel failed and rejects the pending request. Waits briefly for the child's
   * output to drain so the error carries the daemon's last words.
   */
  private async fail(): Promise<void> {
    if (this.closing) return;
    await Promise.race([this.childClosed, delay(EXIT_REPORT_WAIT_MS)]);
    if (this.closing) return;
    this.failure ??= this.exitError();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }

  private exitError(): SimError {
    const { exitCode, signalCode, pid } = this.child;
    const how = this.spawnError
      ? `could not be started (${this.spawnError.message})`
      : signalCode !== null
        ? `was killed by ${signalCode}`
        : exitCode !== null
          ? `exited with code ${exitCode}`
          : "closed the device";
    return new SimError(
      "daemon-exited",
      `hv_kvp_daemon (${this.daemonPath}, pid ${pid}) ${how}; its output: ${this.log.trim() || "(none)"}`,
    );
  }

  private withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new SimError(
            "timeout",
            `hv_kvp_daemon did not ${what} within ${ms} ms; its output: ${this.log.trim() || "(none)"}`,
          ),
        );
      }, ms);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private async shutdown(): Promise<void> {
    const closed = new SimError("closed", "the simulated device was closed");
    this.failure ??= closed;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(closed);
    this.server.close();
    this.socket?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const stopped = await Promise.race([this.childClosed.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
      if (!stopped) {
        this.child.kill("SIGKILL");
        await this.childClosed;
      }
    } else {
      await this.childClosed;
    }
    await rm(this.workDir, { recursive: true, force: true });
  }
}

function nextConnection(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once("connection", resolve));
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function isTimeout(error: unknown): boolean {
  return error instanceof SimError && error.code === "timeout";
}

function closedError(cause: Error): SimError {
  return new SimError("closed", `cannot write to hv_kvp_daemon: ${cause.message}`, { cause });
}
