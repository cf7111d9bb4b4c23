// One version, spelled as each packaging format wants it. Every package of the workspace has
// the same version (changesets' "fixed" group); artifacts take it from the package.json of
// what they pack, so `changeset version` moves them all.
import { readFileSync } from "node:fs";

/**
 * The version in a package.json.
 * @param {string | URL} packageJson path or file URL of the package.json
 * @returns {string}
 */
export function packageVersion(packageJson) {
  return JSON.parse(readFileSync(packageJson, "utf8")).version;
}

/**
 * A semver version as a Debian upstream version: a pre-release sorts before its release in
 * semver, and `~` does that in Debian (`1.2.0-rc.1` → `1.2.0~rc.1` < `1.2.0`). Build metadata
 * (`+…`) is kept, with `+` as Debian allows.
 * @param {string} version
 * @returns {string}
 */
export function debianVersion(version) {
  return version.replace("-", "~");
}

/**
 * A semver version as an RPM Version tag: RPM forbids `-` there and sorts `~` before the
 * release like Debian (rpm 4.10+); `+` is not allowed either, so build metadata is dropped
 * (it does not order releases in semver either).
 * @param {string} version
 * @returns {string}
 */
export function rpmVersion(version) {
  return version.replace(/\+.*$/, "").replace("-", "~");
}
