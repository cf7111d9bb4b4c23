import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PoolFileError } from "./errors.js";

// The few libc calls Node does not offer: fcntl/flock locks (for the daemon-compatible pool
// lock) and the interface, host-name and resolver calls hv_kvp_daemon uses for pool 2.
// The lock calls, which every kvp-pool command and `kvp-agent once` make, go through kvp-lock,
// our own Node-API addon (native/kvp-lock.c): it loads in a fraction of a millisecond, where
// koffi costs ~4-5 ms of a start. koffi stays for the rest, and for the lock calls wherever the
// addon does not load (musl, a missing file, another CPU); nothing here touches koffi until a
// call needs it. Only Linux on 64-bit x86 and ARM is supported: the constants and struct
// layouts below are theirs (both use the generic LP64 layouts).

/** `fcntl` command: test for a conflicting classic (process-owned) POSIX lock. */
export const F_GETLK = 5;
/** `fcntl` command: take or drop a classic POSIX lock without waiting (hv_kvp_daemon waits: F_SETLKW). */
export const F_SETLK = 6;
/** `fcntl` command: test for a conflicting lock as an open-file-description (OFD) lock would. */
export const F_OFD_GETLK = 36;
/** `fcntl` command: take or drop an OFD lock without waiting (EAGAIN/EACCES when held). */
export const F_OFD_SETLK = 37;
/** `fcntl` command: take an OFD lock, waiting in the kernel; not cancellable, so unused here. */
export const F_OFD_SETLKW = 38;
/** `struct flock` l_type: shared (read) lock; needs a descriptor open for reading. */
export const F_RDLCK = 0;
/** `struct flock` l_type: exclusive (write) lock; needs a descriptor open for writing. */
export const F_WRLCK = 1;
/** `struct flock` l_type: unlock, or "no conflict" in a GETLK answer. */
export const F_UNLCK = 2;
/** `struct flock` l_whence: l_start counts from the start of the file. */
export const SEEK_SET = 0;

/** `flock` operation: shared lock. */
export const LOCK_SH = 1;
/** `flock` operation: exclusive lock. */
export const LOCK_EX = 2;
/** `flock` flag: fail with EWOULDBLOCK (= EAGAIN on Linux) instead of waiting. */
export const LOCK_NB = 4;
/** `flock` operation: unlock. */
export const LOCK_UN = 8;

// Linux's errno values (the same on every architecture this runs on: libc.test.ts compares
// them with node:os's), written out so that loading the module does not load node:os, which
// a start that takes no error path never needs.
/** errno: the lock is held by someone else (also EWOULDBLOCK on Linux). */
export const EAGAIN = 11;
/** errno: the lock is held by someone else (fcntl may answer this instead of EAGAIN). */
export const EACCES = 13;
/** errno: a signal interrupted the call; retry. */
export const EINTR = 4;

/** Address family IPv4 (`AF_INET`). */
export const AF_INET = 2;
/** Address family IPv6 (`AF_INET6`). */
export const AF_INET6 = 10;
/** `ifa_flags` bit of a loopback interface (`IFF_LOOPBACK`). */
export const IFF_LOOPBACK = 0x8;
/** `getaddrinfo` hint: return the canonical name in the first result (`AI_CANONNAME`). */
export const AI_CANONNAME = 0x2;
/** `getaddrinfo` hint: stream sockets (`SOCK_STREAM`). */
export const SOCK_STREAM = 1;

/** Size of `struct flock` on x86_64 and arm64 (glibc and musl), in bytes. */
export const FLOCK_STRUCT_BYTES = 32;

/** The fields of `struct flock`, as passed to and returned by `fcntl`. */
export interface FlockFields {
  /** {@link F_RDLCK}, {@link F_WRLCK} or {@link F_UNLCK}. */
  l_type: number;
  /** {@link SEEK_SET} here. */
  l_whence: number;
  /** First byte of the range. */
  l_start: number;
  /** Bytes in the range; 0 means "to end of file, however long it grows". */
  l_len: number;
  /** Holder in a GETLK answer: a pid for classic locks, -1 for OFD locks; 0 when setting OFD locks. */
  l_pid: number;
}

