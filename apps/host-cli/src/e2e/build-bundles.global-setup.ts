// vitest globalSetup of the host-cli project: the end-to-end tests run the BUILT bundles
// (dist/kvp-host.cjs, and the guest side's apps/pool-tools/dist/kvp-pool.cjs) as child
// processes, as users run them. Building them here (esbuild, well under a second each) means
// they never test a bundle older than the sources.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUNDLES = [
  { appDir: fileURLToPath(new URL("../..", import.meta.url)), bundle: "dist/kvp-host.cjs" },
  { appDir: fileURLToPath(new URL("../../../pool-tools", import.meta.url)), bundle: "dist/kvp-pool.cjs" },
];

export default function setup(): void {
  for (const { appDir, bundle } of BUNDLES) {
    const build = spawnSync(process.execPath, ["build.mjs"], { cwd: appDir, encoding: "utf8", timeout: 120_000 });
    if (build.status !== 0 || !existsSync(`${appDir}/${bundle}`)) {
      throw new Error(
        `cannot build ${appDir}${bundle} for the end-to-end tests: ` +
          `\`node build.mjs\` in ${appDir} ${build.error ? `failed to start (${build.error.message})` : `exited with ${build.status}`}\n` +
          `${build.stderr ?? ""}${build.stdout ?? ""}\n` +
          "Build it yourself with `node build.mjs` there, or `pnpm exec turbo run build` from the root.",
      );
    }
  }
}
