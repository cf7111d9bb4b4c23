/**
 * {@link HyperVTransport} over WS-Management (WinRM) with @hyperv-kvp/wsman's WsmanClient,
 * as the ground-truth spec §8 describes: resource URIs
 * `http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/<Class>`, WQL
 * enumeration at `…/v2/*`, Invoke on the Msvm_VirtualSystemManagementService instance with
 * TargetSystem as the Msvm_ComputerSystem's endpoint reference and DataItems as a repeated
 * string element, the Job EPR's InstanceID polled with Get. The WQL it sends is exported
 * below so the simulator and the tests agree on it. Not verified against a real host.
 *
 * The same requests go to a failover cluster's namespace, root/HyperVCluster/v2, when the
 * transport is built with `namespace: HYPERV_NAMESPACES.cluster`: Microsoft documents the
 * three KVP methods, Msvm_ComputerSystem, Msvm_ConcreteJob (with GetErrorEx) and the
 * management service there (Windows Server 2016+), for every VM of the cluster. Its service
 * is scoped to the cluster (SystemName = the cluster name), which the service query reads
 * back. Msvm_KvpExchangeComponent(+SettingData) are NOT in Microsoft's published class list
 * of that namespace; reading KVP items there is verified only against hyperv-sim.
 */
import {
  type CimInstance,
  type CimInstancePath,
  type CimProperty,
  WMI_RESOURCE_URI_PREFIX,
  type WmiError,
  type WmiJob,
  type WsmanSelector,
  decodeWmiErrors,
  formatWmiPath,
  jobFromInstance,
  pathToEpr,
  wqlString,
} from "@hyperv-kvp/kvp-core/cim";
import {
  type InvokeResult,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanValue,
  WsmanError,
  isWsmanError,
  valueAsArray,
} from "@hyperv-kvp/wsman";
import {
  CallCounter,
  type HyperVTransport,
  type KvpComponentInfo,
  type KvpMethod,
  type KvpSettingDataInfo,
  type MethodResult,
  type VmInfo,
} from "../transport.js";

/** The WMI namespaces kvp-host talks to, as path namespaces. */
export const HYPERV_NAMESPACES = Object.freeze({
  /** One Hyper-V host and the VMs it runs (spec §6). The default. */
  host: "root/virtualization/v2",
  /** A Hyper-V failover cluster: every VM of every node, wherever it runs now. */
  cluster: "root/HyperVCluster/v2",
} as const);
/** One of {@link HYPERV_NAMESPACES}. */
export type HyperVNamespace = (typeof HYPERV_NAMESPACES)[keyof typeof HYPERV_NAMESPACES];

/** The WMI namespace of Hyper-V, as a path namespace. */
export const V2_NAMESPACE = HYPERV_NAMESPACES.host;
/** Resource URI prefix of its classes (spec §8). */
export const V2_URI = `${WMI_RESOURCE_URI_PREFIX}${V2_NAMESPACE}`;
/** Where WQL enumerations go (spec §8). */
export const V2_ENUMERATION_URI = `${V2_URI}/*`;
/** The service whose methods write KVP items. */
export const MANAGEMENT_SERVICE = "Msvm_VirtualSystemManagementService";

/** Resource URI of a class of `namespace` (default root/virtualization/v2). */
export function resourceUriOf(className: string, namespace: HyperVNamespace = V2_NAMESPACE): string {
  return `${WMI_RESOURCE_URI_PREFIX}${namespace}/${className}`;
}

/** Where WQL enumerations of `namespace` go: `…/<namespace>/*`. */
export function enumerationUriOf(namespace: HyperVNamespace): string {
  return resourceUriOf("*", namespace);
}

