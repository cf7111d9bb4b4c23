// The shipped unit (systemd/kvp-agent.service), checked by systemd itself. Needs
// `systemd-analyze` (Debian package `systemd`): without it the tests fail, unless
// KVP_ALLOW_NO_SYSTEMD=1 outside CI (@hyperv-kvp/test-support/tools). systemd-analyze verify
// may exit 0 on errors: its stderr is the verdict.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Tool, describeNeeding } from "@hyperv-kvp/test-support/tools";
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
