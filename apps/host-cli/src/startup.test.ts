// What `kvp-host --help` loads, checked on the BUILT bundle (built by the global setup): the
// help needs commander and nothing that talks to a host. Each module below costs milliseconds
// at start-up, on every run, so one that creeps back in through an eager import is a
// regression this test names. Timing itself is not tested (it varies with the machine).
import { fileURLToPath } from "node:url";
import { runListingBuiltins } from "@hyperv-kvp/test-support/builtins";
import { describe, expect, it } from "vitest";

const bundle = fileURLToPath(new URL("../dist/kvp-host.cjs", import.meta.url));

describe("kvp-host --help start-up", () => {
  it("prints the help without loading child_process, net, http(s), crypto or stdin's streams", () => {
    const { modules, stdout, status } = runListingBuiltins(bundle, ["--help"]);
    expect(status).toBe(0);
    expect(stdout).toContain("Usage: kvp-host");
    expect(stdout).toContain("cloud-init");
    // child_process: commander's, and the PowerShell transport's (lazy in the bundle);
    // net: a created stderr pipe, or child_process; http/https/crypto: the WS-Management client;
    // internal/fs/streams: process.stdin on a file (read only for a password prompt).
    for (const name of ["child_process", "net", "http", "https", "crypto", "internal/fs/streams", "readline"])
      expect(modules, name).not.toContain(name);
    // Nor the stdout stream: the help is written to the descriptor (cli-kit's processIo).
    expect(modules).not.toContain("internal/fs/sync_write_stream");
    // Nor the built-in process module: commander's require("node:process") gets the global
    // (scripts/lib/lazy-builtins.mjs processFromGlobal), since on Node 18 that require built
    // the module's ES module facade, which created stdin, stdout and stderr at every start.
    expect(modules).not.toContain("process");
    // The checks above must be able to fail: the hook does see what a run loads.
    expect(modules).toContain("vm"); // the launcher's vm.Script, not loaded by node itself
  });

  it("prints the help to /dev/null without creating the stdout stream (a script that discards it)", () => {
    const { modules, status } = runListingBuiltins(bundle, ["--help"], { stdout: "null" });
    expect(status).toBe(0);
    // /dev/null is a character device, as a terminal is: asking process.stdout whether it is
    // one would create a SyncWriteStream and load the stream modules.
    for (const name of ["internal/fs/sync_write_stream", "stream", "tty"]) expect(modules, name).not.toContain(name);
    expect(modules).toContain("vm");
  });
});
