import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SimError } from "../errors.js";

/** Environment variable naming the C compiler (the usual make convention); default `cc`. */
export const COMPILER_ENV = "CC";

/** Options of {@link buildShim}. */
export interface BuildShimOptions {
  /** C compiler to run; default `$CC`, else `cc`. */
  readonly compiler?: string;
  /** Where built shims are kept; default `<os.tmpdir()>/hyperv-sim-shim-<user>`. */
  readonly cacheDir?: string;
}

const COMPILE_FLAGS = ["-shared", "-fPIC", "-O2", "-Wall"] as const;
// dlsym lives in libdl before glibc 2.34 and in libc after; naming libdl works for both.
const LINK_FLAGS = ["-ldl"] as const;

// The C source sits next to this module in src/device/, and is shipped as src/device/shim/
// beside dist/ (this module runs from dist/device/ once built).
const SOURCE_CANDIDATES = [
  new URL("./shim/hv_kvp_shim.c", import.meta.url),
  new URL("../../src/device/shim/hv_kvp_shim.c", import.meta.url),
];

const inFlight = new Map<string, Promise<string>>();

/**
 * Compiles the LD_PRELOAD shim (`src/device/shim/hv_kvp_shim.c`) into a shared object with the
 * machine's C compiler, once: the result is cached under a name made from a hash of the
 * source, compiler and flags, so a changed shim is rebuilt and an unchanged one is reused
 * across runs. Concurrent builds (parallel test files) are safe: each compiles to its own
 * temporary name and renames it into place.
 * @returns the absolute path of the shared object.
 * @throws {SimError} `compiler-missing` when the compiler cannot be run,
 *   `shim-build-failed` when it fails (with its output).
 */
export function buildShim(options: BuildShimOptions = {}): Promise<string> {
  const compiler = options.compiler ?? process.env[COMPILER_ENV] ?? "cc";
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const key = `${compiler}\0${cacheDir}`;
  let build = inFlight.get(key);
  if (!build) {
    build = compileOnce(compiler, cacheDir);
    inFlight.set(key, build);
    // A failure is not cached: the next call may find the compiler installed.
    build.catch(() => inFlight.delete(key));
  }
  return build;
}

/**
 * True when `compiler` (default as in {@link buildShim}) can be started, which is what the
 * real daemon needs beyond being installed.
 */
export async function isCompilerAvailable(compiler?: string): Promise<boolean> {
  try {
    await run(compiler ?? process.env[COMPILER_ENV] ?? "cc", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

async function compileOnce(compiler: string, cacheDir: string): Promise<string> {
  const sourcePath = findSource();
  const source = await readFile(sourcePath);
  const hash = createHash("sha256")
    .update(source)
    .update(`\0${compiler}\0${COMPILE_FLAGS.join(" ")}\0${LINK_FLAGS.join(" ")}`)
    .digest("hex")
    .slice(0, 16);
  const output = join(cacheDir, `hv_kvp_shim-${hash}.so`);
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  await assertOwnDir(cacheDir);
  if (existsSync(output)) return output;
  const temporary = `${output}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  try {
    await run(compiler, [...COMPILE_FLAGS, "-o", temporary, sourcePath, ...LINK_FLAGS]);
    await rename(temporary, output);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof SimError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") {
      throw new SimError(
        "compiler-missing",
        `cannot build the hv_kvp_daemon shim: C compiler ${JSON.stringify(compiler)} not found (install one with \`apt-get install gcc\`, or set ${COMPILER_ENV})`,
        { cause: error },
      );
    }
    const detail = String((error as { stderr?: unknown }).stderr ?? "").trim() || String(error);
    throw new SimError("shim-build-failed", `cannot build the hv_kvp_daemon shim with ${compiler}: ${detail}`, {
      cause: error,
    });
  }
  return output;
}

function findSource(): string {
  for (const candidate of SOURCE_CANDIDATES) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new SimError(
    "shim-build-failed",
    `cannot build the hv_kvp_daemon shim: its source is missing (looked for ${SOURCE_CANDIDATES.map((u) => fileURLToPath(u)).join(", ")})`,
  );
}

/**
 * The shim is loaded into a process we start, so a cache directory someone else controls
 * (pre-created in a shared /tmp) must not be trusted.
 */
async function assertOwnDir(dir: string): Promise<void> {
  const info = await stat(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new SimError(
      "shim-build-failed",
      `cannot use shim cache ${dir}: owned by uid ${info.uid}, not by us (${uid})`,
    );
  }
}

function defaultCacheDir(): string {
  // Per user, so one user's shim is never loaded into another user's processes.
  return join(tmpdir(), `hyperv-sim-shim-${userInfo().username}`);
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve();
    });
  });
}
