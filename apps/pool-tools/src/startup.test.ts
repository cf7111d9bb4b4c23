// What `kvp-pool get` and `set` load, checked on the BUILT bundle (built by the global setup):
// scripts call kvp-pool once per key, so each built-in loaded for nothing costs milliseconds
// every time. commander's node:child_process loads on first use (never, here), stderr is
// created only when written. Timing itself is not tested.
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { runListingBuiltins } from "@hyperv-kvp/test-support/builtins";
import { GCC, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { afterAll, describe, expect, it } from "vitest";
import { makePoolDir } from "./test-support.js";

const bundle = fileURLToPath(new URL("../dist/kvp-pool.cjs", import.meta.url));
/** The kvp-lock addon the build puts beside the bundle for this CPU (pool-file's libc.ts). */
const addon = fileURLToPath(new URL(`../dist/kvp-lock.linux-${process.arch}.node`, import.meta.url));
const pools = makePoolDir({ 1: [{ key: "role", value: "web" }] });
afterAll(() => pools.cleanup());

describe("kvp-pool start-up", () => {
  it("get and set load neither child_process, net, crypto, http, os nor the ES module loader", () => {
    const set = runListingBuiltins(bundle, ["--dir", pools.dir, "set", "size", "large"]);
    expect(set.status, set.stderr).toBe(0);
    const get = runListingBuiltins(bundle, ["--dir", pools.dir, "get", "role"]);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe("web\n");
    for (const run of [set, get])
      for (const name of [
        "child_process",
        "net",
        "crypto",
        "http",
        "https",
        "os",
        "module",
        "internal/modules/esm/loader",
        // commander's require("node:process") gets the global (scripts/lib/lazy-builtins.mjs).
        "process",
      ])
        expect(run.modules, name).not.toContain(name);
    // Nor the stdout stream: the value is written to the descriptor (cli-kit's processIo).
    expect(get.modules).not.toContain("internal/fs/sync_write_stream");
    // The checks above must be able to fail: the hook does see what a run loads (the launcher's vm).
    expect(get.modules).toContain("vm");
  });

  it("an error is still written to stderr (created on first write)", () => {
    const run = runListingBuiltins(bundle, ["--dir", pools.dir, "get", "absent"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^kvp-pool: no key "absent"/);
  });
});

// koffi costs ~4-5 ms to load; the pool lock's calls go through the kvp-lock addon the build
// puts beside the bundle, and nothing else `get` and `set` do needs koffi.
describeNeeding("kvp-pool start-up with the kvp-lock addon", [GCC], () => {
  it("get and set take the pool lock through the addon beside the bundle and never load koffi", () => {
    expect(existsSync(addon), `${addon} (built by build.mjs)`).toBe(true);
    for (const args of [
      ["--dir", pools.dir, "set", "size", "large"],
      ["--dir", pools.dir, "get", "role"],
    ]) {
      const run = runListingBuiltins(bundle, args);
      expect(run.status, run.stderr).toBe(0);
      expect(run.addons.map((path) => basename(path))).toEqual([basename(addon)]);
    }
  });

  it("list, which synthesises pool 2 through koffi, does load koffi: the check above can fail", () => {
    const run = runListingBuiltins(bundle, ["--dir", pools.dir, "list"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.addons.map((path) => basename(path))).toEqual(expect.arrayContaining(["koffi.node", basename(addon)]));
  });
});
