import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KvpRecord, encodePool } from "@hyperv-kvp/kvp-core";
import type { CliContext } from "./context.js";
import { main } from "./main.js";

/** A temporary pool directory with all five pool files, as the daemon creates them. */
export function makePoolDir(pools: Partial<Record<0 | 1 | 2 | 3 | 4, KvpRecord[]>> = {}): {
  dir: string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), "kvp-pool-cli-"));
  for (const n of [0, 1, 2, 3, 4] as const) writeFileSync(join(dir, `.kvp_pool_${n}`), encodePool(pools[n] ?? []));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs kvp-pool in process with captured streams. */
export async function runCli(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const ctx: CliContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    readStdin: async () => stdin,
  };
  const code = await main(["node", "kvp-pool", ...args], ctx);
  return { code, stdout, stderr };
}
