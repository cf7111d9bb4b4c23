// The packages published to npm and what their tarballs must be: one list and one set of
// project links, shared by the packer (scripts/pack-npm.mjs) and the release checks.
import { basename } from "node:path";

/**
 * The published packages, by directory (the package's name is `@hyperv-kvp/<basename>`).
 * The rest of the workspace is private: the guest agent ships as .deb/.rpm, the release
 * checks never leave the repository.
 */
export const NPM_PACKAGES = Object.freeze([
  "packages/kvp-core",
  "packages/pool-file",
  "packages/wsman",
  "packages/hyperv-sim",
  "apps/host-cli",
  "apps/pool-tools",
]);

/** The project's home; every package.json links to it. */
export const PROJECT_URL = "https://github.com/hyperv-kvp/hyperv-kvp";

/**
 * The metadata every published package.json carries (`repository.directory` is the
 * package's own directory).
 */
export const PROJECT_METADATA = Object.freeze({
  homepage: `${PROJECT_URL}#readme`,
  bugsUrl: `${PROJECT_URL}/issues`,
  repositoryUrl: `git+${PROJECT_URL}.git`,
  author: "the hyperv-kvp authors",
  license: "MIT",
});

/**
 * The tarball name the release promises for the package in `dir` (what `pnpm pack` names
 * `@hyperv-kvp/<dir>`): `hyperv-kvp-<basename of dir>-<version>.tgz`.
 * @param {string} dir package directory, relative to the repository root
 * @param {string} version
 * @returns {string}
 */
export function npmTarballName(dir, version) {
  return `hyperv-kvp-${basename(dir)}-${version}.tgz`;
}
