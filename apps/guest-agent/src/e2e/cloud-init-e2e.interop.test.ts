// End to end, with the real consumer: a simulated Hyper-V host sends cloud-init's documents
// as pool-0 items (user-data chunked) through Debian's REAL hv_kvp_daemon; the BUILT agent's
// boot step (`kvp-agent cloud-init-seed`, started first, as at first boot) writes the NoCloud
// seed; Debian's REAL cloud-init 22.4 (`init --local`, `init`) reads it, isolated from this
// machine (src/test-support/isolated-cloud-init.ts); `cloud-init query` shows instance-id,
// hostname and user-data came from the host's items, a write_files entry was applied, the
// user-data passes `cloud-init schema`; and `kvp-agent report` tells the host, which sees it
// in its ENUMERATE of pool 1. Needs hv_kvp_daemon, cc, cloud-init, unshare and root: missing
// one fails the test (KVP_ALLOW_NO_DAEMON / KVP_ALLOW_NO_CLOUD_INIT skip it outside CI).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLOUD_INIT_KEYS, splitValue } from "@hyperv-kvp/kvp-core";
import { type SimulatedHost, startSimulatedHost } from "@hyperv-kvp/hyperv-sim";
import {
  C_COMPILER,
  CLOUD_INIT,
  REAL_DAEMON,
  standInForMissingTools,
  toolPolicy,
} from "@hyperv-kvp/test-support/tools";
import { afterEach, describe, expect, it } from "vitest";
import { bootIsolatedCloudInit, isolatedRoot, runIsolatedCloudInit } from "../test-support/isolated-cloud-init.js";
import { KVP_AGENT, type Run, startBundle } from "./support.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs the built agent to completion; a test that fails first leaves nothing running. */
function runAgent(args: readonly string[]): Promise<Run> {
  const agent = startBundle(KVP_AGENT, args);
  cleanups.push(agent.stop);
  return agent.done;
}

/** Sends each document as the host would: one item, or its parts (kvp-core's chunking), meta-data last. */
async function sendDocuments(host: SimulatedHost, documents: Record<keyof typeof CLOUD_INIT_KEYS, string>) {
  for (const name of ["user-data", "network-config", "meta-data"] as const) {
    for (const item of splitValue(CLOUD_INIT_KEYS[name], documents[name])) {
      expect(await host.set(0, item.key, item.value), `host SET ${item.key}`).toBe(0);
    }
  }
}

