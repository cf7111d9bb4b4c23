// Runs a program's bundle through a V8 code cache, so a start does not parse and compile the
// bundle again. Counted with callgrind on `kvp-pool get` (Node 20), half of the instructions a
// run spends beyond a bare `node -e ''` went to parsing and compiling the bundle, and a cache
// turns most of that into a read. Node 22.1+ has a compile cache built in
// (module.enableCompileCache); Node 18 and 20, which guests run, need it done by hand, and this
// one way serves all of them.
//
// The launcher carries the bundle's text in a comment, the body of a function that never runs
// (the carrier), and reads it back with Function.prototype.toString, which hands out a slice of
// the script's own text: V8 keeps that text, so the bundle is neither copied nor read again.
// Node passes over a comment with a quick search for its end; a string literal it scans
// character by character, copies and hashes (callgrind, Node 20, kvp-host's 300 KB bundle: 8.4 M
// instructions as a string literal, 2.2 M in a comment, 3.0 M as a file beside the launcher
// read with readFileSync), and pre-parsing the same code as a function alone cost a third of a
// run's extra instructions.
// One file is what users run, ship and package (npm's bin, the .deb's
// /usr/lib/kvp-agent/*.cjs, the single executables' input). vm.Script compiles the text, from
// the cache when one fits.
//
// The cache is the user's own: compile-cache in $XDG_CACHE_HOME/hyperv-kvp, ~/.cache/hyperv-kvp,
// or for root without a home (a system service) /var/cache/hyperv-kvp; never a shared one such as
// /tmp. V8 checks a cache against its version, its flags and the source's length only, so a
// cache someone else could write would run their code as whoever starts the program: a
// directory or file not owned by this user, or writable by group or others, is not used.
// KVP_COMPILE_CACHE=off (or Node's NODE_DISABLE_COMPILE_CACHE=1) turns it off;
// KVP_COMPILE_CACHE=DIR puts it in DIR. On Windows it is in %LOCALAPPDATA%\hyperv-kvp, whose
// ACL (the profile's) keeps others out; there are no owners and modes to check there.
//
// One file per program copy and command (`kvp-pool-<where>.<build>.get.v8`): V8 caches the
// functions a run compiled, so a cache written by `--help` would leave `get` compiling its own
// code at every start. Nothing here may make the program fail: any problem with the cache
// means compiling as Node would, and a cache that cannot be written is not written.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { Script } from "node:vm";

/** What {@link runCached} runs and how it names its cache. */
export interface CachedProgram {
  /** The bundle's code (CommonJS), from the launcher's carrier ({@link sourceInCarrier}). */
  readonly source: string;
  /** A digest of `source`, made at build time: caches of other builds are never read. */
  readonly sourceId: string;
  /** The file the program runs as (the launcher's `__filename`): its `require` resolves from there. */
  readonly filename: string;
  /** Program name: the cache files' prefix (`kvp-pool`). */
  readonly program: string;
  /** The program's command names: the first argument that is one names the cache file. */
  readonly commands: readonly string[];
  /**
   * Node's createRequire. The launcher passes its own module's `module.constructor.createRequire`
   * (the CommonJS loader's, present on Node 18 to 24 and in single executables): loading the
   * public `node:module` for it would pull in the ES module loader, ~1 M instructions a start.
   */
  readonly createRequire: (filename: string) => NodeJS.Require;
}

/**
 * The text a carrier function holds: what lies between the `/*` and newline that open its body's
 * comment and the comment's end (scripts/lib/cached-launcher.mjs writes the carrier). A launcher
 * bundled again by a tool that drops comments (the standalone executable's) has a carrier that
 * returns the text instead, read from the executable's asset (cached-launcher.mjs's
 * withBundleAsAsset).
 * @param endMark what the build wrote for each comment end in the bundle, so that it could not
 *   end the carrier's comment early; undefined when the bundle had none (nothing is searched).
 */
export function sourceInCarrier(carrier: () => unknown, endMark?: string): string {
  const text = Function.prototype.toString.call(carrier);
  const start = text.indexOf("/*\n");
  const end = text.lastIndexOf("*/");
  if (start < 0 || end < start) {
    const returned = carrier();
    if (typeof returned === "string") return returned;
    throw new Error("the launcher's carrier holds no bundle: the file is damaged");
  }
  const source = text.slice(start + 3, end);
  return endMark === undefined ? source : source.replaceAll(endMark, "*/");
}

