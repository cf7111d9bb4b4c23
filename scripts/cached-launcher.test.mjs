import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { commandsInHelp, withBundleAsAsset, writeBuiltProgram, writeCachedLauncher } from "./lib/cached-launcher.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "cached-launcher-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A program as the CLIs are: CommonJS, a --help with a Commands section, a module beside it
// that its require must find, and exit codes of its own.
const BUNDLE = `#!/usr/bin/env node
"use strict";
const args = process.argv.slice(2);
if (args[0] === "--help") {
  process.stdout.write("Usage: demo [command]\\n\\nCommands:\\n  show [options] <key>   print\\n  delete|remove <key>    gone\\n                         wrapped help\\n  help [command]         help\\n");
  process.exit(0);
}
const beside = require("./beside.cjs");
// Comment ends and their escape's look-alikes, which the carrier must hand back as they are.
const ends = ["/* a comment */", "a*/b", "*/".length, /x*/.source, "*\\u0002/"];
process.stdout.write(JSON.stringify({ args, beside, ends, file: __filename, dir: __dirname, strict: (function () { return this === undefined; })(), thisIsExports: this === module.exports }) + "\\n");
process.exitCode = args.includes("fail") ? 4 : 0;
`;

let launcher;
let cache;
beforeEach(async () => {
  const app = mkdtempSync(join(dir, "app-"));
  writeFileSync(join(app, "beside.cjs"), 'module.exports = "found";');
  launcher = join(app, "demo.cjs");
  await writeCachedLauncher({
    bundle: BUNDLE,
    outfile: launcher,
    program: "demo",
    appDir: join(root, "apps/pool-tools"),
    target: "node18",
  });
  cache = join(mkdtempSync(join(dir, "cache-")), "compile-cache");
});

