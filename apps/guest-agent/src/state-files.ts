import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { shellNameProblem } from "./env-names.js";

/** File names in the state directory. */
export const STATE_FILES = {
  /** Pool 0 items: `{ key: value }`, first record of a key wins, as in the daemon's lookups. */
  host: "host.json",
  /** Decoded pool-0 values: `{ key: { decoder, ok, value | error } }`. */
  decoded: "host-decoded.json",
  /** Pool 3 host facts: `{ key: value }`. */
  facts: "host-facts.json",
  /** Pool 0 items as `PREFIXKEY='value'` lines (default `kvp_KEY`) for systemd EnvironmentFile= or shell `.`. */
  env: "host.env",
  /** The agent's own status, read by `kvp-agent status`. */
  status: "agent-status.json",
} as const;

/** writeFileAtomic's temp files are `NAME.tmp-PID`: the writer's pid tells a stale one (see {@link removeStaleTempFiles}). */
const TEMP_SUFFIX = ".tmp-";

/** The decoded env files' directory in the state directory (decoded-env.ts's DECODED_ENV_DIR). */
const DECODED_DIR = "decoded";

/**
 * Removes the temp files a killed agent left (`kill -9`, power loss on a persistent state
 * directory): they hold host data, maybe secrets, that nothing would ever clean. Only our
 * naming, `NAME.tmp-PID` with NAME one of {@link STATE_FILES} in `dir` or a `*.env` in its
 * `decoded/` (not followed when it is a link), only files, and only when process PID is gone
 * or is this one (called at start-up, before this process writes): a live `once` or another
 * agent may be mid-write. A reused pid keeps its file until a later start. Never throws.
 * @returns the removed files, relative to `dir`.
 */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  const ours = new Set<string>(Object.values(STATE_FILES));
  const sweep = (sub: string, isOurs: (name: string) => boolean) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, sub));
    } catch {
      return;
    }
    for (const name of names) {
      const at = name.lastIndexOf(TEMP_SUFFIX);
      const pid = name.slice(at + TEMP_SUFFIX.length);
      if (at <= 0 || !/^[1-9][0-9]*$/.test(pid) || !isOurs(name.slice(0, at)) || writerAlive(Number(pid))) continue;
      const path = join(dir, sub, name);
      try {
        if (lstatSync(path).isDirectory()) continue;
        unlinkSync(path);
        removed.push(sub === "" ? name : `${sub}/${name}`);
      } catch {
        // Gone already, or not ours to remove: nothing to do.
      }
    }
  };
  sweep("", (name) => ours.has(name));
  try {
    if (lstatSync(join(dir, DECODED_DIR)).isDirectory()) sweep(DECODED_DIR, (name) => name.endsWith(".env"));
  } catch {
    // No decoded directory.
  }
  return removed;
}

/** True when process `pid` runs and is not this one (EPERM: it runs, as another user). */
function writerAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Options of the atomic writes. */
export interface AtomicWriteOptions {
  /**
   * Leave the file alone when it already holds exactly these bytes, with the mode and owner a
   * new file would get: no temp file, no rename, the inode and mtime kept. For a writer that
   * does not know what is there (its first write of the file); one that wrote the file itself
   * and knows its content changed would only pay for the comparison.
   */
  readonly unlessSame?: boolean;
}

/**
 * Writes a file so readers see the old content or the new, never a mix: a temporary file in
 * the same directory, created with `mode` (never wider, whatever the umask says later),
 * then renamed over the target. Right for our own files; never for pool files (the daemon
 * keeps locking the old inode). No fsync: the state directory is on tmpfs (/run), and after
 * a crash the agent rewrites everything from the pools anyway.
 */
export function writeFileAtomic(path: string, text: string, mode: number, options: AtomicWriteOptions = {}): void {
  writePiecesAtomic(path, [text], mode, options);
}

/** Pieces are encoded into this many bytes before each write: few calls, no copy of a whole file. */
const WRITE_BUFFER_BYTES = 1 << 20;

/** writePiecesAtomic's buffer, from its first call (the calls are synchronous: one at a time). */
let writeBuffer: Buffer | undefined;

/**
 * {@link writeFileAtomic} with the text given in pieces, written as they come, each encoded
 * straight into one buffer that is written when full: a file the size of a pool never exists
 * as one string in memory, and writing one leaves the garbage collector no joined strings
 * and encoded copies to free. With `unlessSame`, each full buffer is first compared with the
 * file's bytes at that offset; the temp file is created at the first difference, and the
 * equal bytes before it copied from the file.
 * @returns the bytes of the content (whether written or already there).
 */
