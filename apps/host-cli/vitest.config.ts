import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "host-cli",
    include: ["src/**/*.test.ts"],
  },
});
