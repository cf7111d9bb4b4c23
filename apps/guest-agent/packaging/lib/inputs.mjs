// What every builder starts from: its command line (--arch, --version, --out, --no-build),
// the built bundles, koffi for the target CPU, the release notes.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageVersion } from "../../../../scripts/lib/versions.mjs";
import { UsageError, parseOptions } from "./cli.mjs";
import { locateKoffi } from "./koffi.mjs";
import { APP_DIR, POOL_TOOLS_DIR } from "./project.mjs";
import { releaseNotes } from "./release-notes.mjs";
import { run } from "./stage.mjs";
import { buildMachineTarget, targetFor } from "./targets.mjs";

/**
 * Parses a builder's command line and gathers its inputs; rebuilds the bundles first unless
 * --no-build.
 * @param {string[]} argv the arguments after the script
 * @param {"deb" | "rpm" | "node"} archFormat which spelling --arch takes
 * @param {string} usage
 * @returns {{ target: import("./targets.mjs").Target, version: string, out: string,
 *   koffi: ReturnType<typeof locateKoffi>, releases: ReturnType<typeof releaseNotes> }}
 * @throws {UsageError} for a bad command line.
 */
export function builderInputs(argv, archFormat, usage) {
  const options = parseOptions(
    argv,
    { "--arch": "value", "--version": "value", "--out": "value", "--no-build": "flag" },
    usage,
  );
  let target = buildMachineTarget();
  if (options["--arch"] !== undefined) {
    try {
      target = targetFor(archFormat, String(options["--arch"]));
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  }
  if (target === undefined)
    throw new UsageError(`this machine (${process.platform}-${process.arch}) is no target: give --arch`);
  const version = String(options["--version"] ?? packageVersion(join(APP_DIR, "package.json")));
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version))
    throw new UsageError(`invalid version ${JSON.stringify(version)}: semver (1.2.3, 1.2.3-rc.1, 1.2.3+build)`);
  const out = resolve(String(options["--out"] ?? join(APP_DIR, "dist")));
  mkdirSync(out, { recursive: true });
  if (options["--no-build"] !== true) {
    run(process.execPath, ["build.mjs"], { cwd: APP_DIR });
    run(process.execPath, ["build.mjs"], { cwd: POOL_TOOLS_DIR });
  }
  return {
    target,
    version,
    out,
    koffi: locateKoffi(target, [APP_DIR, POOL_TOOLS_DIR]),
    releases: releaseNotes(version, [join(APP_DIR, "CHANGELOG.md"), join(POOL_TOOLS_DIR, "CHANGELOG.md")]),
  };
}
