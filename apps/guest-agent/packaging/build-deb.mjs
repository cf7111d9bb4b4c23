#!/usr/bin/env node
// Builds the kvp-agent Debian package: dist/kvp-agent_<version>_<arch>.deb.
//
//   node packaging/build-deb.mjs [--version V] [--out DIR] [--no-build]
//
// --version  Debian version (default: this app's package.json version)
// --out      where the .deb goes (default: dist)
// --no-build use dist/kvp-agent.cjs and ../pool-tools/dist/kvp-pool.cjs as they are instead
//            of rebuilding them first (the tests do: the bundles are built before the tests
//            run, and other tests run them meanwhile)
//
// Layout (see deb/README.Debian): the agent's bundle and kvp-pool's (apps/pool-tools, the
// pool-record tool operators debug a guest with) side by side in /usr/lib/kvp-agent with the
// one koffi both load, a launcher for each in /usr/bin, the unit in /lib/systemd/system,
// /etc/kvp-agent with an example config (the only conffile) and an empty hooks.d. koffi and
// its prebuilt-binary package are copied unchanged from this checkout's node_modules: koffi
// finds the binary package at node_modules/@koromix/koffi-<platform>, which is where it lands
// beside the bundles, and each bundle resolves koffi from its own path.
// Needs dpkg-deb (Debian package dpkg); runs as any user (--root-owner-group).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TOOL = "build-deb";
const PACKAGE = "kvp-agent";
const appDir = fileURLToPath(new URL("..", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
/** apps/pool-tools, whose kvp-pool bundle the package ships too. */
const poolToolsDir = fileURLToPath(new URL("../../pool-tools/", import.meta.url));

/** Debian architecture per Node's process.arch, for the architectures koffi ships binaries for. */
const DEB_ARCH = { x64: "amd64", arm64: "arm64" };

/**
 * Oldest glibc the koffi binary needs (its highest GLIBC_ symbol version, koffi 3.3: 2.25);
 * re-check with `objdump -T koffi.node | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1` when
 * koffi changes.
 */
const MIN_GLIBC = "2.25";

/** The Maintainer field; a placeholder (.invalid) until the project names a real address. */
const MAINTAINER = process.env["DEB_MAINTAINER"] ?? "hyperv-kvp maintainers <maintainers@hyperv-kvp.invalid>";

/** Files whose content the admin may change, kept by dpkg across upgrades. */
const CONFFILES = ["/etc/kvp-agent/config.example.json"];

class UsageError extends Error {}

function parseArgs(argv) {
  const options = { version: undefined, out: join(appDir, "dist"), build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === "--version") options.version = value();
    else if (arg === "--out") options.out = resolve(value());
    else if (arg === "--no-build") options.build = false;
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)} (usage: node packaging/build-deb.mjs [--version V] [--out DIR] [--no-build])`);
  }
  return options;
}

function run(file, args, cwd = appDir) {
  const result = spawnSync(file, args, { cwd, encoding: "utf8" });
  if (result.error) throw new Error(`cannot run ${file}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${file} ${args.join(" ")} exited with ${result.status}\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The root directory of an installed npm package, found the way Node finds it from `fromFile`. */
function packageRoot(name, fromFile) {
  let dir = dirname(createRequire(fromFile).resolve(name));
  while (!existsSync(join(dir, "package.json"))) {
    if (dirname(dir) === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = dirname(dir);
  }
  return realpathSync(dir);
}

/** Copies a tree, following symlinks, with Debian's modes: 0755 for directories and executables, else 0644. */
function copyTree(from, to) {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  chmodSync(to, 0o755);
  for (const name of readdirSync(from).sort()) {
    const source = join(from, name);
    const target = join(to, name);
    const stat = statSync(source);
    if (stat.isDirectory()) copyTree(source, target);
    else if (stat.isFile()) install(source, target, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}

function install(source, target, mode) {
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  copyFileSync(source, target);
  chmodSync(target, mode);
}

function walkFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...walkFiles(path));
    else files.push(path);
  }
  return files;
}

/** Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, plus one per directory. */
function installedSizeKiB(dir) {
  let kib = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    kib += stat.isDirectory() ? 1 + installedSizeKiB(path) : Math.ceil(stat.size / 1024);
  }
  return kib;
}

function controlText({ version, arch, installedSize }) {
  return `${[
    `Package: ${PACKAGE}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedSize}`,
    `Depends: nodejs (>= 18), libc6 (>= ${MIN_GLIBC})`,
    "Recommends: hyperv-daemons",
    "Section: admin",
    "Priority: optional",
    "Description: Hyper-V KVP guest agent and pool-record tool",
    " The kvp-agent service turns what the Hyper-V host sends through KVP data exchange",
    " (pools 0 and 3) into state files and hook runs, and reports its status back to the",
    " host through pool 1. The kvp-pool command lists, gets, sets, deletes, checks and",
    " watches KVP pool records safely beside hv_kvp_daemon, for scripts and debugging.",
    " Both run on Debian's nodejs (18 or later).",
  ].join("\n")}\n`;
}

