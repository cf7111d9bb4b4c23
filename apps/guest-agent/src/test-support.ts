// Shared by the command tests: temporary pool directories, a fixed context, polling.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KvpRecord, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { type AgentContext, processContext } from "./context.js";

/** A temporary directory; call the returned `cleanup` after the test. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kvp-agent-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes the five pool files as the daemon would create them, with `pools` content. */
export function writePools(dir: string, pools: Partial<Record<0 | 1 | 2 | 3 | 4, KvpRecord[]>>): void {
  for (const pool of [0, 1, 2, 3, 4] as const)
    writeFileSync(join(dir, poolFileName(pool)), encodePool(pools[pool] ?? []));
}

/** A context with captured output, the real spawn, a fixed boot id and a clock that ticks per call. */
export function testContext(bootId = "boot-test"): AgentContext & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  let t = Date.parse("2030-01-01T00:00:00Z");
  return {
    ...processContext(),
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { PATH: process.env["PATH"] },
    now: () => {
      t += 1000;
      return new Date(t);
    },
    bootId: () => bootId,
    out: () => out,
    err: () => err,
  };
}

/** JSON of a file, or undefined while it is absent or being replaced. */
export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
