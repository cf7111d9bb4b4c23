// What interop tests need from the machine (the real hv_kvp_daemon, a C compiler, pywinrm,
// xmllint, openssl, dpkg), and the one policy for a machine without it: such tests never skip
// silently. Missing a tool fails them, always in CI; outside CI, the tool's KVP_ALLOW_NO_…
// variable set to 1 turns the failure into a skip with a banner saying what went untested.
// These tests live in *.interop.test.ts files, the `<package>:interop` vitest projects, which
// `pnpm test:unit` leaves out (README, Testing).
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { describe, it } from "vitest";

/** Something on the machine an interop test runs against. */
export interface Tool {
  /** What the banner and the failure call it: "the real hv_kvp_daemon". */
  readonly name: string;
  /** Set to 1 (outside CI) to skip, loudly, the tests that need the tool where it is missing. */
  readonly allowMissingEnv: string;
  /** Why the tool is unusable here, with how to install it; undefined when it is usable. */
  missing(): string | undefined;
}

/** Whether tests needing some tools run here, and what to do if not. */
export type ToolPolicy =
  | { readonly run: true }
  /** `fail`: the tests must fail with `reason` (CI, or no explicit permission to skip). */
  | { readonly run: false; readonly fail: boolean; readonly reason: string };

/** The environment variable naming the daemon binary, as hyperv-sim's RealDaemon reads it. */
export const DAEMON_PATH_ENV = "HV_KVP_DAEMON";
/** Where Debian's hyperv-daemons installs the daemon (hyperv-sim's default too). */
export const DEFAULT_DAEMON_PATH = "/usr/sbin/hv_kvp_daemon";

/**
 * The real hv_kvp_daemon at $HV_KVP_DAEMON, else /usr/sbin/hv_kvp_daemon: checked here rather
 * than through hyperv-sim so that hyperv-sim's own tests can use this package without a cycle.
 */
export const REAL_DAEMON: Tool = {
  name: "the real hv_kvp_daemon",
  allowMissingEnv: "KVP_ALLOW_NO_DAEMON",
  missing() {
    const path = process.env[DAEMON_PATH_ENV] || DEFAULT_DAEMON_PATH;
    try {
      accessSync(path, constants.X_OK);
      return undefined;
    } catch {
      return `hv_kvp_daemon is not installed at ${path} (apt-get install hyperv-daemons)`;
    }
  },
};

/** A C compiler ($CC, else cc): the daemon's LD_PRELOAD shim and the lock tests' helpers are C. */
export const C_COMPILER: Tool = {
  name: "a C compiler",
  allowMissingEnv: "KVP_ALLOW_NO_CC",
  missing: () =>
    runs(process.env["CC"] ?? "cc", ["--version"]) ? undefined : "no C compiler (cc) (apt-get install gcc)",
};

/**
 * gcc, which builds pool-file's kvp-lock addon (packages/pool-file/native/build-addon.mjs): the
 * tests that check the lock calls go through it need the addon built.
 */
export const GCC: Tool = {
  name: "gcc (it builds the kvp-lock addon)",
  allowMissingEnv: "KVP_ALLOW_NO_GCC",
  missing: () => (runs("gcc", ["--version"]) ? undefined : "gcc not found (apt-get install gcc libc6-dev)"),
};

/** The Python that has Debian's python3-winrm ($KVP_PYWINRM_PYTHON, else /usr/bin/python3). */
export function pywinrmPython(): string {
  // Debian's python, which sees Debian's packages (a pyenv or venv python on PATH may not).
  return process.env["KVP_PYWINRM_PYTHON"] ?? "/usr/bin/python3";
}

/** pywinrm with its NTLM stack, as an independent WinRM client. */
export const PYWINRM: Tool = {
  name: "pywinrm (python3-winrm)",
  allowMissingEnv: "KVP_ALLOW_NO_PYWINRM",
  missing: () =>
    runs(pywinrmPython(), ["-c", "import winrm, requests_ntlm, ntlm_auth"])
      ? undefined
      : `pywinrm is not importable by ${pywinrmPython()} (apt-get install python3-winrm)`,
};

