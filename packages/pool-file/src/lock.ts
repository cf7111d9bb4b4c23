import { type BigIntStats, fstatSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { PoolFileError, errnoCode } from "./errors.js";
import {
  EACCES,
  EAGAIN,
  EINTR,
  F_OFD_GETLK,
  F_OFD_SETLK,
  F_RDLCK,
  F_UNLCK,
  F_WRLCK,
  type FlockFields,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  SEEK_SET,
  errnoName,
  libc,
} from "./libc.js";

// Who locks pool files, and how (see docs/daemon-and-locks.md#who-locks-pool-files and #our-lock):
// - hv_kvp_daemon: classic POSIX fcntl F_SETLKW/F_WRLCK on the whole file, for reads and writes.
// - cloud-init: flock(LOCK_EX) only, around appends to pool 1; azure-init (libazureinit-kvp):
//   flock first, then a blocking OFD fcntl lock (F_OFD_SETLKW).
// On Linux the two families never see each other. The fcntl lock is what excludes the daemon
// (and azure-init, and our own processes); it is an OFD lock rather than a classic one: it
// still conflicts with the daemon's classic lock, but it belongs to our descriptor, so Node or
// a library closing another descriptor of the same file cannot silently drop it.
//
// The flock is only for writers, and only against writers: cloud-init appends to pool 1 under
// flock alone, and a write of ours racing that append could lose it. Pool files are
// world-readable, so any local user can also take a flock, through a read-only descriptor, and
// hold it forever (docs/daemon-and-locks.md#locks-other-users-can-take). So:
// - readers take no flock: the fcntl read lock alone keeps every writer that changes records
//   in place out, and a half-done append reads as a trailing fragment, which readers ignore;
// - writers take flock(LOCK_EX) first (azure-init's order: the same order on both sides rules
//   out the deadlock where each holds what the other waits for), but do not wait for a flock
//   held only through descriptors that cannot write the file: such a holder writes nothing we
//   could race. A holder that cannot be seen counts as a writer.
//
// We never wait inside the kernel: F_OFD_SETLKW on the main thread would freeze the event loop,
// and on a worker thread it cannot be cancelled. Instead the non-blocking forms are polled with
// a short exponential back-off until a deadline.

/** Shared for reading, exclusive for writing. */
export type LockMode = "read" | "write";

/** A held lock on a file descriptor. */
export interface FileLock {
  /** The mode it was taken in. */
  readonly mode: LockMode;
  /**
   * Drops the fcntl lock, then the flock if one was taken. Idempotent. Call it before closing the descriptor:
   * a closed descriptor number may already name another file.
   * @throws {PoolFileError} `io` when the kernel refuses to unlock (both are still attempted).
   */
  release(): void;
}

/** Options of {@link lockFile}. */
export interface LockOptions {
  /** Longest wait, in milliseconds (default 5000); 0 tries once. */
  readonly timeoutMs?: number;
  /** Cancels the wait; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * What the descriptor is, for messages, e.g. `pool 1 (guest) /var/lib/hyperv/.kvp_pool_1`;
   * defaults to the descriptor's path.
   */
  readonly describe?: string;
}

/** Who holds a lock that conflicts with the one wanted, as far as the kernel tells. */
export interface LockHolder {
  /** Lock family: a classic POSIX fcntl lock (hv_kvp_daemon), an OFD fcntl lock, or a flock. */
  readonly kind: "posix" | "ofd" | "flock";
  /** Process id, when it could be found. */
  readonly pid?: number;
  /** That process's command name (`/proc/PID/comm`, e.g. `hv_kvp_daemon`), when readable. */
  readonly command?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** First pause between attempts, in milliseconds; doubled after each miss. */
const FIRST_DELAY_MS = 1;
/** Longest pause between attempts, in milliseconds: short enough to win a gap between daemon operations. */
const MAX_DELAY_MS = 25;

/**
 * A monotonic clock in ms. Not `performance.now()`: Node loads perf_hooks on the global's first
 * use, ~1 ms of every kvp-pool command that takes a lock.
 */
function monotonicMs(): number {
  return process.uptime() * 1000;
}

/**
 * Takes the daemon-compatible lock on `fd` for `mode`, waiting without blocking the event loop
 * until it is held or the deadline passes. To read: a whole-file open-file-description fcntl
 * read lock (F_RDLCK). To write: a whole-file `flock(LOCK_EX)`, unless only descriptors that
 * cannot write the file hold a flock on it, then a whole-file OFD fcntl write lock (F_WRLCK).
 * A write lock needs `fd` open for writing, a read lock open for reading.
 * @throws {PoolFileError} `locked` when the deadline passes (naming the holder where the
 *   kernel tells), `invalid` for a bad timeout, `io` for other system errors. Rejects with
 *   `signal.reason` when aborted. Nothing stays locked after a failure.
 */
export async function lockFile(fd: number, mode: LockMode, options: LockOptions = {}): Promise<FileLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new PoolFileError("invalid", `invalid lock timeout: ${timeoutMs} (want milliseconds >= 0)`);
  }
  options.signal?.throwIfAborted();
  const deadline = monotonicMs() + timeoutMs;
  const flock: FlockState = { settled: mode === "read", held: false };
  let delay = FIRST_DELAY_MS;
  try {
    for (;;) {
      // Once we have the flock we keep it while waiting for the fcntl lock, as azure-init does.
      if (mode === "write" && !flock.held) settleFlock(fd, flock, options.describe);
      if (flock.settled && tryFcntl(fd, mode, options.describe))
        return heldLock(fd, mode, flock.held, options.describe);
      const remaining = deadline - monotonicMs();
      if (remaining <= 0) throw lockedError(fd, mode, flock.settled ? "fcntl" : "flock", timeoutMs, options.describe);
      await pause(Math.min(delay, Math.ceil(remaining)), options.signal);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  } catch (error) {
    if (flock.held) libc().flock(fd, LOCK_UN);
    throw error;
  }
}

/**
 * One attempt at the lock {@link lockFile} takes, for synchronous callers: the lock, or
 * undefined when someone else holds a conflicting part (nothing is left held then).
 * @throws {PoolFileError} `io` for system errors other than "held by someone else".
 */
export function tryLockFile(fd: number, mode: LockMode): FileLock | undefined {
  const flock: FlockState = { settled: mode === "read", held: false };
  if (!flock.settled) settleFlock(fd, flock, undefined);
  if (!flock.settled) return undefined;
  let haveFcntl = false;
  try {
    haveFcntl = tryFcntl(fd, mode, undefined);
  } finally {
    if (!haveFcntl && flock.held) libc().flock(fd, LOCK_UN);
  }
  return haveFcntl ? heldLock(fd, mode, flock.held, undefined) : undefined;
}

/** A writer's flock: `settled` once taken (`held`) or found held only by readers. */
interface FlockState {
  settled: boolean;
  held: boolean;
}

/**
 * Tries for the flock. Once found held only by readers, a writer goes on without it but still
 * takes it if it comes free while the fcntl lock is awaited; /proc is searched only until then.
 */
function settleFlock(fd: number, state: FlockState, describe: string | undefined): void {
  if (tryFlock(fd, "write", describe)) {
    state.held = true;
    state.settled = true;
  } else if (!state.settled && flockHeldOnlyByReaders(fd)) {
    state.settled = true;
  }
}

/**
 * Who holds a lock on `fd`'s file that would keep us from taking `mode`, for messages. The
 * fcntl family is asked first (F_OFD_GETLK names classic holders such as hv_kvp_daemon by
 * pid); OFD and flock holders are looked up by the file's device and inode in `/proc/locks`
 * and, for OFD locks (which newer kernels list with pid -1), in `/proc/PID/fdinfo`. As in
 * {@link lockFile}, a flock matters only to `write`, and not when held only through
 * descriptors that cannot write the file. Locks held through `fd` itself are not reported.
 * Best effort: processes we may not inspect stay unnamed.
 * @returns the holder (possibly without pid), or undefined when nothing conflicts.
 * @throws {PoolFileError} `io` when the descriptor cannot be examined.
 */
export function findLockHolder(fd: number, mode: LockMode): LockHolder | undefined {
  if (mode === "read") return findFcntlHolder(fd, mode);
  return findFcntlHolder(fd, mode) ?? (flockHeldOnlyByReaders(fd) ? undefined : findFlockHolder(fd, mode));
}

function heldLock(fd: number, mode: LockMode, haveFlock: boolean, describe: string | undefined): FileLock {
  let released = false;
  return {
    mode,
    release() {
      if (released) return;
      released = true;
      const c = libc();
      // Reverse order of taking: a waiter that needs both then finds the fcntl lock free first.
      const fcntlErrno = c.fcntlLock(fd, F_OFD_SETLK, wholeFile(F_UNLCK)).errno;
      const flockErrno = haveFlock ? c.flock(fd, LOCK_UN) : 0;
      const errno = fcntlErrno || flockErrno;
      if (errno !== 0) {
        throw new PoolFileError("io", `cannot unlock ${describeFd(fd, describe)}: ${errnoName(errno)}`);
      }
    },
  };
}

/** True when taken, false when someone else holds a conflicting flock. */
function tryFlock(fd: number, mode: LockMode, describe: string | undefined): boolean {
  const operation = (mode === "write" ? LOCK_EX : LOCK_SH) | LOCK_NB;
  for (;;) {
    const errno = libc().flock(fd, operation);
    if (errno === 0) return true;
    if (errno === EAGAIN) return false;
    if (errno !== EINTR) throw lockIoError(fd, mode, "flock", errno, describe);
  }
}

/** True when taken, false when someone else holds a conflicting fcntl lock. */
function tryFcntl(fd: number, mode: LockMode, describe: string | undefined): boolean {
  for (;;) {
    const { errno } = libc().fcntlLock(fd, F_OFD_SETLK, wholeFile(mode === "write" ? F_WRLCK : F_RDLCK));
    if (errno === 0) return true;
    if (errno === EAGAIN || errno === EACCES) return false;
    if (errno !== EINTR) throw lockIoError(fd, mode, "fcntl", errno, describe);
  }
}

function wholeFile(type: number): FlockFields {
  // l_pid must be 0 for OFD commands; length 0 covers the file however far it grows.
  return { l_type: type, l_whence: SEEK_SET, l_start: 0, l_len: 0, l_pid: 0 };
}

function lockIoError(
  fd: number,
  mode: LockMode,
  family: "flock" | "fcntl",
  errno: number,
  describe: string | undefined,
): PoolFileError {
  const name = errnoName(errno);
  const hint = name === "EBADF" ? ` (is the file open for ${mode === "write" ? "writing" : "reading"}?)` : "";
  return new PoolFileError("io", `cannot ${family}-lock ${describeFd(fd, describe)} for ${mode}: ${name}${hint}`);
}

function lockedError(
  fd: number,
  mode: LockMode,
  waitingFor: "flock" | "fcntl",
  timeoutMs: number,
  describe: string | undefined,
): PoolFileError {
  let holder: LockHolder | undefined;
  try {
    holder = waitingFor === "fcntl" ? findFcntlHolder(fd, mode) : findFlockHolder(fd, mode);
  } catch {
    // The message is the point here; a failed diagnosis must not replace it.
  }
  const kind = { posix: "POSIX fcntl lock", ofd: "OFD fcntl lock", flock: "flock" } as const;
  const owner = holder?.pid === undefined ? undefined : processOwner(holder.pid);
  const who =
    holder === undefined
      ? "the holder could not be identified"
      : holder.pid === undefined
        ? `held with a ${kind[holder.kind]} by a process that could not be identified`
        : `held by pid ${holder.pid}${holder.command === undefined ? "" : ` (${holder.command})`} with a ${kind[holder.kind]}${owner === undefined ? "" : `, as user ${owner.name}`}`;
  // Any user who can read a pool can take an fcntl read lock on it; nothing but its holder
  // ends it (docs/daemon-and-locks.md#locks-other-users-can-take).
  const note =
    mode === "write" &&
    waitingFor === "fcntl" &&
    owner !== undefined &&
    owner.uid !== 0 &&
    owner.uid !== process.geteuid?.()
      ? `; a read lock, which any user who can read the file may take, keeps every writer out, hv_kvp_daemon included`
      : "";
  return new PoolFileError(
    "locked",
    `${describeFd(fd, describe)} is locked: no ${mode} lock within ${timeoutMs} ms; ${who}${note}`,
  );
}

/** The effective user of `pid` (its id, and its name from `/etc/passwd` or else the id), when readable. */
function processOwner(pid: number): { readonly uid: number; readonly name: string } | undefined {
  let uid: number;
  try {
    // "Uid:\treal\teffective\tsaved\tfs"
    const match = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (!match) return undefined;
    uid = Number(match[1]);
  } catch {
    return undefined;
  }
  let name = String(uid);
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [user, , id] = line.split(":");
      if (id === String(uid) && user) {
        name = user;
        break;
      }
    }
  } catch {
    // The id alone still says who.
  }
  return { uid, name };
}