/** One entry of `getifaddrs`, reduced to what hv_kvp_daemon looks at. */
export interface InterfaceAddress {
  /** Interface name (`eth0`). */
  readonly name: string;
  /** `ifa_flags` (IFF_* bits). */
  readonly flags: number;
  /** `sa_family` of `ifa_addr`, or undefined when the entry has no address. */
  readonly family: number | undefined;
  /** The raw address (4 bytes for IPv4, 16 for IPv6); only for those two families. */
  readonly address: Uint8Array | undefined;
}

/** Result of {@link Libc.getCanonicalName}: the canonical name, or getaddrinfo's error. */
export type CanonicalNameResult =
  | { readonly ok: true; readonly canonicalName: string | null }
  | { readonly ok: false; readonly error: number; readonly message: string };

/** The libc calls pool-file needs; errors come back as errno values, never as exceptions. */
export interface Libc {
  /**
   * `fcntl(fd, cmd, &lock)` for the lock commands that do not wait: {@link F_GETLK},
   * {@link F_SETLK}, {@link F_OFD_GETLK}, {@link F_OFD_SETLK}.
   * @returns errno (0 on success) and the struct as the kernel left it (GETLK fills it in).
   * @throws {TypeError} for another command, through the kvp-lock addon (a bug of the caller).
   */
  fcntlLock(fd: number, cmd: number, lock: FlockFields): { readonly errno: number; readonly lock: FlockFields };
  /** `flock(fd, operation)`; returns errno, 0 on success. */
  flock(fd: number, operation: number): number;
  /** `getifaddrs`, in the kernel's order; errno when it fails. */
  getifaddrs():
    | { readonly ok: true; readonly entries: InterfaceAddress[] }
    | { readonly ok: false; readonly errno: number };
  /** `inet_ntop` into a 50-byte buffer, as hv_kvp_daemon calls it; null when it fails. */
  inetNtop(family: number, address: Uint8Array): string | null;
  /** `gethostname` into a buffer of `length` bytes; undefined when it fails. */
  gethostname(length: number): string | undefined;
  /**
   * `getaddrinfo(node, NULL, hints)` and the first result's `ai_canonname` (null if the
   * resolver gave none); on failure the EAI_* code and `gai_strerror`'s text.
   */
  getCanonicalName(node: string, hints: { flags: number; family: number; socktype: number }): CanonicalNameResult;
}

type Koffi = typeof import("koffi").default;

/** The lock calls of {@link Libc}: the ones the kvp-lock addon makes without koffi. */
export type LockCalls = Pick<Libc, "fcntlLock" | "flock">;

let loaded: Libc | undefined;

/**
 * The libc bindings, cached: the lock calls through the kvp-lock addon where it loads, else
 * through koffi; the other calls through koffi, which loads on the first call that needs it.
 * @throws {PoolFileError} `io` when not on Linux x86_64/arm64; the calls that need koffi throw
 *   it too when koffi cannot load.
 */
export function libc(): Libc {
  loaded ??= composeLibc(defaultLockAddonPath());
  return loaded;
}

/**
 * What {@link libc} returns, with the addon looked for at `addonPath` (tests: the fallback).
 * @throws {PoolFileError} `io` when not on Linux x86_64/arm64.
 */
export function composeLibc(addonPath: string): Libc {
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) {
    throw new PoolFileError(
      "io",
      `file locks and interface queries need Linux on x86_64 or arm64 (this is ${process.platform}/${process.arch})`,
    );
  }
  let viaKoffi: Libc | undefined;
  const koffiLibc = (): Libc => {
    viaKoffi ??= loadKoffiLibc();
    return viaKoffi;
  };
  const locks = loadLockAddon(addonPath);
  lockCallsLoad = locks === undefined ? "koffi" : "addon";
  return {
    fcntlLock: locks?.fcntlLock ?? ((fd, cmd, lock) => koffiLibc().fcntlLock(fd, cmd, lock)),
    flock: locks?.flock ?? ((fd, operation) => koffiLibc().flock(fd, operation)),
    getifaddrs: () => koffiLibc().getifaddrs(),
    inetNtop: (family, address) => koffiLibc().inetNtop(family, address),
    gethostname: (length) => koffiLibc().gethostname(length),
    getCanonicalName: (node, hints) => koffiLibc().getCanonicalName(node, hints),
  };
}

/** How the lock calls were loaded: the kvp-lock addon or koffi; undefined before the first libc(). */
let lockCallsLoad: "addon" | "koffi" | undefined;

