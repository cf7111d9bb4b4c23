import { configDefaults, defineProject } from "vitest/config";
import unit from "./vitest.config.ts";

// The interop tests (*.interop.test.ts), against real programs: xmllint, which checks the CIM-XML we write against DMTF's DTD.
// Missing one fails them (packages/test-support/src/tools.ts says how to skip knowingly).
export default defineProject({
  ...unit,
  test: {
    ...unit.test,
    name: "kvp-core:interop",
    include: ["src/**/*.interop.test.ts"],
    exclude: configDefaults.exclude,
  },
});
