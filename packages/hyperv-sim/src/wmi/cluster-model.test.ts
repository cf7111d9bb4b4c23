import { type CimInstancePath, encodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import type { WsmanInstance } from "@hyperv-kvp/wsman";
import { thrown } from "@hyperv-kvp/test-support";
import { beforeEach, describe, expect, it } from "vitest";
import { isSimError } from "../errors.js";
import { CLUSTER_NAMESPACE, CLUSTER_RESOURCE_URI, ClusterModel, assertClusterShape } from "./cluster-model.js";
import { HostModel } from "./host-model.js";
import { kvpSettingDataOf, vmComputerSystemOf } from "./instances.js";
import { V2_NAMESPACE, V2_RESOURCE_URI } from "./wmi-classes.js";

const WEB01 = "11111111-1111-4111-8111-111111111111";
const DB01 = "22222222-2222-4222-8222-222222222222";
const WEB02 = "33333333-3333-4333-8333-333333333333";

const text = (i: WsmanInstance, name: string) => i.properties.get(name) as string;

function target(guid: string): CimInstancePath {
  return {
    namespace: V2_NAMESPACE,
    className: "Msvm_ComputerSystem",
    keys: [
      { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
      { name: "Name", type: "string", value: guid },
    ],
  };
}

/** The message of the invalid-argument SimError `run` throws. */
function failure(run: () => unknown): string {
  const error = thrown(run);
  if (!isSimError(error, "invalid-argument")) throw error;
  return error.message;
}

describe("ClusterModel", () => {
  let hv01: HostModel;
  let hv02: HostModel;
  let cluster: ClusterModel;
  beforeEach(() => {
    hv01 = new HostModel({ hostName: "HV01" });
    hv02 = new HostModel({ hostName: "HV02" });
    hv01.addVm("web01", WEB01);
    hv01.addVm("db01", DB01);
    hv02.addVm("web02", WEB02);
    cluster = new ClusterModel("HVCLU01", [hv01, hv02]);
  });

  it("lists the cluster as the one hosting system, then every VM of every node once, in its namespace", () => {
    expect(CLUSTER_NAMESPACE).toBe("root/HyperVCluster/v2");
    const systems = cluster.computerSystems();
    expect(systems.map((s) => [text(s, "Name"), text(s, "Caption")])).toEqual([
      ["HVCLU01", "Hosting Computer System"],
      [WEB01, "Virtual Machine"],
      [DB01, "Virtual Machine"],
      [WEB02, "Virtual Machine"],
    ]);
    for (const s of systems) expect(s.resourceUri).toBe(`${CLUSTER_RESOURCE_URI}/Msvm_ComputerSystem`);
    expect(cluster.vms.map(({ vm, node }) => `${vm.name}@${node.hostName}`)).toEqual([
      "web01@HV01",
      "db01@HV01",
      "web02@HV02",
    ]);
  });

  it("has one management service scoped to the cluster name", () => {
    const service = cluster.managementService();
    expect(service.resourceUri).toBe(`${CLUSTER_RESOURCE_URI}/Msvm_VirtualSystemManagementService`);
    expect([text(service, "Name"), text(service, "SystemName"), text(service, "CreationClassName")]).toEqual([
      "vmms",
      "HVCLU01",
      "Msvm_VirtualSystemManagementService",
    ]);
    // Each node keeps its own, scoped to the node.
    expect(text(hv02.managementService(), "SystemName")).toBe("HV02");
  });

  it("finds the owner of a VM and the node of a job, ignoring case", () => {
    expect(cluster.ownerOf(WEB02.toLowerCase())).toBe(hv02);
    expect(cluster.ownerOf("99999999-9999-4999-8999-999999999999")).toBeUndefined();
    expect(cluster.node("hv01")).toBe(hv01);
    expect(cluster.isNodeName("hv02")).toBe(true);
    expect(cluster.isNodeName("HVCLU01")).toBe(false);
    const outcome = hv02.invokeKvpMethod("AddKvpItems", target(WEB02), [
      encodeKvpItem({ name: "Role", data: "web", source: "host" }),
    ]);
    if (outcome.kind !== "job") throw new Error("expected a job");
    const found = cluster.findJob(outcome.job.instanceId.toLowerCase());
    expect(found?.node).toBe(hv02);
    expect(found?.job.vmName).toBe("web02");
    expect(cluster.findJob("nope")).toBeUndefined();
  });

  it("moves a node's instance into the cluster namespace", () => {
    const vm = hv01.findVm(WEB01)!;
    expect(vmComputerSystemOf(vm).resourceUri).toBe(`${V2_RESOURCE_URI}/Msvm_ComputerSystem`);
    expect(cluster.toCluster(kvpSettingDataOf(vm)).resourceUri).toBe(
      `${CLUSTER_RESOURCE_URI}/Msvm_KvpExchangeComponentSettingData`,
    );
  });

  it("migrates a VM's configuration with its host items; its jobs stay where they ran", () => {
    const host = encodeKvpItem({ name: "Role", data: "web", source: "host" });
    const hostOnly = encodeKvpItem({ name: "Secret", data: "s", source: "host-only" });
    const outcome = hv01.invokeKvpMethod("AddKvpItems", target(WEB01), [host, hostOnly]);
    if (outcome.kind !== "job") throw new Error("expected a job");
    hv01.finishJob(outcome.job.instanceId);

    const moved = cluster.migrateVm(WEB01.toLowerCase(), "hv02");
    expect([moved.from, moved.to]).toEqual([hv01, hv02]);
    expect(cluster.ownerOf(WEB01)).toBe(hv02);
    expect(hv01.findVm(WEB01)).toBeUndefined();
    expect(hv01.computerSystems().map((s) => text(s, "Name"))).toEqual(["HV01", DB01]);
    expect(hv02.computerSystems().map((s) => text(s, "Name"))).toEqual(["HV02", WEB02, WEB01]);
    const vm = hv02.findVm(WEB01)!;
    expect([...vm.hostItems]).toEqual([["Role", "web"]]);
    expect([...vm.hostOnlyItems]).toEqual([["Secret", "s"]]);
    // Still listed once.
    expect(cluster.computerSystems().filter((s) => text(s, "Name") === WEB01)).toHaveLength(1);
    expect(cluster.findJob(outcome.job.instanceId)?.node).toBe(hv01);
    // The new node now takes its methods; the old one no longer knows it.
    expect(hv02.invokeKvpMethod("ModifyKvpItems", target(WEB01), [host]).kind).toBe("job");
    expect(hv01.invokeKvpMethod("ModifyKvpItems", target(WEB01), [host])).toMatchObject({
      kind: "rejected",
      returnValue: 32773,
    });
    // Back and forth, and a move to where it is changes nothing.
    expect(cluster.migrateVm(WEB01, "HV02").from).toBe(hv02);
    cluster.migrateVm(WEB01, "hv01");
    expect(cluster.ownerOf(WEB01)).toBe(hv01);
  });

  it("refuses unknown VMs and nodes in a migration", () => {
    expect(failure(() => cluster.migrateVm(WEB01, "hv03"))).toMatch(/"hv03" is not a node of cluster HVCLU01/);
    expect(failure(() => cluster.migrateVm("99999999-9999-4999-8999-999999999999", "hv02"))).toMatch(
      /no VM of cluster HVCLU01/,
    );
  });

  it.each([
    ["", ["hv01"], /cluster name: empty/],
    ["clu", [], /no nodes/],
    ["clu", ["hv01", "HV01"], /HV01 is used twice/],
    ["clu", ["hv01", "CLU"], /CLU is used twice/],
    ["clu", ["hv01", " "], /a node name is empty/],
  ] as const)("refuses the shape %j %j", (name, nodes, message) => {
    expect(failure(() => assertClusterShape(name, nodes))).toMatch(message);
  });

  it("refuses a VM GUID on two nodes", () => {
    const other = new HostModel({ hostName: "HV03" });
    other.addVm("copy", WEB01);
    expect(failure(() => new ClusterModel("HVCLU01", [hv01, other]))).toMatch(
      /VM GUID 11111111-1111-4111-8111-111111111111 is on two nodes/,
    );
  });
});
