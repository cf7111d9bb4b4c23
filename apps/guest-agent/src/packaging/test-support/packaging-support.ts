// Shared by the packaging tests (src/packaging/*.test.ts): they run the BUILT bundles
// (dist/kvp-agent.cjs, built by the project's globalSetup, and kvp-pool's
// apps/pool-tools/dist/kvp-pool.cjs, which the package ships too: see {@link builtPoolBundle})
// and the built .deb as users do, under Debian 12's Node (18) and the machine's. What they
// need, and what happens without it:
// - Node 18: $KVP_NODE18, else scripts/fetch-node.mjs (a cache, else the npm registry's
//   node-linux-<arch>@18.20.4);
// - dpkg, dpkg-deb, deb-systemd-helper, a nodejs Debian package (Debian: dpkg,
//   init-system-helpers, nodejs);
// - for the end-to-end runs, the real hv_kvp_daemon (hyperv-sim's policy).
// Missing, they fail the tests, in CI always; outside CI KVP_ALLOW_NO_PACKAGING=1 turns the
// failure into a loud skip.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeNeeding as describeNeedingTools } from "@hyperv-kvp/test-support/tools";

/** apps/guest-agent. */
export const APP_DIR = fileURLToPath(new URL("../../../", import.meta.url));

/** The built bundle. */
export const BUNDLE = join(APP_DIR, "dist", "kvp-agent.cjs");

/** apps/guest-agent/packaging. */
export const PACKAGING_DIR = join(APP_DIR, "packaging");

/** apps/pool-tools, whose kvp-pool bundle the package ships beside the agent's. */
export const POOL_TOOLS_DIR = join(APP_DIR, "..", "pool-tools");

/** kvp-pool's built bundle; use it through {@link builtPoolBundle}. */
export const POOL_BUNDLE = join(POOL_TOOLS_DIR, "dist", "kvp-pool.cjs");

/** Set to 1 (outside CI) to skip, loudly, packaging tests whose tools are missing. */
export const ALLOW_MISSING_ENV = "KVP_ALLOW_NO_PACKAGING";

/** Longest a single process the tests start may run, in ms (a deadline, not a measurement). */
export const RUN_DEADLINE_MS = 30_000;

/** What a process did. */
export interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion without blocking the event loop (a simulated host may be talking). */
export function runAsync(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_DEADLINE_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Runs a program to completion; for steps with no simulated host in flight. */
export function runSync(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): RunResult {
  const result = spawnSync(file, [...args], {
    env,
    encoding: "utf8",
    timeout: RUN_DEADLINE_MS,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** True when `name` is a program on PATH (or in /usr/sbin, /sbin). */
export function hasProgram(name: string): boolean {
  return (
    spawnSync("sh", ["-c", `command -v "$1"`, "sh", name], {
      env: { ...process.env, PATH: withSbin(process.env["PATH"]) },
    }).status === 0
  );
}

/** PATH with the sbin directories dpkg looks for its helpers in. */
export function withSbin(path: string | undefined): string {
  return [path ?? "/usr/bin:/bin", "/usr/sbin", "/sbin"].join(":");
}

/** A Node 18 binary, or why there is none. */
export type Node18 = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

let node18: Node18 | undefined;

/**
 * Node 18.20.4 (Debian 12's nodejs): $KVP_NODE18 when set (it must say v18), else the pinned
 * official build through scripts/fetch-node.mjs (cached per machine; the first call may
 * download about 40 MB from the npm registry). Memoised per test file.
 */
export function obtainNode18(): Node18 {
  if (node18) return node18;
  const given = process.env["KVP_NODE18"];
  if (given) {
    const version = spawnSync(given, ["--version"], { encoding: "utf8" }).stdout?.trim();
    node18 = version?.startsWith("v18.")
      ? { ok: true, path: given }
      : { ok: false, reason: `KVP_NODE18=${given} is not a Node 18 binary (it says ${version || "nothing"})` };
    return node18;
  }
  const script = join(APP_DIR, "..", "..", "scripts", "fetch-node.mjs");
  const result = spawnSync(process.execPath, [script, `linux-${process.arch}@18.20.4`], {
    encoding: "utf8",
    timeout: 300_000,
  });
  node18 =
    result.status === 0 && result.stdout.trim() !== ""
      ? { ok: true, path: result.stdout.trim() }
      : {
          ok: false,
          reason: `no Node 18 to run the bundle with: ${(result.error?.message ?? result.stderr.trim()) || `node ${script} exited with ${result.status}`}`,
        };
  return node18;
}

/**
 * A describe block that runs only when `missing()` returns nothing; otherwise the shared tool
 * policy (@hyperv-kvp/test-support/tools) fails it, or with KVP_ALLOW_NO_PACKAGING=1 outside
 * CI skips it loudly. Never a silent skip.
 */
export function describeNeeding(title: string, missing: () => string | undefined, body: () => void): void {
  describeNeedingTools(title, [{ name: "the packaging tools", allowMissingEnv: ALLOW_MISSING_ENV, missing }], body);
}

/**
 * {@link POOL_BUNDLE}, after checking it is built from the sources as they are now.
 *
 * This project's globalSetup builds only the agent's bundle. kvp-pool's is built by the
 * pool-tools project's globalSetup when that project is in the same vitest run (then it is
 * fresh), else by an earlier build; rebuilding it here could rewrite the file while another
 * test file runs it. So it is checked instead: every source its source map names must be
 * older than the bundle.
 * @throws Error when the bundle or its source map is missing, or a source is newer.
 */
export function builtPoolBundle(): string {
  const rebuild = `build it: cd apps/pool-tools && node build.mjs (or pnpm build from the root), or run the pool-tools tests in the same vitest run`;
  const map = `${POOL_BUNDLE}.map`;
  if (!existsSync(POOL_BUNDLE) || !existsSync(map))
    throw new Error(`${POOL_BUNDLE} or its source map is missing: ${rebuild}`);
  const builtAt = statSync(POOL_BUNDLE).mtimeMs;
  const { sources } = JSON.parse(readFileSync(map, "utf8")) as { sources: string[] };
  const newer = sources
    .map((source) => resolve(dirname(POOL_BUNDLE), source))
    .filter((path) => !path.includes("/node_modules/") && existsSync(path) && statSync(path).mtimeMs > builtAt);
  if (newer.length > 0) throw new Error(`${POOL_BUNDLE} is older than ${newer.join(", ")}: ${rebuild}`);
  return POOL_BUNDLE;
}

/** A temporary directory; remove it with {@link removeTempDirs}. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kvp-agent-${prefix}-`));
  temps.push(dir);
  return dir;
}

const temps: string[] = [];

/** Removes every directory {@link tempDir} made. */
export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Every entry under `root`, sorted, as relative paths: directories end in `/`, symlinks read
 * `path -> target`. What a file list assertion compares.
 */
export function tree(root: string, skip: (relPath: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel === "" ? name : `${rel}/${name}`;
      if (skip(relPath)) continue;
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) out.push(`${relPath} -> ${readlinkSync(path)}`);
      else if (stat.isDirectory()) {
        out.push(`${relPath}/`);
        walk(path, relPath);
      } else out.push(relPath);
    }
  };
  walk(root, "");
  return out.sort();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
