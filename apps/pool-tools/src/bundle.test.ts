// Runs the built kvp-pool bundle as a child process, as users run it: stdin, signals, exit
// codes and streaming output. Needs `node build.mjs` (the root test command builds first).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { makePoolDir } from "./test-support.js";

const bundle = fileURLToPath(new URL("../dist/kvp-pool.cjs", import.meta.url));

beforeAll(() => {
  if (!existsSync(bundle)) {
    throw new Error(`${bundle} is missing: build it with \`pnpm exec turbo run build\` (npm test does)`);
  }
});

let cleanup = () => {};
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill("SIGKILL");
  cleanup();
});

function pools() {
  const made = makePoolDir();
  cleanup = made.cleanup;
  return made.dir;
}

const run = (dir: string, args: string[], input?: string) =>
  spawnSync(process.execPath, [bundle, "--dir", dir, ...args], {
    encoding: "utf8",
    ...(input === undefined ? {} : { input }),
  });

describe("the kvp-pool bundle", () => {
  it("--version prints the version in package.json (put there at build time, kept by nobody)", () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-V"]) {
      expect(spawnSync(process.execPath, [bundle, flag], { encoding: "utf8" })).toMatchObject({
        status: 0,
        stdout: `${version}\n`,
        stderr: "",
      });
    }
  });

  it("round-trips through real processes with documented exit codes", () => {
    const dir = pools();
    expect(run(dir, ["set", "--from-file", "-"], "a=1\nb=ü\n").status).toBe(0);
    expect(run(dir, ["get", "b"])).toMatchObject({ status: 0, stdout: "ü\n", stderr: "" });
    // A file, not stdin: read through a module the bundle loads on first use.
    writeFileSync(join(dir, "pairs.env"), "c=3\n");
    expect(run(dir, ["set", "--from-file", join(dir, "pairs.env")])).toMatchObject({ status: 0, stderr: "" });
    expect(run(dir, ["get", "c"])).toMatchObject({ status: 0, stdout: "3\n" });
    const absent = run(dir, ["get", "zz"]);
    expect(absent.status).toBe(1);
    expect(absent.stderr).toMatch(/^kvp-pool: no key "zz"/);
    expect(run(dir, ["get"]).status).toBe(2);
    const missing = run(join(dir, "none"), ["get", "a"]);
    expect(missing.status).toBe(3);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it("ends quietly when its reader closes the pipe early (| head)", () => {
    const made = makePoolDir({
      1: Array.from({ length: 2000 }, (_, i) => ({ key: `key-${i}`, value: "v".repeat(200) })),
    });
    cleanup = made.cleanup;
    // 400 kB of output against a 64 kB pipe: the writer meets EPIPE once head has gone.
    const r = spawnSync(
      "bash",
      [
        "-c",
        `set -o pipefail; "${process.execPath}" "${bundle}" --dir "${made.dir}" list --pool 1 | head -c 10 >/dev/null`,
      ],
      {
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("watch --json prints one JSON object per change and stops cleanly on SIGTERM", async () => {
    const dir = pools();
    const proc = spawn(process.execPath, [bundle, "--dir", dir, "watch", "--pool", "guest", "--json"]);
    child = proc;
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const until = async (cond: () => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => stderr.includes("watching"), "the watch to start");
    expect(run(dir, ["set", "k", "v1"]).status).toBe(0);
    await until(() => stdout.split("\n").length > 1, "the first event");
    expect(run(dir, ["set", "k", "v2"]).status).toBe(0);
    await until(() => stdout.split("\n").length > 2, "the second event");
    expect(run(dir, ["delete", "k"]).status).toBe(0);
    await until(() => stdout.split("\n").length > 3, "the third event");
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((e) => [e.pool, e.type, e.key, e.value ?? null, e.previous ?? null])).toEqual([
      [1, "added", "k", "v1", null],
      [1, "changed", "k", "v2", "v1"],
      [1, "removed", "k", null, "v2"],
    ]);
    expect(Number.isNaN(Date.parse(events[0].time))).toBe(false);
    const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