/** How this process makes the lock calls (tests: the addon must be the way taken where it is built). */
export function lockCallsPath(): "addon" | "koffi" | undefined {
  return lockCallsLoad;
}

/** The addon's file name on this CPU (native/build-addon.mjs's lockAddonName). */
export const LOCK_ADDON_NAME = `kvp-lock.linux-${process.arch}.node`;

/**
 * Where the kvp-lock addon is looked for: beside the JavaScript file that holds this code. That
 * file is pool-file's dist/libc.js when pool-file is used as a library, or an app's bundle
 * (kvp-pool.cjs, kvp-agent.cjs, the standalone executable), which inlines this module: each
 * ships the addon next to itself, so finding it needs no resolution through node_modules (which
 * a single executable cannot do). From the TypeScript sources (the workspace's tests) this file
 * is src/libc.ts, and the addon is the build's, in ../dist/.
 */
export function defaultLockAddonPath(): string {
  // import.meta.filename where there is one (Node 20.11+; in the bundles, their __filename): a
  // path as it is, where going through import.meta.url makes a URL at every start.
  const here = (import.meta.filename as string | undefined) ?? fileURLToPath(import.meta.url);
  return join(dirname(here), here.endsWith(".ts") ? "../dist" : ".", LOCK_ADDON_NAME);
}

/** What native/kvp-lock.c exports. */
interface LockAddon {
  /** fcntl(fd, cmd, &lock) with the fields l_type, l_whence, l_start, l_len, l_pid; rewrites them; errno. */
  fcntlLock(fd: number, cmd: number, fields: Float64Array): number;
  /** flock(fd, operation); errno. */
  flock(fd: number, operation: number): number;
}

/**
 * The lock calls through the kvp-lock addon at `file`, or undefined where it does not load: musl
 * (the addon is built against glibc; musl takes koffi's musl build), no such file, a file for
 * another CPU, or not our addon.
 */
export function loadLockAddon(file: string): LockCalls | undefined {
  if (looksLikeMusl()) return undefined;
  // process.dlopen rather than require: no module resolution, and the same call works inside
  // a single executable, whose require sees only Node's built-ins.
  const module = { exports: {} as Partial<LockAddon> };
  try {
    process.dlopen(module, file);
  } catch {
    return undefined;
  }
  const addon = module.exports;
  if (typeof addon.fcntlLock !== "function" || typeof addon.flock !== "function") return undefined;
  const fcntlLock = addon.fcntlLock;
  const flock = addon.flock;
  return {
    fcntlLock(fd, cmd, lock) {
      const fields = Float64Array.of(lock.l_type, lock.l_whence, lock.l_start, lock.l_len, lock.l_pid);
      const errno = fcntlLock(fd, cmd, fields);
      const [l_type = 0, l_whence = 0, l_start = 0, l_len = 0, l_pid = 0] = fields;
      return { errno, lock: { l_type, l_whence, l_start, l_len, l_pid } };
    },
    flock: (fd, operation) => flock(fd, operation),
  };
}

/** Name of an errno value (`EAGAIN`), or `errno N` for one Node does not know. */
export function errnoName(errno: number): string {
  errnoNames ??= namesOfErrnos();
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** Made on the first error to name: only error paths need node:os. */
let errnoNames: ReadonlyMap<number, string> | undefined;

function namesOfErrnos(): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  // First name wins, so EAGAIN rather than its alias EWOULDBLOCK.
  for (const [name, value] of Object.entries(osConstants.errno)) if (!names.has(value)) names.set(value, name);
  return names;
}

/** How koffi was loaded: its native module directly, or through koffi's own loader; undefined before. */
let koffiLoad: "direct" | "koffi" | undefined;

/** How this process loaded koffi (tests: the direct path must stay the one taken). */
export function koffiLoadPath(): "direct" | "koffi" | undefined {
  return koffiLoad;
}

/** The glibc dynamic loader of each CPU: present on a glibc system, absent on musl (Alpine). */
const GLIBC_LOADER: Readonly<Record<string, string>> = {
  x64: "/lib64/ld-linux-x86-64.so.2",
  arm64: "/lib/ld-linux-aarch64.so.1",
};

