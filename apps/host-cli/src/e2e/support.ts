/**
 * What the end-to-end suites share: where the built bundles are, running one as a child
 * process, waiting for a condition, reading a guest's pool file.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";

/** The built kvp-host bundle (built by the project's vitest globalSetup). */
export const KVP_HOST = fileURLToPath(new URL("../../dist/kvp-host.cjs", import.meta.url));
/** The guest side's built kvp-pool bundle. */
export const KVP_POOL = fileURLToPath(new URL("../../../pool-tools/dist/kvp-pool.cjs", import.meta.url));

/** How a child process ended. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `script` with this Node, asynchronously: the simulator serves from this very process,
 * so a synchronous spawn would deadlock. `env` is added to this process's environment
 * (a value `undefined` removes the variable).
 */
export function runNode(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Key → value of a guest's pool file `n` in `dir` (first of duplicates wins, as readers do). */
export function poolOf(dir: string, n: 0 | 1): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of decodePool(new Uint8Array(readFileSync(join(dir, poolFileName(n))))).records)
    if (!map.has(r.key)) map.set(r.key, r.value);
  return map;
}