/** Where the cache goes for this process, or undefined when there is none (turned off, no home). */
export function compileCacheDir(
  env: NodeJS.ProcessEnv,
  uid: number | undefined,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const setting = env.KVP_COMPILE_CACHE;
  if (setting === "off" || env.NODE_DISABLE_COMPILE_CACHE === "1") return undefined;
  if (setting !== undefined && setting !== "") return setting;
  // Windows: the profile's local application data, which its ACL keeps to the user.
  if (platform === "win32") return env.LOCALAPPDATA ? join(env.LOCALAPPDATA, "hyperv-kvp", "compile-cache") : undefined;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "hyperv-kvp", "compile-cache");
  if (env.HOME) return join(env.HOME, ".cache", "hyperv-kvp", "compile-cache");
  return uid === 0 ? "/var/cache/hyperv-kvp/compile-cache" : undefined;
}

/** The command a run's cache is named after: the first argument that is one of `commands`. */
export function cacheCommand(argv: readonly string[], commands: readonly string[]): string {
  for (const arg of argv) {
    if (arg === "--") break;
    if (commands.includes(arg)) return arg;
  }
  return "none";
}

/**
 * Identity of a build on one Node: the build's digest and the Node build. A cache under
 * another identity is stale; V8's own check (its version, its flags, the source's length) is
 * the second line. FNV-1a, not a cryptographic hash: loading node:crypto costs more than a
 * cache saves, and the name only has to change when the bundle or Node does.
 */
export function cacheIdentity(sourceId: string, node: { version: string; arch: string }): string {
  return fnv1a(`${sourceId}:${node.version}:${node.arch}`);
}

/**
 * The part of a cache file's name before its identity: the program and where it is installed,
 * so two copies (npm's and a package's) keep a cache each instead of removing the other's at
 * every write.
 */
export function cachePrefix(program: string, filename: string): string {
  return `${program}-${fnv1a(filename)}`;
}

/**
 * True when `stat` belongs to `uid` and nobody else may write it (no group or other write bit).
 * On Windows (no uid, no mode bits) the directory's place decides: see compileCacheDir.
 */
export function ownedAndPrivate(
  stat: { uid: number; mode: number },
  uid: number | undefined,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (platform === "win32") return true;
  return uid !== undefined && stat.uid === uid && (stat.mode & 0o022) === 0;
}

/**
 * Runs the program's bundle as Node runs a CommonJS main module (its own `require`, `module`,
 * `__filename` and `__dirname`: the launcher's), compiled from the cache when one fits, and
 * leaves a cache for the next start, as the process exits, when there was none or V8 refused it.
 */
export function runCached(program: CachedProgram): void {
  const { filename } = program;
  const uid = process.getuid?.();
  const dir = compileCacheDir(process.env, uid);
  let cacheFile: string | undefined;
  let cached: Buffer | undefined;
  if (dir !== undefined) {
    const id = cacheIdentity(program.sourceId, { version: process.version, arch: process.arch });
    const command = cacheCommand(process.argv.slice(2), program.commands);
    cacheFile = join(dir, `${cachePrefix(program.program, filename)}.${id}.${command}.v8`);
    cached = readPrivateFile(cacheFile, uid);
  }
  // The same wrapper as Node's own, so the bundle sees what it would as a main module.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${program.source}\n});`, {
    filename,
    ...(cached === undefined ? {} : { cachedData: cached }),
  });
  if (cacheFile !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    const file = cacheFile;
    // At exit, not now: V8 caches the functions compiled so far, and by then the run has
    // compiled what its command needs.
    process.once("exit", () => writeCache(script, file, uid));
  }
  const module = { exports: {}, filename, id: ".", loaded: false, children: [], paths: [] };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, program.createRequire(filename), module, filename, dirname(filename));
}

/** A cache file's bytes, if it and its directory are this user's alone; else undefined. */
function readPrivateFile(file: string, uid: number | undefined): Buffer | undefined {
  let fd: number | undefined;
  try {
    if (!ownedAndPrivate(statSync(dirname(file)), uid)) return undefined;
    fd = openSync(file, "r");
    const stat = fstatSync(fd);
    if (!stat.isFile() || !ownedAndPrivate(stat, uid)) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, bytes, read, stat.size - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    return bytes;
  } catch {
    // Absent (the first run), unreadable: compiled as if there were no cache.
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes the cache whole or not at all (a temporary file renamed over it: several runs may
 * write at once), then removes what this copy of the program left for an earlier build or
 * Node, which no run will read again. Failures are ignored: the next run compiles as if there
 * were no cache.
 */
function writeCache(script: Script, file: string, uid: number | undefined): void {
  try {
    const dir = dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!ownedAndPrivate(statSync(dir), uid)) return;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, file);
    const [prefix, id] = file.slice(dir.length + 1).split(".");
    for (const name of readdirSync(dir)) {
      const [otherPrefix, otherId] = name.split(".");
      if (otherPrefix === prefix && otherId !== id) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // A read-only home, a full disk: no cache this time.
  }
}

/** 32-bit FNV-1a of `text`'s UTF-16 units, as 8 hex digits. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
