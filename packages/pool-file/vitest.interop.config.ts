import { configDefaults, defineProject } from "vitest/config";
import unit from "./vitest.config.ts";

// The interop tests (*.interop.test.ts), against real programs: a C compiler, for helpers that lock from other processes and make the same calls from C.
// Missing one fails them (packages/test-support/src/tools.ts says how to skip knowingly).
export default defineProject({
  ...unit,
  test: {
    ...unit.test,
    name: "pool-file:interop",
    include: ["src/**/*.interop.test.ts"],
    exclude: configDefaults.exclude,
  },
});
