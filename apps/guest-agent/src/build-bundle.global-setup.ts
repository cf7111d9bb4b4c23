// vitest globalSetup of the guest-agent project: the end-to-end and interop tests run the
// BUILT bundle (dist/kvp-agent.cjs) as child processes, as users run it. Building it here
// (esbuild, well under a second) means they never test a bundle older than the sources.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const bundle = fileURLToPath(new URL("../dist/kvp-agent.cjs", import.meta.url));

export default function setup(): void {
  const build = spawnSync(process.execPath, ["build.mjs"], { cwd: appDir, encoding: "utf8", timeout: 120_000 });
  if (build.status !== 0 || !existsSync(bundle)) {
    throw new Error(
      `cannot build the kvp-agent bundle (${bundle}) for the end-to-end tests: ` +
        `\`node build.mjs\` in ${appDir} ${build.error ? `failed to start (${build.error.message})` : `exited with ${build.status}`}\n` +
        `${build.stderr ?? ""}${build.stdout ?? ""}\n` +
        "Build it yourself with `cd apps/guest-agent && node build.mjs`, or `pnpm exec turbo run build` from the root.",
    );
  }
}
