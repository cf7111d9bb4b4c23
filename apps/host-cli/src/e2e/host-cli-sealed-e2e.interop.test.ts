// End to end over plain HTTP as Windows ships WinRM: the BUILT kvp-host bundle against
// hyperv-sim's WMI host in its default mode (HTTP, NTLM only, every message sealed, unsealed
// requests and Basic refused), each VM backed by the REAL hv_kvp_daemon. kvp-host must work
// against it without anyone enabling Basic or AllowUnencrypted.
import { type WmiHost, startWmiHost } from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import type { WsmanServerEvent } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KVP_HOST, poolOf, runNode } from "./support.js";

const USER = "Administrator";
const PASSWORD = "Sea1ed-Pa55!";
const policy = realDaemonPolicy();

const run = (args: readonly string[], password = PASSWORD) => runNode(KVP_HOST, args, { KVP_HOST_PASSWORD: password });

describe("kvp-host (built bundle) over sealed HTTP against a default-WinRM-like simulated host with the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let host: WmiHost;
  const events: WsmanServerEvent[] = [];
  const kvpHost = (args: readonly string[], password?: string) =>
    run(["--endpoint", host.endpoint, "--user", USER, "--timeout", "10s", ...args], password);

  beforeAll(async () => {
    host = await startWmiHost({ vms: ["web01"], daemon: "real", sealedHttp: true, users: { [USER]: PASSWORD } });
    host.server.onEvent((event) => events.push(event));
  }, 30_000);

  afterAll(async () => {
    await host?.close();
  });

  it("set and list work over http:// with NTLM and no other switch; the items land in the guest", async () => {
    expect(host.endpoint).toMatch(/^http:\/\//);
    const r = await kvpHost(["set", "web01", "role=web", "note=sealed ✓", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const pool = poolOf(host.vms[0]!.poolDir, 0);
    expect(pool).toEqual(
      new Map([
        ["role", "web"],
        ["note", "sealed ✓"],
      ]),
    );
    const list = await kvpHost(["list", "web01", "--source", "host", "--json"]);
    expect(JSON.parse(list.stdout).items.map((i: { key: string }) => i.key)).toEqual(["role", "note"]);
    expect(events.filter((e) => e.kind === "unsealed-refused")).toEqual([]);
  });

  it("Basic over HTTP is a usage error without --allow-unencrypted, and refused by the host with it (exit 3)", async () => {
    const usage = await kvpHost(["--auth", "basic", "vms"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--allow-unencrypted");
    const refused = await kvpHost(["--auth", "basic", "--allow-unencrypted", "vms"]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^kvp-host: /);
  });

  it("NTLM unsealed (--allow-unencrypted) is refused by a host that requires sealing: exit 3, no stack trace", async () => {
    const r = await kvpHost(["--allow-unencrypted", "vms"]);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(events.some((e) => e.kind === "unsealed-refused")).toBe(true);
  });

  it("a wrong password exits 3; the host's log tells it from an unknown user", async () => {
    const wrong = await kvpHost(["vms"], "not-it");
    expect(wrong.code).toBe(3);
    const unknown = await run(["--endpoint", host.endpoint, "--user", "mallory", "vms"]);
    expect(unknown.code).toBe(3);
    const reasons = events.flatMap((e) => (e.kind === "auth-failure" ? [e.failure.reason] : []));
    expect(reasons).toContain("wrong-password");
    expect(reasons).toContain("unknown-user");
  });
});
