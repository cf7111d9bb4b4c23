/**
 * A Hyper-V host you can talk WMI to: a WS-Management server (wsman's createWsmanServer:
 * HTTPS with Basic and NTLM, plain HTTP with NTLM sealing as a default WinRM, or explicitly
 * unencrypted HTTP) in front of the pure {@link HostModel},
 * with one {@link SimulatedHost} (and so one hv_kvp_daemon) per VM. Requests map to the
 * model; KVP method jobs run against the guest's pool 0; KvpExchangeComponent reads pools 1
 * and 2 by ENUMERATE at query time. Further namespaces can be routed to other handlers, and
 * the guests can live in a registry shared with other hosts: cluster.ts builds a failover
 * cluster's nodes that way. {@link startInProcessWmiHost} is the same host without the server,
 * reached through an in-process client (in-process-client.ts).
 */
import { HvStatus } from "../device/device-message.js";
import type { DaemonKind } from "../device/daemon-channel.js";
import { type SimulatedHostOptions, startSimulatedHost } from "../device/simulated-host.js";
import {
  type CimInstancePath,
  WSA_ANONYMOUS,
  type WsmanEpr,
  eprToPath,
  equalsIgnoreCase,
} from "@hyperv-kvp/kvp-core/cim";
import {
  type WsmanFaultInit,
  type WsmanHandler,
  type WsmanHandlerResult,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanServer,
  WQL_DIALECT,
  createWsmanServer,
} from "@hyperv-kvp/wsman";
import { SimError, isSimError } from "../errors.js";
import { type GuestAccess, GuestRegistry, type WmiHostVm } from "./guest-registry.js";
import { type InProcessClientOptions, InProcessWsmanClient } from "./in-process-client.js";
import {
  type HostModel,
  type HostModelOptions,
  type JobFailure,
  type KvpMethod,
  HostModel as Model,
  RETURN_VALUES,
  V2_RESOURCE_URI,
  type VmState,
  WMI_CLASSES,
  matchesConditions,
} from "./host-model.js";
import { parseWqlStatement } from "./wql.js";

/** A VM to start: its name and, optionally, its GUID. */
export interface WmiVmInit {
  readonly name: string;
  readonly guid?: string;
}

/** Options of {@link startInProcessWmiHost}: the VMs and the model, nothing about serving them. */
export interface InProcessWmiHostOptions {
  /** VMs to start, each with its own daemon and pool directory. */
  readonly vms: readonly (string | WmiVmInit)[];
  /** Which daemon backs each VM (see {@link SimulatedHostOptions.daemon}); default `auto`. */
  readonly daemon?: DaemonKind | "auto";
  /** Passed to each VM's {@link startSimulatedHost} (not `daemon`, `poolDir`). */
  readonly simulatedHost?: Omit<SimulatedHostOptions, "daemon" | "poolDir">;
  /** Options of the model (host name, clock, GUIDs, job retention). */
  readonly model?: HostModelOptions;
  /** Milliseconds a job stays Running before it is applied; default 0. */
  readonly jobDelayMs?: number;
  /** Send host facts (pool 3, with the VM's name and GUID) when a VM starts; default true. */
  readonly sendHostFacts?: boolean;
  /**
   * Where the VMs' guests are registered; default a registry of this host's own. The nodes of
   * a simulated cluster share one, so a migrated VM keeps its guest (see startWmiCluster).
   */
  readonly guests?: GuestRegistry;
  /**
   * WMI namespaces this host answers besides root/virtualization/v2 (which is always its
   * own): requests whose resource URI starts with `resourceUri` + `/` go to `handler`.
   * startWmiCluster uses it to serve root/HyperVCluster/v2 on every node.
   */
  readonly namespaces?: readonly WmiNamespaceRoute[];
}

/** Options of {@link startWmiHost}: those of {@link startInProcessWmiHost}, and how to serve. */
export interface WmiHostOptions extends InProcessWmiHostOptions {
  /** PEM key and certificate: serve HTTPS. */
  readonly https?: { readonly key: string | Uint8Array; readonly cert: string | Uint8Array };
  /** Serve plain HTTP when `https` is absent, unsealed SOAP and Basic accepted (explicit switch, WinRM's AllowUnencrypted=true). */
  readonly allowUnencrypted?: boolean;
  /**
   * Serve plain HTTP like WinRM's default listener: NTLM only, every message sealed with the
   * NTLM session (wsman's `sealedHttp`). Excludes `https` and `allowUnencrypted`.
   */
  readonly sealedHttp?: boolean;
  /** User name → password. */
  readonly users: Readonly<Record<string, string>>;
  /** Enabled schemes; default Basic and NTLM (NTLM only with `sealedHttp`). */
  readonly auth?: readonly ("basic" | "ntlm")[];
  /** TCP port; default 0 (the OS picks). The server listens on 127.0.0.1 only. */
  readonly port?: number;
}

