import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "pool-tools",
    include: ["src/**/*.test.ts"],
    // Builds dist/kvp-pool.cjs, which bundle.test.ts and src/interop/ run as child processes.
    globalSetup: ["./src/build-bundle.global-setup.ts"],
  },
});