/** `describe`, or the descriptor's path as the kernel knows it. */
function describeFd(fd: number, describe: string | undefined): string {
  if (describe !== undefined) return describe;
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return `file descriptor ${fd}`;
  }
}

function findFcntlHolder(fd: number, mode: LockMode): LockHolder | undefined {
  const { errno, lock } = libc().fcntlLock(fd, F_OFD_GETLK, wholeFile(mode === "write" ? F_WRLCK : F_RDLCK));
  if (errno !== 0)
    throw new PoolFileError("io", `cannot test the lock on ${describeFd(fd, undefined)}: ${errnoName(errno)}`);
  if (lock.l_type === F_UNLCK) return undefined;
  // A classic lock names its owner; 0 means the owner is outside our pid namespace.
  if (lock.l_pid > 0) return withCommand("posix", lock.l_pid);
  if (lock.l_pid === 0) return { kind: "posix" };
  // An OFD lock (l_pid -1) has no owning process. Older kernels listed its creator in
  // /proc/locks; current ones print -1 there too, so look for the descriptor in /proc/*/fdinfo.
  const file = fileId(fd);
  const conflicting = (l: ProcLock) => l.family === "OFDLCK" && conflicts(l, mode) && sameFile(l, file);
  const listed = readProcLocks().find((l) => conflicting(l) && l.pid > 0);
  if (listed) return withCommand("ofd", listed.pid);
  const pid = findDescriptorHolder(file, fd, conflicting);
  return pid === undefined ? { kind: "ofd" } : withCommand("ofd", pid);
}

