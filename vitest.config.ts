import { defineConfig } from "vitest/config";

// One vitest run over every workspace package. Workspace imports resolve to sources
// through the "@hyperv-kvp/source" export condition, so tests never need a build of
// their dependencies (the CLI's end-to-end tests run its built bundle, built by turbo).
//
// Each package has two projects: `<name>` (its vitest.config.ts: unit tests, which need
// nothing but Node, and gcc for pool-file's lock addon) and `<name>:interop` (its vitest.interop.config.ts: the
// *.interop.test.ts files, against real programs: hv_kvp_daemon, cc, pywinrm, xmllint,
// openssl, dpkg; see packages/test-support/src/tools.ts). `pnpm test:unit` runs the unit
// projects alone (vitest.unit.config.ts).
// The "release" project checks what `pnpm release` builds; it builds release/ first (minutes)
// unless $KVP_RELEASE_DIR names one (scripts/release-checks/global-setup.ts).

/** The unit projects: every package's own vitest.config.ts. */
export const UNIT_PROJECTS = [
  "packages/*",
  "apps/*",
  // The root scripts' own tests (scripts/check-citations.mjs): pure, milliseconds.
  { test: { name: "scripts", include: ["scripts/*.test.mjs"] } },
];

export default defineConfig({
  resolve: { conditions: ["@hyperv-kvp/source"] },
  ssr: { resolve: { conditions: ["@hyperv-kvp/source"] } },
  test: {
    projects: [
      ...UNIT_PROJECTS,
      "packages/*/vitest.interop.config.ts",
      "apps/*/vitest.interop.config.ts",
      "scripts/release-checks",
    ],
  },
});
