/**
 * Hyper-V's WMI as kvp-host uses it, written once over any {@link CimClient}: which classes
 * hold what (Msvm_KvpExchangeComponent the guest's items, Msvm_KvpExchangeComponentSettingData
 * the host's, Msvm_VirtualSystemManagementService the methods), how to get from a VM to its KVP
 * items, the management service and its three KVP methods, jobs and their errors; the
 * namespace every request goes to (one host's, or a failover cluster's); what is cached for
 * the life of a command (the service's path, each VM's realized settings, each job's path);
 * and the one count of calls made, the same whichever transport carries them.
 *
 * KVP items cross it as the embedded CIM-XML strings Hyper-V uses (kvp-core's
 * encodeKvpItem/decodeKvpItems); the logic above it (VM resolution, items, plans, batches,
 * jobs) never sees a CIM instance.
 *
 * Cluster namespace, root/HyperVCluster/v2: Microsoft documents the three KVP methods,
 * Msvm_ComputerSystem, Msvm_ConcreteJob (with GetErrorEx) and the management service there
 * (Windows Server 2016+), for every VM of the cluster; its service is scoped to the cluster
 * (SystemName = the cluster name), which the service lookup reads back. Msvm_KvpExchangeComponent
 * (and its SettingData) are NOT in Microsoft's published class list of that namespace; reading
 * KVP items there is verified only against hyperv-sim, and a refusal says so.
 */
import { getProperty } from "@hyperv-kvp/kvp-core/cim";
import {
  type CimInstance,
  type CimInstancePath,
  type CimProperty,
  type WmiError,
  type WmiJob,
  decodeWmiErrors,
  errorFromInstance,
  jobFromInstance,
} from "@hyperv-kvp/kvp-core/cim";
import { CallCounter } from "./call-counter.js";
import { TransportError, isTransportError } from "./transport-error.js";
import {
  type CimArgument,
  type CimClient,
  type CimEnumeration,
  type CimOutput,
  classOfEnumeration,
} from "./transport.js";
import { componentQuery } from "./wql.js";

/** The WMI namespaces kvp-host talks to, as path namespaces. */
export const HYPERV_NAMESPACES = Object.freeze({
  /** One Hyper-V host and the VMs it runs. The default. */
  host: "root/virtualization/v2",
  /** A Hyper-V failover cluster: every VM of every node, wherever it runs now. */
  cluster: "root/HyperVCluster/v2",
} as const);
/** One of {@link HYPERV_NAMESPACES}. */
export type HyperVNamespace = (typeof HYPERV_NAMESPACES)[keyof typeof HYPERV_NAMESPACES];

/** The classes kvp-host reads or calls. */
export const HYPERV_CLASSES = Object.freeze({
  computerSystem: "Msvm_ComputerSystem",
  kvpComponent: "Msvm_KvpExchangeComponent",
  settingData: "Msvm_VirtualSystemSettingData",
  kvpSettingData: "Msvm_KvpExchangeComponentSettingData",
  managementService: "Msvm_VirtualSystemManagementService",
  concreteJob: "Msvm_ConcreteJob",
} as const);

/** The key properties of Msvm_VirtualSystemManagementService, in selector order. */
export const SERVICE_KEYS = ["CreationClassName", "Name", "SystemCreationClassName", "SystemName"] as const;

/** From a VM to its realized settings: the association and its result (libvirt's route). */
export const REALIZED_SETTINGS = Object.freeze({
  assocClass: "Msvm_SettingsDefineState",
  resultClass: HYPERV_CLASSES.settingData,
} as const);

/** From the realized settings to the KVP setting data among their components. */
export const KVP_SETTING_DATA = Object.freeze({
  assocClass: "Msvm_VirtualSystemSettingDataComponent",
  resultClass: HYPERV_CLASSES.kvpSettingData,
} as const);

/** The three KVP methods of Msvm_VirtualSystemManagementService. */
export type KvpMethod = "AddKvpItems" | "ModifyKvpItems" | "RemoveKvpItems";

/** The instance path of a VM's Msvm_ComputerSystem in `namespace`. */
export function vmPath(vmId: string, namespace: HyperVNamespace = HYPERV_NAMESPACES.host): CimInstancePath {
  return {
    namespace,
    className: HYPERV_CLASSES.computerSystem,
    keys: [
      { name: "CreationClassName", type: "string", value: HYPERV_CLASSES.computerSystem },
      { name: "Name", type: "string", value: vmId },
    ],
  };
}

