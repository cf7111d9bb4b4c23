import { configDefaults, defineProject } from "vitest/config";
import unit from "./vitest.config.ts";

// The interop tests (*.interop.test.ts), against real programs: the openssl CLI, which makes the certificate for the HTTPS tests.
// Missing one fails them (packages/test-support/src/tools.ts says how to skip knowingly).
export default defineProject({
  ...unit,
  test: { ...unit.test, name: "wsman:interop", include: ["src/**/*.interop.test.ts"], exclude: configDefaults.exclude },
});
