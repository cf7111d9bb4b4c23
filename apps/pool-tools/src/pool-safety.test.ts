import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

// kvp-pool never follows a symbolic link where a pool file belongs (pool-file refuses it with
// code `unsafe`), and says so with exit 3 (docs/daemon-and-locks.md#opening-a-pool-file).

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kvp-pool-safety-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pool1 = () => join(dir, ".kvp_pool_1");

describe("a symbolic link where pool 1 belongs", () => {
  it("set neither truncates nor writes the file it points at: exit 3, one line saying why", async () => {
    const victim = join(dir, "victim");
    writeFileSync(victim, "important\n");
    symlinkSync(victim, pool1());
    const { code, stdout, stderr } = await runCli(["--dir", dir, "set", "k", "v"]);
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `kvp-pool: pool 1 (guest) ${pool1()} is a symbolic link: refusing to open a pool file through one (the daemon creates them as regular files)\n`,
    );
    expect(readFileSync(victim, "utf8")).toBe("important\n");
  });

  it("set --create does not create a dangling link's target", async () => {
    const target = join(dir, "elsewhere");
    symlinkSync(target, pool1());
    const { code, stderr } = await runCli(["--dir", dir, "set", "--create", "k", "v"]);
    expect(code).toBe(3);
    expect(stderr).toContain("is a symbolic link");
    expect(existsSync(target)).toBe(false);
  });

  it("get and list refuse it too, without printing what it points at", async () => {
    const secret = join(dir, "secret");
    writeFileSync(secret, "s3cret");
    symlinkSync(secret, pool1());
    for (const args of [
      ["get", "k"],
      ["list", "--pool", "1"],
    ]) {
      const { code, stdout, stderr } = await runCli(["--dir", dir, ...args]);
      expect(code).toBe(3);
      expect(stdout + stderr).not.toContain("s3cret");
      expect(stderr).toContain("is a symbolic link");
    }
  });
});
