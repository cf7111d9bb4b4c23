import { defineProject } from "vitest/config";

export default defineProject({
  // Workspace packages the checks use (the simulated host) are imported from their sources.
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "release",
    include: ["*.test.ts"],
    // Builds release/ with `pnpm release` (or takes $KVP_RELEASE_DIR) once for every check.
    globalSetup: ["./global-setup.ts"],
    // The checks install packages into fresh roots and run executables under Wine: minutes,
    // not milliseconds. These are deadlines against hangs, not measurements.
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