/** A further namespace a host answers: its resource URI prefix (`…/wmi/<namespace>`) and handler. */
export interface WmiNamespaceRoute {
  readonly resourceUri: string;
  readonly handler: WsmanHandler;
}

export type { GuestAccess, WmiHostVm } from "./guest-registry.js";

/** A running simulated host without a server (see {@link startInProcessWmiHost}). */
export interface InProcessWmiHost {
  readonly model: HostModel;
  /** The VMs this host runs now, in the model's order (a cluster node's change as VMs migrate). */
  readonly vms: readonly WmiHostVm[];
  /** The registry holding this host's guests (shared with the other nodes of a cluster). */
  readonly guests: GuestRegistry;
  /** Answers root/virtualization/v2 requests for this host (without {@link InProcessWmiHostOptions.namespaces}). */
  readonly v2Handler: WsmanHandler;
  /** Answers every namespace this host serves: what its server (if any) hands requests to. */
  readonly handler: WsmanHandler;
  /**
   * A client that reaches {@link handler} in this process, through SOAP but no HTTP (see
   * in-process-client.ts). Closing it closes nothing of the host.
   */
  client(options?: InProcessClientOptions): InProcessWsmanClient;
  /** Stops a VM's daemon: its component then reports OperationalStatus 12 (No contact) and no guest items. */
  stopVm(guid: string): Promise<void>;
  /**
   * Holds jobs started from now on Running (JobState 4) until {@link resumeJobs}, as a busy
   * host would: their items are not applied meanwhile.
   */
  pauseJobs(): void;
  /** Lets held jobs, and later ones, run. */
  resumeJobs(): void;
  /** Resolves when every job started so far has finished (held jobs only after {@link resumeJobs}). */
  settle(): Promise<void>;
  /** Lets held jobs run, waits for every job, stops every daemon (their temporary pool directories are removed). */
  close(): Promise<void>;
}

/** A running WMI host: an {@link InProcessWmiHost} with a WS-Management server in front. */
export interface WmiHost extends InProcessWmiHost {
  /** `https://127.0.0.1:PORT/wsman` (or `http://…`). */
  readonly endpoint: string;
  readonly server: WsmanServer;
  /** Stops the server, then everything {@link InProcessWmiHost.close} stops. */
  close(): Promise<void>;
}

function fault(
  subcode: string,
  reason: string,
  detail?: string,
  code: WsmanFaultInit["code"] = "s:Sender",
): WsmanHandlerResult {
  return { kind: "fault", fault: { code, subcode, reason, ...(detail === undefined ? {} : { detail }) } };
}

const NOT_FOUND =
  "The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors.";

/**
 * The class a resource URI names under `namespaceUri` (`…/wmi/<namespace>`; `*` for WQL),
 * compared ignoring case, or undefined for a URI outside it or no class name.
 */
export function classOfResourceUri(resourceUri: string, namespaceUri: string = V2_RESOURCE_URI): string | undefined {
  const prefix = `${namespaceUri}/`;
  if (!resourceUri.toLowerCase().startsWith(prefix.toLowerCase())) return undefined;
  const rest = resourceUri.slice(prefix.length);
  return /^(\*|[A-Za-z_][A-Za-z0-9_]*)$/.test(rest) ? rest : undefined;
}

function canonicalClass(name: string): string | undefined {
  return Object.values(WMI_CLASSES).find((c) => c !== WMI_CLASSES.error && equalsIgnoreCase(c, name));
}

function selector(selectors: readonly { name: string; value: string | WsmanEpr }[], name: string): string | undefined {
  const found = selectors.find((s) => equalsIgnoreCase(s.name, name))?.value;
  return typeof found === "string" ? found : undefined;
}

function isKvpMethod(method: string): method is KvpMethod {
  return method === "AddKvpItems" || method === "ModifyKvpItems" || method === "RemoveKvpItems";
}

function stringsOf(value: WsmanParameter | undefined): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return [...(value as readonly string[])];
  return undefined;
}

/**
 * The WS-Management handler over a model and the VMs' guest sides. Jobs are applied in the
 * background through `guest`; `track` receives each job's promise (for {@link WmiHost.settle}).
 */
