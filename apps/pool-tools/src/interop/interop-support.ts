// Shared by the interop tests in this directory. They run the BUILT kvp-pool bundle
// (dist/kvp-pool.cjs, built by the project's globalSetup) as child processes, as users run
// it, against pool files that Debian's real /usr/sbin/hv_kvp_daemon serves to a simulated
// Hyper-V host (@hyperv-kvp/hyperv-sim, daemon "real", under its LD_PRELOAD shim).
// Needs: hv_kvp_daemon (apt-get install hyperv-daemons) and cc (for the shim). Without them
// the tests fail, never skip, unless KVP_ALLOW_NO_DAEMON=1 (KVP_ALLOW_NO_CC=1 for cc) is set
// outside CI (@hyperv-kvp/test-support/tools).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RECORD_BYTES, decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import {
  type HostRecord,
  type SimulatedHost,
  type SimulatedHostOptions,
  startSimulatedHost,
} from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { afterEach, describe, expect } from "vitest";

/** The built CLI. */
export const BUNDLE = fileURLToPath(new URL("../../dist/kvp-pool.cjs", import.meta.url));

/** Longest any single kvp-pool run may take before the test fails (a generous deadline, not a measurement). */
export const RUN_DEADLINE_MS = 30_000;

/** What a kvp-pool process did. */
export interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link kvp} and {@link startKvp}. */
export interface RunOptions {
  /** Standard input. */
  readonly input?: string;
  /** Arguments for node itself, before the bundle (e.g. `--require`). */
  readonly nodeArgs?: readonly string[];
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

function argv(dir: string, args: readonly string[], options: RunOptions): string[] {
  return [...(options.nodeArgs ?? []), BUNDLE, "--dir", dir, ...args];
}

function env(options: RunOptions): NodeJS.ProcessEnv {
  // KVP_POOL_DIR from the caller's environment must not matter: --dir is always given.
  return { ...process.env, ...options.env };
}

/**
 * Runs `kvp-pool --dir DIR ARGS…` to completion, synchronously. Blocks this process's event
 * loop: never use it while the simulated host has a request outstanding (see {@link kvpAsync}).
 */
export function kvp(dir: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const result = spawnSync(process.execPath, argv(dir, args, options), {
    encoding: "utf8",
    env: env(options),
    timeout: RUN_DEADLINE_MS,
    maxBuffer: 256 * 1024 * 1024,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** A running kvp-pool process. */
export interface RunningKvp {
  readonly child: ChildProcess;
  /** Settles when the process has exited and its output is read. */
  readonly done: Promise<RunResult>;
}

const running = new Set<ChildProcess>();

/** Starts `kvp-pool --dir DIR ARGS…` without waiting; see {@link killStragglers}. */
export function startKvp(dir: string, args: readonly string[], options: RunOptions = {}): RunningKvp {
  const child = spawn(process.execPath, argv(dir, args, options), { env: env(options), stdio: "pipe" });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), RUN_DEADLINE_MS);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ status, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs kvp-pool to completion without blocking the event loop (the simulated host keeps talking). */
export function kvpAsync(dir: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return startKvp(dir, args, options).done;
}

/** SIGKILLs every kvp-pool process a test started and left running. */
export function killStragglers(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

/**
 * Asserts kvp-pool's stderr is made of its own diagnostics: empty, or starting with
 * `kvp-pool:` and never a stack trace.
 */
export function expectCleanStderr(stderr: string): void {
  if (stderr === "") return;
  expect(stderr.startsWith("kvp-pool:"), `stderr should start with "kvp-pool:": ${stderr}`).toBe(true);
  expect(stderr, "stderr must not hold a stack trace").not.toMatch(/^\s{4}at /m);
  expect(stderr).not.toMatch(/internal error/);
}

/** Asserts a run exited with `status` and clean stderr; returns it for more checks. */
export function expectExit(result: RunResult, status: number): RunResult {
  expect(result.signal, `killed by a signal; stderr: ${result.stderr}`).toBeNull();
  expect(result.status, `exit status; stderr: ${result.stderr}`).toBe(status);
  expectCleanStderr(result.stderr);
  return result;
}

/** One record of `kvp-pool list --json`. */
export interface ListedJson {
  readonly pool: number;
  readonly poolName: string;
  readonly index: number;
  readonly key: string;
  readonly value: string;
  readonly validUtf8?: false;
  readonly synthesized?: true;
}

/** `kvp-pool list --pool POOL --json`, asserting exit 0 and clean stderr. */
export function listJson(dir: string, pool: number | string): ListedJson[] {
  const result = expectExit(kvp(dir, ["list", "--pool", String(pool), "--json"]), 0);
  return JSON.parse(result.stdout) as ListedJson[];
}

/** As {@link listJson}, without blocking the event loop. */
export async function listJsonAsync(dir: string, pool: number | string): Promise<ListedJson[]> {
  const result = expectExit(await kvpAsync(dir, ["list", "--pool", String(pool), "--json"]), 0);
  return JSON.parse(result.stdout) as ListedJson[];
}

/** Key and value only, for comparisons. */
export function pairs(
  records: readonly { readonly key: string; readonly value: string }[],
): { key: string; value: string }[] {
  return records.map((r) => ({ key: r.key, value: r.value }));
}

/** What the host receives for records it gets whole. */
export function whole(records: readonly { readonly key: string; readonly value: string }[]): HostRecord[] {
  return records.map((r) => ({ key: r.key, value: r.value, truncated: false }));
}

/** A pool file's bytes. */
export function readPoolBytes(dir: string, pool: number): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, poolFileName(pool as 0))));
}

