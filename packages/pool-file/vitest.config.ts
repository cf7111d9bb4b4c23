import { configDefaults, defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "pool-file",
    include: ["src/**/*.test.ts"],
    // The interop tests are a project of their own: vitest.interop.config.ts.
    exclude: [...configDefaults.exclude, "**/*.interop.test.ts"],
    // Builds dist/kvp-lock.linux-<cpu>.node, which the sources load for the lock calls.
    globalSetup: ["./src/test-support/build-addon.global-setup.ts"],
  },
});
