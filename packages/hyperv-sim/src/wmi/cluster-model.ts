/**
 * A Hyper-V failover cluster as WMI's root\HyperVCluster\v2 shows it, as a pure view over
 * the {@link HostModel}s of its nodes: which node owns which VM, the instances the cluster
 * namespace serves itself, and live migration of a VM's configuration between nodes. No IO;
 * cluster.ts serves it over WS-Management and routes the rest to the owning node.
 *
 * DOCUMENTED (Microsoft's "Failover Clustering Hyper-V WMI Provider" reference, MicrosoftDocs
 * win32 `desktop-src/ClusHyperV/`; Windows Server 2016+, MOF WindowsHyperVCluster.V2.mof,
 * served by VMMS.exe): the namespace has Msvm_ComputerSystem ("a hosting computer system or
 * virtual computer system"), Msvm_VirtualSystemManagementService with AddKvpItems,
 * ModifyKvpItems and RemoveKvpItems (same signatures and 128-item limit as
 * root\virtualization\v2), Msvm_ConcreteJob with GetErrorEx, Msvm_Error,
 * Msvm_VirtualSystemSettingData, Msvm_SettingsDefineState, Msvm_SummaryInformation.
 * The service's keys are CreationClassName, Name, SystemCreationClassName, SystemName.
 *
 * SEEN IN MICROSOFT'S OWN CLIENT (the Hyper-V PowerShell module's
 * Microsoft.Virtualization.Client.Management, as decompiled publicly): a server counts as a
 * cluster when root/HyperVCluster/v2 has an Msvm_ComputerSystem whose Name is the name the
 * client connected to (the cluster name); it then addresses the service as
 * `Msvm_VirtualSystemManagementService.Name="vmms",SystemName=<that name>` and VMs as
 * `Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name=<GUID>` in that namespace.
 *
 * ASSUMED here (verified only against this simulator):
 * - The cluster's hosting Msvm_ComputerSystem has Name = ElementName = the cluster name, and
 *   it is the only hosting system listed (the nodes' own are not).
 * - Every VM of every node is listed exactly once, with the same properties as on its node.
 * - Msvm_KvpExchangeComponent, Msvm_KvpExchangeComponentSettingData and the association
 *   Msvm_VirtualSystemSettingDataComponent are served as in root\virtualization\v2. They are
 *   NOT in Microsoft's published class list of the cluster namespace, so a real cluster may
 *   refuse reads of KVP items there.
 * - Methods and job reads are carried out by the node that owns the VM (or ran the job);
 *   job InstanceIDs are GUIDs, unique across nodes, so a job is found on whichever node has it.
 * - A live migration keeps the VM's GUID, name and host items (HostExchangeItems and
 *   HostOnlyItems are part of its configuration); jobs stay with the node that ran them.
 */
import { WMI_RESOURCE_URI_PREFIX, equalsIgnoreCase } from "@hyperv-kvp/kvp-core/cim";
import type { WsmanInstance } from "@hyperv-kvp/wsman";
import { SimError } from "../errors.js";
import type { HostModel, JobState, VmState } from "./host-model.js";
import { hostComputerSystemOf, managementServiceOf, vmComputerSystemOf } from "./instances.js";
import { V2_RESOURCE_URI } from "./wmi-classes.js";

/** The WMI namespace of a Hyper-V failover cluster. */
export const CLUSTER_NAMESPACE = "root/HyperVCluster/v2";
/** Resource URI prefix of its classes: `…/wmi/root/HyperVCluster/v2`. */
export const CLUSTER_RESOURCE_URI = `${WMI_RESOURCE_URI_PREFIX}${CLUSTER_NAMESPACE}`;

/** A VM and the node it runs on. */
export interface ClusterVm {
  readonly vm: VmState;
  readonly node: HostModel;
}

/** `instance` as the namespace at `namespaceUri` serves it (its resource URI moved there). */
export function inNamespace(instance: WsmanInstance, namespaceUri: string): WsmanInstance {
  return { ...instance, resourceUri: `${namespaceUri}/${instance.className}` };
}

/**
 * Checks a cluster's name and its nodes' names.
 * @throws {SimError} `invalid-argument` for an empty name, no nodes, or a name used twice
 *   (ignoring case; node names must also differ from the cluster's).
 */
export function assertClusterShape(name: string, nodeNames: readonly string[]): void {
  if (typeof name !== "string" || name.trim() === "")
    throw new SimError("invalid-argument", "invalid cluster name: empty");
  if (nodeNames.length === 0) throw new SimError("invalid-argument", `invalid cluster ${name}: no nodes`);
  const seen = new Set<string>([name.toUpperCase()]);
  for (const node of nodeNames) {
    if (typeof node !== "string" || node.trim() === "")
      throw new SimError("invalid-argument", `invalid cluster ${name}: a node name is empty`);
    if (seen.has(node.toUpperCase()))
      throw new SimError(
        "invalid-argument",
        `invalid cluster ${name}: the name ${node} is used twice (cluster and node names must differ)`,
      );
    seen.add(node.toUpperCase());
  }
}

