import { defineConfig } from "vitest/config";

// One vitest run over every workspace package. Workspace imports resolve to sources
// through the "@hyperv-kvp/source" export condition, so tests never need a build of
// their dependencies (the CLI's end-to-end tests run its built bundle, built by turbo).
export default defineConfig({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    projects: ["packages/*", "apps/*"],
  },
});