function buildDeb(options) {
  const pkg = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8"));
  const version = options.version ?? pkg.version;
  // Debian policy: starts with a digit; letters, digits and . + ~ - only.
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) throw new UsageError(`invalid Debian version ${JSON.stringify(version)}`);
  const arch = DEB_ARCH[process.arch];
  if (process.platform !== "linux" || arch === undefined) throw new UsageError(`cannot package for ${process.platform}-${process.arch}: koffi's binary is picked per platform; build on linux x64 or arm64`);

  if (options.build) {
    run(process.execPath, ["build.mjs"]);
    run(process.execPath, ["build.mjs"], poolToolsDir);
  }
  const bundle = join(appDir, "dist", "kvp-agent.cjs");
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build it (node build.mjs in ${appDir}) or leave out --no-build`);
  const poolBundle = join(poolToolsDir, "dist", "kvp-pool.cjs");
  if (!existsSync(poolBundle)) throw new Error(`${poolBundle} is missing: build it (node build.mjs in ${poolToolsDir}) or leave out --no-build`);

  const koffiDir = packageRoot("koffi", join(appDir, "package.json"));
  // Both bundles load the one koffi copy shipped beside them: kvp-pool must be built against it.
  const poolKoffiDir = packageRoot("koffi", join(poolToolsDir, "package.json"));
  if (poolKoffiDir !== koffiDir) {
    throw new Error(`kvp-pool resolves koffi to ${poolKoffiDir}, kvp-agent to ${koffiDir}: the package ships one copy for both (give both apps the same koffi version, then pnpm install)`);
  }
  const koffiVersion = JSON.parse(readFileSync(join(koffiDir, "package.json"), "utf8")).version;
  const platformName = `@koromix/koffi-linux-${process.arch}`;
  const platformDir = packageRoot(platformName, join(koffiDir, "package.json"));
  const platformVersion = JSON.parse(readFileSync(join(platformDir, "package.json"), "utf8")).version;
  if (platformVersion !== koffiVersion) throw new Error(`${platformName} ${platformVersion} does not match koffi ${koffiVersion} (koffi refuses mismatched binaries)`);

  const stage = mkdtempSync(join(tmpdir(), "kvp-agent-deb-"));
  try {
    const root = (path) => join(stage, path);
    const lib = "usr/lib/kvp-agent";
    install(bundle, root(`${lib}/kvp-agent.cjs`), 0o644);
    install(poolBundle, root(`${lib}/kvp-pool.cjs`), 0o644);
    copyTree(koffiDir, root(`${lib}/node_modules/koffi`));
    copyTree(platformDir, root(`${lib}/node_modules/${platformName}`));
    install(join(here, "deb/kvp-agent"), root("usr/bin/kvp-agent"), 0o755);
    install(join(here, "deb/kvp-pool"), root("usr/bin/kvp-pool"), 0o755);
    install(join(appDir, "systemd/kvp-agent.service"), root("lib/systemd/system/kvp-agent.service"), 0o644);
    install(join(here, "deb/config.example.json"), root("etc/kvp-agent/config.example.json"), 0o644);
    mkdirSync(root("etc/kvp-agent/hooks.d"), { recursive: true, mode: 0o755 });
    const doc = "usr/share/doc/kvp-agent";
    install(join(here, "deb/copyright"), root(`${doc}/copyright`), 0o644);
    install(join(here, "deb/README.Debian"), root(`${doc}/README.Debian`), 0o644);
    install(join(here, "examples/cloudstack/config.json"), root(`${doc}/examples/cloudstack/config.json`), 0o644);
    install(join(here, "examples/cloudstack/kvp-cloudstack-hook"), root(`${doc}/examples/cloudstack/kvp-cloudstack-hook`), 0o755);

    // md5sums before DEBIAN exists: every shipped file but the conffiles (dpkg tracks those itself).
    const md5sums = walkFiles(stage)
      .map((path) => relative(stage, path))
      .filter((path) => !CONFFILES.includes(`/${path}`))
      .map((path) => `${createHash("md5").update(readFileSync(root(path))).digest("hex")}  ${path}\n`)
      .join("");
    const installedSize = installedSizeKiB(stage);

    const debian = root("DEBIAN");
    mkdirSync(debian, { mode: 0o755 });
    writeFileSync(join(debian, "control"), controlText({ version, arch, installedSize }), { mode: 0o644 });
    writeFileSync(join(debian, "conffiles"), CONFFILES.map((f) => `${f}\n`).join(""), { mode: 0o644 });
    writeFileSync(join(debian, "md5sums"), md5sums, { mode: 0o644 });
    for (const script of ["postinst", "prerm", "postrm"]) install(join(here, "deb", script), join(debian, script), 0o755);
    // mkdtemp made the stage 0700; the package's root directory must read as 0755.
    chmodSync(stage, 0o755);

    mkdirSync(options.out, { recursive: true });
    const deb = join(options.out, `${PACKAGE}_${version}_${arch}.deb`);
    run("dpkg-deb", ["--root-owner-group", "--build", stage, deb]);
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

try {
  const deb = buildDeb(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${deb}\n`);
} catch (error) {
  process.stderr.write(`${TOOL}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
