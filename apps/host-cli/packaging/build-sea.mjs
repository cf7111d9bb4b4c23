#!/usr/bin/env node
// Builds kvp-host as a single executable (Node's "single executable applications"), for a
// Hyper-V server that has no Node (Windows) or a Linux management box:
//
//   node apps/host-cli/packaging/build-sea.mjs --target win-x64|linux-x64 --out DIR [--no-build]
//
// --target   win-x64 writes kvp-host-<version>-win-x64.exe, linux-x64 kvp-host-<version>-linux-x64
// --out      where it goes (required: dist/ would put a 100 MB executable into the npm package,
//            whose "files" is dist)
// --no-build use dist/kvp-host.cjs as it is instead of rebuilding it (`node build.mjs`) first
//
// It prints the path of the executable it wrote (the contract of scripts/release.mjs, whose
// host-win and host-linux steps this is), and of kvp-host-<version>-THIRD-PARTY-NOTICES.txt
// beside it: the notices of what the executable contains besides kvp-host (Node.js and its
// bundled libraries, the npm packages the bundle inlines), the same for both targets.
// Diagnostics go to stderr.
//
// The version is apps/host-cli/package.json's. The PowerShell bridge script travels inside
// the executable as the SEA asset `kvp-host-bridge.ps1` (src/transports/bridge-script.ts
// writes it to a private temporary file for PowerShell's -File): a lone .exe has nothing
// beside it. The executable embeds the pinned Node (scripts/lib/node-builds.mjs
// SEA_NODE_VERSION); Windows' is unsigned afterwards, since the injection invalidates
// node.exe's Authenticode signature.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeLicensePath } from "../../../scripts/lib/node-builds.mjs";
import { buildSea } from "../../../scripts/lib/sea.mjs";
import { noticesText, parseNotices } from "../../../scripts/lib/third-party-notices.mjs";
import { packageVersion } from "../../../scripts/lib/versions.mjs";

const TOOL = "build-sea";
const appDir = fileURLToPath(new URL("..", import.meta.url));

/** What each target's file is called; the names are the release's contract (scripts/release-checks/support.ts). */
const TARGETS = {
  "win-x64": (version) => `kvp-host-${version}-win-x64.exe`,
  "linux-x64": (version) => `kvp-host-${version}-linux-x64`,
};

/**
 * The name every SEA asset of kvp-host goes by, and where it comes from. The bridge script's
 * name must match BRIDGE_SCRIPT_NAME in src/transports/powershell-protocol.ts (the test of
 * bridge-script.ts checks the two agree).
 */
const ASSETS = { "kvp-host-bridge.ps1": join(appDir, "powershell", "kvp-host-bridge.ps1") };

const USAGE = "usage: node apps/host-cli/packaging/build-sea.mjs --target win-x64|linux-x64 --out DIR [--no-build]";

class UsageError extends Error {}

function parseArgs(argv) {
  const options = { target: undefined, out: undefined, build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value (${USAGE})`);
      return v;
    };
    if (arg === "--target") options.target = value();
    else if (arg === "--out") options.out = resolve(value());
    else if (arg === "--no-build") options.build = false;
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)} (${USAGE})`);
  }
  if (options.target === undefined) throw new UsageError(`--target is required (${USAGE})`);
  if (options.out === undefined) throw new UsageError(`--out is required (${USAGE})`);
  if (!Object.hasOwn(TARGETS, options.target))
    throw new UsageError(`unknown --target ${JSON.stringify(options.target)}: ${Object.keys(TARGETS).join(", ")}`);
  return options;
}

async function buildExecutable({ target, out, build }) {
  const bundle = join(appDir, "dist", "kvp-host.cjs");
  if (build) {
    const built = spawnSync(process.execPath, ["build.mjs"], { cwd: appDir, stdio: ["ignore", "inherit", "inherit"] });
    if (built.error || built.status !== 0)
      throw new Error(`node build.mjs in ${appDir} failed (${built.error?.message ?? `exit ${built.status}`})`);
  }
  if (!existsSync(bundle))
    throw new Error(`${bundle} does not exist: build it (node build.mjs in apps/host-cli), or drop --no-build`);
  const version = packageVersion(join(appDir, "package.json"));
  const started = Date.now();
  const result = await buildSea({ bundle, target, out: join(out, TARGETS[target](version)), assets: ASSETS });
  process.stderr.write(
    `${TOOL}: ${target}: ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, Node ${result.node}, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return [result.path, writeNotices(out, version, bundle, result.node)];
}

/**
 * Writes the executables' notices: Node.js's LICENSE (its own and its bundled libraries')
 * and the licence of each npm package the bundle inlines (dist/THIRD-PARTY-NOTICES.txt,
 * written by build.mjs). Returns its path.
 */
function writeNotices(out, version, bundle, nodeVersion) {
  const bundled = parseNotices(readFileSync(join(bundle, "..", "THIRD-PARTY-NOTICES.txt"), "utf8"));
  const node = {
    name: "node",
    version: nodeVersion,
    license: "MIT and others, see below",
    text: readFileSync(nodeLicensePath(nodeVersion), "utf8").trim(),
  };
  const path = join(out, `kvp-host-${version}-THIRD-PARTY-NOTICES.txt`);
  writeFileSync(
    path,
    noticesText(
      `kvp-host ${version} (the single executables kvp-host-${version}-win-x64.exe and kvp-host-${version}-linux-x64)`,
      [node, ...bundled],
    ),
  );
  return path;
}

try {
  for (const path of await buildExecutable(parseArgs(process.argv.slice(2)))) process.stdout.write(`${path}\n`);
} catch (error) {
  // SeaError and NodeBuildError (scripts/lib) say what failed in their message.
  process.stderr.write(`${TOOL}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
