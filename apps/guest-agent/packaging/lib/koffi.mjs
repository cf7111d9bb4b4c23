// koffi as the packages ship it: only what `require("koffi")` loads on one CPU with glibc.
//
// The npm packages carry far more: koffi's C++ sources, headers, vendored Node-API headers,
// docs and build tool (~1.9 MB), and each platform package a musl build beside the glibc one.
// What runs, found by removing files until a load failed (koffi 3.3.4, Node 18, 20 and 22):
//   koffi/package.json               "main": ./index.cjs (without it Node looks for index.js)
//   koffi/index.cjs                  → src/koffi/index.cjs, the loader
//   koffi/src/koffi/src/static.cjs   require("@koromix/koffi-linux-<cpu>")
//   @koromix/koffi-linux-<cpu>/index.js          picks glibc or musl from process.execPath's ELF
//   @koromix/koffi-linux-<cpu>/linux_<cpu>/koffi.node   the glibc binary
// plus the platform package's package.json (its "main"; kept so the directory stays an npm
// package whose version can be checked). The ESM entry (index.js) is left out: both bundles
// are CommonJS and load koffi with require. Licences: koffi's MIT notice is in the
// packages' copyright files.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readElf, isMusl } from "./elf.mjs";
import { installFile } from "./stage.mjs";

/** koffi's files that load at run time, relative to its package directory. */
export const KOFFI_RUNTIME_FILES = Object.freeze([
  "package.json",
  "index.cjs",
  "src/koffi/index.cjs",
  "src/koffi/src/static.cjs",
]);

/**
 * The platform package's files that load at run time for `target`.
 * @param {import("./targets.mjs").Target} target
 * @returns {string[]}
 */
export function platformRuntimeFiles(target) {
  return ["package.json", "index.js", `linux_${target.node}/koffi.node`];
}

/**
 * The root directory of an installed npm package, found the way Node finds it from `fromFile`.
 * @param {string} name
 * @param {string} fromFile
 * @returns {string}
 */
function packageRoot(name, fromFile) {
  let dir = dirname(createRequire(fromFile).resolve(name));
  while (!existsSync(join(dir, "package.json"))) {
    if (dirname(dir) === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = dirname(dir);
  }
  return realpathSync(dir);
}

/**
 * Where koffi and its platform package for `target` are installed in this checkout, checked:
 * one koffi for every app that ships it (the packages carry one copy that all bundles load),
 * a platform package of the same version (koffi refuses another).
 * @param {import("./targets.mjs").Target} target
 * @param {string[]} appDirs the apps whose bundles load koffi; the first one's copy is shipped
 * @returns {{ koffiDir: string, platformDir: string, platformName: string, version: string }}
 * @throws {Error} when an app resolves another koffi, or the platform package is missing.
 */
export function locateKoffi(target, appDirs) {
  const [first, ...others] = appDirs.map((dir) => ({ dir, koffi: packageRoot("koffi", join(dir, "package.json")) }));
  if (first === undefined) throw new Error("locateKoffi needs at least one app directory");
  for (const other of others) {
    if (other.koffi !== first.koffi) {
      throw new Error(
        `${other.dir} resolves koffi to ${other.koffi}, ${first.dir} to ${first.koffi}: the packages ship one copy for both (give both apps the same koffi version, then pnpm install)`,
      );
    }
  }
  const version = JSON.parse(readFileSync(join(first.koffi, "package.json"), "utf8")).version;
  const platformName = `@koromix/koffi-linux-${target.node}`;
  let platformDir;
  try {
    platformDir = packageRoot(platformName, join(first.koffi, "package.json"));
  } catch {
    throw new Error(
      `${platformName} is not installed: pnpm installs koffi's binary package only for the CPUs in pnpm-workspace.yaml's supportedArchitectures (${target.node} must be listed), then run pnpm install`,
    );
  }
  const platformVersion = JSON.parse(readFileSync(join(platformDir, "package.json"), "utf8")).version;
  if (platformVersion !== version)
    throw new Error(
      `${platformName} ${platformVersion} does not match koffi ${version} (koffi refuses mismatched binaries)`,
    );
  return { koffiDir: first.koffi, platformDir, platformName, version };
}

/**
 * Copies the run-time files of koffi for `target` into `nodeModules` (a node_modules
 * directory beside the bundles or the executable), and checks the binary is what it must be:
 * an ELF shared object for the target's CPU, built for glibc.
 * @param {string} nodeModules
 * @param {import("./targets.mjs").Target} target
 * @param {ReturnType<typeof locateKoffi>} located
 * @returns {string} the staged koffi.node
 * @throws {Error} when a file is missing or the binary is for another CPU or libc.
 */
export function stageKoffi(nodeModules, target, located) {
  for (const file of KOFFI_RUNTIME_FILES)
    installFile(join(located.koffiDir, file), join(nodeModules, "koffi", file), 0o644);
  for (const file of platformRuntimeFiles(target)) {
    // 0644 for the .node too: a shared object is not run, and Debian wants it not executable.
    installFile(join(located.platformDir, file), join(nodeModules, located.platformName, file), 0o644);
  }
  const binary = join(nodeModules, located.platformName, `linux_${target.node}`, "koffi.node");
  const elf = readElf(binary);
  if (elf === undefined || elf.kind !== "shared object") throw new Error(`${binary} is not an ELF shared object`);
  if (elf.machine !== target.elfMachine)
    throw new Error(`${binary} is for ELF machine ${elf.machine}, not ${target.cpuName} (${target.elfMachine})`);
  if (isMusl(elf)) throw new Error(`${binary} is a musl build; the packages ship glibc's`);
  return binary;
}

/**
 * Loads the koffi staged under `nodeModules` with `node` the way the bundles do
 * (createRequire from a file beside node_modules), opens the C library and calls getpid.
 * The builders run it for the build machine's CPU: a koffi that cannot load fails the build.
 * @param {string} node a node binary (the build machine's, or Node 18)
 * @param {string} nodeModules
 * @returns {string} what the probe printed: `<resolved path> <version>`
 * @throws {Error} with node's output when the probe fails.
 */
export function checkKoffiLoads(node, nodeModules) {
  const probe = [
    'const r = require("node:module").createRequire(process.argv[1]);',
    'const koffi = r("koffi");',
    'const getpid = koffi.load(null).func("int getpid(void)");',
    'if (getpid() !== process.pid) throw new Error("getpid through koffi disagrees with process.pid");',
    'console.log(r.resolve("koffi"), koffi.version);',
  ].join(" ");
  const result = spawnSync(node, ["-e", probe, join(dirname(nodeModules), "probe.cjs")], {
    encoding: "utf8",
    env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
    timeout: 60_000,
  });
  if (result.error || result.status !== 0) {
    throw new Error(`the staged koffi does not load with ${node}: ${result.error?.message ?? result.stderr.trim()}`);
  }
  return result.stdout.trim();
}
