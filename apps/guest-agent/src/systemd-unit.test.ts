// The shipped unit (systemd/kvp-agent.service) says what apps/guest-agent/README.md#systemd promises;
// it in systemd-unit.interop.test.ts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

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