/** The musl dynamic loader of each CPU: present on a musl system (Alpine). */
const MUSL_LOADER: Readonly<Record<string, string>> = {
  x64: "/lib/ld-musl-x86_64.so.1",
  arm64: "/lib/ld-musl-aarch64.so.1",
};

/**
 * Whether this is a musl system: its loader is there and glibc's is not (a glibc system may
 * have musl's installed beside its own). Not "glibc's loader is absent": under qemu-user with
 * a glibc sysroot (-L, how arm64 is tested here) neither loader is visible at its path.
 */
export function looksLikeMusl(exists: (path: string) => boolean = existsSync): boolean {
  const glibc = GLIBC_LOADER[process.arch];
  const musl = MUSL_LOADER[process.arch];
  return musl !== undefined && exists(musl) && !(glibc !== undefined && exists(glibc));
}

/**
 * koffi, by its native module where koffi's own loader finds it on glibc (the platform
 * package's `linux_<cpu>/koffi.node`, resolved from koffi as Node would), else through that
 * loader. The loader reads node's ELF headers to choose between its glibc and musl builds and
 * probes a list of places: ~3 ms of the ~7 ms koffi costs, at every start of kvp-pool and
 * kvp-agent. Anything unexpected (musl, another layout, a native module of another version)
 * takes the loader's way, which stays the authority; what is lost is only its deprecated
 * aliases, which nothing here uses.
 */
function requireKoffi(req: NodeJS.Require): Koffi {
  try {
    const loader = GLIBC_LOADER[process.arch];
    if (loader !== undefined && existsSync(loader)) {
      const koffiMain = req.resolve("koffi");
      const version = (
        JSON.parse(readFileSync(join(dirname(koffiMain), "package.json"), "utf8")) as { version?: unknown }
      ).version;
      const platformMain = createRequire(koffiMain).resolve(`@koromix/koffi-linux-${process.arch}`);
      const native = createRequire(platformMain)(`./linux_${process.arch}/koffi.node`) as Partial<Koffi> & {
        version?: unknown;
      };
      if (native.version === version && typeof native.load === "function" && typeof native.struct === "function") {
        koffiLoad = "direct";
        return native as Koffi;
      }
    }
  } catch {
    // Fall through to koffi's own loader, which says what is wrong if it fails too.
  }
  koffiLoad = "koffi";
  return req("koffi") as Koffi;
}

/**
 * Every call of {@link Libc} through koffi, loading it (tests compare the addon's lock calls
 * with these).
 * @throws {PoolFileError} `io` when koffi cannot load.
 */
