// The shipped unit (systemd/kvp-agent.service), checked by systemd itself. Needs
// `systemd-analyze` (Debian package `systemd`): without it the tests fail, unless
// KVP_ALLOW_NO_SYSTEMD=1 outside CI (@hyperv-kvp/test-support/tools). systemd-analyze verify
// may exit 0 on errors: its stderr is the verdict. The cloud-init seed step's ordering is
// checked against Debian's installed cloud-init-local.service and hv-kvp-daemon.service
// (packages cloud-init and hyperv-daemons, @hyperv-kvp/test-support/tools' CLOUD_INIT and REAL_DAEMON).
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOUD_INIT, REAL_DAEMON, type Tool, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { afterAll, expect, it } from "vitest";

const UNIT = fileURLToPath(new URL("../systemd/kvp-agent.service", import.meta.url));
const text = readFileSync(UNIT, "utf8");
const work = mkdtempSync(join(tmpdir(), "kvp-agent-unit-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** systemd's own checker of unit files. */
const SYSTEMD_ANALYZE: Tool = {
  name: "systemd-analyze",
  allowMissingEnv: "KVP_ALLOW_NO_SYSTEMD",
  missing: () =>
    spawnSync("sh", ["-c", "command -v systemd-analyze"], { encoding: "utf8" }).status === 0
      ? undefined
      : "systemd-analyze is missing (apt-get install systemd)",
};

/** `systemd-analyze verify` of a unit text whose ExecStart program exists (verify checks it). */
function verify(name: string, unitText: string): string {
  const program = join(work, "kvp-agent");
  writeFileSync(program, "#!/bin/sh\nexit 0\n");
  chmodSync(program, 0o755);
  const path = join(work, name);
  writeFileSync(path, unitText.replaceAll("/usr/bin/kvp-agent", program));
  const result = spawnSync("systemd-analyze", ["verify", path], { encoding: "utf8", timeout: 30_000 });
  if (result.error) throw result.error;
  return result.stderr;
}

describeNeeding("systemd unit, as systemd-analyze verify reads it", [SYSTEMD_ANALYZE], () => {
  it("passes systemd-analyze verify with nothing on stderr", () => {
    expect(verify("kvp-agent.service", text)).toBe("");
  });

  it("the cloud-init seed step passes systemd-analyze verify with nothing on stderr", () => {
    const seed = readFileSync(
      fileURLToPath(new URL("../systemd/kvp-agent-cloud-init-seed.service", import.meta.url)),
      "utf8",
    );
    expect(verify("kvp-agent-cloud-init-seed.service", seed)).toBe("");
  });

  it("would notice a broken unit (the check reads stderr, not the exit code)", () => {
    expect(verify("broken.service", text.replace(/^\[Service\]$/m, "[Service]\nNoSuchSetting=1"))).toMatch(
      /NoSuchSetting/,
    );
  });
});

/** Where Debian installs the units the seed step is ordered against (hyperv-daemons, cloud-init). */
const DEBIAN_UNITS = "/lib/systemd/system";

/**
 * systemd-analyze verify of cloud-init-local.service as Debian ships it, with our drop-in and
 * seed unit beside it (and Debian's hv-kvp-daemon.service), in a unit path of their own
 * before the system's: verify starts a test transaction, which reports ordering cycles.
 * `extra` adds drop-ins, to see a cycle reported.
 */
function verifyOrder(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(work, "order-"));
  const seed = readFileSync(
    fileURLToPath(new URL("../systemd/kvp-agent-cloud-init-seed.service", import.meta.url)),
    "utf8",
  );
  writeFileSync(join(dir, "kvp-agent-cloud-init-seed.service"), seed.replaceAll("/usr/bin/kvp-agent", "/bin/true"));
  mkdirSync(join(dir, "cloud-init-local.service.d"));
  copyFileSync(
    fileURLToPath(new URL("../systemd/cloud-init-local.service.d/50-kvp-agent-cloud-init-seed.conf", import.meta.url)),
    join(dir, "cloud-init-local.service.d/50-kvp-agent-cloud-init-seed.conf"),
  );
  for (const unit of ["cloud-init-local.service", "hv-kvp-daemon.service"])
    copyFileSync(join(DEBIAN_UNITS, unit), join(dir, unit));
  for (const [path, text] of Object.entries(extra)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const result = spawnSync("systemd-analyze", ["verify", join(dir, "cloud-init-local.service")], {
    encoding: "utf8",
    timeout: 30_000,
    // The trailing ":" keeps the system's own unit directories after ours.
    env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
  });
  if (result.error) throw result.error;
  return result.stderr;
}

describeNeeding(
  "the cloud-init seed step against Debian's cloud-init-local.service and hv-kvp-daemon.service",
  [SYSTEMD_ANALYZE, CLOUD_INIT, REAL_DAEMON],
  () => {
    it("starts with cloud-init's first stage, with no ordering cycle", () => {
      expect(verifyOrder()).toBe("");
    });

    it("would notice an ordering cycle (the seed step ordered after cloud-init-local)", () => {
      expect(
        verifyOrder({ "kvp-agent-cloud-init-seed.service.d/cycle.conf": "[Unit]\nAfter=cloud-init-local.service\n" }),
      ).toMatch(/Found ordering cycle/);
    });
  },
);