/** xmllint, which validates CIM-XML against DMTF's DTD. */
export const XMLLINT: Tool = {
  name: "xmllint",
  allowMissingEnv: "KVP_ALLOW_NO_XMLLINT",
  missing: () => (runs("xmllint", ["--version"]) ? undefined : "xmllint not found (apt-get install libxml2-utils)"),
};

/** The openssl CLI, which makes the throwaway certificates for HTTPS (node:crypto cannot). */
export const OPENSSL: Tool = {
  name: "the openssl CLI",
  allowMissingEnv: "KVP_ALLOW_NO_OPENSSL",
  missing: () => (runs("openssl", ["version"]) ? undefined : "openssl not found (apt-get install openssl)"),
};

/**
 * Debian's cloud-init (22.4 here), run by the NoCloud seed's test only inside its own mount and
 * UTS namespaces (`unshare -m -u`, so root: CI runs as root): run plainly as root it would
 * reconfigure this machine (hostname, users, sudoers, network).
 */
export const CLOUD_INIT: Tool = {
  name: "the real cloud-init (run isolated under unshare, as root)",
  allowMissingEnv: "KVP_ALLOW_NO_CLOUD_INIT",
  missing: () =>
    !runs("cloud-init", ["--version"])
      ? "cloud-init not found (apt-get install --no-install-recommends cloud-init)"
      : !runs("unshare", ["--version"])
        ? "unshare not found (apt-get install util-linux)"
        : process.getuid?.() !== 0
          ? "not root: cloud-init runs in a mount namespace of its own (unshare -m), which needs root"
          : undefined,
};

/**
 * What the tests needing `tools` do here: run when every tool is usable; otherwise fail with
 * the first missing one, unless its `allowMissingEnv` is 1 outside CI (then skip, and print a
 * banner now).
 */
export function toolPolicy(tools: readonly Tool[], env: NodeJS.ProcessEnv = process.env): ToolPolicy {
  for (const tool of tools) {
    const missing = tool.missing();
    if (missing === undefined) continue;
    const allowed = !env["CI"] && env[tool.allowMissingEnv] === "1";
    if (allowed) console.warn(banner(`SKIPPING every test that needs ${tool.name}: ${missing}.`));
    const hint = env["CI"] ? "CI must run them" : `set ${tool.allowMissingEnv}=1 to skip them knowingly`;
    return { run: false, fail: !allowed, reason: `${missing}; the tests that need ${tool.name} cannot run (${hint})` };
  }
  return { run: true };
}

/** The policy for tests that drive the real daemon: the daemon, and a compiler for its shim. */
export function realDaemonPolicy(): ToolPolicy {
  return toolPolicy([REAL_DAEMON, C_COMPILER]);
}

/**
 * Inside a describe block whose tests need tools: when `policy` says they cannot run,
 * registers the test that stands in for the block (failing with the reason, or skipped with
 * it when skipping was allowed) and returns true, so the caller returns before its tests.
 */
export function standInForMissingTools(policy: ToolPolicy): boolean {
  if (policy.run) return false;
  if (policy.fail) {
    it(`needs what it tests against: ${policy.reason}`, () => {
      throw new Error(policy.reason);
    });
  } else {
    it.skip(`SKIPPED: ${policy.reason}`, () => undefined);
  }
  return true;
}

/** A describe block whose tests run only where `tools` are usable, under {@link toolPolicy}. */
export function describeNeeding(title: string, tools: readonly Tool[], body: () => void): void {
  describe(title, () => {
    if (standInForMissingTools(toolPolicy(tools))) return;
    body();
  });
}

function runs(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: "ignore" });
  return result.error === undefined && result.status === 0;
}

function banner(line: string): string {
  const bar = "!".repeat(80);
  return ["", bar, `!!! ${line}`, "!!! Only what runs without it was tested.", bar, ""].join("\n");
}
