#!/usr/bin/env node
// `pnpm release`: builds everything a user downloads into release/ (or --out DIR), then
// writes SHA256SUMS over it.
//
//   node scripts/release.mjs [--out DIR] [--only STEP,...] [--list]
//
// Each step is a builder script of its own (one per kind of artifact, next to the code it
// packs) that writes into the output directory and prints the paths it wrote, one per line.
// The version is every package's package.json version (changesets keeps them equal); each
// builder reads it there, so nothing here passes it on.
//
// Steps run one after another: the heavy ones compress ~100 MB executables and would only
// fight over this machine's two cores. A failed step stops the release with its output; what
// earlier steps wrote stays, without a SHA256SUMS, so a half release is never mistaken for one.
// A whole release (no --only) first empties the directory of an earlier release.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TOOL = "release";
const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The steps, in order. `args` get `--out DIR` appended. Names are what --only takes.
 * @type {{ name: string, what: string, command: string, args: string[] }[]}
 */
const STEPS = [
  {
    name: "build",
    what: "every package and bundle (turbo)",
    command: "pnpm",
    args: ["exec", "turbo", "run", "build", "--output-logs=errors-only"],
  },
  { name: "npm", what: "npm tarballs of the published packages", command: "node", args: ["scripts/pack-npm.mjs"] },
  {
    name: "host-win",
    what: "kvp-host for Windows x64 (single executable)",
    command: "node",
    args: ["apps/host-cli/packaging/build-sea.mjs", "--no-build", "--target", "win-x64"],
  },
  {
    name: "host-linux",
    what: "kvp-host for Linux x64 (single executable)",
    command: "node",
    args: ["apps/host-cli/packaging/build-sea.mjs", "--no-build", "--target", "linux-x64"],
  },
  {
    name: "deb-amd64",
    what: "guest .deb (system nodejs), amd64",
    command: "node",
    args: ["apps/guest-agent/packaging/build-deb.mjs", "--no-build", "--arch", "amd64"],
  },
  {
    name: "deb-arm64",
    what: "guest .deb (system nodejs), arm64",
    command: "node",
    args: ["apps/guest-agent/packaging/build-deb.mjs", "--no-build", "--arch", "arm64"],
  },
  {
    name: "rpm-x86_64",
    what: "guest .rpm (system nodejs), x86_64",
    command: "node",
    args: ["apps/guest-agent/packaging/build-rpm.mjs", "--no-build", "--arch", "x86_64"],
  },
  {
    name: "rpm-aarch64",
    what: "guest .rpm (system nodejs), aarch64",
    command: "node",
    args: ["apps/guest-agent/packaging/build-rpm.mjs", "--no-build", "--arch", "aarch64"],
  },
  {
    name: "standalone-x64",
    what: "Node-free guest (.deb, .rpm, .tar.gz), x86_64",
    command: "node",
    args: ["apps/guest-agent/packaging/build-standalone.mjs", "--no-build", "--arch", "x64"],
  },
  {
    name: "standalone-arm64",
    what: "Node-free guest (.deb, .rpm, .tar.gz), arm64",
    command: "node",
    args: ["apps/guest-agent/packaging/build-standalone.mjs", "--no-build", "--arch", "arm64"],
  },
];

class UsageError extends Error {}

function parseArgs(argv) {
  const options = { out: join(root, "release"), only: undefined, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === "--out") options.out = resolve(value());
    else if (arg === "--only") options.only = value().split(",").filter(Boolean);
    else if (arg === "--list") options.list = true;
    else
      throw new UsageError(
        `unknown argument ${JSON.stringify(arg)} (usage: node scripts/release.mjs [--out DIR] [--only STEP,...] [--list])`,
      );
  }
  for (const name of options.only ?? []) {
    if (!STEPS.some((step) => step.name === name))
      throw new UsageError(`unknown step ${JSON.stringify(name)}: ${STEPS.map((s) => s.name).join(", ")}`);
  }
  return options;
}

/** Runs one step; resolves with the paths it printed. Its stderr passes through. */
function runStep(step, out) {
  const args = step.name === "build" ? step.args : [...step.args, "--out", out];
  return new Promise((resolvePaths, reject) => {
    const child = spawn(step.command, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (s) => (stdout += s));
    child.once("error", (error) => reject(new Error(`${step.name}: cannot run ${step.command}: ${error.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) resolvePaths(step.name === "build" ? [] : stdout.split("\n").filter(Boolean));
      else
        reject(
          new Error(
            `${step.name} (${step.command} ${args.join(" ")}) ${signal ? `was killed by ${signal}` : `exited with ${code}`}${stdout ? `\n${stdout}` : ""}`,
          ),
        );
    });
  });
}

function sha256(file) {
  return new Promise((resolveHash, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolveHash(hash.digest("hex")))
      .on("error", reject);
  });
}

function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function release(options) {
  if (options.list) {
    for (const step of STEPS) process.stdout.write(`${step.name.padEnd(12)} ${step.what}\n`);
    return;
  }
  const steps = options.only ? STEPS.filter((step) => options.only.includes(step.name)) : STEPS;
  mkdirSync(options.out, { recursive: true });
  const present = readdirSync(options.out);
  if (!options.only && present.length > 0) {
    // A whole release starts from nothing, so no artifact of an older version is summed with
    // the new ones. Only a directory an earlier release wrote (it has SHA256SUMS) is emptied.
    if (!present.includes("SHA256SUMS"))
      throw new UsageError(
        `${options.out} is not empty and holds no earlier release (no SHA256SUMS): give an empty or new directory`,
      );
    for (const name of present) rmSync(join(options.out, name), { recursive: true, force: true });
  }
  rmSync(join(options.out, "SHA256SUMS"), { force: true });
  const started = Date.now();
  const written = [];
  for (const step of steps) {
    const t0 = Date.now();
    process.stderr.write(`${TOOL}: ${step.name}: ${step.what}\n`);
    const paths = await runStep(step, options.out);
    for (const path of paths) {
      const full = resolve(root, path);
      if (relative(options.out, full).startsWith(".."))
        throw new Error(`${step.name} wrote ${full}, outside ${options.out}`);
      written.push(full);
    }
    process.stderr.write(
      `${TOOL}: ${step.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s${paths.length ? `: ${paths.map((p) => basename(p)).join(", ")}` : ""}\n`,
    );
  }

  // SHA256SUMS covers every file in the directory (a partial --only run included), in the
  // format `sha256sum -c` reads.
  const files = readdirSync(options.out)
    .filter((name) => name !== "SHA256SUMS" && statSync(join(options.out, name)).isFile())
    .sort();
  let sums = "";
  for (const name of files) sums += `${await sha256(join(options.out, name))}  ${name}\n`;
  writeFileSync(join(options.out, "SHA256SUMS"), sums);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`${TOOL}: ${files.length} files in ${options.out} in ${seconds} s:\n`);
  for (const name of files)
    process.stderr.write(`  ${mib(statSync(join(options.out, name)).size).padStart(10)}  ${name}\n`);
  for (const path of written) process.stdout.write(`${path}\n`);
  process.stdout.write(`${join(options.out, "SHA256SUMS")}\n`);
}

try {
  await release(parseArgs(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`${TOOL}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
