import { spawnSync } from "node:child_process";
import { it } from "vitest";
import { isDaemonInstalled, resolveDaemonPath } from "../device/real-daemon.js";

/** Set to 1 to let the real-daemon tests be skipped (loudly) on a machine without the daemon. */
export const ALLOW_NO_DAEMON_ENV = "KVP_ALLOW_NO_DAEMON";

/** Whether the tests that drive the real hv_kvp_daemon run here, and what to do if not. */
export type RealDaemonPolicy =
  | { readonly run: true }
  /** `fail`: the suite must fail with `reason` (CI, or no explicit permission to skip). */
  | { readonly run: false; readonly fail: boolean; readonly reason: string };

/**
 * The real-daemon tests never skip silently: without the daemon (or a C compiler for its
 * shim) they fail, unless KVP_ALLOW_NO_DAEMON=1 is set outside CI, and then they print a
 * banner saying what was not tested.
 */
export function realDaemonPolicy(): RealDaemonPolicy {
  const missing = !isDaemonInstalled()
    ? `hv_kvp_daemon is not installed at ${resolveDaemonPath()} (apt-get install hyperv-daemons)`
    : spawnSync(process.env["CC"] ?? "cc", ["--version"], { stdio: "ignore" }).status !== 0
      ? "no C compiler (cc) to build the LD_PRELOAD shim (apt-get install gcc)"
      : undefined;
  if (missing === undefined) return { run: true };
  const allowed = !process.env["CI"] && process.env[ALLOW_NO_DAEMON_ENV] === "1";
  if (allowed) {
    console.warn(
      [
        "",
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        `!!! SKIPPING every test against the REAL hv_kvp_daemon: ${missing}.`,
        "!!! Only the TypeScript model was tested; nothing checked it against the real daemon.",
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
      ].join("\n"),
    );
  }
  const hint = process.env["CI"] ? "CI must run them" : `set ${ALLOW_NO_DAEMON_ENV}=1 to skip them knowingly`;
  return { run: false, fail: !allowed, reason: `${missing}; the real-daemon tests cannot run (${hint})` };
}

/**
 * Inside a describe block that needs the real daemon: when `policy` says it cannot run,
 * registers the test that stands in for the block (failing with the reason, or skipped with
 * it when skipping was allowed) and returns true, so the caller returns before its tests.
 */
export function standInForMissingDaemon(policy: RealDaemonPolicy): boolean {
  if (policy.run) return false;
  if (policy.fail) {
    it("needs the real hv_kvp_daemon", () => {
      throw new Error(policy.reason);
    });
  } else {
    it.skip(`SKIPPED: ${policy.reason}`, () => undefined);
  }
  return true;
}
