/**
 * The seam between kvp-host's logic and the host: a handful of WMI operations on
 * root\virtualization\v2 (spec §6), in WMI's own terms. KVP items cross it as the embedded
 * CIM-XML strings Hyper-V uses (kvp-core's encodeKvpItem/decodeKvpItems), so every
 * transport (WS-Management now, local PowerShell later) carries the same bytes, and the
 * logic above it (VM resolution, batching, jobs, chunking) is written and tested once.
 */
import type { WmiError, WmiJob } from "@hyperv-kvp/kvp-core/cim";

/** How kvp-host reaches the host. */
export type TransportKind = "powershell" | "wsman";

/**
 * The transport of a command line that names no host: local PowerShell on Windows (kvp-host
 * runs on the Hyper-V host itself), WS-Management everywhere else.
 */
export function defaultTransportKind(platform: string): TransportKind {
  return platform === "win32" ? "powershell" : "wsman";
}

/**
 * The transport a command line asks for: `--transport` when given (`explicit`); else
 * WS-Management when it names a host (`--host` or `--endpoint`: the PowerShell bridge only
 * reaches the host kvp-host runs on), so every `kvp-host --host …` works the same on Windows
 * and elsewhere; else `platformDefault` ({@link defaultTransportKind}).
 */
export function chooseTransportKind(
  explicit: TransportKind | undefined,
  namesHost: boolean,
  platformDefault: TransportKind,
): TransportKind {
  return explicit ?? (namesHost ? "wsman" : platformDefault);
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

/** What Msvm_KvpExchangeComponent says about a VM's KVP integration service (spec §6). */
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

/** What Msvm_KvpExchangeComponentSettingData holds for a VM (spec §6). */
export interface KvpSettingDataInfo {
  /** HostExchangeItems: items the host sends to the guest (pool 0). */
  readonly hostItems: readonly string[];
  /** HostOnlyItems: items kept in the VM configuration only. */
  readonly hostOnlyItems: readonly string[];
  /** DisableHostKVPItems (Windows 10 1703+), when present. */
  readonly disableHostKvpItems?: boolean;
}

/** The three KVP methods of Msvm_VirtualSystemManagementService. */
export type KvpMethod = "AddKvpItems" | "ModifyKvpItems" | "RemoveKvpItems";

/** The reply of a KVP method. */
export interface MethodResult {
  /** ReturnValue: 0 completed, 4096 job started, others failed (kvp-core's RETURN_CODES). */
  readonly returnValue: number;
  /** The InstanceID of the job the method started (with 4096). */
  readonly jobId?: string;
}

/**
 * How kvp-host talks to a Hyper-V host. Every method is one logical WMI operation; every
 * failure to reach or read the host is thrown (the caller maps it to exit code 3); a method's
 * error return code is NOT thrown but returned.
 */
export interface HyperVTransport {
  /**
   * The Msvm_ComputerSystem instances a WQL query returns (see `wql.ts` for the queries
   * kvp-host sends: every VM, by ElementName, by Name).
   */
  queryVms(wql: string): Promise<VmInfo[]>;
  /** The VM's Msvm_KvpExchangeComponent, or undefined when it has none (e.g. the VM is off). */
  getKvpComponent(vmId: string): Promise<KvpComponentInfo | undefined>;
  /** The Msvm_KvpExchangeComponentSettingData of the VM's realized settings, or undefined. */
  getKvpSettingData(vmId: string): Promise<KvpSettingDataInfo | undefined>;
  /** Invokes Add/Modify/RemoveKvpItems with TargetSystem = the VM and DataItems = `dataItems`. */
  invokeKvpMethod(method: KvpMethod, vmId: string, dataItems: readonly string[]): Promise<MethodResult>;
  /** The Msvm_ConcreteJob with this InstanceID. */
  getJob(instanceId: string): Promise<WmiJob>;
  /** The job's GetErrorEx details (embedded Msvm_Error instances), decoded; [] when none. */
  getJobErrors(instanceId: string): Promise<WmiError[]>;
  /** Counts of the WMI calls made, for the benchmark and for tests. */
  readonly calls: CallCounter;
  /** Releases connections. */
  close(): void;
}

/**
 * Counts calls by label (`query Msvm_ComputerSystem`, `invoke AddKvpItems`, `get
 * Msvm_ConcreteJob`, …). A transport counts what it sends over the wire.
 */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  /** Adds one call with `label`. */
  count(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** Calls counted so far, all labels. */
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Calls with `label`. */
  of(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  /** Every label and its count, in first-use order. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Forgets every count. */
  reset(): void {
    this.counts.clear();
  }
}