describe("NoCloud seed from KVP, read by the real cloud-init (real hv_kvp_daemon)", () => {
  if (standInForMissingTools(toolPolicy([REAL_DAEMON, C_COMPILER, CLOUD_INIT]))) return;

  it("host items → seed → cloud-init init --local / init → query shows the host's instance-id, hostname and user-data, write_files applied → the running agent follows a new instance-id → the guest reports back", {
    timeout: 120_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), "kvp-agent-cloud-init-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const poolDir = join(work, "pools");
    const root = isolatedRoot(join(work, "root"));
    const config = join(work, "config.json");
    writeFileSync(
      config,
      JSON.stringify({ cloudInit: { enabled: true, seedDir: root.seedDir, firstBootWaitSeconds: 60 } }),
    );
    const args = ["--config", config, "--dir", poolDir, "--state-dir", join(work, "state")];

    const host = await startSimulatedHost({ daemon: "real", poolDir });
    cleanups.push(() => host.close());
    expect(host.daemon).toBe("real");

    // First boot: the boot step starts before the host has sent anything, and waits.
    const seeding = runAgent([...args, "cloud-init-seed", "--json"]);

    const applied = join(root.out, "applied-from-kvp.txt");
    // Long enough to be sent as several parts: the seed must hold the whole document.
    const padding = Array.from({ length: 60 }, (_, i) => `# padding line ${i} so the document spans parts`).join("\n");
    const userData = `#cloud-config\n${padding}\nwrite_files:\n  - path: ${applied}\n    content: "written by cloud-init from KVP user-data\\n"\n    permissions: "0640"\n`;
    const metaData = "instance-id: iid-kvp-e2e-1\nlocal-hostname: kvp-seeded-vm\n";
    const networkConfig = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";
    expect(splitValue(CLOUD_INIT_KEYS["user-data"], userData).length).toBeGreaterThan(1);
    await sendDocuments(host, { "user-data": userData, "meta-data": metaData, "network-config": networkConfig });

    const seeded = await seeding;
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({
      state: "written",
      seedDir: root.seedDir,
      written: ["user-data", "network-config", "meta-data"],
    });
    expect(seeded.stderr).toMatch(
      /cloud-init seed in .* is the host's \(wrote user-data, wrote network-config, wrote meta-data\)/,
    );
    expect(readFileSync(join(root.seedDir, "user-data"), "utf8")).toBe(userData);
    expect(readFileSync(join(root.seedDir, "meta-data"), "utf8")).toBe(metaData);
    expect(readFileSync(join(root.seedDir, "network-config"), "utf8")).toBe(networkConfig);
    expect(statSync(join(root.seedDir, "user-data")).mode & 0o777).toBe(0o600);

    // The real consumer. Schema first: the user-data is a valid cloud-config.
    const schema = await runIsolatedCloudInit(root, [
      "cloud-init",
      "schema",
      "--config-file",
      join(root.seedDir, "user-data"),
    ]);
    expect(schema.status, schema.stderr).toBe(0);
    expect(schema.stdout).toMatch(/Valid cloud-config/);
    expect(existsSync(applied)).toBe(false);
    // One run, one /run: init --local, init, then query what they found.
    const { query, ...stages } = await bootIsolatedCloudInit(root);
    expect(stages.status, `${stages.stdout}\n${stages.stderr}`).toBe(0);
    expect(query("instance_id").trim()).toBe("iid-kvp-e2e-1");
    expect(query("local_hostname").trim()).toBe("kvp-seeded-vm");
    // query prints the document and a newline of its own.
    expect(query("userdata")).toBe(`${userData}\n`);
    expect(readFileSync(applied, "utf8")).toBe("written by cloud-init from KVP user-data\n");
    expect(statSync(applied).mode & 0o777).toBe(0o640);

    // Later, the running agent keeps the seed current: a new instance-id from the host.
    const agent = startBundle(KVP_AGENT, [...args, "run"]);
    cleanups.push(agent.stop);
    const metaData2 = "instance-id: iid-kvp-e2e-2\nlocal-hostname: kvp-seeded-vm\n";
    expect(await host.set(0, CLOUD_INIT_KEYS["meta-data"], metaData2)).toBe(0);
    const deadline = Date.now() + 20_000;
    while (readFileSync(join(root.seedDir, "meta-data"), "utf8") !== metaData2) {
      if (Date.now() > deadline) throw new Error("the running agent did not rewrite meta-data");
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(readFileSync(join(root.seedDir, "user-data"), "utf8")).toBe(userData);
    agent.stop("SIGTERM");

    // The guest answers; the host sees it in pool 1.
    const reported = await runAgent([...args, "report", "cloud-init", "done"]);
    expect(reported.code, reported.stderr).toBe(0);
    const pool1 = await host.enumerate(1);
    expect(pool1.complete).toBe(true);
    expect(pool1.records.map((r) => [r.key, r.value])).toContainEqual(["kvp-agent/report/cloud-init", "done"]);
  });

  it("a host that sends nothing: the boot step gives up after its bound, exit 0, no seed", {
    timeout: 60_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), "kvp-agent-cloud-init-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const poolDir = join(work, "pools");
    const seedDir = join(work, "seed");
    const config = join(work, "config.json");
    writeFileSync(config, JSON.stringify({ cloudInit: { enabled: true, seedDir, firstBootWaitSeconds: 1 } }));
    const host = await startSimulatedHost({ daemon: "real", poolDir });
    cleanups.push(() => host.close());
    expect(await host.set(0, "unrelated", "x")).toBe(0);
    const result = await runAgent(["--config", config, "--dir", poolDir, "cloud-init-seed", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: "absent", written: [] });
    expect(result.stderr).toMatch(
      /no cloud-init meta-data from the host after 1\.\d s: no seed written; cloud-init uses its other datasources/,
    );
    expect(existsSync(seedDir)).toBe(false);
  });
});
