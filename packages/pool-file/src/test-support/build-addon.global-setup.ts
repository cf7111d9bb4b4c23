// vitest globalSetup of the pool-file projects: the sources find the kvp-lock addon in dist/
// (src/libc.ts, defaultLockAddonPath), so it is built there first, from native/kvp-lock.c as
// it is now (gcc, well under a second). Without gcc the build warns (fails in CI), and the
// tests that need the addon then fail, or skip where allowed (test-support/tools.ts, GCC).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

export default function setup(): void {
  const build = spawnSync(process.execPath, ["native/build-addon.mjs", "dist"], {
    cwd: packageDir,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (build.stderr) process.stderr.write(build.stderr);
  if (build.status !== 0) {
    throw new Error(
      `cannot build the kvp-lock addon for the tests: \`node native/build-addon.mjs dist\` in ${packageDir} ${build.error ? `failed to start (${build.error.message})` : `exited with ${build.status}`}`,
    );
  }
}