export function createWmiHandler(
  model: HostModel,
  guest: GuestAccess,
  options: {
    readonly jobDelayMs?: number;
    readonly track?: (job: Promise<void>) => void;
    /** Awaited before a job is applied: holds jobs while a host is paused. */
    readonly jobGate?: () => Promise<void>;
  } = {},
): WsmanHandler {
  async function instancesOf(
    className: string,
    conditions: Parameters<typeof matchesConditions>[1],
  ): Promise<WsmanInstance[]> {
    switch (className) {
      case WMI_CLASSES.computerSystem:
        return model.computerSystems().filter((i) => matchesConditions(i, conditions));
      case WMI_CLASSES.kvpComponent: {
        const out: WsmanInstance[] = [];
        for (const vm of model.vms) {
          // Conditions are checked on the instance without items first, so only the VMs
          // asked for are enumerated.
          if (!vm.kvpComponent || !matchesConditions(model.kvpComponent(vm), conditions)) continue;
          const pools = vm.running
            ? await guest.run(vm.guid, async (host) => ({
                guest: await host.enumerate(1),
                intrinsic: await host.enumerate(2),
              }))
            : undefined;
          out.push(model.kvpComponent(vm, pools?.guest.records ?? [], pools?.intrinsic.records ?? []));
        }
        return out;
      }
      case WMI_CLASSES.kvpSettingData:
        return model.vms.map((vm) => model.kvpSettingData(vm)).filter((i) => matchesConditions(i, conditions));
      case WMI_CLASSES.settingData:
        return model.vms
          .map((vm) => model.virtualSystemSettingData(vm))
          .filter((i) => matchesConditions(i, conditions));
      case WMI_CLASSES.managementService:
        return [model.managementService()].filter((i) => matchesConditions(i, conditions));
      case WMI_CLASSES.concreteJob:
        return model.jobList.map((j) => model.concreteJob(j)).filter((i) => matchesConditions(i, conditions));
      default:
        return [];
    }
  }

  async function applyJob(
    jobId: string,
    operations: readonly { kind: "set" | "delete"; vmGuid: string; key: string; value?: string }[],
    failure: JobFailure | undefined,
  ): Promise<void> {
    if (options.jobDelayMs !== undefined && options.jobDelayMs > 0)
      await new Promise((r) => setTimeout(r, options.jobDelayMs));
    await options.jobGate?.();
    if (operations.length === 0) {
      model.finishJob(jobId, failure);
      return;
    }
    const vmGuid = operations[0]!.vmGuid;
    let problem: JobFailure | undefined;
    try {
      await guest.run(vmGuid, async (host) => {
        for (const op of operations) {
          const status = op.kind === "set" ? await host.set(0, op.key, op.value ?? "") : await host.delete(0, op.key);
          if (status !== HvStatus.OK) {
            problem = {
              errorCode: RETURN_VALUES.failed,
              cimStatusCode: 1,
              description: `The guest's KVP service refused to ${op.kind === "set" ? "set" : "delete"} item ${JSON.stringify(op.key)} (status 0x${status.toString(16).padStart(8, "0")}); earlier items of this call were applied.`,
            };
            return;
          }
        }
      });
    } catch (error) {
      problem = {
        errorCode: RETURN_VALUES.failed,
        cimStatusCode: 1,
        description: `The guest's KVP service failed: ${(error as Error).message}`,
      };
    }
    // An injected failure lets its first operations apply, then fails the job all the same.
    model.finishJob(jobId, problem ?? failure);
  }

  return async (request) => {
    const uriClass = classOfResourceUri(request.resourceUri);
    if (uriClass === undefined) {
      return fault(
        "a:DestinationUnreachable",
        `The WS-Management service cannot process the request because the resource URI ${request.resourceUri} is not a class of root/virtualization/v2.`,
      );
    }

    if (request.kind === "enumerate") {
      let className: string;
      let conditions: Parameters<typeof matchesConditions>[1] = [];
      if (request.filter !== undefined) {
        if (!equalsIgnoreCase(request.filter.dialect, WQL_DIALECT)) {
          return fault(
            "w:FilterDialectRequestedUnavailable",
            "The requested filter dialect is not supported.",
            request.filter.dialect,
          );
        }
        try {
          const query = parseWqlStatement(request.filter.query);
          if (query.kind === "associators") return { kind: "enumerate", items: model.associators(query) };
          className = query.className;
          conditions = query.conditions;
        } catch (error) {
          if (isSimError(error))
            return fault(
              "w:CannotProcessFilter",
              "The WS-Management service cannot process the filter.",
              error.message,
            );
          throw error;
        }
      } else if (uriClass === "*") {
        return fault("w:CannotProcessFilter", "An enumeration of root/virtualization/v2/* needs a WQL filter.");
      } else {
        className = uriClass;
      }
      const canonical = canonicalClass(className);
      if (canonical === undefined)
        return fault(
          "w:CannotProcessFilter",
          "The WS-Management service cannot process the filter.",
          `invalid WQL query: class ${className} is not served by this simulator`,
        );
      try {
        return { kind: "enumerate", items: await instancesOf(canonical, conditions) };
      } catch (error) {
        if (isSimError(error, "invalid-argument"))
          return fault("w:CannotProcessFilter", "The WS-Management service cannot process the filter.", error.message);
        throw error;
      }
    }

    const canonical = canonicalClass(uriClass);
    if (request.kind === "get") {
      if (canonical === WMI_CLASSES.concreteJob) {
        const id = selector(request.selectors, "InstanceID");
        const job = id === undefined ? undefined : model.findJob(id);
        return job === undefined
          ? fault("w:InvalidSelectors", NOT_FOUND, `no Msvm_ConcreteJob with InstanceID ${JSON.stringify(id ?? "")}`)
          : { kind: "get", instance: model.concreteJob(job) };
      }
      if (canonical === WMI_CLASSES.computerSystem) {
        const name = selector(request.selectors, "Name");
        const found = model
          .computerSystems()
          .find((i) => name !== undefined && equalsIgnoreCase(String(i.properties.get("Name")), name));
        return found === undefined ? fault("w:InvalidSelectors", NOT_FOUND) : { kind: "get", instance: found };
      }
      if (canonical === WMI_CLASSES.managementService) return { kind: "get", instance: model.managementService() };
      return fault("a:ActionNotSupported", `Get of ${uriClass} is not supported by this simulator.`);
    }

    // Invoke
    if (canonical === WMI_CLASSES.concreteJob && request.method === "GetErrorEx") {
      const id = selector(request.selectors, "InstanceID");
      const job = id === undefined ? undefined : model.findJob(id);
      if (job === undefined) return fault("w:InvalidSelectors", NOT_FOUND);
      return { kind: "invoke", returnValue: RETURN_VALUES.completed, outputs: { Errors: model.jobErrors(job) } };
    }
    if (canonical !== WMI_CLASSES.managementService || !isKvpMethod(request.method)) {
      return fault(
        "a:ActionNotSupported",
        `Method ${request.method} of ${uriClass} is not supported by this simulator.`,
      );
    }
    const name = selector(request.selectors, "Name");
    if (name !== undefined && !equalsIgnoreCase(name, "vmms")) return fault("w:InvalidSelectors", NOT_FOUND);

    const targetParam = request.parameters.get("TargetSystem");
    let target: CimInstancePath | undefined;
    if (
      targetParam !== undefined &&
      targetParam !== null &&
      typeof targetParam === "object" &&
      !Array.isArray(targetParam)
    ) {
      try {
        target = eprToPath(targetParam as WsmanEpr);
      } catch {
        target = undefined;
      }
    }
    const items = stringsOf(request.parameters.get("DataItems"));
    if (items === undefined) return { kind: "invoke", returnValue: RETURN_VALUES.invalidParameter };
    const outcome = model.invokeKvpMethod(request.method, target, items);
    if (outcome.kind === "rejected") return { kind: "invoke", returnValue: outcome.returnValue };
    const done = applyJob(outcome.job.instanceId, outcome.operations, outcome.failure);
    options.track?.(done);
    const job: WsmanEpr = {
      address: WSA_ANONYMOUS,
      resourceUri: `${V2_RESOURCE_URI}/${WMI_CLASSES.concreteJob}`,
      selectors: [{ name: "InstanceID", value: outcome.job.instanceId }],
    };
    return { kind: "invoke", returnValue: RETURN_VALUES.jobStarted, outputs: { Job: job } };
  };
}

