// End to end: the BUILT kvp-host bundle, as a child process, against packages/hyperv-sim's
// WMI host (WS-Management over loopback HTTPS, self-signed certificate) whose VMs are backed
// by the REAL hv_kvp_daemon. What kvp-host writes must land in the guest's pool files; what a
// guest writes (with the real kvp-pool bundle) must come back through kvp-host.
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { WmiHost } from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type HttpsHost,
  KVP_HOST,
  KVP_POOL,
  type KvpHostRunOptions,
  poolOf,
  runNode,
  startHttpsHost,
} from "./support.js";

const policy = realDaemonPolicy();

const run = runNode;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("kvp-host (built bundle) against hyperv-sim's WMI host with the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let sim: HttpsHost;
  const host = (): WmiHost => sim.host;
  const kvpHost = (args: readonly string[], options?: KvpHostRunOptions) => sim.kvpHost(args, options);
  const web01 = () => host().vms[0]!;
  const pool = (n: 0 | 1) => poolOf(web01().poolDir, n);

  beforeAll(async () => {
    sim = await startHttpsHost(["web01", "dup", "dup"]);
  }, 30_000);

  afterAll(async () => {
    await sim?.close();
  });

  it("vms --json lists the VMs (not the host itself)", async () => {
    const r = await kvpHost(["vms", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const vms = JSON.parse(r.stdout) as { id: string; name: string; enabledState: number }[];
    const rows = (list: [string, string, number][]) => list.map((row) => row.join(" ")).sort();
    expect(rows(vms.map((v) => [v.name, v.id, v.enabledState]))).toEqual(
      rows(host().vms.map((v) => [v.name, v.guid, 2])),
    );
  });

  it("set writes into the guest's .kvp_pool_0 through the daemon; list --source host shows it", async () => {
    const r = await kvpHost(["set", "web01", "Role=web", "Note=x", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: ["Role", "Note"], modified: [], methodCalls: 1 });
    expect(pool(0)).toEqual(
      new Map([
        ["Role", "web"],
        ["Note", "x"],
      ]),
    );

    const list = await kvpHost(["list", "web01", "--source", "host", "--json"]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).items).toEqual([
      { source: "host", key: "Role", value: "web" },
      { source: "host", key: "Note", value: "x" },
    ]);
  });

  it("set again with one changed value makes one ModifyKvpItems call and leaves the other alone", async () => {
    const jobsBefore = host().model.jobList.length;
    const r = await kvpHost(["set", "web01", "Role=web", "Note=y", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: [], modified: ["Note"], unchanged: ["Role"], methodCalls: 1 });
    const jobs = host().model.jobList.slice(jobsBefore);
    expect(jobs.map((j) => [j.method, j.state])).toEqual([["ModifyKvpItems", 7]]);
    expect(pool(0)).toEqual(
      new Map([
        ["Role", "web"],
        ["Note", "y"],
      ]),
    );
  });

  it("get --source guest prints what the guest wrote to pool 1 with the real kvp-pool", async () => {
    const w = await run(KVP_POOL, ["--dir", web01().poolDir, "set", "AppVersion", "1.2.3"]);
    expect(w.stderr).toBe("");
    expect(w.code).toBe(0);
    const r = await kvpHost(["get", "web01", "AppVersion", "--source", "guest"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("1.2.3\n");
  });

  it("set --chunk of a 3000-character value: the guest's kvp-pool get reassembles it", async () => {
    const value = Array.from({ length: 3000 }, (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).join("");
    const refused = await kvpHost(["set", "web01", `Big=${value}`]);
    expect(refused.code).toBe(2);
    const r = await kvpHost(["set", "web01", "--chunk", `Big=${value}`, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect([...pool(0).keys()].filter((k) => k.startsWith("Big#"))).toEqual(["Big#1/3", "Big#2/3", "Big#3/3"]);
    const g = await run(KVP_POOL, ["--dir", web01().poolDir, "get", "Big", "--pool", "0"]);
    expect(g.stderr).toBe("");
    expect(g.code).toBe(0);
    expect(g.stdout).toBe(`${value}\n`);
  });

  it("add of an existing key exits 4 naming the VM and the key, and writes nothing", async () => {
    const r = await kvpHost(["add", "web01", "Role=db", "Fresh=1"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`"Role" already exists on VM "web01" (${web01().guid})`);
    expect(pool(0).get("Role")).toBe("web");
    expect(pool(0).has("Fresh")).toBe(false);
  });

  it("remove deletes the item from the guest's pool 0", async () => {
    const r = await kvpHost(["remove", "web01", "Note", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(pool(0).has("Note")).toBe(false);
    expect(pool(0).get("Role")).toBe("web");
    const missing = await kvpHost(["remove", "web01", "Note"]);
    expect(missing.code).toBe(1);
  });

  it("129 items from --from-file in one set: 2 AddKvpItems calls, all in the guest", async () => {
    const file = join(sim.cert.dir, "items.env");
    writeFileSync(file, Array.from({ length: 129 }, (_, i) => `bulk${i}=value ${i}\n`).join(""));
    const jobsBefore = host().model.jobList.length;
    const r = await kvpHost(["set", "web01", "--from-file", file, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { added: string[]; methodCalls: number };
    expect(report.added).toHaveLength(129);
    expect(report.methodCalls).toBe(2);
    expect(
      host()
        .model.jobList.slice(jobsBefore)
        .map((j) => j.method),
    ).toEqual(["AddKvpItems", "AddKvpItems"]);
    const guest = pool(0);
    for (let i = 0; i < 129; i++) expect(guest.get(`bulk${i}`)).toBe(`value ${i}`);
  });

  it("status --json reports the KVP service OK and the guest's items", async () => {
    const r = await kvpHost(["status", "web01", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({
      vm: { id: web01().guid, name: "web01", enabledState: 2 },
      component: true,
      operationalStatus: 2,
      ok: true,
    });
    expect(s.guestItems).toBeGreaterThanOrEqual(1);
  });

  it("a wrong password exits 3", async () => {
    const r = await kvpHost(["vms"], { password: "wrong" });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^kvp-host: /);
  });

  it("an untrusted certificate without --ca exits 3 with the hint", async () => {
    const r = await kvpHost(["vms"], { ca: false });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not trusted/);
    expect(r.stderr).toMatch(/--ca FILE/);
  });

  it("a missing VM exits 1", async () => {
    const r = await kvpHost(["list", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no VM named "nope"/);
  });

  it("two VMs with the same name exit 2 listing both GUIDs", async () => {
    const r = await kvpHost(["get", "dup", "Role"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(host().vms[1]!.guid);
    expect(r.stderr).toContain(host().vms[2]!.guid);
  });

  it("a host that is down (closed port) exits 3", async () => {
    const r = await kvpHost(["vms"], { endpoint: `https://127.0.0.1:${await closedPort()}/wsman` });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^kvp-host: /);
  });
});

describe("kvp-host --version (built bundle)", () => {
  it("prints the version in package.json, put there at build time", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-V"]) {
      const run = await runNode(KVP_HOST, [flag]);
      expect(run).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
  });
});
