import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { SimContext } from "./context.js";
import { main } from "./main.js";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const ctx: SimContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    stdin: new PassThrough(),
    signal: AbortSignal.abort(),
  };
  const code = await main(["node", "hyperv-sim", ...args], ctx);
  return { code, stdout, stderr };
}

describe("hyperv-sim's command line", () => {
  it("serve --help names the three transport modes and the cluster options, exit 0", async () => {
    const help = await run(["serve", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hyperv-sim serve \[options\]/);
    expect(help.stdout).toMatch(/plain HTTP, NTLM only, every\nmessage sealed/);
    for (const option of [
      "--https",
      "--allow-unencrypted",
      "--cluster <name>",
      "--node <NODE:VM,...>",
      "--daemon <kind>",
    ])
      expect(help.stdout).toContain(option);
  });

  it("--help shows how to serve", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("hyperv-sim serve");
  });

  it("refuses a bad command line with exit 2 and one line", async () => {
    expect(await run(["serve", "--https", "--allow-unencrypted"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "hyperv-sim: --https and --allow-unencrypted exclude each other\n",
    });
    const unknown = await run(["serve", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^hyperv-sim: unknown option '--bogus'/);
    expect((await run(["frobnicate"])).code).toBe(2);
  });

  it("serves until stopped, printing its JSON line first", async () => {
    const served = await run(["serve", "--daemon", "model", "--password", "pw"]);
    expect(served.code).toBe(0);
    expect(JSON.parse(served.stdout)).toMatchObject({ user: "Administrator", password: "pw", sealed: true });
  });
});