/** `local` for root/virtualization/v2 (and anything unknown), each route's handler for its namespace. */
function routeNamespaces(local: WsmanHandler, routes: readonly WmiNamespaceRoute[]): WsmanHandler {
  if (routes.length === 0) return local;
  return (request, context) => {
    const uri = request.resourceUri.toLowerCase();
    const route = routes.find((r) => uri.startsWith(`${r.resourceUri.toLowerCase()}/`));
    return (route?.handler ?? local)(request, context);
  };
}

/**
 * Starts one daemon per VM (sending host facts to pool 3) and the WMI handler over them, with
 * no server: {@link InProcessWmiHost.client} reaches it. On failure everything started so
 * far is stopped.
 * @throws {SimError} from {@link startSimulatedHost} (e.g. `daemon-missing`); `invalid-argument`
 *   for a GUID used twice.
 */
export async function startInProcessWmiHost(options: InProcessWmiHostOptions): Promise<InProcessWmiHost> {
  const model = new Model(options.model);
  const guests = options.guests ?? new GuestRegistry();
  // The guests this host started (and so stops on close), wherever they have migrated since.
  const started: WmiHostVm[] = [];
  const pending = new Set<Promise<void>>();
  // While paused, jobs wait for this promise; resuming resolves it.
  let paused: { readonly gate: Promise<void>; readonly open: () => void } | undefined;
  const resumeJobs = () => {
    paused?.open();
    paused = undefined;
  };

  const closeAll = async () => {
    resumeJobs();
    await Promise.allSettled([...pending]);
    await Promise.allSettled(started.map((vm) => vm.host.close()));
  };

  try {
    for (const init of options.vms) {
      const { name, guid } = typeof init === "string" ? { name: init, guid: undefined } : init;
      const state: VmState = model.addVm(name, guid);
      if (guests.get(state.guid) !== undefined)
        throw new SimError("invalid-argument", `invalid VM GUID: ${state.guid} is already used`);
      const host = await startSimulatedHost({ ...options.simulatedHost, daemon: options.daemon ?? "auto" });
      const vm: WmiHostVm = { name: state.name, guid: state.guid, poolDir: host.poolDir, daemon: host.daemon, host };
      started.push(vm);
      guests.add(vm);
      if (options.sendHostFacts !== false) {
        await host.sendHostFacts({
          VirtualMachineName: state.name,
          VirtualMachineId: state.guid,
          HostName: model.hostName,
          PhysicalHostName: model.hostName,
        });
      }
    }
    const v2Handler = createWmiHandler(model, guests, {
      ...(options.jobDelayMs === undefined ? {} : { jobDelayMs: options.jobDelayMs }),
      track: (job) => {
        pending.add(job);
        void job.finally(() => pending.delete(job));
      },
      jobGate: () => paused?.gate ?? Promise.resolve(),
    });
    const handler = routeNamespaces(v2Handler, options.namespaces ?? []);
    const settle = async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    };
    return {
      model,
      get vms() {
        return model.vms.flatMap((state) => guests.get(state.guid) ?? []);
      },
      guests,
      v2Handler,
      handler,
      client: (clientOptions) => new InProcessWsmanClient(handler, clientOptions),
      async stopVm(guid) {
        const state = model.findVm(guid);
        if (state === undefined) return;
        await guests.stop(state.guid);
        state.running = false;
      },
      pauseJobs() {
        if (paused !== undefined) return;
        let open: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => {
          open = resolve;
        });
        paused = { gate, open };
      },
      resumeJobs,
      settle,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Starts an {@link startInProcessWmiHost} host, then its WS-Management server on 127.0.0.1.
 * On failure everything started so far is stopped.
 * @throws {SimError} from {@link startSimulatedHost} (e.g. `daemon-missing`).
 * @throws {WsmanError} `unencrypted-refused` without `https`, `sealedHttp` or `allowUnencrypted`.
 */
export async function startWmiHost(options: WmiHostOptions): Promise<WmiHost> {
  const host = await startInProcessWmiHost(options);
  let server: WsmanServer | undefined;
  try {
    server = createWsmanServer({
      ...(options.https === undefined ? {} : { https: options.https }),
      ...(options.allowUnencrypted === undefined ? {} : { allowUnencrypted: options.allowUnencrypted }),
      ...(options.sealedHttp === undefined ? {} : { sealedHttp: options.sealedHttp }),
      users: options.users,
      auth: options.auth ?? (options.sealedHttp ? ["ntlm"] : ["basic", "ntlm"]),
      handler: host.handler,
      computerName: host.model.hostName,
    });
    const endpoint = await server.listen(options.port ?? 0, "127.0.0.1");
    const running = server;
    return {
      endpoint,
      server: running,
      model: host.model,
      get vms() {
        return host.vms;
      },
      guests: host.guests,
      v2Handler: host.v2Handler,
      handler: host.handler,
      client: (clientOptions) => host.client(clientOptions),
      stopVm: (guid) => host.stopVm(guid),
      pauseJobs: () => host.pauseJobs(),
      resumeJobs: () => host.resumeJobs(),
      settle: () => host.settle(),
      async close() {
        await running.close();
        await host.close();
      },
    };
  } catch (error) {
    await server?.close();
    await host.close();
    throw error;
  }
}