/** A virtual machine, from its Msvm_ComputerSystem instance. */
export interface VmInfo {
  /** Name: the VM's GUID, as Hyper-V writes it (upper case). */
  readonly id: string;
  /** ElementName: the name people give the VM (not unique). */
  readonly name: string;
  /** EnabledState (2 running, 3 off, 6 enabled but offline, 9 paused, 32768+ Hyper-V states), when present. */
  readonly enabledState?: number;
}

/** What Msvm_KvpExchangeComponent says about a VM's KVP integration service. */
export interface KvpComponentInfo {
  /** GuestExchangeItems: embedded Msvm_KvpExchangeDataItem strings the guest wrote (pool 1). */
  readonly guestItems: readonly string[];
  /** GuestIntrinsicExchangeItems: what the guest daemon reports about itself (pool 2). */
  readonly intrinsicItems: readonly string[];
  /** OperationalStatus, first value the service's health (2 OK, 12 No contact, …). */
  readonly operationalStatus: readonly number[];
  /** StatusDescriptions, when present. */
  readonly statusDescriptions: readonly string[];
}

/** What Msvm_KvpExchangeComponentSettingData holds for a VM. */
export interface KvpSettingDataInfo {
  /** HostExchangeItems: items the host sends to the guest (pool 0). */
  readonly hostItems: readonly string[];
  /** HostOnlyItems: items kept in the VM configuration only. */
  readonly hostOnlyItems: readonly string[];
  /** DisableHostKVPItems (Windows 10 1703+), when present. */
  readonly disableHostKvpItems?: boolean;
}

/** The reply of a KVP method. */
export interface MethodResult {
  /** ReturnValue: 0 completed, 4096 job started, others failed (kvp-core's RETURN_CODES). */
  readonly returnValue: number;
  /** The InstanceID of the job the method started (with 4096). */
  readonly jobId?: string;
}

/** Options of {@link HyperVWmi}. */
export interface HyperVWmiOptions {
  /** The namespace every request goes to; default {@link HYPERV_NAMESPACES}.host. */
  readonly namespace?: HyperVNamespace;
}

/** Reads of KVP items whose classes Microsoft does not list for root/HyperVCluster/v2. */
const CLUSTER_UNLISTED_READS: readonly string[] = [HYPERV_CLASSES.kvpComponent, HYPERV_CLASSES.kvpSettingData];

function unreadable(message: string): TransportError {
  return new TransportError("unreadable", message);
}

/** A scalar property as text (every value crosses the seam as text; other types written out). */
function textOf(property: CimProperty | undefined): string | undefined {
  if (property === undefined || property.array || property.value === null) return undefined;
  const value = property.value;
  return typeof value === "string" ? value : typeof value === "object" ? undefined : String(value);
}

/** An array property as texts: a lone scalar is a one-element array (WS-Management cannot tell them apart). */
function textsOf(property: CimProperty | undefined): string[] {
  if (property === undefined || property.value === null) return [];
  if (!property.array) {
    const text = textOf(property);
    return text === undefined ? [] : [text];
  }
  return (property.value as readonly unknown[]).filter((v): v is string => typeof v === "string");
}

function integersOf(property: CimProperty | undefined): number[] {
  return textsOf(property)
    .map((t) => t.trim())
    .filter((t) => /^-?\d{1,15}$/.test(t))
    .map(Number);
}

function text(instance: CimInstance, name: string): string | undefined {
  return textOf(getProperty(instance, name));
}

function isPath(value: CimOutput | undefined): value is CimInstancePath {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "keys" in value;
}

function isInstance(value: unknown): value is CimInstance {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "properties" in value;
}

/** See the module doc. Commands get one per run, and close it. */
export class HyperVWmi {
  /** Calls made through the CIM client, by label (see {@link CallCounter}). */
  readonly calls = new CallCounter();
  /** The namespace every request goes to. */
  readonly namespace: HyperVNamespace;
  private service: CimInstancePath | undefined;
  private readonly settingsIds = new Map<string, string>();
  private readonly jobPaths = new Map<string, CimInstancePath>();

  /** @throws {TransportError} `config` for a namespace not in {@link HYPERV_NAMESPACES}. */
  constructor(
    private readonly client: CimClient,
    options: HyperVWmiOptions = {},
  ) {
    const namespace = options.namespace ?? HYPERV_NAMESPACES.host;
    if (!Object.values(HYPERV_NAMESPACES).includes(namespace)) {
      throw new TransportError(
        "config",
        `invalid namespace ${JSON.stringify(namespace)}: ${Object.values(HYPERV_NAMESPACES).join(" or ")}`,
      );
    }
    this.namespace = namespace;
  }

