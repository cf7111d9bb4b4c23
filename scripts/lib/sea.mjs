// Single executables (Node's "single executable applications"): one of our CommonJS bundles
// injected into a copy of an official Node binary, so the program runs where no Node is
// installed (a Windows Hyper-V server, a Debian 11 template whose nodejs is 12).
//
// How: the pinned Node for the build machine writes the preparation blob (its format belongs
// to the Node version, so the same release as the target writes it; it holds no machine code
// without a code cache, so one blob serves every platform), postject injects it into a copy of
// the target's binary. Inside, `require` sees only Node's built-ins: anything else (koffi's
// native addon) is loaded from disk with createRequire(process.execPath). Files the program
// needs at run time travel as SEA assets (node:sea getAsset).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { SEA_NODE_VERSION, fetchNode, parseNodeSpec } from "./node-builds.mjs";

/** Node's fixed sentinel: postject flips it so the binary knows it carries a blob. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** A failure to build an executable; its message says why. */
export class SeaError extends Error {}

/**
 * The strip program that can handle `arch` binaries on this machine, or undefined.
 * llvm-strip handles every architecture; GNU strip only its own (binutils-aarch64-linux-gnu
 * brings aarch64-linux-gnu-strip).
 */
function stripProgramFor(arch) {
  const candidates = ["llvm-strip", "llvm-strip-16", "llvm-strip-15", "llvm-strip-14"];
  if (arch === process.arch) candidates.push("strip");
  if (arch === "arm64") candidates.push("aarch64-linux-gnu-strip");
  if (arch === "x64") candidates.push("x86_64-linux-gnu-strip");
  for (const program of candidates) {
    const probe = spawnSync(program, ["--version"], { encoding: "utf8" });
    if (!probe.error && probe.status === 0) return program;
  }
  return undefined;
}

/**
 * Builds the single executable `out` for `target` (`linux-x64`, `linux-arm64`, `win-x64`)
 * from the CommonJS `bundle`.
 *
 * Linux binaries are stripped first (the official builds carry ~17 MB of symbols; a stripped
 * SEA still runs and still reports native stacks by address). Windows' node.exe is used as
 * shipped: its symbols are not in the file. Its Authenticode signature no longer matches after
 * the injection; the executable is unsigned, and the README says so.
 *
 * @param {object} options
 * @param {string} options.bundle the program, one CommonJS file
 * @param {string} options.target `<platform>-<arch>`
 * @param {string} options.out the executable to write
 * @param {Record<string, string>} [options.assets] SEA assets: name → file
 * @param {string[]} [options.execArgv] node options the executable always starts with (the SEA
 *   config's `execArgv`, Node ≥ 22.20; `process.execArgv` shows them)
 * @param {string} [options.nodeVersion] default {@link SEA_NODE_VERSION}
 * @returns {Promise<{ path: string, bytes: number, node: string }>}
 * @throws {SeaError | import("./node-builds.mjs").NodeBuildError}
 */
export async function buildSea({ bundle, target, out, assets = {}, execArgv = [], nodeVersion = SEA_NODE_VERSION }) {
  const { platform, arch } = parseNodeSpec(`${target}@${nodeVersion}`);
  if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) {
    throw new SeaError(
      `single executables are built on Linux x64 or arm64 (the blob is written by the pinned Linux Node), not ${process.platform}-${process.arch}`,
    );
  }
  const builder = fetchNode(`linux-${process.arch}@${nodeVersion}`);
  const targetNode = fetchNode(`${target}@${nodeVersion}`);

  const work = mkdtempSync(join(tmpdir(), "kvp-sea-"));
  try {
    const blob = join(work, "sea.blob");
    const config = {
      main: resolve(bundle),
      output: blob,
      disableExperimentalSEAWarning: true,
      // Both would tie the blob to the builder's platform; the blob is shared by all targets.
      useSnapshot: false,
      useCodeCache: false,
      assets: Object.fromEntries(Object.entries(assets).map(([name, file]) => [name, resolve(file)])),
      ...(execArgv.length > 0 ? { execArgv } : {}),
    };
    writeFileSync(join(work, "sea-config.json"), JSON.stringify(config, null, 2));
    const prepare = spawnSync(builder, ["--experimental-sea-config", "sea-config.json"], {
      cwd: work,
      encoding: "utf8",
      env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
    });
    if (prepare.error || prepare.status !== 0)
      throw new SeaError(`writing the SEA blob failed: ${prepare.error?.message ?? prepare.stderr.trim()}`);

    const exe = join(work, platform === "win" ? "program.exe" : "program");
    copyFileSync(targetNode, exe);
    chmodSync(exe, 0o755);
    if (platform === "linux") {
      const strip = stripProgramFor(arch);
      if (strip === undefined) {
        throw new SeaError(
          `no strip program for ${arch} binaries: install llvm (llvm-strip) or binutils-${arch === "arm64" ? "aarch64" : "x86-64"}-linux-gnu`,
        );
      }
      const stripped = spawnSync(strip, ["--strip-all", exe], { encoding: "utf8" });
      if (stripped.error || stripped.status !== 0)
        throw new SeaError(`${strip} failed: ${stripped.error?.message ?? stripped.stderr.trim()}`);
    }
    await inject(exe, readFileSync(blob));

    mkdirSync(dirname(resolve(out)), { recursive: true });
    copyFileSync(exe, out);
    chmodSync(out, 0o755);
    return { path: resolve(out), bytes: statSync(out).size, node: nodeVersion };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** postject's injection of the blob as the NODE_SEA_BLOB resource (an ELF note, a PE resource). */
async function inject(exe, blob) {
  const postject = createRequire(import.meta.url)("postject");
  try {
    await postject.inject(exe, "NODE_SEA_BLOB", blob, { sentinelFuse: SEA_FUSE });
  } catch (error) {
    throw new SeaError(
      `postject could not inject the SEA blob into ${exe}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
