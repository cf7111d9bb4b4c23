// systemd's readiness protocol (sd_notify): `Type=notify` units send `READY=1` in a datagram
// to the unix socket named by $NOTIFY_SOCKET. Node has no unix datagram sockets, so the one
// `sendto` goes through koffi (pool-file's lock calls go through its own addon instead): the agent's own
// (main) process sends, so the unit needs no `NotifyAccess=all`. Spawning `systemd-notify
// --ready` instead would need it, and systemd may not be able to tell which unit a message
// came from once that short-lived helper has exited (its cgroup is looked up after the
// fact). See apps/guest-agent/README.md#systemd.
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import type { Logger } from "./logger.js";

/** The environment variable systemd sets for Type=notify services. */
export const NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET";

/** Bytes in `struct sockaddr_un`'s sun_path on Linux. */
export const SUN_PATH_BYTES = 108;

/** Address family of unix sockets (`AF_UNIX`). */
const AF_UNIX = 1;
/** Datagram sockets (`SOCK_DGRAM`), closed on exec (`SOCK_CLOEXEC`), so no hook inherits one. */
const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;
/** `sendto` flag: no SIGPIPE (`MSG_NOSIGNAL`). */
const MSG_NOSIGNAL = 0x4000;
/** Bytes of `sa_family` before sun_path. */
const FAMILY_BYTES = 2;

/** Where $NOTIFY_SOCKET points, as `struct sockaddr_un` wants it, or why it cannot be used. */
export type NotifyAddress =
  | { readonly ok: true; readonly sunPath: Uint8Array; readonly abstract: boolean }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads $NOTIFY_SOCKET: an absolute path (a socket in the file system; its bytes plus the
 * terminating NUL fit sun_path), or `@NAME` (the abstract name space: sun_path is a NUL
 * then NAME, without a terminating NUL). Other forms (`vsock:…`) are not supported.
 */
export function notifySocketAddress(value: string): NotifyAddress {
  if (value === "") return { ok: false, reason: "it is empty" };
  if (value.includes("\0")) return { ok: false, reason: "it holds a NUL" };
  const abstract = value.startsWith("@");
  if (!abstract && !value.startsWith("/")) {
    return { ok: false, reason: "it is not an absolute path or @NAME (other socket kinds are not supported)" };
  }
  const name = new TextEncoder().encode(abstract ? value.slice(1) : value);
  const sunPath = abstract ? Uint8Array.from([0, ...name]) : name;
  const room = abstract ? SUN_PATH_BYTES : SUN_PATH_BYTES - 1;
  if (sunPath.length > room)
    return { ok: false, reason: `it is longer than a unix socket address holds (${room} bytes)` };
  return { ok: true, sunPath, abstract };
}

/** One datagram of the protocol: `VAR=value` lines; a newline in a value becomes a space. */
export function notifyText(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${value.replace(/[\r\n]+/g, " ")}\n`)
    .join("");
}

/** `env` without NOTIFY_SOCKET: hooks must not speak to systemd for the agent (a copy). */
export function withoutNotifySocket<T extends Record<string, string | undefined>>(env: T): T {
  const { [NOTIFY_SOCKET_ENV]: _dropped, ...rest } = env;
  return rest as T;
}

/** Sends sd_notify messages; never throws (a failure is logged once, the agent runs on). */
export interface Notifier {
  /** Sends `fields` (`{ READY: "1", STATUS: "…" }`) when systemd asked for them. */
  notify(fields: Readonly<Record<string, string>>): void;
}

/**
 * The notifier for this process: a no-op without $NOTIFY_SOCKET (not started by systemd as
 * Type=notify), else one datagram per {@link Notifier.notify} call. The first failure (a bad
 * address, koffi not loadable, `sendto` refused) is logged as a warning; later ones are not.
 */
export function systemdNotifier(env: Readonly<Record<string, string | undefined>>, log: Logger): Notifier {
  const value = env[NOTIFY_SOCKET_ENV];
  if (value === undefined) return { notify: () => undefined };
  let warned = false;
  const fail = (reason: string) => {
    if (!warned) log.warning(`cannot notify systemd through NOTIFY_SOCKET=${JSON.stringify(value)}: ${reason}`);
    warned = true;
  };
  const address = notifySocketAddress(value);
  return {
    notify(fields) {
      if (!address.ok) return fail(address.reason);
      try {
        const errno = sendDatagram(address.sunPath, new TextEncoder().encode(notifyText(fields)));
        if (errno !== 0) fail(errnoName(errno));
      } catch (error) {
        fail((error as Error).message);
      }
    },
  };
}

type Koffi = typeof import("koffi").default;

interface SocketCalls {
  readonly koffi: Koffi;
  readonly socket: (domain: number, type: number, protocol: number) => number;
  readonly sendto: (
    fd: number,
    buffer: Uint8Array,
    length: number,
    flags: number,
    address: Uint8Array,
    addressLength: number,
  ) => number;
  readonly close: (fd: number) => number;
}

let calls: SocketCalls | undefined;

/** socket, sendto and close from the C library, loaded on first use (koffi costs ~9 ms to load). */
function socketCalls(): SocketCalls {
  if (calls !== undefined) return calls;
  // createRequire, as pool-file loads it: the bundle keeps koffi external, beside itself.
  const koffi = createRequire(import.meta.url)("koffi") as Koffi;
  const lib = koffi.load(null);
  calls = {
    koffi,
    socket: lib.func("int socket(int, int, int)") as SocketCalls["socket"],
    sendto: lib.func(
      "intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)",
    ) as SocketCalls["sendto"],
    close: lib.func("int close(int)") as SocketCalls["close"],
  };
  return calls;
}

/** One datagram to the unix socket at `sunPath`; returns errno (0 when sent). */
function sendDatagram(sunPath: Uint8Array, message: Uint8Array): number {
  const c = socketCalls();
  // struct sockaddr_un: sa_family (native endian: little on x86_64 and arm64), then sun_path;
  // a path's length counts its NUL, an abstract name's does not.
  const abstract = sunPath[0] === 0;
  const address = new Uint8Array(FAMILY_BYTES + sunPath.length + (abstract ? 0 : 1));
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(sunPath, FAMILY_BYTES);
  const fd = c.socket(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0);
  if (fd < 0) return c.koffi.errno();
  try {
    const sent = Number(c.sendto(fd, message, message.length, MSG_NOSIGNAL, address, address.length));
    return sent < 0 ? c.koffi.errno() : 0;
  } finally {
    c.close(fd);
  }
}

/** Name of an errno value (`ENOENT`), or `errno N`. */
function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}
