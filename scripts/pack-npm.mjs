#!/usr/bin/env node
// The `npm` step of `pnpm release`: packs every published package into DIR, as npm would
// publish it, and refuses a tarball that is not what users may get.
//
//   node scripts/pack-npm.mjs --out DIR
//
// Each package is packed with `pnpm pack`, which runs its prepack (a turbo build: cached
// when the release's build step ran, a real build on a fresh clone) and rewrites
// `workspace:^` to the version of the package it names. Each tarball is then read and
// checked (scripts/lib/npm-tarball.mjs): the name the release contract promises
// (`hyperv-kvp-<dir>-<version>.tgz`), no tests or test support, no `workspace:` specifiers,
// no source map naming a file the tarball lacks, the project's metadata. Paths of the
// tarballs go to stdout, one a line; each one's size goes to stderr, and pnpm's and turbo's
// output too when packing fails. Exit 1 when a package fails to pack or check (nothing of it
// is left in DIR; the others are packed all the same, so one run names every problem), 2 for
// a bad command line.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NPM_PACKAGES, npmTarballName } from "./lib/npm-packages.mjs";
import { readTarball, tarballProblems } from "./lib/npm-tarball.mjs";
import { packageVersion } from "./lib/versions.mjs";

const TOOL = "pack-npm";
const root = fileURLToPath(new URL("..", import.meta.url));

/** Longest one `pnpm pack` (with its prepack build) may take, in ms: a deadline against hangs. */
const PACK_TIMEOUT_MS = 600_000;

class UsageError extends Error {}

function parseArgs(argv) {
  if (argv.length !== 2 || argv[0] !== "--out") throw new UsageError("usage: node scripts/pack-npm.mjs --out DIR");
  return { out: resolve(argv[1]) };
}

/**
 * Packs the package in `dir` into a scratch directory inside `out`, checks it, and moves it
 * into `out` under its contract name.
 * @returns {string} the tarball's path in `out`.
 * @throws Error naming the package and every problem found.
 */
function packOne(dir, out) {
  const version = packageVersion(join(root, dir, "package.json"));
  const expected = npmTarballName(dir, version);
  const scratch = mkdtempSync(join(out, ".pack-"));
  try {
    // pnpm lists every file and its prepack's output on stdout: kept for a failure, where it
    // says why; our stdout is for paths.
    const pack = spawnSync("pnpm", ["pack", "--pack-destination", scratch], {
      cwd: join(root, dir),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      timeout: PACK_TIMEOUT_MS,
      shell: process.platform === "win32",
    });
    if (pack.error || pack.status !== 0) {
      process.stderr.write(`${pack.stdout ?? ""}${pack.stderr ?? ""}`);
      throw new Error(
        `${dir}: pnpm pack ${pack.error ? `did not run: ${pack.error.message}` : `exited with ${pack.status ?? pack.signal}`} (its output is above)`,
      );
    }
    const written = readdirSync(scratch);
    if (written.length !== 1 || written[0] !== expected) {
      throw new Error(
        `${dir}: pnpm pack wrote ${written.join(", ") || "nothing"}; the release promises ${expected} (package name @hyperv-kvp/<dir>, version ${version})`,
      );
    }
    const files = readTarball(join(scratch, expected));
    const problems = tarballProblems(files, { dir });
    if (problems.length > 0) throw new Error(`${dir}: ${expected} must not be published:\n  ${problems.join("\n  ")}`);
    const path = join(out, expected);
    renameSync(join(scratch, expected), path);
    const unpacked = [...files.values()].reduce((sum, bytes) => sum + bytes.length, 0);
    process.stderr.write(
      `${TOOL}: ${expected}: ${kib(statSync(path).size)} packed, ${kib(unpacked)} unpacked, ${files.size} files\n`,
    );
    return path;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function packAll({ out }) {
  mkdirSync(out, { recursive: true });
  const failures = [];
  for (const dir of NPM_PACKAGES) {
    try {
      process.stdout.write(`${packOne(dir, out)}\n`);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (failures.length > 0)
    throw new Error(`${failures.length} of ${NPM_PACKAGES.length} packages failed:\n${failures.join("\n")}`);
}

try {
  packAll(parseArgs(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`${TOOL}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
