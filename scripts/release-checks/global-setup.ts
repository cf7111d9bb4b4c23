// vitest globalSetup of the release checks: they check what users download, so they run on a
// release built the way users' is, `node scripts/release.mjs` (= `pnpm release`), into
// <repo>/release. $KVP_RELEASE_DIR names a release built already (CI's, or yours) instead;
// it must be whole (SHA256SUMS is written last).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { REPO_ROOT, RELEASE_DIR_ENV } from "./support.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The directory holding the release under test. */
    releaseDir: string;
  }
}

export default function setup(project: TestProject): void {
  const given = process.env[RELEASE_DIR_ENV];
  let dir: string;
  if (given) {
    dir = resolve(given);
  } else {
    dir = join(REPO_ROOT, "release");
    const started = Date.now();
    const build = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/release.mjs"), "--out", dir], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 3_600_000,
    });
    if (build.status !== 0) {
      throw new Error(
        `pnpm release failed (${build.error ? build.error.message : `exit ${build.status}`}); its output is above`,
      );
    }
    console.error(`release checks: pnpm release took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(join(dir, "SHA256SUMS")))
    throw new Error(`${dir} holds no whole release (no SHA256SUMS): run pnpm release, or unset ${RELEASE_DIR_ENV}`);
  project.provide("releaseDir", dir);
}