  // -- the four CIM operations, counted ------------------------------------------------

  private query(className: string, wql: string): Promise<CimInstance[]> {
    this.calls.count(`query ${className}`);
    return this.client.query(this.namespace, wql);
  }

  private enumerate(what: CimEnumeration): Promise<CimInstance[]> {
    this.calls.count(`enumerate ${classOfEnumeration(what)}`);
    return this.client.enumerate(what);
  }

  private get(path: CimInstancePath): Promise<CimInstance> {
    this.calls.count(`get ${path.className}`);
    return this.client.get(path);
  }

  private invoke(path: CimInstancePath, method: string, args: ReadonlyMap<string, CimArgument>) {
    this.calls.count(`invoke ${method}`);
    return this.client.invoke(path, method, args);
  }

  /** Runs a read of `className`; in the cluster namespace a host's refusal says the class may not be served there. */
  private async readKvpClass<T>(className: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (
        this.namespace === HYPERV_NAMESPACES.cluster &&
        isTransportError(error, "host-error") &&
        CLUSTER_UNLISTED_READS.includes(className)
      ) {
        throw new TransportError(
          "host-error",
          `${error.message} (${className} is not among the classes Microsoft documents for ${this.namespace}; read the VM's KVP items from the node that runs it, in ${HYPERV_NAMESPACES.host})`,
          { ...(error.hostError === undefined ? {} : { hostError: error.hostError }), cause: error },
        );
      }
      throw error;
    }
  }

  // -- what kvp-host asks -------------------------------------------------------------

  /**
   * The VMs a WQL query on Msvm_ComputerSystem returns (see `wql.ts` for the queries kvp-host
   * sends: every VM, by ElementName, by Name).
   * @throws {TransportError}; `unreadable` for an instance without a Name.
   */
  async queryVms(wql: string): Promise<VmInfo[]> {
    const found = await this.query(HYPERV_CLASSES.computerSystem, wql);
    return found.map((instance) => {
      const id = text(instance, "Name");
      if (id === undefined) throw unreadable("an Msvm_ComputerSystem instance has no Name");
      const state = integersOf(getProperty(instance, "EnabledState"))[0];
      return {
        id,
        name: text(instance, "ElementName") ?? "",
        ...(state === undefined ? {} : { enabledState: state }),
      };
    });
  }

  /**
   * The VM's Msvm_KvpExchangeComponent (by SystemName, the VM's GUID), or undefined when it has
   * none (e.g. the VM is off). @throws {TransportError}
   */
  async getKvpComponent(vmId: string): Promise<KvpComponentInfo | undefined> {
    const [component] = await this.readKvpClass(HYPERV_CLASSES.kvpComponent, () =>
      this.query(HYPERV_CLASSES.kvpComponent, componentQuery(vmId)),
    );
    if (component === undefined) return undefined;
    const p = (name: string) => getProperty(component, name);
    return {
      guestItems: textsOf(p("GuestExchangeItems")),
      intrinsicItems: textsOf(p("GuestIntrinsicExchangeItems")),
      operationalStatus: integersOf(p("OperationalStatus")),
      statusDescriptions: textsOf(p("StatusDescriptions")),
    };
  }

  /**
   * The Msvm_KvpExchangeComponentSettingData of the VM's realized settings, or undefined: the
   * VM's Msvm_VirtualSystemSettingData through Msvm_SettingsDefineState (its InstanceID cached),
   * then the KVP setting data among its components.
   * @throws {TransportError}; `unreadable` for settings without an InstanceID.
   */
  async getKvpSettingData(vmId: string): Promise<KvpSettingDataInfo | undefined> {
    let settingsId = this.settingsIds.get(vmId);
    if (settingsId === undefined) {
      const [settings] = await this.enumerate({ source: vmPath(vmId, this.namespace), ...REALIZED_SETTINGS });
      if (settings === undefined) return undefined;
      settingsId = text(settings, "InstanceID");
      if (settingsId === undefined) throw unreadable("the VM's Msvm_VirtualSystemSettingData has no InstanceID");
      this.settingsIds.set(vmId, settingsId);
    }
    const source: CimInstancePath = {
      namespace: this.namespace,
      className: HYPERV_CLASSES.settingData,
      keys: [{ name: "InstanceID", type: "string", value: settingsId }],
    };
    const [data] = await this.readKvpClass(HYPERV_CLASSES.kvpSettingData, () =>
      this.enumerate({ source, ...KVP_SETTING_DATA }),
    );
    if (data === undefined) return undefined;
    const disable = text(data, "DisableHostKVPItems")?.trim().toLowerCase();
    return {
      hostItems: textsOf(getProperty(data, "HostExchangeItems")),
      hostOnlyItems: textsOf(getProperty(data, "HostOnlyItems")),
      ...(disable === "true" || disable === "false" ? { disableHostKvpItems: disable === "true" } : {}),
    };
  }

  /** The management service's path: looked up once (one per host, or per cluster). */
  private async servicePath(): Promise<CimInstancePath> {
    if (this.service !== undefined) return this.service;
    const [service] = await this.enumerate({ namespace: this.namespace, className: HYPERV_CLASSES.managementService });
    if (service === undefined)
      throw unreadable(`the host has no ${HYPERV_CLASSES.managementService} (is Hyper-V installed?)`);
    this.service = {
      namespace: this.namespace,
      className: HYPERV_CLASSES.managementService,
      keys: SERVICE_KEYS.map((name) => {
        const value = text(service, name);
        if (value === undefined) throw unreadable(`${HYPERV_CLASSES.managementService} has no ${name}`);
        return { name, type: "string" as const, value };
      }),
    };
    return this.service;
  }

  /**
   * Invokes Add/Modify/RemoveKvpItems with TargetSystem = the VM and DataItems = `dataItems`.
   * An error return code is returned, not thrown. @throws {TransportError}
   */
  async invokeKvpMethod(method: KvpMethod, vmId: string, dataItems: readonly string[]): Promise<MethodResult> {
    const service = await this.servicePath();
    // TargetSystem before DataItems, the order of the method's signature.
    const args = new Map<string, CimArgument>([
      ["TargetSystem", vmPath(vmId, this.namespace)],
      ["DataItems", [...dataItems]],
    ]);
    const result = await this.invoke(service, method, args);
    const job = this.jobPathOf(result.outputs.get("Job"));
    if (job === undefined) return { returnValue: result.returnValue };
    this.jobPaths.set(job.id, job.path);
    return { returnValue: result.returnValue, jobId: job.id };
  }

  /** The Job output as a path and its InstanceID; a reference, or (tolerated) the job's instance. */
  private jobPathOf(output: CimOutput | undefined): { id: string; path: CimInstancePath } | undefined {
    if (isPath(output)) {
      const key = output.keys.find((k) => k.name.toLowerCase() === "instanceid");
      if (key === undefined || typeof key.value !== "string") return undefined;
      return { id: key.value, path: { ...output, namespace: output.namespace ?? this.namespace } };
    }
    if (isInstance(output)) {
      const id = text(output, "InstanceID");
      if (id === undefined) return undefined;
      return { id, path: this.defaultJobPath(id, output.className) };
    }
    return undefined;
  }

  private defaultJobPath(instanceId: string, className: string = HYPERV_CLASSES.concreteJob): CimInstancePath {
    return { namespace: this.namespace, className, keys: [{ name: "InstanceID", type: "string", value: instanceId }] };
  }

  private jobPath(instanceId: string): CimInstancePath {
    return this.jobPaths.get(instanceId) ?? this.defaultJobPath(instanceId);
  }

  /**
   * The job with this InstanceID, read where the method's Job reference pointed.
   * @throws {TransportError}; {@link KvpError} `invalid-cim` for a job without JobState.
   */
  async getJob(instanceId: string): Promise<WmiJob> {
    return jobFromInstance(await this.get(this.jobPath(instanceId)));
  }

  /** The job's GetErrorEx details (embedded Msvm_Error instances), decoded; [] when none. @throws {TransportError} */
  async getJobErrors(instanceId: string): Promise<WmiError[]> {
    const result = await this.invoke(this.jobPath(instanceId), "GetErrorEx", new Map());
    const errors = result.outputs.get("Errors");
    if (errors === undefined || errors === null || isPath(errors)) return [];
    const list: readonly (string | CimInstance)[] = Array.isArray(errors)
      ? (errors as readonly (string | CimInstance)[])
      : [errors as string | CimInstance];
    return list.map((entry) => (typeof entry === "string" ? decodeWmiErrors([entry])[0]! : errorFromInstance(entry)));
  }

  /** Releases the client's connections or processes. */
  close(): void {
    this.client.close();
  }
}
