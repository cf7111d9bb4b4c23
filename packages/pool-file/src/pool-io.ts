import {
  type Stats,
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from "node:fs";
import { RECORD_BYTES } from "@hyperv-kvp/kvp-core";
import { PoolFileError, errnoCode } from "./errors.js";
import { type LockMode, lockFile } from "./lock.js";
import type { PlannedWrite } from "./record-write-plan.js";
import { type PoolTarget, describePool } from "./pool-target.js";

/** How long lock waits last unless told otherwise, in milliseconds. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

/** Records read per chunk when scanning a pool: 640 KiB, so huge pools stay in bounded memory. */
export const SCAN_CHUNK_RECORDS = 256;

/** Options shared by every pool operation. */
export interface PoolAccessOptions {
  /** Longest wait for the lock, in milliseconds (default {@link DEFAULT_LOCK_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Cancels a lock wait. */
  readonly signal?: AbortSignal;
}

/** An open, locked pool file. */
export interface LockedPool {
  readonly target: PoolTarget;
  readonly fd: number;
  /** File size when the lock was taken, in bytes. */
  readonly size: number;
}

/**
 * Opens `target`, takes the daemon-compatible lock for `mode`, runs `fn`, then unlocks and
 * closes, whatever happens. The file is opened read-only to read and read-write to write,
 * never truncated and never replaced: the daemon keeps its own descriptor to this inode.
 * The file is never opened through a symbolic link, and must be a regular file.
 * @param create create a missing file (mode 0644, as the daemon does; never through a link);
 *   the directory is never created.
 * @throws {PoolFileError} `daemon-absent` when the directory or file is missing, `unsafe` for
 *   a symbolic link or (as root) a directory another user can change, `locked` when the lock
 *   wait times out, `io` for other system errors (a FIFO, device or directory included).
 */
export async function withLockedPool<T>(
  target: PoolTarget,
  mode: LockMode,
  options: PoolAccessOptions & { readonly create?: boolean },
  fn: (pool: LockedPool) => T | Promise<T>,
): Promise<T> {
  const fd = openPool(target, mode, options.create === true);
  try {
    const lock = await lockFile(fd, mode, {
      timeoutMs: options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      describe: describePool(target),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      const size = fstatSync(fd).size;
      return await fn({ target, fd, size });
    } finally {
      lock.release();
    }
  } finally {
    closeSync(fd);
  }
}

function openPool(target: PoolTarget, mode: LockMode, create: boolean): number {
  checkPoolDir(target);
  // O_NOFOLLOW: a pool file is a regular file the daemon creates; a link in its place could
  // point root's read or write anywhere (docs/daemon-and-locks.md#opening-a-pool-file).
  // O_NONBLOCK: opening a FIFO put where a pool belongs would otherwise wait for a writer
  // forever, before any lock deadline applies. It changes nothing for a regular file.
  const flags = (mode === "read" ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let fd: number | undefined;
  try {
    fd = openSync(target.path, flags);
  } catch (error) {
    if (!(create && mode === "write" && errnoCode(error) === "ENOENT")) throw openError(target, error);
  }
  if (fd === undefined) fd = createPool(target, flags);
  let kind: string;
  try {
    kind = fileKind(fd);
  } catch (error) {
    closeSync(fd); // no descriptor leaks on a failed fstat
    throw new PoolFileError("io", `cannot examine ${describePool(target)}: ${errnoCode(error) ?? String(error)}`, {
      cause: error,
    });
  }
  if (kind !== "file") {
    closeSync(fd);
    throw new PoolFileError("io", `cannot open ${describePool(target)}: not a regular file (${kind})`);
  }
  return fd;
}

/**
 * Creates a missing pool file (mode 0644, as the daemon does) only where nothing exists:
 * O_EXCL never creates through a link. When something appeared since the first open found
 * nothing (the daemon starting, say), that is opened instead, under the same rules.
 */
function createPool(target: PoolTarget, flags: number): number {
  try {
    return openSync(target.path, flags | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw openError(target, error);
  }
  try {
    return openSync(target.path, flags);
  } catch (error) {
    throw openError(target, error);
  }
}

/**
 * As root, refuses a pool directory that someone else could change: whoever can create and
 * rename entries there can swap the pool file for a hard link or a new file between two of
 * root's operations. The daemon's directory is root's, mode 0755
 * (docs/daemon-and-locks.md#opening-a-pool-file). Other users only risk their own files.
 */
function checkPoolDir(target: PoolTarget): void {
  if (process.geteuid?.() !== 0) return;
  let stat: Stats | undefined;
  try {
    stat = statSync(target.dir, { throwIfNoEntry: false });
  } catch {
    return; // the open that follows reports what is wrong with the directory
  }
  if (stat === undefined || !stat.isDirectory()) return;
  const problem =
    stat.uid !== 0
      ? `is owned by uid ${stat.uid}, not root`
      : (stat.mode & 0o022) !== 0
        ? `is writable by ${(stat.mode & 0o020) !== 0 ? "its group" : "others"} (mode ${(stat.mode & 0o7777).toString(8).padStart(4, "0")})`
        : undefined;
  if (problem === undefined) return;
  throw new PoolFileError(
    "unsafe",
    `refusing ${describePool(target)}: its directory ${target.dir} ${problem}, so another user could replace the pool file; as root, pools are used only in a directory only root can change`,
  );
}

/** What `fd` is: "file" for a regular file, else a word for messages. */
function fileKind(fd: number): string {
  const stat = fstatSync(fd);
  if (stat.isFile()) return "file";
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a file";
}

function openError(target: PoolTarget, error: unknown): PoolFileError {
  const code = errnoCode(error);
  if (code === "ELOOP" && isSymlink(target.path)) {
    return new PoolFileError(
      "unsafe",
      `${describePool(target)} is a symbolic link: refusing to open a pool file through one (the daemon creates them as regular files)`,
      { cause: error },
    );
  }
  if (code === "ENOENT") {
    const what = dirExists(target.dir) ? `${target.path} does not exist` : `${target.dir} does not exist`;
    return new PoolFileError(
      "daemon-absent",
      `${what}: hv_kvp_daemon seems absent (not a Hyper-V guest, or hyperv-daemons/hypervkvpd not installed or not running)`,
      { cause: error },
    );
  }
  if (code === "EACCES" || code === "EPERM") {
    return new PoolFileError(
      "io",
      `cannot open ${describePool(target)}: permission denied (writing pools needs root)`,
      {
        cause: error,
      },
    );
  }
  return new PoolFileError("io", `cannot open ${describePool(target)}: ${code ?? String(error)}`, { cause: error });
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function dirExists(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** Reads `length` bytes at `position`, fewer only at end of file. */
export function readAt(pool: LockedPool, position: number, length: number): Uint8Array {
  return readInto(pool, position, new Uint8Array(length));
}

/** Reads `out.length` bytes at `position` into `out`; returns the part filled (shorter only at end of file). */
function readInto(pool: LockedPool, position: number, out: Uint8Array): Uint8Array {
  const length = out.length;
  let done = 0;
  while (done < length) {
    const n = io(pool, "read", () => readSync(pool.fd, out, done, length - done, position + done));
    if (n === 0) break;
    done += n;
  }
  return done === length ? out : out.subarray(0, done);
}

/**
 * Calls `visit` with the pool's whole records in chunks of {@link SCAN_CHUNK_RECORDS},
 * from record `fromIndex` on. Stops early when `visit` returns false.
 *
 * Every chunk is read into the same buffer, so `bytes` is valid only during its call: a
 * visitor that keeps bytes for later must copy them. (A fresh buffer per chunk made a scan
 * of a 100 MB pool peak at about the file's size: the garbage collector frees buffers
 * outside its heap late.)
 */
export function scanChunks(
  pool: LockedPool,
  visit: (bytes: Uint8Array, firstIndex: number) => boolean | undefined,
  fromIndex = 0,
): void {
  const total = Math.floor(pool.size / RECORD_BYTES);
  if (fromIndex >= total) return;
  // The same memory for every scan (a watcher scans at each change of the pool; a buffer per
  // scan left the garbage collector megabytes of them to free late). A scan started from a
  // visitor (scans are synchronous: only so) gets its own.
  const shared = !scanBusy;
  if (shared) scanBuffer ??= new Uint8Array(SCAN_CHUNK_RECORDS * RECORD_BYTES);
  const buffer =
    shared && scanBuffer !== undefined
      ? scanBuffer
      : new Uint8Array(Math.min(SCAN_CHUNK_RECORDS, total - fromIndex) * RECORD_BYTES);
  if (shared) scanBusy = true;
  try {
    for (let index = fromIndex; index < total; index += SCAN_CHUNK_RECORDS) {
      const count = Math.min(SCAN_CHUNK_RECORDS, total - index);
      const bytes = readInto(pool, index * RECORD_BYTES, buffer.subarray(0, count * RECORD_BYTES));
      if (visit(bytes.subarray(0, Math.floor(bytes.length / RECORD_BYTES) * RECORD_BYTES), index) === false) return;
    }
  } finally {
    if (shared) scanBusy = false;
  }
}

/** scanChunks' memory, one chunk of records, from the first scan on; busy while a scan uses it. */
let scanBuffer: Uint8Array | undefined;
let scanBusy = false;

/** Applies planned writes in order, each with one `pwrite`. */
export function applyWrites(pool: LockedPool, writes: readonly PlannedWrite[]): void {
  for (const w of writes) {
    let done = 0;
    while (done < w.bytes.length) {
      done += io(pool, "write", () => writeSync(pool.fd, w.bytes, done, w.bytes.length - done, w.offset + done));
    }
  }
}

/** Cuts the file to `size` bytes in place. */
export function truncateTo(pool: LockedPool, size: number): void {
  io(pool, "truncate", () => ftruncateSync(pool.fd, size));
}

function io<T>(pool: LockedPool, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new PoolFileError("io", `cannot ${what} ${describePool(pool.target)}: ${errnoCode(error) ?? String(error)}`, {
      cause: error,
    });
  }
}