/** The cluster over its nodes' models (see the module doc for what is documented and what assumed). */
export class ClusterModel {
  /** The nodes, in the order given; the first owns the cluster name (its endpoint is the cluster's). */
  readonly nodes: readonly HostModel[];

  /**
   * @param name The cluster's name (its network name), also the SystemName of its service.
   * @param nodes The nodes' models; their host names name the nodes.
   * @throws {SimError} `invalid-argument` for a bad shape ({@link assertClusterShape}) or a
   *   VM GUID on two nodes.
   */
  constructor(
    readonly name: string,
    nodes: readonly HostModel[],
  ) {
    assertClusterShape(
      name,
      nodes.map((n) => n.hostName),
    );
    const guids = new Set<string>();
    for (const node of nodes) {
      for (const vm of node.vms) {
        if (guids.has(vm.guid))
          throw new SimError("invalid-argument", `invalid cluster ${name}: VM GUID ${vm.guid} is on two nodes`);
        guids.add(vm.guid);
      }
    }
    this.nodes = [...nodes];
  }

  /** The node with this name (ignoring case), if any. */
  node(name: string): HostModel | undefined {
    return this.nodes.find((n) => equalsIgnoreCase(n.hostName, name));
  }

  /** The node that runs the VM with this GUID (ignoring case), if any. */
  ownerOf(guid: string): HostModel | undefined {
    return this.nodes.find((n) => n.findVm(guid) !== undefined);
  }

  /** Every VM of every node, each once, node by node. */
  get vms(): readonly ClusterVm[] {
    return this.nodes.flatMap((node) => node.vms.map((vm) => ({ vm, node })));
  }

  /** Whether `name` names one of the nodes' own hosting systems (which the cluster namespace does not list). */
  isNodeName(name: string): boolean {
    return this.node(name) !== undefined;
  }

  /** The cluster's hosting Msvm_ComputerSystem (Name = the cluster name), in root/HyperVCluster/v2. */
  hostComputerSystem(): WsmanInstance {
    return inNamespace(hostComputerSystemOf(this.name), CLUSTER_RESOURCE_URI);
  }

  /** Msvm_ComputerSystem of the namespace: the cluster first, then every VM of every node. */
  computerSystems(): WsmanInstance[] {
    return [
      this.hostComputerSystem(),
      ...this.vms.map(({ vm }) => inNamespace(vmComputerSystemOf(vm), CLUSTER_RESOURCE_URI)),
    ];
  }

  /** The cluster's one Msvm_VirtualSystemManagementService (Name `vmms`, SystemName the cluster name). */
  managementService(): WsmanInstance {
    return inNamespace(managementServiceOf(this.name), CLUSTER_RESOURCE_URI);
  }

  /** The job with this InstanceID and the node that ran it, if a node still keeps it. */
  findJob(instanceId: string): { readonly job: JobState; readonly node: HostModel } | undefined {
    for (const node of this.nodes) {
      const job = node.findJob(instanceId);
      if (job !== undefined) return { job, node };
    }
    return undefined;
  }

  /** `instance` of a node's root/virtualization/v2 as the cluster namespace serves it. */
  toCluster(instance: WsmanInstance): WsmanInstance {
    return instance.resourceUri.toLowerCase().startsWith(`${V2_RESOURCE_URI.toLowerCase()}/`)
      ? inNamespace(instance, CLUSTER_RESOURCE_URI)
      : instance;
  }

  /**
   * Moves a VM's configuration (name, state, host items) to the node `toNode`, as a live
   * migration does; the guest itself is the IO side's business. Moving a VM to the node it
   * already runs on changes nothing.
   * @returns The VM and the nodes it left and joined.
   * @throws {SimError} `invalid-argument` for an unknown VM or node.
   */
  migrateVm(guid: string, toNode: string): { readonly vm: VmState; readonly from: HostModel; readonly to: HostModel } {
    const to = this.node(toNode);
    if (to === undefined)
      throw new SimError(
        "invalid-argument",
        `invalid node: ${JSON.stringify(toNode)} is not a node of cluster ${this.name}`,
      );
    const from = this.ownerOf(guid);
    const vm = from?.findVm(guid);
    if (from === undefined || vm === undefined)
      throw new SimError(
        "invalid-argument",
        `invalid VM: no VM of cluster ${this.name} has GUID ${JSON.stringify(guid)}`,
      );
    if (from !== to) to.adoptVm(from.removeVm(vm.guid)!);
    return { vm, from, to };
  }
}
