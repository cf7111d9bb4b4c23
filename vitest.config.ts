import { defineConfig } from "vitest/config";

// One vitest run over every workspace package. Workspace imports resolve to sources
// through the "@hyperv-kvp/source" export condition, so tests never need a build of
// their dependencies (the CLI's end-to-end tests run its built bundle, built by turbo).
// The "release" project checks what `pnpm release` builds; it builds release/ first (minutes)
// unless $KVP_RELEASE_DIR names one (scripts/release-checks/global-setup.ts).
export default defineConfig({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    projects: [
      "packages/*",
      "apps/*",
      "scripts/release-checks",
      // The root scripts' own tests (scripts/check-citations.mjs): pure, milliseconds.
      { test: { name: "scripts", include: ["scripts/*.test.mjs"] } },
    ],
  },
});
