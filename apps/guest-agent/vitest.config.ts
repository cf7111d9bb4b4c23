import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "guest-agent",
    include: ["src/**/*.test.ts"],
    // Builds dist/kvp-agent.cjs, which the end-to-end tests run as a child process.
    globalSetup: ["./src/build-bundle.global-setup.ts"],
    testTimeout: 30_000,
  },
});