/** Path of a pool file. */
export function poolFile(dir: string, pool: number): string {
  return join(dir, poolFileName(pool as 0));
}

/**
 * Asserts a pool file is made of whole records (at most a trailing fragment, whose size is
 * returned), each with both fields NUL-terminated and valid UTF-8.
 */
export function expectWholeRecords(bytes: Uint8Array): {
  records: ReturnType<typeof decodePool>["records"];
  fragment: number;
} {
  const fragment = bytes.length % RECORD_BYTES;
  const { records } = decodePool(bytes.subarray(0, bytes.length - fragment));
  for (const r of records) {
    expect(
      { index: r.index, keyTerminated: r.keyTerminated, valueTerminated: r.valueTerminated, validUtf8: r.validUtf8 },
      `record ${r.index} (${JSON.stringify(r.key.slice(0, 40))})`,
    ).toEqual({ index: r.index, keyTerminated: true, valueTerminated: true, validUtf8: true });
  }
  return { records, fragment };
}

/** A temporary directory removed after the test. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kvp-interop-${prefix}-`));
  afterEachCleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const afterEachCleanups: (() => void | Promise<void>)[] = [];

/**
 * Starts a simulated host in front of the REAL hv_kvp_daemon; it is closed after the test.
 * Its pool directory is a fresh temporary one with the five files the daemon created.
 */
export async function startRealHost(options: Omit<SimulatedHostOptions, "daemon"> = {}): Promise<SimulatedHost> {
  const host = await startSimulatedHost({ ...options, daemon: "real" });
  afterEachCleanups.push(() => host.close());
  expect(host.daemon).toBe("real");
  return host;
}

/**
 * A describe block for tests against the real daemon, following the project's policy: when
 * the daemon or a C compiler is missing the block fails (CI, or no permission to skip), or
 * with KVP_ALLOW_NO_DAEMON=1 outside CI is skipped with a banner. Never silently.
 * Registers the clean-up of hosts, processes and temporary directories after each test.
 */
export function describeWithRealDaemon(title: string, body: () => void): void {
  describe(title, () => {
    const policy = realDaemonPolicy();
    if (standInForMissingTools(policy)) return;
    afterEach(async () => {
      killStragglers();
      // Hosts first (they stop their daemons), then the directories.
      for (const cleanup of afterEachCleanups.splice(0).reverse()) await cleanup();
    });
    body();
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A small deterministic PRNG (mulberry32), so randomised tests draw the same data on every
 * run; only the timing of kills varies.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