export function writePiecesAtomic(
  path: string,
  pieces: Iterable<string>,
  mode: number,
  options: AtomicWriteOptions = {},
): number {
  const temp = `${path}${TEMP_SUFFIX}${process.pid}`;
  const old = options.unlessSame ? openIfKeepable(path, mode) : undefined;
  /** Bytes of the content so far that are the old file's bytes too (while no temp file exists). */
  let same = 0;
  let fd: number | undefined;
  const create = (): number => {
    // A leftover (a crash, a reused pid) or a planted symlink must not be reused: opening it
    // would keep its mode, or write host secrets wherever the link points. Only a new file.
    removeFile(temp);
    const created = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
    fd = created;
    if (old !== undefined) copyPrefix(old.fd, created, same);
    return created;
  };
  /** Writes `bytes` (the content's next bytes), or finds them already there. */
  const emit = (bytes: Uint8Array): void => {
    if (bytes.length === 0) return;
    if (fd === undefined && old !== undefined && same + bytes.length <= old.size && hasBytesAt(old.fd, same, bytes)) {
      same += bytes.length;
      return;
    }
    writeFileSync(fd ?? create(), bytes);
  };
  let written = 0;
  try {
    try {
      writeBuffer ??= Buffer.allocUnsafeSlow(WRITE_BUFFER_BYTES);
      const out = writeBuffer;
      let used = 0;
      const flush = () => {
        emit(out.subarray(0, used));
        written += used;
        used = 0;
      };
      for (const piece of pieces) {
        // At most 3 bytes of UTF-8 per UTF-16 unit: a piece that may not fit waits for room.
        if (piece.length * 3 > out.length - used) flush();
        if (piece.length * 3 > out.length) {
          const bytes = Buffer.from(piece, "utf8");
          emit(bytes);
          written += bytes.length;
        } else used += out.write(piece, used, "utf8");
      }
      flush();
      // Every byte found in the old file, and the old file no longer: nothing to write.
      if (fd === undefined && old !== undefined && same === old.size) return written;
      if (fd === undefined) create();
    } finally {
      if (fd !== undefined) closeSync(fd);
      if (old !== undefined) closeSync(old.fd);
    }
    renameSync(temp, path);
    return written;
  } catch (error) {
    // Also after a failed write (disk full): no partial copy of host data stays behind.
    if (fd !== undefined) removeFile(temp);
    throw error;
  }
}

/**
 * The file at `path`, open for reading, when keeping it could stand for a new write: a regular
 * file (not a link: O_NOFOLLOW), one link, owned by this process's user and group, with the
 * permission bits a new file of `mode` gets under the current umask. Anything else (missing
 * included) is undefined: the caller writes.
 */
function openIfKeepable(path: string, mode: number): { fd: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const st = fstatSync(fd);
  if (
    st.isFile() &&
    st.nlink === 1 &&
    st.uid === process.geteuid?.() &&
    st.gid === process.getegid?.() &&
    // process.umask() without an argument sets the mask back after reading it; no thread of
    // ours creates files meanwhile.
    (st.mode & 0o7777) === (mode & ~process.umask())
  )
    return { fd, size: st.size };
  closeSync(fd);
  return undefined;
}

/** Scratch space for comparisons and copies, grown on demand. */
let compareBuffer: Buffer | undefined;
function scratch(bytes: number): Buffer {
  if (compareBuffer === undefined || compareBuffer.length < bytes)
    compareBuffer = Buffer.allocUnsafeSlow(Math.min(Math.max(bytes, 4096), WRITE_BUFFER_BYTES));
  return compareBuffer;
}

/** True when file `fd` holds `bytes` at `position`. */
function hasBytesAt(fd: number, position: number, bytes: Uint8Array): boolean {
  for (let done = 0; done < bytes.length; ) {
    const want = Math.min(bytes.length - done, WRITE_BUFFER_BYTES);
    const buf = scratch(want);
    const got = readSync(fd, buf, 0, want, position + done);
    if (got === 0 || !buf.subarray(0, got).equals(bytes.subarray(done, done + got))) return false;
    done += got;
  }
  return true;
}

/** Copies the first `length` bytes of file `from` to file `to` (at its current offset). */
function copyPrefix(from: number, to: number, length: number): void {
  for (let done = 0; done < length; ) {
    const buf = scratch(Math.min(length - done, WRITE_BUFFER_BYTES));
    const got = readSync(from, buf, 0, Math.min(length - done, buf.length), done);
    if (got === 0) throw new Error("the file being replaced shrank while it was copied");
    writeFileSync(to, buf.subarray(0, got));
    done += got;
  }
}

