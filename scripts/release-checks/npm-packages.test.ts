// The npm tarballs of a release, as users get them: what each holds, and that they install
// with plain npm into a project outside the workspace, nothing published yet, and work there:
// imported from ESM, typechecked under node16 and bundler resolution, a pool written and read,
// CIM-XML round trips, README examples run, CommonJS told what to do; the CLIs installed
// globally and run, kvp-host against the published simulator.
//
// Needs npm and the npm registry (the libraries' own dependencies, koffi, fast-xml-parser and
// @types/node come from there): without them these checks fail, saying so.
import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchNode } from "../lib/node-builds.mjs";
import { PROJECT_METADATA, npmTarballName } from "../lib/npm-packages.mjs";
import { readTarball, tarballProblems } from "../lib/npm-tarball.mjs";
import { NPM_PACKAGES, REPO_ROOT, artifact, releaseVersion } from "./support.js";

/** The libraries (imported by users' code); the rest of NPM_PACKAGES are CLIs. */
const LIBRARIES = ["packages/kvp-core", "packages/pool-file", "packages/wsman", "packages/hyperv-sim"] as const;
const LIBRARY_NAMES = LIBRARIES.map(packageName);

/** The workspace's TypeScript (5.9), the version users are told the types work with. */
const TSC = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
/** Files of the consumer project, copied next to the installed tarballs. */
const CONSUMER_FILES = join(REPO_ROOT, "scripts/release-checks/npm-consumer");
/** The Node.js release that has `require()` of ES modules on by default and is pinned here. */
const NODE_22 = "linux-x64@22.23.3";

/** The published exports map of every library: its entry points and package.json, nothing else. */
const LIBRARY_EXPORTS: Record<(typeof LIBRARIES)[number], Record<string, unknown>> = {
  "packages/kvp-core": {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./cim": { types: "./dist/cim/index.d.ts", default: "./dist/cim/index.js" },
    "./package.json": "./package.json",
  },
  "packages/pool-file": {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./package.json": "./package.json",
  },
  "packages/wsman": {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./package.json": "./package.json",
  },
  "packages/hyperv-sim": {
    ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    "./package.json": "./package.json",
  },
};

function packageName(dir: string): string {
  return `@hyperv-kvp/${dir.split("/")[1]}`;
}

function tarballOf(dir: string): string {
  return artifact(npmTarballName(dir, releaseVersion()));
}

const temps: string[] = [];

/** A fresh directory outside the repository, removed after the checks. */
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kvp-npm-${prefix}-`));
  temps.push(dir);
  if (!relative(REPO_ROOT, dir).startsWith(".."))
    throw new Error(`${dir} is inside the repository ${REPO_ROOT}: set TMPDIR elsewhere`);
  return dir;
}

/**
 * The environment for npm and the installed programs: this one without what pnpm and vitest
 * add for their own children (npm_config_*, npm_package_*), which would steer npm.
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name)) env[name] = value;
  return { ...env, ...extra };
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    encoding: "utf8",
    timeout: 300_000,
  });
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  return result;
}

/** Runs a command that must succeed; its output is in the error otherwise. */
function mustRun(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.status ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** `npm install ARGS` in `cwd`; a failure says that the npm registry must be reachable. */
function npmInstall(cwd: string, args: readonly string[]): void {
  const result = run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--fetch-retries=1", "--fetch-timeout=120000", ...args],
    { cwd },
  );
  if (result.status !== 0) {
    const tail = `${result.stderr}${result.stdout}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(
      `npm install ${args.join(" ")} failed (exit ${result.status}). These checks need npm and the npm registry (koffi, fast-xml-parser, @types/node come from it):\n${tail}`,
    );
  }
}

afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("every npm tarball", () => {
  for (const dir of NPM_PACKAGES) {
    it(`${packageName(dir)}: holds what users need and nothing they must not get`, () => {
      const files = readTarball(tarballOf(dir));
      expect(tarballProblems(files, { dir })).toEqual([]);

      const pkg = JSON.parse(files.get("package.json")!.toString("utf8"));
      expect(pkg.name).toBe(packageName(dir));
      expect(pkg.version).toBe(releaseVersion());
      expect(pkg.repository).toEqual({ type: "git", url: PROJECT_METADATA.repositoryUrl, directory: dir });
      expect(files.get("LICENSE")!.toString("utf8")).toBe(readFileSync(join(REPO_ROOT, "LICENSE"), "utf8"));
      expect(files.get("LICENSE")!.toString("utf8")).toContain("Copyright (c) 2026 the hyperv-kvp authors");
      expect(files.get("README.md")!.toString("utf8")).toBe(readFileSync(join(REPO_ROOT, dir, "README.md"), "utf8"));
      const paths = [...files.keys()];
      expect(paths.filter((path) => /\.test\.|test-support/.test(path))).toEqual([]);
      // No file names the workspace-only condition or a workspace specifier.
      expect(files.get("package.json")!.toString("utf8")).not.toMatch(/workspace:|@hyperv-kvp\/source/);
    });
  }

  for (const dir of LIBRARIES) {
    it(`${packageName(dir)}: exports only its entry points, with maps whose sources it ships`, () => {
      const files = readTarball(tarballOf(dir));
      const pkg = JSON.parse(files.get("package.json")!.toString("utf8"));
      expect(pkg.exports).toEqual(LIBRARY_EXPORTS[dir]);
      expect(pkg.type).toBe("module");
      expect(pkg.publishConfig).toEqual({ access: "public" });
      expect(pkg.engines).toEqual({ node: ">=20" });
      // Every module has its declaration, and maps that lead to sources in the tarball.
      const modules = [...files.keys()].filter((path) => path.startsWith("dist/") && path.endsWith(".js"));
      expect(modules).toContain("dist/index.js");
      for (const module of modules) {
        expect(files.has(module.replace(/\.js$/, ".d.ts"))).toBe(true);
        const map = JSON.parse(files.get(`${module}.map`)!.toString("utf8")) as { sources: string[] };
        const missing = map.sources
          .map((source) => posix.join(posix.dirname(module), source))
          .filter((source) => !files.has(source));
        expect(missing).toEqual([]);
      }
      const sources = [...files.keys()].filter((path) => path.startsWith("src/"));
      expect(sources.filter((path) => path.endsWith(".test.ts"))).toEqual([]);
      expect(sources).toContain("src/index.ts");
      // Every entry point's module, declaration and source are in the tarball.
      for (const entry of Object.values(LIBRARY_EXPORTS[dir])) {
        if (typeof entry === "string") continue;
        const { types, default: module } = entry as { types: string; default: string };
        expect(files.has(posix.normalize(types)) && files.has(posix.normalize(module))).toBe(true);
        expect(sources).toContain(
          posix
            .normalize(module)
            .replace(/^dist\//, "src/")
            .replace(/\.js$/, ".ts"),
        );
      }
    });
  }

  it("@hyperv-kvp/hyperv-sim ships its shim source (compiled at run time) and no test support", () => {
    const files = readTarball(tarballOf("packages/hyperv-sim"));
    expect(files.get("src/device/shim/hv_kvp_shim.c")?.toString("utf8")).toBe(
      readFileSync(join(REPO_ROOT, "packages/hyperv-sim/src/device/shim/hv_kvp_shim.c"), "utf8"),
    );
    expect([...files.keys()].filter((path) => path.includes("test-support"))).toEqual([]);
    const pkg = JSON.parse(files.get("package.json")!.toString("utf8"));
    expect(pkg.bin).toEqual({ "hyperv-sim": "./dist/hyperv-sim.mjs" });
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      "@hyperv-kvp/kvp-core",
      "@hyperv-kvp/pool-file",
      "@hyperv-kvp/wsman",
    ]);
    expect(pkg.dependencies["@hyperv-kvp/kvp-core"]).toBe(`^${releaseVersion()}`);
  });

  it("@hyperv-kvp/host-cli is its bundle and the PowerShell bridge, with no dependencies", () => {
    const files = readTarball(tarballOf("apps/host-cli"));
    expect([...files.keys()].sort()).toEqual([
      "LICENSE",
      "README.md",
      "dist/THIRD-PARTY-NOTICES.txt",
      "dist/kvp-host.cjs",
      "dist/powershell/kvp-host-bridge.ps1",
      "package.json",
    ]);
    // What the bundle inlines (commander, fast-xml-parser, …) travels with its notice.
    expect(files.get("dist/THIRD-PARTY-NOTICES.txt")!.toString("utf8")).toMatch(/^commander \d+\.\d+\.\d+ \(MIT\)$/m);
    expect(
      files
        .get("dist/powershell/kvp-host-bridge.ps1")!
        .equals(readFileSync(join(REPO_ROOT, "apps/host-cli/powershell/kvp-host-bridge.ps1"))),
    ).toBe(true);
    const pkg = JSON.parse(files.get("package.json")!.toString("utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.bin).toEqual({ "kvp-host": "./dist/kvp-host.cjs" });
    expect(files.get("dist/kvp-host.cjs")!.toString("utf8")).not.toContain("sourceMappingURL");
  });

  it("@hyperv-kvp/pool-tools is its bundle and the kvp-lock addon for each CPU, depending on koffi alone (its other native part)", () => {
    const files = readTarball(tarballOf("apps/pool-tools"));
    expect([...files.keys()].sort()).toEqual([
      "LICENSE",
      "README.md",
      "dist/THIRD-PARTY-NOTICES.txt",
      "dist/kvp-lock.linux-arm64.node",
      "dist/kvp-lock.linux-x64.node",
      "dist/kvp-pool.cjs",
      "package.json",
    ]);
    expect(elfMachine(files.get("dist/kvp-lock.linux-x64.node")!)).toBe(ELF_MACHINE.x64);
    expect(elfMachine(files.get("dist/kvp-lock.linux-arm64.node")!)).toBe(ELF_MACHINE.arm64);
    const notices = files.get("dist/THIRD-PARTY-NOTICES.txt")!.toString("utf8");
    expect(notices).toMatch(/^commander \d+\.\d+\.\d+ \(MIT\)$/m);
    // kvp-pool handles pools only: kvp-core's CIM-XML part (/cim) and its XML parser stay out.
    expect(notices).not.toMatch(/^fast-xml-parser /m);
    const pkg = JSON.parse(files.get("package.json")!.toString("utf8"));
    expect(Object.keys(pkg.dependencies)).toEqual(["koffi"]);
    expect(pkg.bin).toEqual({ "kvp-pool": "./dist/kvp-pool.cjs" });
    expect(files.get("dist/kvp-pool.cjs")!.toString("utf8")).not.toContain("sourceMappingURL");
  });

  it("@hyperv-kvp/pool-file carries the kvp-lock addon for each CPU beside its modules (dist/libc.js loads it from there)", () => {
    const files = readTarball(tarballOf("packages/pool-file"));
    expect([...files.keys()].filter((path) => path.endsWith(".node")).sort()).toEqual([
      "dist/kvp-lock.linux-arm64.node",
      "dist/kvp-lock.linux-x64.node",
    ]);
    expect(files.has("dist/libc.js")).toBe(true);
    expect(elfMachine(files.get("dist/kvp-lock.linux-x64.node")!)).toBe(ELF_MACHINE.x64);
    expect(elfMachine(files.get("dist/kvp-lock.linux-arm64.node")!)).toBe(ELF_MACHINE.arm64);
  });

  it("the tarball check refuses what must not be published (the guard itself works)", () => {
    const good = readTarball(tarballOf("packages/kvp-core"));
    const bad = new Map(good);
    const pkg = JSON.parse(good.get("package.json")!.toString("utf8"));
    pkg.dependencies = { ...pkg.dependencies, "@hyperv-kvp/pool-file": "workspace:^" };
    pkg.exports = {
      ".": { "@hyperv-kvp/source": "./src/index.ts", default: "./dist/index.js" },
      "./test-support": "./dist/test-support/index.js",
    };
    bad.set("package.json", Buffer.from(JSON.stringify(pkg)));
    bad.set("src/record.test.ts", Buffer.from("test"));
    bad.set("dist/helper.js", Buffer.from('import { it } from "vitest";\n//# sourceMappingURL=helper.js.map\n'));
    bad.set(
      "dist/other.js.map",
      Buffer.from(JSON.stringify({ version: 3, sources: ["../src/other.ts"], mappings: "" })),
    );
    bad.delete("LICENSE");
    const problems = tarballProblems(bad, { dir: "packages/kvp-core" }).join("\n");
    expect(problems).toContain('dependencies.@hyperv-kvp/pool-file is "workspace:^"');
    expect(problems).toContain("workspace-only condition @hyperv-kvp/source");
    expect(problems).toContain("./dist/test-support/index.js, which the tarball lacks");
    expect(problems).toContain("src/record.test.ts is a test");
    expect(problems).toContain("dist/helper.js imports vitest");
    expect(problems).toContain("dist/helper.js names the source map helper.js.map, which the tarball lacks");
    expect(problems).toContain("dist/other.js.map points at ../src/other.ts, which the tarball lacks");
    expect(problems).toContain("no LICENSE");
    expect(tarballProblems(good, { dir: "packages/kvp-core" })).toEqual([]);
    expect(tarballProblems(good, { dir: "packages/elsewhere" }).join("\n")).toContain("directory packages/elsewhere");
  });
});

describe("the libraries, installed with plain npm into a project outside the workspace", () => {
  let project: string;

  beforeAll(() => {
    project = scratch("libraries");
    writeFileSync(
      join(project, "package.json"),
      `${JSON.stringify({ name: "kvp-npm-consumer", private: true, type: "module" }, null, 2)}\n`,
    );
    cpSync(CONSUMER_FILES, project, { recursive: true });
    // Nothing is published: the tarballs satisfy each other's ^version ranges.
    npmInstall(project, [...LIBRARIES.map(tarballOf), "@types/node@20"]);
  });

  it("installs each library from its tarball, with no workspace left in it", () => {
    for (const name of LIBRARY_NAMES) {
      const installed = JSON.parse(readFileSync(join(project, "node_modules", name, "package.json"), "utf8"));
      expect(installed.version).toBe(releaseVersion());
    }
    const lock = readFileSync(join(project, "package-lock.json"), "utf8");
    expect(lock).not.toContain("workspace:");
    expect(existsSync(join(project, "node_modules/koffi/package.json"))).toBe(true);
    expect(existsSync(join(project, "node_modules/fast-xml-parser/package.json"))).toBe(true);
  });

  it("imports every library from ESM; test support and deep paths do not resolve", () => {
    const { found, refused } = JSON.parse(mustRun(process.execPath, ["esm-imports.mjs"], { cwd: project }));
    expect(found).toEqual({
      "@hyperv-kvp/kvp-core": { encodePool: "function", decodeKvpItem: "undefined", RECORD_BYTES: "number" },
      "@hyperv-kvp/kvp-core/cim": { decodeKvpItem: "function", toCimXml: "function", encodePool: "undefined" },
      "@hyperv-kvp/pool-file": { readPool: "function", setRecords: "function", poolTarget: "function" },
      "@hyperv-kvp/wsman": { WsmanClient: "function", createWsmanServer: "function" },
      "@hyperv-kvp/hyperv-sim": { startSimulatedHost: "function", startWmiHost: "function" },
    });
    expect(refused).toEqual({
      "@hyperv-kvp/hyperv-sim/test-support": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@hyperv-kvp/kvp-core/dist/record.js": "ERR_PACKAGE_PATH_NOT_EXPORTED",
    });
  });

  for (const resolution of ["node16", "bundler"]) {
    it(`typechecks a TypeScript user under moduleResolution ${resolution}, the published .d.ts included`, () => {
      // check.ts holds @ts-expect-error lines: types that were `any`, or a test-support path
      // that resolved, would make them unused, which is an error too.
      const result = run(process.execPath, [TSC, "-p", `tsconfig.${resolution}.json`], { cwd: project });
      expect(`${result.stdout}${result.stderr}`).toBe("");
      expect(result.status).toBe(0);
    });
  }

  it("tells a CommonJS TypeScript file under node16 to use import() (TS1479); nodenext allows require", () => {
    const node16 = run(
      process.execPath,
      [
        TSC,
        "--noEmit",
        "--strict",
        "--types",
        "node",
        "--module",
        "node16",
        "--moduleResolution",
        "node16",
        "require-check.cts",
      ],
      { cwd: project },
    );
    expect(node16.status).not.toBe(0);
    expect(node16.stdout).toContain("error TS1479");
    expect(node16.stdout).toContain(`dynamic 'import("@hyperv-kvp/kvp-core")'`);
    const nodenext = run(
      process.execPath,
      [
        TSC,
        "--noEmit",
        "--strict",
        "--types",
        "node",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "require-check.cts",
      ],
      { cwd: project },
    );
    expect(`${nodenext.stdout}${nodenext.stderr}`).toBe("");
    expect(nodenext.status).toBe(0);
  });

  it("writes and reads a pool with pool-file, bytes as the daemon lays them out", () => {
    const pools = scratch("pool");
    const out = JSON.parse(mustRun(process.execPath, ["pool-round-trip.mjs", pools], { cwd: project }));
    expect(out).toEqual({
      path: join(pools, ".kvp_pool_1"),
      first: ["appended", "appended", "appended"],
      second: [["modified", "booting"]],
      got: "ready",
      removed: ["Build"],
      records: [
        ["ReadyState", "ready"],
        ["Note", "grüße, 世界"],
      ],
    });
    // The file itself: two 2,560-byte records, NUL-terminated UTF-8 key at 0, value at 512.
    const bytes = readFileSync(join(pools, ".kvp_pool_1"));
    expect(bytes.length).toBe(2 * 2560);
    const field = (offset: number, size: number) =>
      bytes
        .subarray(offset, offset + size)
        .toString("utf8")
        .split("\0")[0];
    expect([field(0, 512), field(512, 2048), field(2560, 512), field(2560 + 512, 2048)]).toEqual([
      "ReadyState",
      "ready",
      "Note",
      "grüße, 世界",
    ]);
  });

  it("round-trips KVP items through CIM-XML with kvp-core", () => {
    const out = JSON.parse(mustRun(process.execPath, ["cim-round-trip.mjs"], { cwd: project }));
    expect(out.back).toEqual(out.items);
    expect(out.generic).toEqual([true, true, true]);
    expect(out.instanceClass).toBe("Msvm_KvpExchangeDataItem");
    expect(out.xml[0]).toMatch(
      /^<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">.*<PROPERTY NAME="Source" TYPE="uint16"><VALUE>0<\/VALUE><\/PROPERTY><\/INSTANCE>$/,
    );
    expect(out.xml[1]).toContain("<VALUE>notes &lt;&amp;&gt;\"'</VALUE>");
  });

  it("lets CommonJS require() the libraries where Node.js loads ES modules synchronously (this Node, 22)", () => {
    const expected = Object.fromEntries(
      LIBRARY_NAMES.map((name) => [
        name,
        expect.objectContaining({ encodePool: name === "@hyperv-kvp/kvp-core" ? "function" : "undefined" }),
      ]),
    );
    const here = run(process.execPath, ["require-all.cjs"], { cwd: project });
    expect(here.stderr).toBe("");
    expect(JSON.parse(here.stdout)).toEqual(expected);
    const node22 = run(fetchNode(NODE_22), ["require-all.cjs"], { cwd: project });
    expect(node22.stderr).toBe("");
    expect(JSON.parse(node22.stdout)).toEqual(expected);
  });

  it("gives CommonJS ERR_REQUIRE_ESM, pointing to import(), where Node.js cannot require ES modules", () => {
    // --no-experimental-require-module is how Node.js before 20.19 and 22.12 behaves.
    const old = JSON.parse(
      mustRun(process.execPath, ["--no-experimental-require-module", "require-all.cjs"], { cwd: project }),
    );
    for (const name of LIBRARY_NAMES) {
      expect(old[name].code).toBe("ERR_REQUIRE_ESM");
      expect(old[name].message).toContain(`node_modules/${name}/dist/index.js`);
    }
    const full = run(process.execPath, ["--no-experimental-require-module", "-e", 'require("@hyperv-kvp/kvp-core")'], {
      cwd: project,
    });
    expect(full.stderr).toContain("to a dynamic import() which is available in all CommonJS modules");
  });

  for (const dir of LIBRARIES) {
    it(`runs the examples of ${packageName(dir)}'s README and prints what the README shows`, () => {
      const readme = readTarball(tarballOf(dir)).get("README.md")!.toString("utf8");
      const examples = [...readme.matchAll(/```js\n([\s\S]*?)```\n+```text\n([\s\S]*?)```/g)];
      const jsBlocks = readme.match(/```js\n/g) ?? [];
      // Every js block has its output beside it, so none escapes this check.
      expect(examples.length).toBe(jsBlocks.length);
      expect(examples.length).toBeGreaterThan(0);
      for (const [i, [, code, output]] of examples.entries()) {
        const file = `readme-${dir.split("/")[1]}-${i}.mjs`;
        writeFileSync(join(project, file), code!);
        expect(mustRun(process.execPath, [file], { cwd: project })).toBe(output);
      }
    });
  }

  it("runs the simulator's command (hyperv-sim --help)", () => {
    const help = mustRun(join(project, "node_modules/.bin/hyperv-sim"), ["--help"], { cwd: project });
    expect(help).toContain("hyperv-sim serve");
  });

  describe("the CLIs, installed with npm install -g", () => {
    let prefix: string;
    const bin = (name: string) => join(prefix, "bin", name);

    beforeAll(() => {
      prefix = scratch("global");
      npmInstall(project, ["-g", "--prefix", prefix, tarballOf("apps/host-cli"), tarballOf("apps/pool-tools")]);
    });

    it("installs kvp-host alone (its bundle holds its dependencies) with its PowerShell bridge", () => {
      const installed = join(prefix, "lib/node_modules/@hyperv-kvp/host-cli");
      expect(existsSync(join(installed, "dist/powershell/kvp-host-bridge.ps1"))).toBe(true);
      expect(existsSync(join(installed, "node_modules"))).toBe(false);
      const poolTools = join(prefix, "lib/node_modules/@hyperv-kvp/pool-tools/node_modules");
      expect(readdirSync(poolTools).filter((name) => !name.startsWith("."))).toEqual(expect.arrayContaining(["koffi"]));
      expect(existsSync(join(poolTools, "@hyperv-kvp"))).toBe(false);
      expect(existsSync(join(poolTools, "commander"))).toBe(false);
    });

    it("runs kvp-host --help and kvp-pool --help", () => {
      expect(mustRun(bin("kvp-host"), ["--help"], { cwd: project })).toContain("Usage: kvp-host");
      expect(mustRun(bin("kvp-pool"), ["--help"], { cwd: project })).toContain("Usage: kvp-pool");
    });

    it("lists with kvp-pool a pool that pool-file wrote", () => {
      const pools = scratch("pools");
      mustRun(process.execPath, ["pool-round-trip.mjs", pools], { cwd: project });
      // The daemon creates every pool file; kvp-pool lists them all.
      for (const pool of [0, 2, 3, 4]) writeFileSync(join(pools, `.kvp_pool_${pool}`), "");
      const listed = JSON.parse(mustRun(bin("kvp-pool"), ["--dir", pools, "list", "--json"], { cwd: project }));
      expect(
        listed
          .filter((r: { pool: number }) => r.pool === 1)
          .map((r: { key: string; value: string }) => [r.key, r.value]),
      ).toEqual([
        ["ReadyState", "ready"],
        ["Note", "grüße, 世界"],
      ]);
      const text = mustRun(bin("kvp-pool"), ["--dir", pools, "list"], { cwd: project });
      expect(text).toContain("ReadyState = ready");
    });

    it("drives the published simulator with kvp-host: npx @hyperv-kvp/hyperv-sim serve, set, list, then the guest's pool", async () => {
      // Its own process group, so a failure below can stop npx, the simulator and its daemons.
      const sim = spawn("npx", ["--no", "@hyperv-kvp/hyperv-sim", "serve", "--vms", "web01"], {
        cwd: project,
        env: cleanEnv(),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      const closed = new Promise<number | null>((resolve) => sim.once("close", resolve));
      let stderr = "";
      sim.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
      try {
        const info = await firstLine(sim, () => stderr);
        const env = cleanEnv({ KVP_HOST_PASSWORD: info.password });
        const common = ["--endpoint", info.endpoint, "--user", info.user];
        expect(mustRun(bin("kvp-host"), [...common, "vms"], { cwd: project, env })).toContain("web01");
        mustRun(bin("kvp-host"), [...common, "set", "web01", "role=web", "tier=1"], { cwd: project, env });
        const listed = JSON.parse(
          mustRun(bin("kvp-host"), [...common, "list", "web01", "--source", "host", "--json"], { cwd: project, env }),
        );
        expect(listed.items).toEqual([
          { source: "host", key: "role", value: "web" },
          { source: "host", key: "tier", value: "1" },
        ]);
        // Through the simulated VMBus, the guest's daemon wrote them into its pool 0.
        const poolDir = info.vms[0]!.poolDir;
        expect(
          mustRun(bin("kvp-pool"), ["--dir", poolDir, "get", "role", "--pool", "external"], { cwd: project }).trim(),
        ).toBe("web");
        // As a user stops it: SIGTERM to the simulator, which stops its daemons and exits 0.
        process.kill(info.pid, "SIGTERM");
        expect(await closed).toBe(0);
      } finally {
        if (sim.exitCode === null && sim.signalCode === null) {
          process.kill(-sim.pid!, "SIGTERM");
          await closed;
        }
      }
    });

    // The lead's --version work puts the version into every bundle at build time.
    it("says the release version: kvp-host, kvp-pool and hyperv-sim --version", () => {
      for (const command of [bin("kvp-host"), bin("kvp-pool"), join(project, "node_modules/.bin/hyperv-sim")]) {
        expect(mustRun(command, ["--version"], { cwd: project })).toContain(releaseVersion());
      }
    });
  });
});

interface ServeInfo {
  endpoint: string;
  user: string;
  password: string;
  pid: number;
  vms: { name: string; poolDir: string }[];
}

/** The JSON line `hyperv-sim serve` prints once it serves; rejects if it exits first. */
function firstLine(child: ChildProcess, stderr: () => string): Promise<ServeInfo> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      lines.close();
      try {
        resolve(JSON.parse(line) as ServeInfo);
      } catch {
        reject(new Error(`hyperv-sim serve printed ${JSON.stringify(line)}, not its JSON line; stderr: ${stderr()}`));
      }
    });
    child.once("close", (code) =>
      reject(new Error(`hyperv-sim serve exited with ${code} before serving; stderr: ${stderr()}`)),
    );
  });
}

/** ELF e_machine of the CPUs the kvp-lock addon is built for. */
const ELF_MACHINE = { x64: 62, arm64: 183 } as const;

/** e_machine of an ELF file (little-endian), or undefined when it is not ELF. */
function elfMachine(bytes: Buffer): number | undefined {
  return bytes.length >= 20 && bytes.toString("latin1", 0, 4) === "\x7fELF" ? bytes.readUInt16LE(18) : undefined;
}
