// The commands through a cluster-namespace transport, against hyperv-sim's two-node cluster
// (WS-Management over loopback HTTPS) whose VMs are backed by the REAL hv_kvp_daemon: without
// it (and cc for its shim) these tests fail (@hyperv-kvp/test-support/tools says how to skip
// them knowingly).
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  type SelfSignedCertificate,
  type WmiCluster,
  makeSelfSignedCertificate,
  startWmiCluster,
} from "@hyperv-kvp/hyperv-sim";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { WsmanClient } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHostCliError } from "../host-error.js";
import { get } from "../commands/get.js";
import { list } from "../commands/list.js";
import { vms } from "../commands/vms.js";
import { removeItems, writeItems } from "../commands/write.js";
import { HYPERV_NAMESPACES, type HyperVNamespace, HyperVWmi } from "../hyperv-wmi.js";
import { resolveVm } from "../resolve-vm.js";
import { WsmanCimClient } from "./wsman.js";

describe("kvp-host commands through root/HyperVCluster/v2 of a simulated two-node cluster", () => {
  const policy = realDaemonPolicy();
  if (standInForMissingTools(policy)) return;

  const PASSWORD = "Clu5ter-Pa55!";
  let cert: SelfSignedCertificate;
  let cluster: WmiCluster;
  const transports: HyperVWmi[] = [];
  const noWait = { sleep: async () => {} };

  function connect(endpoint: string, namespace: HyperVNamespace): HyperVWmi {
    const client = new WsmanClient({
      endpoint,
      ca: cert.cert,
      timeoutMs: 10_000,
      auth: { kind: "ntlm", user: "Administrator", password: PASSWORD },
    });
    const transport = new HyperVWmi(new WsmanCimClient(client), { namespace });
    transports.push(transport);
    return transport;
  }

  function pool0(vmName: string): Map<string, string> {
    const dir = cluster.vms.find((v) => v.name === vmName)!.poolDir;
    return new Map(
      decodePool(new Uint8Array(readFileSync(join(dir, poolFileName(0))))).records.map((r) => [r.key, r.value]),
    );
  }

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
      users: { Administrator: PASSWORD },
    });
  }, 30_000);

  afterAll(async () => {
    for (const t of transports) t.close();
    await cluster?.close();
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
  });

  it("vms lists the VMs of every node; set, list and get reach a VM on the other node", async () => {
    const t = connect(cluster.clusterEndpoint, HYPERV_NAMESPACES.cluster);
    expect((await vms(t)).map((v) => v.name)).toEqual(["db01", "web01", "web02"]);
    const report = await writeItems(
      t,
      "web02",
      [
        { key: "Role", value: "web" },
        { key: "Tier", value: "front" },
      ],
      { mode: "upsert", ...noWait },
    );
    expect(report.added).toEqual(["Role", "Tier"]);
    expect(pool0("web02")).toEqual(
      new Map([
        ["Role", "web"],
        ["Tier", "front"],
      ]),
    );
    expect((await list(t, "web02", { source: "host" })).items).toEqual([
      { source: "host", key: "Role", value: "web" },
      { source: "host", key: "Tier", value: "front" },
    ]);
    expect((await get(t, "web02", "Role")).item).toMatchObject({ source: "host", value: "web" });
    expect((await get(t, "web02", "OSName", { source: "intrinsic" })).item.value).not.toBe("");
    const removed = await removeItems(t, "web02", ["Tier"], noWait);
    expect(removed.removed).toEqual(["Tier"]);
    expect(pool0("web02")).toEqual(new Map([["Role", "web"]]));
  });

  it("keeps finding a VM after it live-migrates; a connection to the node it left does not", async () => {
    const viaCluster = connect(cluster.clusterEndpoint, HYPERV_NAMESPACES.cluster);
    const viaHv01 = connect(cluster.endpointOf("HV01"), HYPERV_NAMESPACES.host);
    await writeItems(viaCluster, "web01", [{ key: "Role", value: "web" }], { mode: "upsert", ...noWait });
    expect((await resolveVm(viaHv01, "web01")).name).toBe("web01");

    await cluster.migrateVm(cluster.vms.find((v) => v.name === "web01")!.guid, "HV02");

    expect((await list(viaCluster, "web01", { source: "host" })).items).toEqual([
      { source: "host", key: "Role", value: "web" },
    ]);
    const report = await writeItems(viaCluster, "web01", [{ key: "Role", value: "web-v2" }], {
      mode: "upsert",
      ...noWait,
    });
    expect(report.modified).toEqual(["Role"]);
    expect(pool0("web01")).toEqual(new Map([["Role", "web-v2"]]));
    // The node it left no longer runs it; the node it joined does.
    const lost = await resolveVm(viaHv01, "web01").catch((e: unknown) => e);
    expect(isHostCliError(lost, "not-found")).toBe(true);
    expect((await vms(viaHv01)).map((v) => v.name)).toEqual(["db01"]);
    expect((await vms(connect(cluster.endpointOf("HV02"), HYPERV_NAMESPACES.host))).map((v) => v.name)).toEqual([
      "web01",
      "web02",
    ]);
  });
});
