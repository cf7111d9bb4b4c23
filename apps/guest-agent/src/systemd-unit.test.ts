// The shipped unit (systemd/kvp-agent.service) says what apps/guest-agent/README.md#systemd promises;
// it in systemd-unit.interop.test.ts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_FIRST_BOOT_WAIT_SECONDS } from "./config.js";

const UNIT = fileURLToPath(new URL("../systemd/kvp-agent.service", import.meta.url));
const text = readFileSync(UNIT, "utf8");

describe("systemd unit", () => {
  it("runs only on Hyper-V, after either distribution's KVP daemon (apps/guest-agent/README.md#systemd)", () => {
    expect(text).toMatch(/^ConditionVirtualization=microsoft$/m);
    expect(text).toMatch(/^After=.*\bhv-kvp-daemon\.service\b/m);
    expect(text).toMatch(/^After=.*\bhypervkvpd\.service\b/m);
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/kvp-agent run$/m);
    expect(text).toMatch(/^RuntimeDirectory=kvp-agent$/m);
    expect(text).toMatch(/^RuntimeDirectoryMode=0700$/m);
    expect(text).toMatch(/^RestartPreventExitStatus=2$/m);
  });
});

describe("readiness", () => {
  it("is Type=notify: units ordered after the agent start once its first harvest is done (apps/guest-agent/README.md#systemd)", () => {
    expect(text).toMatch(/^Type=notify$/m);
    // The agent's own process sends READY=1 (no helper process), so the default NotifyAccess=main is enough.
    expect(text).not.toMatch(/^NotifyAccess=/m);
  });
});

describe("the cloud-init seed step (apps/guest-agent/README.md#cloud-init)", () => {
  const seed = readFileSync(
    fileURLToPath(new URL("../systemd/kvp-agent-cloud-init-seed.service", import.meta.url)),
    "utf8",
  );
  const dropIn = readFileSync(
    fileURLToPath(new URL("../systemd/cloud-init-local.service.d/50-kvp-agent-cloud-init-seed.conf", import.meta.url)),
    "utf8",
  );

  it("runs after either distribution's KVP daemon and before cloud-init's first stage, in early boot", () => {
    expect(seed).toMatch(/^After=.*\bhv-kvp-daemon\.service\b/m);
    expect(seed).toMatch(/^After=.*\bhypervkvpd\.service\b/m);
    expect(seed).toMatch(/^Before=.*\bcloud-init-local\.service\b/m);
    // cloud-init-local runs before sysinit.target: default dependencies would order this after it.
    expect(seed).toMatch(/^DefaultDependencies=no$/m);
    expect(seed).toMatch(/^Type=oneshot$/m);
    expect(seed).toMatch(/^ExecStart=\/usr\/bin\/kvp-agent cloud-init-seed$/m);
  });

  it("is bounded and pulled in by cloud-init-local.service without being able to stop it", () => {
    const timeout = Number(/^TimeoutStartSec=(\d+)$/m.exec(seed)?.[1]);
    // The command's own bound (firstBootWaitSeconds) ends before systemd's.
    expect(timeout).toBeGreaterThan(MAX_FIRST_BOOT_WAIT_SECONDS);
    expect(seed).not.toMatch(/^\[Install\]/m);
    expect(dropIn).toMatch(/^Wants=kvp-agent-cloud-init-seed\.service$/m);
    expect(dropIn).toMatch(/^After=kvp-agent-cloud-init-seed\.service$/m);
    expect(dropIn).not.toMatch(/^Requires=|^BindsTo=|^Requisite=/m);
  });
});
