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
  },
});
