// End to end, a failover cluster: the BUILT kvp-host bundle with --cluster against a
// two-node simulated cluster (root/HyperVCluster/v2 on loopback HTTPS, NTLM, each VM backed by
// the REAL hv_kvp_daemon). A fleet names VMs, not nodes: after a live migration the same
// command still reaches the VM, while the old node's own namespace no longer lists it.
// Verified only against the simulator (see the README: Microsoft does not list the KVP
// read classes in that namespace).
import { rmSync } from "node:fs";
import {
  type SelfSignedCertificate,
  type WmiCluster,
  makeSelfSignedCertificate,
  startWmiCluster,
} from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KVP_HOST, poolOf, runNode } from "./support.js";

const USER = "Administrator";
const PASSWORD = "Clu5ter-E2e-Pa55!";
const policy = realDaemonPolicy();

const run = (args: readonly string[]) => runNode(KVP_HOST, args, { KVP_HOST_PASSWORD: PASSWORD });

describe("kvp-host --cluster (built bundle) against a two-node simulated cluster with the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let cert: SelfSignedCertificate;
  let cluster: WmiCluster;
  const vm = (name: string) => cluster.vms.find((v) => v.name === name)!;
  const pool0 = (name: string) => poolOf(vm(name).poolDir, 0);
  const kvpHost = (endpoint: string, args: readonly string[]) =>
    run(["--endpoint", endpoint, "--user", USER, "--ca", cert.certPath, "--timeout", "10s", ...args]);

  beforeAll(async () => {
    cert = makeSelfSignedCertificate();
    cluster = await startWmiCluster({
      name: "HVCLU01",
      nodes: [
        { name: "HV01", vms: ["web01", "db01"] },
        { name: "HV02", vms: ["web02"] },
      ],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [USER]: PASSWORD },
    });
  }, 30_000);

  afterAll(async () => {
    await cluster?.close();
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
  });

  it("vms lists every VM of both nodes once; one node without --cluster lists its own", async () => {
    const all = await kvpHost(cluster.clusterEndpoint, ["--cluster", "vms", "--json"]);
    expect(all.stderr).toBe("");
    expect(all.code).toBe(0);
    expect((JSON.parse(all.stdout) as { name: string }[]).map((v) => v.name).sort()).toEqual([
      "db01",
      "web01",
      "web02",
    ]);
    const hv02 = await kvpHost(cluster.endpointOf("HV02"), ["vms", "--json"]);
    expect((JSON.parse(hv02.stdout) as { name: string }[]).map((v) => v.name)).toEqual(["web02"]);
  });

  it("set through the cluster (asking node 1) lands in the guest of a VM on node 2", async () => {
    const r = await kvpHost(cluster.clusterEndpoint, ["--cluster", "set", "web02", "role=web", "tier=2", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: ["role", "tier"], methodCalls: 1 });
    expect(pool0("web02")).toEqual(
      new Map([
        ["role", "web"],
        ["tier", "2"],
      ]),
    );
  });

  it("after web02 migrates to node 1 the same --cluster commands still reach it; node 2's own namespace no longer finds it", async () => {
    await cluster.migrateVm(vm("web02").guid, "HV01");
    expect(cluster.ownerOf(vm("web02").guid)).toBe("HV01");
    const list = await kvpHost(cluster.clusterEndpoint, ["--cluster", "list", "web02", "--source", "host", "--json"]);
    expect(list.code).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { items: { key: string; value: string }[] }).items.map((i) => `${i.key}=${i.value}`),
    ).toEqual(["role=web", "tier=2"]);
    const set = await kvpHost(cluster.endpointOf("HV02"), ["--cluster", "set", "web02", "tier=3", "--json"]);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ modified: ["tier"], methodCalls: 1 });
    expect(pool0("web02")).toEqual(
      new Map([
        ["role", "web"],
        ["tier", "3"],
      ]),
    );
    const old = await kvpHost(cluster.endpointOf("HV02"), ["list", "web02"]);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('no VM named "web02"');
  });
});
