// What `kvp-agent once` loads, checked on the BUILT bundle (built by the global setup): a boot
// script runs it, where each module loaded for nothing costs milliseconds. node:child_process
// (hooks) and node:crypto (digests of records that do not decode back to their bytes) load on
// first use, and a few other modules not at all (NOT_LOADED); the second test shows that a hook
// still runs. Timing itself is not tested.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodePool } from "@hyperv-kvp/kvp-core";
import { runListingBuiltins } from "@hyperv-kvp/test-support/builtins";
import { afterAll, describe, expect, it } from "vitest";

const bundle = fileURLToPath(new URL("../dist/kvp-agent.cjs", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "kvp-agent-startup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pool directory, a config naming `hooksDir`, and a run of `once` that lists the built-ins it loaded. */
function once(name: string, hooks: Record<string, string>): { modules: string[]; status: number | null; dir: string } {
  const dir = join(root, name);
  const pools = join(dir, "pools");
  const hooksDir = join(dir, "hooks.d");
  mkdirSync(pools, { recursive: true });
  mkdirSync(hooksDir);
  for (const p of [0, 1, 2, 3, 4])
    writeFileSync(join(pools, `.kvp_pool_${p}`), p === 0 ? encodePool([{ key: "role", value: "web" }]) : "");
  for (const [file, text] of Object.entries(hooks)) writeFileSync(join(hooksDir, file), text, { mode: 0o755 });
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({ hooksDir }));
  const { modules, status } = runListingBuiltins(bundle, [
    "--dir",
    pools,
    "--state-dir",
    join(dir, "state"),
    "--config",
    config,
    "once",
  ]);
  return { modules, status, dir };
}

/**
 * Built-ins a `once` without hooks has no use for: child_process and string_decoder (hooks and
 * their output), crypto (digests),
 * perf_hooks (the `performance` global; src/clock.ts instead), internal/fs/rimraf (what
 * rmSync loads; removeFile instead), internal/abort_controller (made for a hook's first run),
 * os (error names only) and module with the ES module loader it pulls in (koffi's fallback; the
 * launcher takes createRequire from the CommonJS loader), and the built-in process module
 * (commander's require of it gets the global: on Node 18 it built a facade that created the
 * standard streams).
 */
const NOT_LOADED = [
  "child_process",
  "string_decoder",
  "crypto",
  "perf_hooks",
  "internal/fs/rimraf",
  "internal/abort_controller",
  "os",
  "module",
  "internal/modules/esm/loader",
  "process",
];

describe("kvp-agent once start-up", () => {
  it("harvests without loading child_process, crypto and the other modules it has no use for when there are no hooks", () => {
    const { modules, status, dir } = once("no-hooks", {});
    expect(status).toBe(0);
    expect(readFileSync(join(dir, "state", "host.env"), "utf8")).toContain("web");
    for (const name of NOT_LOADED) expect(modules, name).not.toContain(name);
    // The check above must be able to fail: the hook does see what a run loads (the launcher's vm).
    expect(modules).toContain("vm");
  });

  it("still runs a hook, loading child_process then", () => {
    const { modules, status, dir } = once("a-hook", {
      "10-mark": '#!/bin/sh\nprintf %s "$KVP_KEY" > "$KVP_STATE_DIR/../hook-ran"\n',
    });
    expect(status).toBe(0);
    expect(readFileSync(join(dir, "hook-ran"), "utf8")).toBe("role");
    expect(modules).toContain("child_process");
  });
});
