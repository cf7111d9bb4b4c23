import { configDefaults, defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    name: "kvp-core",
    include: ["src/**/*.test.ts"],
    // The interop tests are a project of their own: vitest.interop.config.ts.
    exclude: [...configDefaults.exclude, "**/*.interop.test.ts"],
  },
});