function findFlockHolder(fd: number, mode: LockMode): LockHolder | undefined {
  const file = fileId(fd);
  const conflicting = (l: ProcLock) => l.family === "FLOCK" && conflicts(l, mode) && sameFile(l, file);
  const candidates = readProcLocks().filter(conflicting);
  // /proc/locks cannot tell our own descriptor's flock from another's: skip one entry that
  // looks like it, when /proc/self/fdinfo says `fd` holds a flock.
  const own = readFdLocks(process.pid, fd).find((l) => l.family === "FLOCK");
  if (own) {
    const index = candidates.findIndex((l) => l.pid === own.pid && l.type === own.type);
    if (index !== -1) candidates.splice(index, 1);
  }
  const first = candidates.find((l) => l.pid !== process.pid) ?? candidates[0];
  if (first === undefined) return undefined;
  return first.pid > 0 ? withCommand("flock", first.pid) : { kind: "flock" };
}

/** The access mode bits of open flags (`O_ACCMODE`); 0 is `O_RDONLY`. */
const O_ACCMODE = 0o3;

/**
 * True when someone holds a flock on `fd`'s file, but only through descriptors that cannot
 * write it (all an unprivileged user can open on a 0644 pool), so a writer need not wait for
 * it. False when nothing holds one (try again), when a holder's descriptor can write, or when a
 * holder cannot be seen (outside our pid namespace, or not ours to inspect without root).
 */
