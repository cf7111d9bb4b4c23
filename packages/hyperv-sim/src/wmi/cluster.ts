/**
 * A simulated Hyper-V failover cluster: N nodes, each a {@link startWmiHost} with its own VMs
 * (one hv_kvp_daemon each) and its own WS-Management endpoint, as real nodes have. Every node
 * answers two namespaces, as a real node does: root/virtualization/v2 for the VMs it runs,
 * and root/HyperVCluster/v2 for the whole cluster. The cluster namespace shows every node's
 * VMs once and hands each request to the node that owns the VM (or ran the job), by
 * forwarding it to that node's root/virtualization/v2 handler and moving the answer's resource
 * URIs into the cluster namespace. The cluster's own endpoint is the endpoint of the node that
 * owns the cluster name (the first), as the cluster network name resolves to one node.
 *
 * What is documented about root\HyperVCluster\v2 and what this simulator assumes is listed in
 * cluster-model.ts.
 */
import { type WsmanEpr, type WsmanSelector, eprToPath, equalsIgnoreCase } from "@hyperv-kvp/kvp-core/cim";
import type {
  ParameterInput,
  WsmanHandler,
  WsmanHandlerResult,
  WsmanInstance,
  WsmanParameter,
} from "@hyperv-kvp/wsman";
import { SimError, isSimError } from "../errors.js";
import { CLUSTER_RESOURCE_URI, ClusterModel, assertClusterShape } from "./cluster-model.js";
import { GuestRegistry } from "./guest-registry.js";
import { FILTER_REFUSED, NOT_FOUND, fault } from "./faults.js";
import type { WmiHostVm } from "./guest-registry.js";
import type { HostModel, HostModelOptions } from "./host-model.js";
import { classOfResourceUri, selectorValue } from "./resource-uri.js";
import { RETURN_VALUES, V2_RESOURCE_URI, WMI_CLASSES, isKvpMethod } from "./wmi-classes.js";
import { type WmiHost, type WmiHostOptions, type WmiVmInit, startWmiHost } from "./wmi-server.js";
import { type WqlCondition, matchesConditions, parseWqlStatement } from "./wql.js";

/** One node of a cluster to start. */
export interface WmiClusterNodeInit {
  /** The node's computer name (its Msvm_ComputerSystem and service SystemName in root/virtualization/v2). */
  readonly name: string;
  /** The VMs that start on this node. */
  readonly vms: readonly (string | WmiVmInit)[];
  /** TCP port of the node's endpoint; default 0 (the OS picks). */
  readonly port?: number;
}

/**
 * Options of {@link startWmiCluster}: those of {@link startWmiHost} (transport, users,
 * daemon, jobs, host facts), applied to every node, plus the cluster's shape.
 */
export interface WmiClusterOptions extends Omit<WmiHostOptions, "vms" | "port" | "model" | "guests" | "namespaces"> {
  /** The cluster's name (its network name): the SystemName of its service in root/HyperVCluster/v2. */
  readonly name: string;
  /** The nodes, at least one; names differ from each other and from the cluster's. */
  readonly nodes: readonly WmiClusterNodeInit[];
  /** Options of every node's model; each node's host name is its `name`. */
  readonly model?: Omit<HostModelOptions, "hostName">;
}

/** A running node. */
export interface WmiClusterNode {
  readonly name: string;
  /** The node's own endpoint (both namespaces). */
  readonly endpoint: string;
  readonly host: WmiHost;
}

/** A running VM of the cluster and the node that runs it now. */
export interface WmiClusterVm extends WmiHostVm {
  readonly node: string;
}

/** A running cluster. */
export interface WmiCluster {
  readonly name: string;
  /** Where the cluster name leads: the endpoint of the node that owns it (the first node). */
  readonly clusterEndpoint: string;
  readonly model: ClusterModel;
  readonly nodes: readonly WmiClusterNode[];
  /** Every VM of the cluster, node by node. */
  readonly vms: readonly WmiClusterVm[];
  /**
   * The endpoint of a node.
   * @throws {SimError} `invalid-argument` for a name that is not a node's.
   */
  endpointOf(node: string): string;
  /** The name of the node that runs the VM with this GUID, if any. */
  ownerOf(guid: string): string | undefined;
  /**
   * Live-migrates a VM to `toNode`: its configuration (with its host items) moves to that
   * node's model at once, the guest keeps running with its daemon and pools, pending jobs
   * finish where they started. Unless `sendHostFacts` was false, the node then sends the
   * guest fresh host facts (pool 3 HostName and PhysicalHostName = the new node).
   * @throws {SimError} `invalid-argument` for an unknown VM or node.
   */
  migrateVm(guid: string, toNode: string): Promise<void>;
  /** Resolves when every job started so far, on any node, has finished. */
  settle(): Promise<void>;
  /** Stops every node's server and every daemon. */
  close(): Promise<void>;
}