/** The instance path of a VM's Msvm_ComputerSystem in `namespace` (default root/virtualization/v2). */
export function vmPath(vmId: string, namespace: HyperVNamespace = V2_NAMESPACE): CimInstancePath {
  return {
    namespace,
    className: "Msvm_ComputerSystem",
    keys: [
      { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
      { name: "Name", type: "string", value: vmId },
    ],
  };
}

/** WQL: the VM's KVP component (spec §6: SystemName is the VM's GUID). */
export function componentQuery(vmId: string): string {
  return `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName=${wqlString(vmId)}`;
}

/** WQL: the VM's realized settings (libvirt's query: the settings that define its state). */
export function realizedSettingsQuery(vmId: string): string {
  const { namespace: _, ...path } = vmPath(vmId);
  return `ASSOCIATORS OF {${formatWmiPath(path)}} WHERE AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData`;
}

/** WQL: the KVP setting data among the components of the settings `settingsInstanceId`. */
export function kvpSettingDataQuery(settingsInstanceId: string): string {
  const path = formatWmiPath({
    className: "Msvm_VirtualSystemSettingData",
    keys: [{ name: "InstanceID", type: "string", value: settingsInstanceId }],
  });
  return `ASSOCIATORS OF {${path}} WHERE AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData`;
}

/** WQL: the management service (one per host). */
export const MANAGEMENT_SERVICE_QUERY = `SELECT * FROM ${MANAGEMENT_SERVICE}`;

/** The key properties of Msvm_VirtualSystemManagementService, in selector order. */
export const SERVICE_KEYS = ["CreationClassName", "Name", "SystemCreationClassName", "SystemName"] as const;

/** What the transport needs of a client: WsmanClient, or a recording fake in tests. */
export type WsmanClientLike = {
  get(resourceUri: string, selectors: readonly WsmanSelector[]): Promise<WsmanInstance>;
  enumerate(resourceUri: string, wql: string): Promise<WsmanInstance[]>;
  invoke(
    resourceUri: string,
    method: string,
    selectors: readonly WsmanSelector[],
    parameters: ParameterInput<WsmanParameter>,
  ): Promise<InvokeResult>;
  close(): void;
};

function text(instance: WsmanInstance, name: string): string | undefined {
  const value = instance.properties.get(name);
  return typeof value === "string" ? value : undefined;
}

function numbers(value: WsmanValue | undefined): number[] {
  return valueAsArray(value)
    .map((v) => Number(v))
    .filter((n) => Number.isSafeInteger(n));
}

function invalid(message: string): WsmanError {
  return new WsmanError("invalid-message", message);
}

/**
 * A WS-Management instance as a CIM instance of string-typed properties, so kvp-core's
 * tolerant readers (jobFromInstance) parse the numbers.
 */
export function toCimInstance(instance: WsmanInstance): CimInstance {
  const properties: CimProperty[] = [];
  for (const [name, value] of instance.properties) {
    if (value === null || typeof value === "string") properties.push({ name, type: "string", value });
    else properties.push({ name, type: "string", array: true, value: [...value] });
  }
  return { className: instance.className, properties };
}

/** Options of {@link WsmanTransport}. */
export interface WsmanTransportOptions {
  /** The namespace every request goes to; default {@link HYPERV_NAMESPACES}.host. */
  readonly namespace?: HyperVNamespace;
}

/** Reads of KVP items whose classes Microsoft does not list for root/HyperVCluster/v2. */
const CLUSTER_UNLISTED_READS: readonly string[] = ["Msvm_KvpExchangeComponent", "Msvm_KvpExchangeComponentSettingData"];

/** {@link HyperVTransport} over WS-Management (see the module doc). */
export class WsmanTransport implements HyperVTransport {
  readonly calls = new CallCounter();
  /** The namespace every request goes to. */
  readonly namespace: HyperVNamespace;
  private readonly enumerationUri: string;
  private service: WsmanSelector[] | undefined;
  private readonly settingsIds = new Map<string, string>();
  private readonly jobUris = new Map<string, string>();

  /** @throws {WsmanError} `invalid-argument` for a namespace not in {@link HYPERV_NAMESPACES}. */
  constructor(
    private readonly client: WsmanClientLike,
    options: WsmanTransportOptions = {},
  ) {
    const namespace = options.namespace ?? V2_NAMESPACE;
    if (!Object.values(HYPERV_NAMESPACES).includes(namespace)) {
      throw new WsmanError(
        "invalid-argument",
        `invalid namespace ${JSON.stringify(namespace)}: ${Object.values(HYPERV_NAMESPACES).join(" or ")}`,
      );
    }
    this.namespace = namespace;
    this.enumerationUri = enumerationUriOf(namespace);
  }

  private async query(label: string, wql: string): Promise<WsmanInstance[]> {
    this.calls.count(`query ${label}`);
    try {
      return await this.client.enumerate(this.enumerationUri, wql);
    } catch (error) {
      // A real cluster may not serve these classes (see the module doc): say so with its refusal.
      if (
        this.namespace === HYPERV_NAMESPACES.cluster &&
        isWsmanError(error, "fault") &&
        CLUSTER_UNLISTED_READS.includes(label)
      ) {
        throw new WsmanError(
          "fault",
          `${error.message} (${label} is not among the classes Microsoft documents for ${this.namespace}; read the VM's KVP items from the node that runs it, in ${V2_NAMESPACE})`,
          { ...(error.fault === undefined ? {} : { fault: error.fault }), cause: error },
        );
      }
      throw error;
    }
  }

  async queryVms(wql: string): Promise<VmInfo[]> {
    const found = await this.query("Msvm_ComputerSystem", wql);
    return found.map((instance) => {
      const id = text(instance, "Name");
      if (id === undefined) throw invalid("an Msvm_ComputerSystem instance has no Name");
      const state = Number(text(instance, "EnabledState"));
      return {
        id,
        name: text(instance, "ElementName") ?? "",
        ...(Number.isSafeInteger(state) ? { enabledState: state } : {}),
      };
    });
  }

  async getKvpComponent(vmId: string): Promise<KvpComponentInfo | undefined> {
    const [component] = await this.query("Msvm_KvpExchangeComponent", componentQuery(vmId));
    if (component === undefined) return undefined;
    const p = component.properties;
    return {
      guestItems: valueAsArray(p.get("GuestExchangeItems")),
      intrinsicItems: valueAsArray(p.get("GuestIntrinsicExchangeItems")),
      operationalStatus: numbers(p.get("OperationalStatus")),
      statusDescriptions: valueAsArray(p.get("StatusDescriptions")),
    };
  }

  async getKvpSettingData(vmId: string): Promise<KvpSettingDataInfo | undefined> {
    let settingsId = this.settingsIds.get(vmId);
    if (settingsId === undefined) {
      const [settings] = await this.query("Msvm_VirtualSystemSettingData", realizedSettingsQuery(vmId));
      if (settings === undefined) return undefined;
      settingsId = text(settings, "InstanceID");
      if (settingsId === undefined) throw invalid("the VM's Msvm_VirtualSystemSettingData has no InstanceID");
      this.settingsIds.set(vmId, settingsId);
    }
    const [data] = await this.query("Msvm_KvpExchangeComponentSettingData", kvpSettingDataQuery(settingsId));
    if (data === undefined) return undefined;
    const p = data.properties;
    const disable = text(data, "DisableHostKVPItems");
    return {
      hostItems: valueAsArray(p.get("HostExchangeItems")),
      hostOnlyItems: valueAsArray(p.get("HostOnlyItems")),
      ...(disable === undefined ? {} : { disableHostKvpItems: disable.toLowerCase() === "true" }),
    };
  }

  private async serviceSelectors(): Promise<WsmanSelector[]> {
    if (this.service !== undefined) return this.service;
    const [service] = await this.query(MANAGEMENT_SERVICE, MANAGEMENT_SERVICE_QUERY);
    if (service === undefined) throw invalid(`the host has no ${MANAGEMENT_SERVICE} (is Hyper-V installed?)`);
    this.service = SERVICE_KEYS.map((name) => {
      const value = text(service, name);
      if (value === undefined) throw invalid(`${MANAGEMENT_SERVICE} has no ${name}`);
      return { name, value };
    });
    return this.service;
  }

  async invokeKvpMethod(method: KvpMethod, vmId: string, dataItems: readonly string[]): Promise<MethodResult> {
    const selectors = await this.serviceSelectors();
    // A Map keeps TargetSystem before DataItems, the order of the method's signature.
    const parameters = new Map<string, WsmanParameter>([
      ["TargetSystem", pathToEpr(vmPath(vmId, this.namespace))],
      ["DataItems", [...dataItems]],
    ]);
    this.calls.count(`invoke ${method}`);
    const result = await this.client.invoke(
      resourceUriOf(MANAGEMENT_SERVICE, this.namespace),
      method,
      selectors,
      parameters,
    );
    if (result.jobInstanceId !== undefined && result.job !== undefined)
      this.jobUris.set(result.jobInstanceId, result.job.resourceUri);
    return {
      returnValue: result.returnValue,
      ...(result.jobInstanceId === undefined ? {} : { jobId: result.jobInstanceId }),
    };
  }

  private jobUri(instanceId: string): string {
    return this.jobUris.get(instanceId) ?? resourceUriOf("Msvm_ConcreteJob", this.namespace);
  }

  async getJob(instanceId: string): Promise<WmiJob> {
    this.calls.count("get Msvm_ConcreteJob");
    const instance = await this.client.get(this.jobUri(instanceId), [{ name: "InstanceID", value: instanceId }]);
    return jobFromInstance(toCimInstance(instance));
  }

  async getJobErrors(instanceId: string): Promise<WmiError[]> {
    this.calls.count("invoke GetErrorEx");
    const result = await this.client.invoke(
      this.jobUri(instanceId),
      "GetErrorEx",
      [{ name: "InstanceID", value: instanceId }],
      {},
    );
    const errors = result.outputs.get("Errors");
    if (errors === undefined || errors === null || (typeof errors === "object" && !Array.isArray(errors))) return [];
    return decodeWmiErrors(valueAsArray(errors as string | readonly string[]));
  }

  close(): void {
    this.client.close();
  }
}