function flockHeldOnlyByReaders(fd: number): boolean {
  let file: FileId;
  try {
    file = fileId(fd);
  } catch {
    return false;
  }
  const listed = readProcLocks().filter((l) => l.family === "FLOCK" && sameFile(l, file));
  if (listed.length === 0 || listed.some((l) => l.pid <= 0)) return false;
  // The lockers /proc/locks names first; a flock belongs to a description, which may since
  // have passed to another process (inherited, sent), so then every process is searched.
  const pids = [...new Set(listed.map((l) => l.pid))];
  if (pids.some((pid) => !mayInspect(pid))) return false;
  let holders = flockDescriptors(file, fd, pids);
  if (!pids.every((pid) => holders.some((h) => h.pid === pid))) {
    // Only root sees every process's descriptors; anyone else could miss a writer.
    if (process.geteuid?.() !== 0) return false;
    holders = flockDescriptors(file, fd, undefined);
  }
  return holders.length > 0 && holders.every((h) => !h.writable);
}

/** Whether `/proc/PID/fd` can be read, or the process is gone (a stale pid hides nothing). */
function mayInspect(pid: number): boolean {
  try {
    readdirSync(`/proc/${pid}/fd`);
    return true;
  } catch (error) {
    return errnoCode(error) === "ENOENT";
  }
}

