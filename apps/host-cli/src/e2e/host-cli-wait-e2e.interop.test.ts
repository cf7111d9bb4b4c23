// End to end, the loop from the host: the BUILT kvp-host bundle sends items and waits for the
// guest's answer (`set --wait`, `cloud-init --wait`, `wait`), against packages/hyperv-sim's
// WMI host over loopback HTTPS whose VM is backed by the REAL hv_kvp_daemon; the guest answers
// with the real kvp-pool bundle writing pool 1, as the guest agent or a hook would.
// Needs the real daemon and a C compiler (docs/device-protocol.md#tests-that-need-the-real-daemon).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLOUD_INIT_KEYS } from "@hyperv-kvp/kvp-core";
import { waitFor } from "@hyperv-kvp/test-support";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpsHost, KVP_POOL, type Run, poolOf, runNode, startHttpsHost } from "./support.js";

const policy = realDaemonPolicy();

describe("kvp-host wait, set --wait and cloud-init (built bundle) through the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let sim: HttpsHost;
  const web01 = () => sim.host.vms[0]!;
  const kvpHost = (args: readonly string[]): Promise<Run> => sim.kvpHost(args, { timeoutMs: 60_000 });
  /** What the guest writes to pool 1, with the real kvp-pool. */
  const guestSet = async (key: string, value: string) => {
    const w = await runNode(KVP_POOL, ["--dir", web01().poolDir, "set", key, value]);
    expect(w.stderr).toBe("");
    expect(w.code).toBe(0);
  };
  /** Runs kvp-host in the background, knowing whether it has ended. */
  const background = (args: readonly string[]) => {
    const state: { run?: Run } = {};
    const done = kvpHost(args).then((run) => {
      state.run = run;
      return run;
    });
    return { done, ended: () => state.run !== undefined };
  };

  beforeAll(async () => {
    sim = await startHttpsHost(["web01"]);
  }, 30_000);

  afterAll(async () => {
    await sim?.close();
  });

  it("set --wait writes through the daemon, then returns once the guest writes the awaited value", async () => {
    const child = background(["set", "web01", "role=db", "--wait", "app/role-applied=db", "--interval", "200ms"]);
    await waitFor(() => poolOf(web01().poolDir, 0).get("role") === "db", "role=db in the guest's pool 0", 30_000);
    // A guest that answers something else is not the awaited answer.
    await guestSet("app/role-applied", "web");
    expect((await kvpHost(["wait", "web01", "app/role-applied=web", "--interval", "200ms"])).code).toBe(0);
    expect(child.ended()).toBe(false);
    await guestSet("app/role-applied", "db");
    const r = await child.done;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      'host items of "web01": 1 added (1 call)',
      expect.stringMatching(/^guest of "web01": "app\/role-applied"="db" \(\d+ reads\)$/),
      "",
    ]);
  });

  it("wait prints the guest's value; one that never comes exits 1 at --wait-timeout", async () => {
    await guestSet("kvp-agent/status", "ready");
    expect(await kvpHost(["wait", "web01", "kvp-agent/status=ready"])).toEqual({
      code: 0,
      stdout: "ready\n",
      stderr: "",
    });
    const r = await kvpHost(["wait", "web01", "never", "--wait-timeout", "1s", "--interval", "200ms"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kvp-host: VM "web01" did not show "never" (after 1s; guest shows "never" absent)\n');
  });

  it("cloud-init sends the documents chunked into the guest's pool 0, where kvp-pool reassembles them", async () => {
    const dir = sim.cert.dir;
    const userData = `#cloud-config\nwrite_files:\n${Array.from({ length: 120 }, (_, i) => `  - path: /etc/demo/${i}\n    content: "file ${i} é"\n`).join("")}`;
    writeFileSync(join(dir, "meta-data"), "instance-id: web01-0001\nlocal-hostname: web01\n");
    writeFileSync(join(dir, "user-data"), userData);
    await guestSet("kvp-agent/status", "booting");
    const child = background([
      "cloud-init",
      "web01",
      "--meta-data",
      join(dir, "meta-data"),
      "--user-data",
      join(dir, "user-data"),
      "--wait",
      "kvp-agent/status=ready",
      "--interval",
      "200ms",
    ]);
    await waitFor(
      () => poolOf(web01().poolDir, 0).has(CLOUD_INIT_KEYS["meta-data"]),
      "meta-data in the guest's pool 0",
      30_000,
    );
    const parts = [...poolOf(web01().poolDir, 0).keys()].filter((k) =>
      k.startsWith(`${CLOUD_INIT_KEYS["user-data"]}#`),
    );
    expect(parts.length).toBeGreaterThan(1);
    const g = await runNode(KVP_POOL, ["--dir", web01().poolDir, "get", CLOUD_INIT_KEYS["user-data"], "--pool", "0"]);
    expect(g.code).toBe(0);
    expect(g.stdout).toBe(`${userData}\n`);
    expect(child.ended()).toBe(false);
    await guestSet("kvp-agent/status", "ready");
    const r = await child.done;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('guest of "web01": "kvp-agent/status"="ready"');
  });
});