export function loadKoffiLibc(): Libc {
  let koffi: Koffi;
  let lib: ReturnType<Koffi["load"]>;
  try {
    // createRequire rather than a static import: this is the lazy part (see above), and a
    // synchronous load keeps tryLockFile and synthesizeAutoPool synchronous.
    koffi = requireKoffi(createRequire(import.meta.url));
    // The symbols of the running process: Node is linked against the C library, so this finds
    // glibc's or musl's functions without guessing a file name.
    lib = koffi.load(null);
  } catch (error) {
    throw new PoolFileError("io", `cannot load the C library through koffi: ${(error as Error).message}`, {
      cause: error,
    });
  }

  // Unnamed types: koffi names are process-global, and another copy of this module (or another
  // library) declaring "flock" must not collide with ours.
  const flockType = koffi.struct({
    l_type: "int16",
    l_whence: "int16",
    l_start: "int64",
    l_len: "int64",
    l_pid: "int32",
  });
  if (koffi.sizeof(flockType) !== FLOCK_STRUCT_BYTES || koffi.offsetof(flockType, "l_pid") !== 24) {
    throw new PoolFileError("io", `unexpected struct flock layout (${koffi.sizeof(flockType)} bytes)`);
  }
  const ifaddrsType = koffi.struct({
    ifa_next: "void *",
    ifa_name: "const char *",
    ifa_flags: "uint",
    ifa_addr: "void *",
    ifa_netmask: "void *",
    ifa_ifu: "void *",
    ifa_data: "void *",
  });
  const addrinfoType = koffi.struct({
    ai_flags: "int",
    ai_family: "int",
    ai_socktype: "int",
    ai_protocol: "int",
    ai_addrlen: "uint32",
    ai_addr: "void *",
    ai_canonname: "const char *",
    ai_next: "void *",
  });
  const flockInOut = koffi.inout(koffi.pointer(flockType));
  const voidPtrOut = koffi.out(koffi.pointer("void *"));

  // fcntl is variadic: each extra argument is passed as a (type, value) pair, and an inout
  // pointer takes a one-element array whose element koffi rewrites after the call.
  const fcntl = lib.func("fcntl", "int", ["int", "int", "..."]);
  const flock = lib.func("int flock(int fd, int operation)");
  const getifaddrs = lib.func("getifaddrs", "int", [voidPtrOut]);
  const freeifaddrs = lib.func("void freeifaddrs(void *ifa)");
  const inetNtop = lib.func("const char *inet_ntop(int af, const void *src, _Out_ uint8_t *dst, uint32_t size)");
  const gethostname = lib.func("int gethostname(_Out_ uint8_t *name, size_t len)");
  const getaddrinfo = lib.func("getaddrinfo", "int", [
    "const char *",
    "const char *",
    koffi.pointer(addrinfoType),
    voidPtrOut,
  ]);
  const freeaddrinfo = lib.func("void freeaddrinfo(void *res)");
  const gaiStrerror = lib.func("const char *gai_strerror(int errcode)");

  /** Address bytes of a sockaddr_in (at 4) or sockaddr_in6 (at 8). */
  const addressBytes = (sockaddr: unknown, family: number): Uint8Array | undefined => {
    const [offset, length] = family === AF_INET ? [4, 4] : family === AF_INET6 ? [8, 16] : [0, 0];
    if (length === 0) return undefined;
    return Uint8Array.from(koffi.decode(sockaddr, offset, koffi.array("uint8", length, "Array")) as number[]);
  };

  return {
    fcntlLock(fd, cmd, lock) {
      const inout: FlockFields[] = [{ ...lock }];
      const rc = fcntl(fd, cmd, flockInOut, inout) as number;
      const errno = rc === -1 ? koffi.errno() : 0;
      return { errno, lock: inout[0] ?? lock };
    },
    flock(fd, operation) {
      return (flock(fd, operation) as number) === -1 ? koffi.errno() : 0;
    },
    getifaddrs() {
      const head: unknown[] = [null];
      if ((getifaddrs(head) as number) === -1) return { ok: false, errno: koffi.errno() };
      const entries: InterfaceAddress[] = [];
      try {
        for (let p = head[0]; p !== null && p !== undefined; ) {
          const entry = koffi.decode(p, ifaddrsType) as {
            ifa_next: unknown;
            ifa_name: string | null;
            ifa_flags: number;
            ifa_addr: unknown;
          };
          const family =
            entry.ifa_addr === null || entry.ifa_addr === undefined
              ? undefined
              : (koffi.decode(entry.ifa_addr, "uint16") as number);
          entries.push({
            name: entry.ifa_name ?? "",
            flags: entry.ifa_flags,
            family,
            address: family === undefined ? undefined : addressBytes(entry.ifa_addr, family),
          });
          p = entry.ifa_next;
        }
      } finally {
        freeifaddrs(head[0]);
      }
      return { ok: true, entries };
    },
    inetNtop(family, address) {
      const buffer = new Uint8Array(50);
      return inetNtop(family, address, buffer, buffer.length) as string | null;
    },
    gethostname(length) {
      const buffer = new Uint8Array(length);
      if ((gethostname(buffer, length) as number) === -1) return undefined;
      const end = buffer.indexOf(0);
      return new TextDecoder().decode(end === -1 ? buffer : buffer.subarray(0, end));
    },
    getCanonicalName(node, hints) {
      const result: unknown[] = [null];
      const error = getaddrinfo(
        node,
        null,
        {
          ai_flags: hints.flags,
          ai_family: hints.family,
          ai_socktype: hints.socktype,
          ai_protocol: 0,
          ai_addrlen: 0,
          ai_addr: null,
          ai_canonname: null,
          ai_next: null,
        },
        result,
      ) as number;
      if (error !== 0) return { ok: false, error, message: (gaiStrerror(error) as string | null) ?? "" };
      try {
        const first = koffi.decode(result[0], addrinfoType) as { ai_canonname: string | null };
        return { ok: true, canonicalName: first.ai_canonname };
      } finally {
        freeaddrinfo(result[0]);
      }
    },
  };
}
