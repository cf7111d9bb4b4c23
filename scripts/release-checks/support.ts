// Shared by the release checks: where the release is, and what it must hold.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { NPM_PACKAGES, npmTarballName } from "../lib/npm-packages.mjs";
import { debianVersion, packageVersion, rpmVersion } from "../lib/versions.mjs";

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Names a release directory built already, instead of building one for the checks. */
export const RELEASE_DIR_ENV = "KVP_RELEASE_DIR";

/** The release under test (global-setup.ts built or found it). */
export function releaseDir(): string {
  return inject("releaseDir");
}

/** The version every artifact must carry: the packages' (they share one). */
export function releaseVersion(): string {
  return packageVersion(join(REPO_ROOT, "packages/kvp-core/package.json"));
}

/** The packages published to npm, by directory; the rest of the workspace is private. */
export { NPM_PACKAGES };

/**
 * Every file a release of `version` holds, by what it is. The names are the contract with
 * users and with the README: change them there too.
 */
export function expectedArtifacts(version: string) {
  const deb = debianVersion(version);
  const rpm = rpmVersion(version);
  return {
    npm: NPM_PACKAGES.map((dir) => npmTarballName(dir, version)),
    host: [`kvp-host-${version}-win-x64.exe`, `kvp-host-${version}-linux-x64`],
    // Node.js's licence and the bundled packages' notices, for both executables.
    hostNotices: [`kvp-host-${version}-THIRD-PARTY-NOTICES.txt`],
    guestDeb: [`kvp-agent_${deb}_amd64.deb`, `kvp-agent_${deb}_arm64.deb`],
    guestRpm: [`kvp-agent-${rpm}-1.x86_64.rpm`, `kvp-agent-${rpm}-1.aarch64.rpm`],
    standaloneDeb: [`kvp-agent-standalone_${deb}_amd64.deb`, `kvp-agent-standalone_${deb}_arm64.deb`],
    standaloneRpm: [`kvp-agent-standalone-${rpm}-1.x86_64.rpm`, `kvp-agent-standalone-${rpm}-1.aarch64.rpm`],
    standaloneTar: [
      `kvp-agent-standalone-${version}-linux-x64.tar.gz`,
      `kvp-agent-standalone-${version}-linux-arm64.tar.gz`,
    ],
  };
}

/**
 * The path of one artifact of the release under test.
 * @throws when it is missing, naming what the release holds.
 */
export function artifact(name: string): string {
  const path = join(releaseDir(), name);
  if (!existsSync(path)) throw new Error(`${name} is not in the release ${releaseDir()}`);
  return path;
}
