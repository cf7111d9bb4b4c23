// What `kvp-host --help` loads, checked on the BUILT bundle (built by the global setup): the
// help needs commander and nothing that talks to a host. Each module below costs milliseconds
// at start-up, on every run, so one that creeps back in through an eager import is a
// regression this test names. Timing itself is not tested (it varies with the machine).
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const bundle = fileURLToPath(new URL("../dist/kvp-host.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kvp-host-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bundle with a --require hook that lists the built-in modules loaded by exit. */
function builtinsLoaded(args: string[]): { modules: string[]; stdout: string; status: number | null } {
  const hook = join(dir, "list-builtins.cjs");
  const list = join(dir, "builtins.txt");
  writeFileSync(
    hook,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`,
  );
  // stdout a file, stderr a pipe: a pipe on stderr would load node:net if stderr were created.
  const out = join(dir, "stdout.txt");
  const fd = openSync(out, "w");
  try {
    const run = spawnSync(process.execPath, ["--require", hook, bundle, ...args], {
      stdio: ["ignore", fd, "pipe"],
      encoding: "utf8",
      timeout: 30_000,
    });
    const modules = readFileSync(list, "utf8")
      .split("\n")
      .filter((m) => m.startsWith("NativeModule "))
      .map((m) => m.slice("NativeModule ".length));
    return { modules, stdout: readFileSync(out, "utf8"), status: run.status };
  } finally {
    closeSync(fd);
  }
}

describe("kvp-host --help start-up", () => {
  it("prints the help without loading child_process, net, http(s), crypto or stdin's streams", () => {
    const { modules, stdout, status } = builtinsLoaded(["--help"]);
    expect(status).toBe(0);
    expect(stdout).toContain("Usage: kvp-host");
    expect(stdout).toContain("cloud-init");
    // child_process: commander's, and the PowerShell transport's (lazy in the bundle);
    // net: a created stderr pipe, or child_process; http/https/crypto: the WS-Management client;
    // internal/fs/streams: process.stdin on a file (read only for a password prompt).
    for (const name of ["child_process", "net", "http", "https", "crypto", "internal/fs/streams", "readline"])
      expect(modules, name).not.toContain(name);
    // The check above must be able to fail: the hook does see what a run loads.
    expect(modules).toContain("internal/fs/sync_write_stream");
  });
});
