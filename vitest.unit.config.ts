import { defineConfig } from "vitest/config";
import all, { UNIT_PROJECTS } from "./vitest.config.js";

// `pnpm test:unit`: the unit projects alone, which pass on a machine with Node and gcc (it
// builds pool-file's kvp-lock addon, which pool-file's and pool-tools' tests check;
// KVP_ALLOW_NO_GCC=1 skips those outside CI) and nothing else (no hv_kvp_daemon, python,
// xmllint, openssl, dpkg), and build no release.
// A config of its own because `vitest --project` cannot leave out two kinds of project:
// its patterns are alternatives, so `!*:interop` would let "release" in, and the reverse.
export default defineConfig({ ...all, test: { ...all.test, projects: UNIT_PROJECTS } });
