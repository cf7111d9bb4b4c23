// What `kvp-pool get` and `set` load, checked on the BUILT bundle (built by the global setup):
// scripts call kvp-pool once per key, so each built-in loaded for nothing costs milliseconds
// every time. commander's node:child_process loads on first use (never, here), stderr is
// created only when written. Timing itself is not tested.
import { fileURLToPath } from "node:url";
import { runListingBuiltins } from "@hyperv-kvp/test-support/builtins";
import { afterAll, describe, expect, it } from "vitest";
import { makePoolDir } from "./test-support.js";

const bundle = fileURLToPath(new URL("../dist/kvp-pool.cjs", import.meta.url));
const pools = makePoolDir({ 1: [{ key: "role", value: "web" }] });
afterAll(() => pools.cleanup());

describe("kvp-pool start-up", () => {
  it("get and set load neither child_process, net, crypto, http nor perf_hooks", () => {
    const set = runListingBuiltins(bundle, ["--dir", pools.dir, "set", "size", "large"]);
    expect(set.status, set.stderr).toBe(0);
    const get = runListingBuiltins(bundle, ["--dir", pools.dir, "get", "role"]);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe("web\n");
    for (const run of [set, get])
      for (const name of ["child_process", "net", "crypto", "http", "https"])
        expect(run.modules, name).not.toContain(name);
    // Nor the stdout stream: the value is written to the descriptor (cli-kit's processIo).
    expect(get.modules).not.toContain("internal/fs/sync_write_stream");
    // The checks above must be able to fail: the hook does see what a run loads.
    expect(get.modules).toContain("os");
  });

  it("an error is still written to stderr (created on first write)", () => {
    const run = runListingBuiltins(bundle, ["--dir", pools.dir, "get", "absent"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^kvp-pool: no key "absent"/);
  });
});