/**
 * Descriptors of `file` that hold a flock on it, in `pids` (or every process we may inspect),
 * skipping `ownFd` of this process, each with whether it is open for writing.
 */
function flockDescriptors(
  file: FileId,
  ownFd: number,
  pids: readonly number[] | undefined,
): { readonly pid: number; readonly writable: boolean }[] {
  const found: { pid: number; writable: boolean }[] = [];
  forEachDescriptorOf(file, ownFd, pids, (pid, fd) => {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
    } catch {
      return false;
    }
    if (!parseProcLocks(text).some((l) => l.family === "FLOCK" && !l.waiting)) return false;
    const flags = /^flags:\s*([0-7]+)/m.exec(text);
    // Unknown flags: count it as a writer, the safe side.
    found.push({ pid, writable: flags === null || (Number.parseInt(flags[1]!, 8) & O_ACCMODE) !== 0 });
    return false;
  });
  return found;
}

function withCommand(kind: LockHolder["kind"], pid: number): LockHolder {
  try {
    const command = readFileSync(`/proc/${pid}/comm`, "utf8").replace(/\n$/, "");
    return { kind, pid, command };
  } catch {
    return { kind, pid };
  }
}

/** Whether an existing lock of this type keeps us from taking `mode`. */
function conflicts(lock: ProcLock, mode: LockMode): boolean {
  return mode === "write" ? lock.type === "READ" || lock.type === "WRITE" : lock.type === "WRITE";
}

interface FileId {
  readonly major: number;
  readonly minor: number;
  readonly inode: bigint;
  readonly dev: bigint;
}