function isEpr(value: WsmanParameter | undefined): value is WsmanEpr {
  return value !== undefined && value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `epr` with its resource URI moved from the namespace at `from` to the one at `to` (others unchanged). */
function moveEpr(epr: WsmanEpr, from: string, to: string): WsmanEpr {
  const prefix = `${from.toLowerCase()}/`;
  return epr.resourceUri.toLowerCase().startsWith(prefix)
    ? { ...epr, resourceUri: `${to}/${epr.resourceUri.slice(prefix.length)}` }
    : epr;
}

function entriesOf<V>(input: ParameterInput<V> | undefined): [string, V][] {
  if (input === undefined) return [];
  return input instanceof Map
    ? [...(input as ReadonlyMap<string, V>)]
    : Object.entries(input as Readonly<Record<string, V>>);
}

/**
 * The WS-Management handler of root/HyperVCluster/v2 over `cluster`, forwarding to each
 * node's root/virtualization/v2 handler (`v2HandlerOf`) what that node owns.
 */
export function createClusterHandler(
  cluster: ClusterModel,
  v2HandlerOf: (node: HostModel) => WsmanHandler,
): WsmanHandler {
  /** The service selectors, when given, must name the cluster's vmms. */
  const wrongService = (selectors: readonly WsmanSelector[]): boolean => {
    const name = selectorValue(selectors, "Name");
    const system = selectorValue(selectors, "SystemName");
    return (
      (name !== undefined && !equalsIgnoreCase(name, "vmms")) ||
      (system !== undefined && !equalsIgnoreCase(system, cluster.name))
    );
  };

  return async (request, context) => {
    const uriClass = classOfResourceUri(request.resourceUri, CLUSTER_RESOURCE_URI);
    if (uriClass === undefined) {
      return fault(
        "a:DestinationUnreachable",
        `The WS-Management service cannot process the request because the resource URI ${request.resourceUri} is not a class of root/HyperVCluster/v2.`,
      );
    }
    const ask = <R extends Parameters<WsmanHandler>[0]>(node: HostModel, forwarded: R): Promise<WsmanHandlerResult> =>
      Promise.resolve(v2HandlerOf(node)({ ...forwarded, resourceUri: `${V2_RESOURCE_URI}/${uriClass}` }, context));
    const inCluster = (result: WsmanHandlerResult): WsmanHandlerResult =>
      result.kind === "get" ? { kind: "get", instance: cluster.toCluster(result.instance) } : result;

    if (request.kind === "enumerate") {
      if (request.filter === undefined && uriClass === "*")
        return fault("w:CannotProcessFilter", "An enumeration of root/HyperVCluster/v2/* needs a WQL filter.");
      // Every node answers for its own VMs; one refusal (bad WQL, unknown class) is everyone's.
      const answers = await Promise.all(cluster.nodes.map((node) => ask(node, request)));
      const refused = answers.find((a) => a.kind !== "enumerate");
      if (refused !== undefined) return refused;
      let className = uriClass;
      let conditions: readonly WqlCondition[] = [];
      if (request.filter !== undefined) {
        try {
          const query = parseWqlStatement(request.filter.query);
          className = query.kind === "select" ? query.className : "";
          conditions = query.kind === "select" ? query.conditions : [];
        } catch (error) {
          if (isSimError(error)) return fault("w:CannotProcessFilter", FILTER_REFUSED, error.message);
          throw error;
        }
      }
      let items: WsmanInstance[] = answers.flatMap((a) => (a.kind === "enumerate" ? a.items : []));
      try {
        if (equalsIgnoreCase(className, WMI_CLASSES.computerSystem)) {
          // The nodes' own hosting systems give way to the cluster's.
          const vms = items.filter((i) => !cluster.isNodeName(String(i.properties.get("Name"))));
          const host = cluster.hostComputerSystem();
          items = [...(matchesConditions(host, conditions) ? [host] : []), ...vms];
        } else if (equalsIgnoreCase(className, WMI_CLASSES.managementService)) {
          items = [cluster.managementService()].filter((i) => matchesConditions(i, conditions));
        }
      } catch (error) {
        if (isSimError(error, "invalid-argument")) return fault("w:CannotProcessFilter", FILTER_REFUSED, error.message);
        throw error;
      }
      return { kind: "enumerate", items: items.map((i) => cluster.toCluster(i)) };
    }

    const isClass = (name: string) => equalsIgnoreCase(uriClass, name);
    if (request.kind === "get") {
      if (isClass(WMI_CLASSES.concreteJob)) {
        const found = cluster.findJob(selectorValue(request.selectors, "InstanceID") ?? "");
        return found === undefined ? fault("w:InvalidSelectors", NOT_FOUND) : inCluster(await ask(found.node, request));
      }
      if (isClass(WMI_CLASSES.computerSystem)) {
        const name = selectorValue(request.selectors, "Name") ?? "";
        if (equalsIgnoreCase(name, cluster.name)) return { kind: "get", instance: cluster.hostComputerSystem() };
        const owner = cluster.ownerOf(name);
        return owner === undefined ? fault("w:InvalidSelectors", NOT_FOUND) : inCluster(await ask(owner, request));
      }
      if (isClass(WMI_CLASSES.managementService)) {
        return wrongService(request.selectors)
          ? fault("w:InvalidSelectors", NOT_FOUND)
          : { kind: "get", instance: cluster.managementService() };
      }
      return fault("a:ActionNotSupported", `Get of ${uriClass} is not supported by this simulator.`);
    }

    // Invoke
    if (isClass(WMI_CLASSES.concreteJob) && request.method === "GetErrorEx") {
      const found = cluster.findJob(selectorValue(request.selectors, "InstanceID") ?? "");
      return found === undefined ? fault("w:InvalidSelectors", NOT_FOUND) : ask(found.node, request);
    }
    if (!isClass(WMI_CLASSES.managementService) || !isKvpMethod(request.method)) {
      return fault(
        "a:ActionNotSupported",
        `Method ${request.method} of ${uriClass} is not supported by this simulator.`,
      );
    }
    if (wrongService(request.selectors)) return fault("w:InvalidSelectors", NOT_FOUND);
    const target = request.parameters.get("TargetSystem");
    let vmName: string | undefined;
    if (isEpr(target)) {
      try {
        const key = eprToPath(target).keys.find((k) => equalsIgnoreCase(k.name, "Name"));
        vmName = typeof key?.value === "string" ? key.value : undefined;
      } catch {
        vmName = undefined;
      }
    }
    const owner = vmName === undefined ? undefined : cluster.ownerOf(vmName);
    // As on a node: no such VM is an invalid parameter, not a fault.
    if (owner === undefined || !isEpr(target)) return { kind: "invoke", returnValue: RETURN_VALUES.invalidParameter };
    const parameters = new Map(request.parameters);
    parameters.set("TargetSystem", moveEpr(target, CLUSTER_RESOURCE_URI, V2_RESOURCE_URI));
    const answer = await ask(owner, { ...request, parameters, selectors: [] });
    if (answer.kind !== "invoke") return answer;
    const outputs = entriesOf(answer.outputs).map(([name, value]): [string, WsmanParameter] => [
      name,
      isEpr(value) ? moveEpr(value, V2_RESOURCE_URI, CLUSTER_RESOURCE_URI) : value,
    ]);
    return { ...answer, outputs: new Map(outputs) };
  };
}

/**
 * Starts every node (its daemons, then its server on 127.0.0.1), each answering
 * root/virtualization/v2 for its VMs and root/HyperVCluster/v2 for the cluster. On failure
 * everything started so far is stopped.
 * @throws {SimError} `invalid-argument` for a bad cluster shape (see {@link ClusterModel});
 *   the errors of {@link startWmiHost}.
 */
export async function startWmiCluster(options: WmiClusterOptions): Promise<WmiCluster> {
  const { name, nodes: inits, model: modelOptions, ...hostOptions } = options;
  // Before any daemon starts; the VMs' GUIDs are checked as the nodes start them.
  assertClusterShape(
    name,
    inits.map((n) => n.name),
  );
  const guests = new GuestRegistry();
  const hosts: WmiHost[] = [];
  let handler: WsmanHandler | undefined;
  const clusterRoute: WsmanHandler = (request, context) =>
    handler === undefined
      ? fault("w:InternalError", "The cluster is still starting.", undefined, "s:Receiver")
      : handler(request, context);

  try {
    for (const init of inits) {
      hosts.push(
        await startWmiHost({
          ...hostOptions,
          vms: init.vms,
          ...(init.port === undefined ? {} : { port: init.port }),
          model: { ...modelOptions, hostName: init.name },
          guests,
          namespaces: [{ resourceUri: CLUSTER_RESOURCE_URI, handler: clusterRoute }],
        }),
      );
    }
    const model = new ClusterModel(
      name,
      hosts.map((h) => h.model),
    );
    const hostOf = (node: HostModel): WmiHost => hosts[model.nodes.indexOf(node)]!;
    handler = createClusterHandler(model, (node) => hostOf(node).v2Handler);
    const nodes: WmiClusterNode[] = hosts.map((host) => ({ name: host.model.hostName, endpoint: host.endpoint, host }));
    return {
      name,
      clusterEndpoint: nodes[0]!.endpoint,
      model,
      nodes,
      get vms() {
        return nodes.flatMap((node) => node.host.vms.map((vm) => ({ ...vm, node: node.name })));
      },
      endpointOf(node) {
        const found = model.node(node);
        if (found === undefined)
          throw new SimError(
            "invalid-argument",
            `invalid node: ${JSON.stringify(node)} is not a node of cluster ${name}`,
          );
        return hostOf(found).endpoint;
      },
      ownerOf(guid) {
        return model.ownerOf(guid)?.hostName;
      },
      async migrateVm(guid, toNode) {
        const { vm, from, to } = model.migrateVm(guid, toNode);
        if (from === to || options.sendHostFacts === false) return;
        await guests.run(vm.guid, (host) =>
          host.sendHostFacts({
            VirtualMachineName: vm.name,
            VirtualMachineId: vm.guid,
            HostName: to.hostName,
            PhysicalHostName: to.hostName,
          }),
        );
      },
      async settle() {
        for (const host of hosts) await host.settle();
      },
      async close() {
        await Promise.allSettled(hosts.map((h) => h.close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(hosts.map((h) => h.close()));
    throw error;
  }
}
