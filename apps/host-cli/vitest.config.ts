import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "host-cli",
    include: ["src/**/*.test.ts"],
    // Builds dist/kvp-host.cjs (and pool-tools' kvp-pool.cjs), which src/e2e/ runs as child processes.
    globalSetup: ["./src/e2e/build-bundles.global-setup.ts"],
  },
});
