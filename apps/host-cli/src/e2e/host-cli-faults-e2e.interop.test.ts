// End to end, the hard cases: the BUILT kvp-host bundle as a child process against
// packages/hyperv-sim's WMI host (loopback HTTPS, NTLM, the REAL hv_kvp_daemon behind each
// VM): text XML cannot carry, keys the guest cannot receive, the host restarted while a
// command waits for its job, and `watch` following what the guest writes with the real
// kvp-pool bundle.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import {
  type SelfSignedCertificate,
  type WmiHost,
  makeSelfSignedCertificate,
  startWmiHost,
} from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KVP_HOST, KVP_POOL, poolOf, runNode } from "./support.js";

const USER = "Administrator";
const PASSWORD = "Fault-Pa55w0rd!";
const policy = realDaemonPolicy();

const run = runNode;

describe("kvp-host (built bundle): hard cases against hyperv-sim with the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let cert: SelfSignedCertificate;
  const started: WmiHost[] = [];
  const args = (endpoint: string) => [
    "--endpoint",
    endpoint,
    "--user",
    USER,
    "--timeout",
    "10s",
    "--ca",
    cert.certPath,
  ];
  const env = { KVP_HOST_PASSWORD: PASSWORD };
  const startHost = async (options: { port?: number; guid?: string; jobDelayMs?: number } = {}) => {
    const host = await startWmiHost({
      vms: [{ name: "web01", ...(options.guid ? { guid: options.guid } : {}) }],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [USER]: PASSWORD },
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.jobDelayMs === undefined ? {} : { jobDelayMs: options.jobDelayMs }),
    });
    started.push(host);
    return host;
  };

  beforeAll(() => {
    cert = makeSelfSignedCertificate();
  });

  afterAll(async () => {
    for (const host of started) await host.close().catch(() => {});
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
  });

  it("a value XML cannot carry (U+0001) exits 2 naming the character; nothing is written", async () => {
    const host = await startHost();
    const r = await run(KVP_HOST, [...args(host.endpoint), "set", "web01", "ok=1", "bad=a\u0001b"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^kvp-host: invalid value of "bad": U\+0001 at UTF-16 index 1 cannot travel in WMI's XML \(XML 1\.0 cannot carry it\); nothing was written$/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(host.model.jobList).toHaveLength(0);
    expect(poolOf(host.vms[0]!.poolDir, 0).size).toBe(0);
  });

  it("a key the guest cannot receive whole (255 UTF-16 units) exits 2 with the limits; 254 is stored", async () => {
    const host = await startHost();
    const long = "k".repeat(255);
    const r = await run(KVP_HOST, [...args(host.endpoint), "set", "web01", `${long}=v`], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the guest cannot receive it whole (255 UTF-16 units");
    expect(host.model.jobList).toHaveLength(0);
    const fits = await run(KVP_HOST, [...args(host.endpoint), "set", "web01", `${long.slice(1)}=v`], env);
    expect(fits.stderr).toBe("");
    expect(fits.code).toBe(0);
    expect(poolOf(host.vms[0]!.poolDir, 0).get(long.slice(1))).toBe("v");
  });

  it("a guest item with a character XML cannot carry does not hide the others from list", async () => {
    const host = await startHost();
    const dir = host.vms[0]!.poolDir;
    for (const [key, value] of [
      ["before", "1"],
      ["ctl", "x\u0001y"],
      ["after", "2"],
    ] as const) {
      const w = await run(KVP_POOL, ["--dir", dir, "set", key, value]);
      expect(w.code).toBe(0);
    }
    const r = await run(KVP_HOST, [...args(host.endpoint), "list", "web01", "--source", "guest", "--json"], env);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const items = (JSON.parse(r.stdout) as { items: { key: string; value: string }[] }).items;
    expect(items.filter((i) => i.key !== "ctl")).toEqual([
      { source: "guest", key: "before", value: "1" },
      { source: "guest", key: "after", value: "2" },
    ]);
    // The simulator passes U+0001 on as "&#1;", which no XML 1.0 reader accepts: one note, the rest listed.
    expect(items.find((i) => i.key === "ctl")).toBeUndefined();
    expect(r.stderr).toMatch(/^kvp-host: note: GuestExchangeItems #1 unreadable: /m);
  });

  it("the host restarted while set waits for its job: exit 3, and the report says what the new host shows", async () => {
    const guid = "5A1E0B2C-0000-4000-8000-00000000F00D";
    // The first host's job stays Running for 3 s; it is stopped (its connections cut) meanwhile.
    const first = await startHost({ guid, jobDelayMs: 3_000 });
    const port = Number(new URL(first.endpoint).port);
    const child = run(KVP_HOST, [...args(first.endpoint), "set", "web01", "a=1", "b=2", "--json"], env);
    await waitFor(() => first.model.jobList.length === 1, "the job to start", 15_000);
    await first.close();
    // While it is down kvp-host keeps polling (connection refused); the new host has never heard of the job.
    const second = await startHost({ port, guid });
    const r = await child;
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toContain("kvp-host: note: lost contact while waiting for a job");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot add 2 items "a", "b" of VM "web01" (${guid}): lost track of its job`);
    expect(r.stderr).toContain("the host may have restarted");
    // The new host never received the items: the re-read says they are not applied.
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "job-lost",
      applied: [],
      notApplied: ["a", "b"],
      unknown: [],
    });
    // And the command can simply be run again.
    const again = await run(KVP_HOST, [...args(second.endpoint), "set", "web01", "a=1", "b=2", "--json"], env);
    expect(again.code).toBe(0);
    expect(poolOf(second.vms[0]!.poolDir, 0)).toEqual(
      new Map([
        ["a", "1"],
        ["b", "2"],
      ]),
    );
  }, 40_000);

  it("watch --json reports what the guest writes and removes with kvp-pool, and stops on SIGTERM with exit 0", async () => {
    const host = await startHost();
    const dir = host.vms[0]!.poolDir;
    let stdout = "";
    let stderr = "";
    const child: ChildProcess = spawn(
      process.execPath,
      [KVP_HOST, ...args(host.endpoint), "watch", "web01", "--json", "--interval", "200ms"],
      { env: { ...process.env, ...env } },
    );
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => stderr.includes("watching guest items"), "the watch to start", 15_000);
      expect((await run(KVP_POOL, ["--dir", dir, "set", "phase", "booting"])).code).toBe(0);
      await waitFor(() => stdout.includes('"booting"'), "the added item", 15_000);
      expect((await run(KVP_POOL, ["--dir", dir, "set", "phase", "ready"])).code).toBe(0);
      await waitFor(() => stdout.includes('"ready"'), "the changed item", 15_000);
      expect((await run(KVP_POOL, ["--dir", dir, "delete", "phase"])).code).toBe(0);
      await waitFor(() => stdout.includes('"removed"'), "the removed item", 15_000);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map(({ time: _, ...e }) => e)).toEqual([
      { type: "added", source: "guest", key: "phase", value: "booting" },
      { type: "changed", source: "guest", key: "phase", value: "ready", previous: "booting" },
      { type: "removed", source: "guest", key: "phase", previous: "ready" },
    ]);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