/**
 * Creates the state directory (mode 0700: it holds host secrets) if it is missing.
 * An existing directory's mode is left alone: the admin (or systemd's RuntimeDirectoryMode) chose it.
 */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Path of a state file. */
export function statePath(dir: string, name: keyof typeof STATE_FILES): string {
  return join(dir, STATE_FILES[name]);
}

/** Removes a state file; one that is not there is fine. */
export function removeStateFile(path: string): void {
  removeFile(path);
}

/**
 * Removes a file or a link (not followed); one that is not there is fine, a directory is an
 * error. What `rmSync(path, { force: true })` does, without the module rmSync loads on its
 * first call (a millisecond or more of every `kvp-agent once`).
 */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Reads a `{ key: string }` JSON file written by the agent; anything else (missing, garbage,
 * non-string values) reads as undefined, since a previous run's state is only a hint.
 */
export function readStringMap(path: string): Map<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== "string") return undefined;
    map.set(key, value);
  }
  return map;
}

/** A map as a JSON object text (keys in map order; `__proto__` stays data). */
export function mapToJson(map: ReadonlyMap<string, unknown>): string {
  return `${JSON.stringify(Object.fromEntries(map), null, 2)}\n`;
}

/**
 * Writes {@link mapToJson}'s text (the same bytes) atomically, in pieces: one entry at a time.
 * @returns the bytes written.
 */
export function writeJsonMap(
  path: string,
  map: ReadonlyMap<string, unknown>,
  mode: number,
  options: AtomicWriteOptions = {},
): number {
  return writePiecesAtomic(path, jsonMapPieces(map), mode, options);
}

/** Keys an object lists first, in ascending order, as JSON.stringify of an object does: array indexes. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 2 ** 32 - 1;
}

function* jsonMapPieces(map: ReadonlyMap<string, unknown>): Generator<string> {
  if (map.size === 0) {
    yield "{}\n";
    return;
  }
  const indexes = [...map.keys()].filter(isArrayIndex).sort((a, b) => Number(a) - Number(b));
  const keys = indexes.length === 0 ? map.keys() : [...indexes, ...[...map.keys()].filter((k) => !isArrayIndex(k))];
  let first = true;
  for (const key of keys) {
    const value = JSON.stringify(map.get(key), null, 2);
    // Nested lines one level deeper; JSON text has no raw newline inside a string.
    yield `${first ? "{\n" : ",\n"}  ${JSON.stringify(key)}: ${value.includes("\n") ? value.replace(/\n/g, "\n  ") : value}`;
    first = false;
  }
  yield "\n}\n";
}

/**
 * Quotes a value for both `source` in a POSIX shell and systemd's EnvironmentFile=: single
 * quotes, in which neither expands anything, and a quote itself as `'\''` (close, escaped
 * quote, reopen), which both parse the same way. Newlines stay inside the quotes.
 */
export function quoteEnvValue(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * host.env's text and the keys left out: those whose `prefix + key` fails shellNameProblem
 * (not a variable name, or a name of the system, of kvp-agent, of zsh or of a tool), and
 * those whose value holds a NUL (pool values end at their first NUL; others may not). The
 * config refuses a prefix that could let a key through to such names (envPrefixProblem);
 * each name is checked here too, whatever prefix a caller passes.
 */
export function renderEnvFile(items: ReadonlyMap<string, string>, prefix: string): { text: string; skipped: string[] } {
  const skipped: string[] = [];
  const text = [...envFilePieces(items, prefix, skipped)].join("");
  return { text, skipped };
}

/**
 * Writes {@link renderEnvFile}'s text (the same bytes) atomically, in pieces: one line at a time.
 * @returns the keys left out, as renderEnvFile, and the bytes written.
 */
export function writeEnvFile(
  path: string,
  items: ReadonlyMap<string, string>,
  prefix: string,
  mode: number,
  options: AtomicWriteOptions = {},
): { skipped: string[]; bytes: number } {
  const skipped: string[] = [];
  const bytes = writePiecesAtomic(path, envFilePieces(items, prefix, skipped), mode, options);
  return { skipped, bytes };
}

/** host.env's lines, each with its newline; the keys left out are pushed to `skipped`. */
function* envFilePieces(items: ReadonlyMap<string, string>, prefix: string, skipped: string[]): Generator<string> {
  yield "# Written by kvp-agent from Hyper-V KVP pool 0; do not edit (rewritten at every change).\n";
  for (const [key, value] of items) {
    const name = prefix + key;
    // A NUL ends a shell variable, and dash and bash drop it and misread the quote after it.
    if (shellNameProblem(name) !== undefined || value.includes("\0")) {
      skipped.push(key);
      continue;
    }
    yield `${name}=${quoteEnvValue(value)}\n`;
  }
}