function run(args, env = {}, nodeArgs = []) {
  const result = spawnSync(process.execPath, [...nodeArgs, launcher, ...args], {
    encoding: "utf8",
    env: { ...process.env, NODE_EXTRA_CA_CERTS: undefined, KVP_COMPILE_CACHE: cache, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const files = () => {
  try {
    return readdirSync(cache).sort();
  } catch {
    return [];
  }
};

describe("commandsInHelp", () => {
  it("takes each command and alias of the Commands section, not wrapped lines or other sections", () => {
    expect(
      commandsInHelp(
        "Usage: x\n\nOptions:\n  --dir <d>  where\n\nCommands:\n  list [options]   l\n                   more\n  delete|remove <k>  d\n  help [command]   h\n\nExamples:\n  x list\n",
      ),
    ).toEqual(["list", "delete", "remove", "help"]);
  });
});

describe("the cached launcher", () => {
  it("runs the bundle as Node runs a main module: its file, its directory, require beside it, strict, exit code", () => {
    const out = run(["show", "k", "fail"]);
    expect(out.status).toBe(4);
    expect(JSON.parse(out.stdout)).toEqual({
      args: ["show", "k", "fail"],
      beside: "found",
      ends: ["/* a comment */", "a*/b", 2, "x*", "*\u0002/"],
      file: launcher,
      dir: join(launcher, ".."),
      strict: true,
      thisIsExports: true,
    });
  });

  it("writes one private cache per command at the first run and reads it, unchanged, at the next", () => {
    run(["show", "k"]);
    run(["--help"]);
    const written = files();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^demo-[0-9a-f]{8}\.[0-9a-f]{8}\.none\.v8$/);
    expect(written[1]).toMatch(/^demo-[0-9a-f]{8}\.[0-9a-f]{8}\.show\.v8$/);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const show = join(cache, written[1]);
    expect(statSync(show).mode & 0o777).toBe(0o600);
    const before = statSync(show);
    const second = run(["show", "again"]);
    expect(JSON.parse(second.stdout).args).toEqual(["show", "again"]);
    // Accepted: not written again (a refused one would be replaced: see below).
    expect(statSync(show).ino).toBe(before.ino);
    expect(statSync(show).mtimeMs).toBe(before.mtimeMs);
  });

  it("replaces a cache V8 refuses (garbage, another Node's) and still runs", () => {
    run(["show", "k"]);
    const [name] = files();
    writeFileSync(join(cache, name), "not a code cache at all");
    const out = run(["show", "k"]);
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout).args).toEqual(["show", "k"]);
    expect(readFileSync(join(cache, name)).length).toBeGreaterThan(1000);
  });

  it("neither reads nor writes a cache in a directory others may write, or a file not its own", () => {
    mkdirSync(cache, { recursive: true });
    chmodSync(cache, 0o777);
    expect(run(["show", "k"]).status).toBe(0);
    expect(files()).toEqual([]);

    chmodSync(cache, 0o700);
    run(["show", "k"]);
    const [name] = files();
    const file = join(cache, name);
    if (process.getuid?.() === 0) {
      // Root can hand the file to someone else: then it is not read, and is replaced by root's own.
      chownSync(file, 65534, 65534);
      const before = statSync(file).ino;
      expect(run(["show", "k"]).status).toBe(0);
      expect(statSync(file).uid).toBe(0);
      expect(statSync(file).ino).not.toBe(before);
    }
    chmodSync(file, 0o666);
    const before = statSync(file).ino;
    expect(run(["show", "k"]).status).toBe(0);
    expect(statSync(file).ino).not.toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("is off with KVP_COMPILE_CACHE=off or NODE_DISABLE_COMPILE_CACHE=1, and the program still runs", () => {
    expect(run(["show", "k"], { KVP_COMPILE_CACHE: "off" }).status).toBe(0);
    expect(run(["show", "k"], { NODE_DISABLE_COMPILE_CACHE: "1" }).status).toBe(0);
    expect(files()).toEqual([]);
  });

  it("keeps running when the cache cannot be written (a file where its directory should be)", () => {
    rmSync(cache, { recursive: true, force: true });
    writeFileSync(cache, "in the way");
    const out = run(["show", "k"]);
    expect(out.status).toBe(0);
    expect(out.stderr).toBe("");
  });

  it("carries the bundle in a comment, read back whole, not in a string literal", () => {
    const text = readFileSync(launcher, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(text).toContain('function __kvpCarrier(){/*\n"use strict";\nconst args');
    // As a string literal it would be escaped: \"use strict\";\nconst args
    expect(text).not.toContain(JSON.stringify('"use strict";\nconst args').slice(1, -1));
    // Every comment end of the bundle is escaped: the carrier's own is the last in the file.
    expect(text.indexOf("*/", text.indexOf("__kvpCarrier(){/*"))).toBe(text.length - "*/}\n".length);
  });

  it("runs the same with its bundle in a single executable's asset, for bundlers that drop comments", () => {
    const { launcher: text, bundle } = withBundleAsAsset(readFileSync(launcher, "utf8"), "demo.cjs");
    // The bundle comes back as the launcher carried it (its #! line is the launcher's), comment
    // ends and all; the launcher holds none of it.
    expect(bundle).toBe(BUNDLE.replace(/^#!.*\n/, ""));
    expect(text).not.toContain("__kvpCarrier(){/*");
    expect(text).not.toContain("const args");
    expect(text).toContain('function __kvpCarrier(){return require("node:sea").getAsset("demo.cjs","utf8")}');
    writeFileSync(launcher, text);
    // Outside a single executable node:sea has no assets: a preload serves this one, as the
    // executable would (the release checks run the real executables).
    const asset = join(dir, `asset-${Math.random().toString(36).slice(2)}.cjs`);
    writeFileSync(asset, bundle);
    const preload = join(dir, `sea-${Math.random().toString(36).slice(2)}.cjs`);
    writeFileSync(
      preload,
      `const Module = require("node:module");
const load = Module._load;
const sea = { getAsset: (name, encoding) => { if (name !== "demo.cjs" || encoding !== "utf8") throw new Error("asked for " + name); return require("node:fs").readFileSync(${JSON.stringify(asset)}, "utf8"); } };
Module._load = function (request, ...rest) { return request === "node:sea" ? sea : load.call(this, request, ...rest); };
`,
    );
    const out = run(["show", "k", "fail"], {}, ["--require", preload]);
    expect(out.status, out.stderr).toBe(4);
    expect(JSON.parse(out.stdout).ends).toEqual(["/* a comment */", "a*/b", 2, "x*", "*\u0002/"]);
    expect(() => withBundleAsAsset(text, "demo.cjs")).toThrow(/no carrier/);
  });

  it("refuses a bundle holding U+0001, the carrier's escape", async () => {
    await expect(
      writeCachedLauncher({
        bundle: `${BUNDLE}// \u0001\n`,
        outfile: launcher,
        program: "demo",
        appDir: join(root, "apps/pool-tools"),
        target: "node18",
      }),
    ).rejects.toThrow(/U\+0001/);
  });

  it("refuses a bundle with a dynamic import(), which vm.Script cannot run on Node 18 and 20", async () => {
    await expect(
      writeCachedLauncher({
        bundle: `${BUNDLE}const later = () => import("node:fs/promises");\n`,
        outfile: launcher,
        program: "demo",
        appDir: join(root, "apps/pool-tools"),
        target: "node18",
      }),
    ).rejects.toThrow(/dynamic import\(\)/);
  });

  it("removes its caches of an earlier build when it writes one, and leaves other programs' alone", async () => {
    run(["show", "k"]);
    mkdirSync(cache, { recursive: true });
    writeFileSync(join(cache, "other-0000aaaa.11112222.show.v8"), "x", { mode: 0o600 });
    const [old] = files().filter((f) => f.startsWith("demo-"));
    await writeCachedLauncher({
      bundle: `${BUNDLE}// a new build\n`,
      outfile: launcher,
      program: "demo",
      appDir: join(root, "apps/pool-tools"),
      target: "node18",
    });
    run(["show", "k"]);
    const now = files();
    expect(now).not.toContain(old);
    expect(now.filter((f) => f.startsWith("demo-"))).toHaveLength(1);
    expect(now).toContain("other-0000aaaa.11112222.show.v8");
  });

  it("writes a build's launcher and map into a dist/ that does not exist yet, as in a fresh clone", async () => {
    const dist = join(mkdtempSync(join(dir, "clone-")), "dist");
    const map = '{"version":3,"sources":[],"mappings":""}';
    const output = (path, text) => ({ path, text, contents: new TextEncoder().encode(text) });
    await writeBuiltProgram(
      { outputFiles: [output(join(dist, "demo.cjs.map"), map), output(join(dist, "demo.cjs"), BUNDLE)] },
      { program: "demo", target: "node18", appDir: join(root, "apps/pool-tools") },
    );
    expect(readFileSync(join(dist, "demo.cjs.map"), "utf8")).toBe(map);
    expect(readFileSync(join(dist, "demo.cjs"), "utf8")).toContain("Script");
  });
});
