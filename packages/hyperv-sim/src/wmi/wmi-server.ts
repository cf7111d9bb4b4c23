/**
 * A Hyper-V host you can talk WMI to: a WS-Management server (wsman's createWsmanServer:
 * HTTPS with Basic and NTLM, plain HTTP with NTLM sealing as a default WinRM, or explicitly
 * unencrypted HTTP) in front of the pure {@link HostModel},
 * with one {@link SimulatedHost} (and so one hv_kvp_daemon) per VM. Requests map to the
 * model; KVP method jobs run against the guest's pool 0; KvpExchangeComponent reads pools 1
 * and 2 by ENUMERATE at query time. Further namespaces can be routed to other handlers, and
 * the guests can live in a registry shared with other hosts: cluster.ts builds a failover
 * cluster's nodes that way. {@link startInProcessWmiHost} is the same host without the server,
 * reached through an in-process client (in-process-client.ts). What answers the requests is
 * wmi-handler.ts; this module starts the VMs, the handler and the server around them.
 */
import { type WsmanHandler, type WsmanServer, createWsmanServer } from "@hyperv-kvp/wsman";
import type { DaemonKind } from "../device/daemon-channel.js";
import { type SimulatedHostOptions, startSimulatedHost } from "../device/simulated-host.js";
import { SimError } from "../errors.js";
import { GuestRegistry, type WmiHostVm } from "./guest-registry.js";
import { HostModel, type HostModelOptions, type VmState } from "./host-model.js";
import { type InProcessClientOptions, InProcessWsmanClient } from "./in-process-client.js";
import { createWmiHandler } from "./wmi-handler.js";

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
  const model = new HostModel(options.model);
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
