// Builds kvp-lock.c (the pool lock's two libc calls as a Node-API addon) with plain gcc
// against the running Node's own headers: Node-API is ABI-stable, so one shared object per CPU
// serves Node 18, 20 and 22, and no node-gyp (nor Python) is needed.
//
// Run as a script by pool-file's build (`node native/build-addon.mjs dist`), and imported by
// the app builds, which put the addon beside their bundles (src/libc.ts says why there).
// The build machine's CPU is always built; the other CPU when its cross compiler is installed
// (aarch64-linux-gnu-gcc: Debian's gcc-aarch64-linux-gnu and libc6-dev-arm64-cross). Without a
// compiler for the machine's own CPU the build fails in CI, and elsewhere warns and goes on:
// pool-file then takes the locks through koffi, as correct, only slower to start.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("kvp-lock.c", import.meta.url));

/** The CPUs the addon is built for, with their ELF machine numbers and compilers. */
export const LOCK_ADDON_TARGETS = Object.freeze([
  Object.freeze({ arch: "x64", elfMachine: 62, crossCompiler: "x86_64-linux-gnu-gcc" }),
  Object.freeze({ arch: "arm64", elfMachine: 183, crossCompiler: "aarch64-linux-gnu-gcc" }),
]);

/**
 * Newest glibc symbol version the addon may need: koffi's floor (GLIBC_2.25), so the addon runs
 * wherever the packages' koffi does. It needs fcntl, flock and errno: GLIBC_2.2.5 (x64) and
 * GLIBC_2.17 (arm64) in practice.
 */
const NEWEST_GLIBC = [2, 25];

/**
 * The addon's file name for `arch`: src/libc.ts loads this name, the packagers ship it.
 * @param {string} arch Node's process.arch
 */
export function lockAddonName(arch) {
  return `kvp-lock.linux-${arch}.node`;
}

/** Node's C headers (node_api.h), from the Node running this. */
export function nodeIncludeDir() {
  return join(dirname(dirname(process.execPath)), "include", "node");
}

/** A failure to build or check the addon; its message says why. */
export class AddonBuildError extends Error {}

/**
 * Builds the addon into `outDir` for the machine's CPU and, where a cross compiler exists, the
 * other one; checks each result (ELF shared object for that CPU, old enough glibc symbols).
 * @param {string} outDir
 * @param {{ log?: (line: string) => void, env?: NodeJS.ProcessEnv }} [options]
 * @returns {{ arch: string, path: string }[]} the addons written
 * @throws {AddonBuildError} when a compiler fails, or when the machine's own compiler is
 *   missing in CI (CI=true).
 */
export function buildLockAddons(outDir, { log = (line) => process.stderr.write(`${line}\n`), env = process.env } = {}) {
  const include = nodeIncludeDir();
  const built = [];
  for (const target of LOCK_ADDON_TARGETS) {
    const native = process.platform === "linux" && target.arch === process.arch;
    const compiler = native ? "gcc" : target.crossCompiler;
    const out = resolve(outDir, lockAddonName(target.arch));
    const missing = !runs(compiler)
      ? `${compiler} not found (apt-get install gcc)`
      : !existsSync(join(include, "node_api.h"))
        ? `Node's headers (node_api.h) are not in ${include} (official Node builds have them; Debian's nodejs: libnode-dev)`
        : undefined;
    if (missing !== undefined) {
      // Never leave an addon of an older build behind as if it were this one's.
      rmSync(out, { force: true });
      if (!native) continue; // Built where the release builds, with setup.sh --for-release.
      const message = `cannot build the pool lock addon ${lockAddonName(target.arch)}: ${missing}`;
      if (env["CI"]) throw new AddonBuildError(`${message}; CI must build it`);
      log(`warning: ${message}; pool-file takes its locks through koffi (slower start)`);
      continue;
    }
    mkdirSync(dirname(out), { recursive: true });
    // Written aside, then renamed: a test run may build while another process has the old
    // file loaded, or builds it too; a rename swaps the whole file at once.
    const temporary = `${out}.${process.pid}.tmp`;
    // -s: the symbols are of no use to anyone loading it, and the file ships in every package.
    // No -lc beyond the default, no node library: Node's symbols resolve when Node loads it.
    const args = ["-shared", "-fPIC", "-O2", "-s", "-Wall", "-Wextra", "-std=c11"];
    args.push("-DNODE_GYP_MODULE_NAME=kvp_lock", `-I${include}`, SOURCE, "-o", temporary);
    const result = spawnSync(compiler, args, { encoding: "utf8" });
    try {
      if (result.error || result.status !== 0)
        throw new AddonBuildError(
          `${compiler} ${args.join(" ")} failed: ${result.error?.message ?? result.stderr.trim()}`,
        );
      checkAddon(temporary, target);
      renameSync(temporary, out);
    } finally {
      rmSync(temporary, { force: true });
    }
    built.push({ arch: target.arch, path: out });
  }
  return built;
}

/**
 * Checks that `file` is a 64-bit little-endian ELF shared object for `target`'s CPU needing no
 * glibc newer than {@link NEWEST_GLIBC}.
 * @param {string} file
 * @param {{ arch: string, elfMachine: number }} target
 * @throws {AddonBuildError}
 */
export function checkAddon(file, target) {
  const bytes = readFileSync(file);
  const ELF_MAGIC = "\x7fELF";
  const ELFCLASS64 = 2;
  const ELFDATA2LSB = 1;
  const ET_DYN = 3;
  if (bytes.length < 64 || bytes.toString("latin1", 0, 4) !== ELF_MAGIC)
    throw new AddonBuildError(`${file} is not an ELF file`);
  if (bytes[4] !== ELFCLASS64 || bytes[5] !== ELFDATA2LSB)
    throw new AddonBuildError(`${file} is not a 64-bit little-endian ELF file`);
  const type = bytes.readUInt16LE(16);
  const machine = bytes.readUInt16LE(18);
  if (type !== ET_DYN) throw new AddonBuildError(`${file} is not a shared object (ELF type ${type})`);
  if (machine !== target.elfMachine)
    throw new AddonBuildError(`${file} is for ELF machine ${machine}, not ${target.arch} (${target.elfMachine})`);
  // Symbol version names sit in .dynstr as plain strings.
  for (const [, major, minor] of bytes.toString("latin1").matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
    const version = [Number(major), Number(minor)];
    if (version[0] > NEWEST_GLIBC[0] || (version[0] === NEWEST_GLIBC[0] && version[1] > NEWEST_GLIBC[1]))
      throw new AddonBuildError(
        `${file} needs GLIBC_${major}.${minor}, newer than koffi's GLIBC_${NEWEST_GLIBC.join(".")}: it would not load where the packages' koffi does`,
      );
  }
}

function runs(command) {
  const probe = spawnSync(command, ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

// As a script: `node native/build-addon.mjs OUT_DIR`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    process.stderr.write("usage: node native/build-addon.mjs OUT_DIR\n");
    process.exit(2);
  }
  try {
    buildLockAddons(outDir);
  } catch (error) {
    process.stderr.write(`build-addon: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
