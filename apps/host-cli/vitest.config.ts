import { configDefaults, defineProject } from "vitest/config";
import { packageVersion } from "../../scripts/lib/versions.mjs";

export default defineProject({
  // src/version.ts: the version the bundle gets from build.mjs.
  define: { __KVP_VERSION__: JSON.stringify(packageVersion(new URL("package.json", import.meta.url))) },
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "host-cli",
    include: ["src/**/*.test.ts"],
    // The interop tests are a project of their own: vitest.interop.config.ts.
    exclude: [...configDefaults.exclude, "**/*.interop.test.ts"],
    // Builds dist/kvp-host.cjs (and pool-tools' kvp-pool.cjs), which src/e2e/ runs as child processes.
    globalSetup: ["./src/e2e/build-bundles.global-setup.ts"],
    // Many tests drive a whole simulated host in process; on a loaded 2-core CI machine the
    // default 5 s cut one off mid-run (stop 20's rehearsal). Not a speed limit: a hang guard.
    testTimeout: 30_000,
  },
});
