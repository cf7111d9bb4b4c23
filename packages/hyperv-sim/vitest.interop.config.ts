import { configDefaults, defineProject } from "vitest/config";
import unit from "./vitest.config.ts";

// The interop tests (*.interop.test.ts), against real programs: the real hv_kvp_daemon (and cc for its shim), openssl for HTTPS, pywinrm.
// Missing one fails them (packages/test-support/src/tools.ts says how to skip knowingly).
export default defineProject({
  ...unit,
  test: {
    ...unit.test,
    name: "hyperv-sim:interop",
    include: ["src/**/*.interop.test.ts"],
    exclude: configDefaults.exclude,
  },
});