function fileId(fd: number): FileId {
  let dev: bigint;
  let inode: bigint;
  try {
    ({ dev, ino: inode } = fstatSync(fd, { bigint: true }));
  } catch (error) {
    throw new PoolFileError("io", `cannot examine file descriptor ${fd}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // glibc's gnu_dev_major/minor: st_dev packs a 12-bit major and 20-bit minor in this order.
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor, inode, dev };
}

function sameFile(lock: ProcLock, file: FileId): boolean {
  return lock.major === file.major && lock.minor === file.minor && lock.inode === file.inode;
}

/** One line of `/proc/locks` (or a `lock:` line of `/proc/PID/fdinfo/FD`). */
export interface ProcLock {
  /** `POSIX`, `OFDLCK`, `FLOCK`, `LEASE`, `DELEG`, `ACCESS`… */
  readonly family: string;
  /** `READ`, `WRITE` (or `UNLCK`/`NONE` for leases being broken). */
  readonly type: string;
  /** Owning or creating process; -1 for OFD locks on current kernels; 0 when not visible. */
  readonly pid: number;
  /** Device major number of the file's filesystem. */
  readonly major: number;
  /** Device minor number. */
  readonly minor: number;
  /** Inode number. */
  readonly inode: bigint;
  /** A waiter (`->` lines): it does not hold the lock, it is blocked on the line above. */
  readonly waiting: boolean;
}

// "1: POSIX  ADVISORY  WRITE 1234 fe:00:2146673 0 EOF", waiters with "-> " after the id,
// fdinfo lines with a "lock:\t" prefix; leases read "LEASE  ACTIVE    READ".
const PROC_LOCK_LINE = /^(?:lock:\s*)?\d+:\s+(->\s+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/;

/**
 * Parses `/proc/locks` text (or the `lock:` lines of an fdinfo file). Lines without an inode
 * (`<none>`) and anything unrecognised are skipped.
 */
export function parseProcLocks(text: string): ProcLock[] {
  const locks: ProcLock[] = [];
  for (const line of text.split("\n")) {
    const m = PROC_LOCK_LINE.exec(line);
    if (!m) continue;
    locks.push({
      waiting: m[1] !== undefined,
      family: m[2]!,
      type: m[3]!,
      pid: Number(m[4]),
      major: Number.parseInt(m[5]!, 16),
      minor: Number.parseInt(m[6]!, 16),
      inode: BigInt(m[7]!),
    });
  }
  return locks;
}

/** Holders only: waiters appear in /proc/locks too, but hold nothing. */
function readProcLocks(): ProcLock[] {
  try {
    return parseProcLocks(readFileSync("/proc/locks", "utf8")).filter((l) => !l.waiting);
  } catch {
    return [];
  }
}

function readFdLocks(pid: number, fd: number | string): ProcLock[] {
  try {
    return parseProcLocks(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
  } catch {
    return [];
  }
}

/**
 * The first process with a descriptor of `file` whose fdinfo lists a lock matching `wanted`,
 * skipping `ownFd` of this process. Reads only processes we may inspect (ours, or all as root).
 */
function findDescriptorHolder(file: FileId, ownFd: number, wanted: (l: ProcLock) => boolean): number | undefined {
  let holder: number | undefined;
  forEachDescriptorOf(file, ownFd, undefined, (pid, fd) => {
    if (!readFdLocks(pid, fd).some(wanted)) return false;
    holder = pid;
    return true;
  });
  return holder;
}

/**
 * Calls `visit` for each descriptor of `file` in `pids` (or every process we may inspect),
 * skipping `ownFd` of this process, until it returns true.
 */
function forEachDescriptorOf(
  file: FileId,
  ownFd: number,
  pids: readonly number[] | undefined,
  visit: (pid: number, fd: string) => boolean,
): void {
  let candidates: readonly number[];
  try {
    candidates =
      pids ??
      readdirSync("/proc")
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
  } catch {
    return;
  }
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      if (pid === process.pid && fd === String(ownFd)) continue;
      // stat through the fd link is cheaper than reading fdinfo, and rules out most fds.
      let stat: BigIntStats | undefined;
      try {
        stat = statSync(`/proc/${pid}/fd/${fd}`, { bigint: true, throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (stat === undefined || stat.ino !== file.inode || stat.dev !== file.dev) continue;
      if (visit(pid, fd)) return;
    }
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
