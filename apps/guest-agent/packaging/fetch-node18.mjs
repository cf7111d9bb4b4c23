#!/usr/bin/env node
// Provides a Node 18 binary for the tests that run the kvp-agent bundle as Debian 12 would
// (its nodejs package is 18.20.4), and prints its path.
//
//   node packaging/fetch-node18.mjs
//
// Where it comes from, first that works:
// 1. $KVP_NODE18, a node binary you already have (it must say v18.x).
// 2. The cache: $KVP_NODE18_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/hyperv-kvp, holding
//    node-v18.20.4-linux-<arch>/bin/node from an earlier run.
// 3. The npm registry: `npm pack node-linux-<arch>@18.20.4` (the official Node build, packed
//    as an npm package with bin/node), its integrity checked against the pin below, bin/node
//    extracted into the cache. About 40 MB, once per machine.
// Exit status 0 with the path on stdout, or 1 with `fetch-node18: why` on stderr.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const TOOL = "fetch-node18";

/** Debian 12's nodejs (18.20.4+dfsg-1~deb12u*) is this upstream release. */
const NODE18_VERSION = "18.20.4";

/**
 * npm's integrity of each platform package: a registry that served other bytes under the
 * same name and version is refused.
 */
const INTEGRITY = {
  x64: "sha512-R0uJgrj1mEU6h0NiypqrDenjo1w/viS/QKwB4zZCosvu/Z7ZRJU+4VVgnVy2t82qgkRVN8ZsBDImbkBI3czUrQ==",
};

/** Longest the download and unpacking may take, in ms. */
const FETCH_TIMEOUT_MS = 300_000;

class FetchError extends Error {}

function versionOf(node) {
  const result = spawnSync(node, ["--version"], { encoding: "utf8", timeout: 30_000 });
  if (result.error || result.status !== 0) return undefined;
  return result.stdout.trim();
}

function cacheRoot() {
  if (process.env["KVP_NODE18_CACHE"]) return process.env["KVP_NODE18_CACHE"];
  return join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "hyperv-kvp");
}

function fetchNode18() {
  const given = process.env["KVP_NODE18"];
  if (given) {
    const version = versionOf(given);
    if (!version?.startsWith("v18.")) throw new FetchError(`KVP_NODE18=${given} is not a Node 18 binary (it says ${version ?? "nothing: it does not run"})`);
    return given;
  }

  const integrity = INTEGRITY[process.arch];
  if (process.platform !== "linux" || integrity === undefined) {
    throw new FetchError(`no pinned Node ${NODE18_VERSION} for ${process.platform}-${process.arch}: set KVP_NODE18 to a Node 18 binary`);
  }
  const root = cacheRoot();
  const dir = join(root, `node-v${NODE18_VERSION}-linux-${process.arch}`);
  const node = join(dir, "bin", "node");
  if (existsSync(node) && versionOf(node) === `v${NODE18_VERSION}`) return node;

  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, ".fetch-"));
  try {
    const spec = `node-linux-${process.arch}@${NODE18_VERSION}`;
    const pack = spawnSync("npm", ["pack", spec, "--json", "--silent", "--pack-destination", work], {
      cwd: work,
      encoding: "utf8",
      timeout: FETCH_TIMEOUT_MS,
    });
    if (pack.error || pack.status !== 0) {
      throw new FetchError(`npm pack ${spec} failed (${pack.error?.message ?? `exit ${pack.status}`}): ${pack.stderr.trim().split("\n").slice(-3).join(" ")}`);
    }
    let packed;
    try {
      [packed] = JSON.parse(pack.stdout);
    } catch {
      throw new FetchError(`npm pack ${spec} printed no JSON: ${pack.stdout.slice(0, 200)}`);
    }
    if (packed?.integrity !== integrity) throw new FetchError(`${spec} has integrity ${packed?.integrity}, expected ${integrity}: refusing it`);
    const tar = spawnSync("tar", ["-xzf", join(work, packed.filename), "-C", work, "package/bin/node"], { encoding: "utf8", timeout: FETCH_TIMEOUT_MS });
    if (tar.error || tar.status !== 0) throw new FetchError(`cannot unpack bin/node from ${packed.filename}: ${tar.error?.message ?? tar.stderr.trim()}`);
    chmodSync(join(work, "package/bin/node"), 0o755);
    if (versionOf(join(work, "package/bin/node")) !== `v${NODE18_VERSION}`) throw new FetchError(`the node in ${packed.filename} does not run or is not v${NODE18_VERSION}`);
    // Rename into place: a concurrent fetch (two test files) either wins or finds it there.
    rmSync(join(work, packed.filename));
    try {
      renameSync(join(work, "package"), dir);
    } catch (error) {
      if (versionOf(node) === `v${NODE18_VERSION}`) return node;
      if (!existsSync(dir)) throw error;
      // A directory without a working node (a copy by hand, interrupted): moved aside, replaced.
      renameSync(dir, join(work, "stale"));
      renameSync(join(work, "package"), dir);
    }
    return node;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  process.stdout.write(`${fetchNode18()}\n`);
} catch (error) {
  process.stderr.write(`${TOOL}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
