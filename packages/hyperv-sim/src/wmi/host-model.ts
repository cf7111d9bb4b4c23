/**
 * The WMI side of a simulated Hyper-V host as a pure model: VMs, the host's KVP stores,
 * the semantics of AddKvpItems/ModifyKvpItems/RemoveKvpItems and Msvm_ConcreteJob state.
 * No IO: the guest side (pools 0–3 through the real daemon) is driven by method-requests.ts
 * from the {@link KvpOperation}s a method call yields; instances.ts builds what reads see.
 *
 * Decisions where Hyper-V's behaviour is UNVERIFIED
 * (docs/wmi-and-cim.md#unverified-hyper-v-behaviour), made explicit here:
 * - A batch is validated as a whole against the stores before anything is applied; if any
 *   item fails (Add of an existing key, Modify/Remove of a missing key, a key twice in one
 *   batch where that makes a later item fail) **nothing** is applied and the job ends in
 *   Exception (10). All-or-nothing.
 * - Keys compare case-sensitively (as the guest daemon compares them).
 * - Problems with the call itself (more than 128 items, no or unknown TargetSystem, an item
 *   that is not a Msvm_KvpExchangeDataItem, Source 1/2, an empty Name) return 32773 at once
 *   and start no job.
 */
import {
  type CimInstancePath,
  type KvpItem,
  MAX_KVP_ITEMS_PER_CALL,
  decodeKvpItem,
  equalsIgnoreCase,
} from "@hyperv-kvp/kvp-core/cim";
import type { WsmanInstance } from "@hyperv-kvp/wsman";
import { SimError } from "../errors.js";
import { hostComputerSystemOf, managementServiceOf, vmComputerSystemOf } from "./instances.js";
import { JOB_STATE, type KvpMethod, RETURN_VALUES, WMI_CLASSES } from "./wmi-classes.js";

/** Default for {@link HostModelOptions.jobRetentionMs}: finished jobs vanish after 5 minutes, as on Hyper-V. */
export const DEFAULT_JOB_RETENTION_MS = 5 * 60_000;
/** Default for {@link HostModelOptions.maxJobs}: the oldest finished jobs are dropped beyond it. */
export const DEFAULT_MAX_JOBS = 10_000;

/** Options of {@link HostModel}. */
export interface HostModelOptions {
  /** The host's computer name (Msvm_ComputerSystem of the host, the service's SystemName); default `HV-HOST01`. */
  readonly hostName?: string;
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** New GUIDs (VM names, job IDs), upper case; default `crypto.randomUUID`. */
  readonly newGuid?: () => string;
  /** How long a finished job stays readable, ms; default {@link DEFAULT_JOB_RETENTION_MS}. */
  readonly jobRetentionMs?: number;
  /** Most jobs kept; default {@link DEFAULT_MAX_JOBS}. */
  readonly maxJobs?: number;
}

/** A VM as the model knows it. */
export interface VmState {
  /** ElementName: the name people use. Not unique: two VMs may share it. */
  readonly name: string;
  /** Name: the VM's GUID, upper case. */
  readonly guid: string;
  /** True while its KVP daemon runs (EnabledState 2, OperationalStatus 2); false gives 3 / 12. */
  running: boolean;
  /**
   * Whether WMI lists an Msvm_KvpExchangeComponent for the VM (default true). False models a
   * VM whose Data Exchange device is absent, which clients must tolerate; when real Hyper-V
   * omits it (a VM that is off, the integration service not offered) is UNVERIFIED.
   */
  kvpComponent: boolean;
  /** Source 0 items (HostExchangeItems), by key, in insertion order. */
  readonly hostItems: Map<string, string>;
  /** Source 4 items (HostOnlyItems), by key. */
  readonly hostOnlyItems: Map<string, string>;
}

/** What the guest side must do for a method: SET or DELETE on pool 0 of one VM. */
export type KvpOperation =
  | { readonly kind: "set"; readonly vmGuid: string; readonly key: string; readonly value: string }
  | { readonly kind: "delete"; readonly vmGuid: string; readonly key: string };

/** A Msvm_ConcreteJob. */
export interface JobState {
  readonly instanceId: string;
  readonly method: KvpMethod;
  readonly vmGuid: string;
  readonly vmName: string;
  /** JobState: 4 running, 7 completed, 10 exception. */
  state: number;
  /** ErrorCode: 0, or a return code such as 32773. */
  errorCode: number;
  errorDescription: string;
  /** CIM status code of the Msvm_Error GetErrorEx returns (e.g. 11 already exists, 6 not found). */
  cimStatusCode: number;
  readonly submittedAt: number;
  finishedAt?: number;
}

/** The outcome of a KVP method call. */
export type MethodOutcome =
  /** No job: ReturnValue is `returnValue` (32773) and `reason` says why (for logs). */
  | { readonly kind: "rejected"; readonly returnValue: number; readonly reason: string }
  /**
   * ReturnValue 4096 and a running job. Apply `operations` to the guest, then call
   * {@link HostModel.finishJob}, with `failure` when there is one: validation failed
   * (`operations` is then empty), or an injected fault (after the operations it lets apply).
   */
  | {
      readonly kind: "job";
      readonly job: JobState;
      readonly operations: readonly KvpOperation[];
      readonly failure?: JobFailure;
    };

/** Why a job ended in Exception. */
export interface JobFailure {
  readonly errorCode: number;
  readonly description: string;
  /** CIM status code for the Msvm_Error (DSP0200: 4 invalid parameter, 6 not found, 11 already exists, 1 failed). */
  readonly cimStatusCode: number;
}

/** One KVP method call as {@link HostModel.interceptKvpMethod} sees it: valid, not yet applied. */
export interface KvpMethodCall {
  readonly method: KvpMethod;
  readonly vm: VmState;
  /** The decoded DataItems. */
  readonly items: readonly KvpItem[];
}

/**
 * A fault to inject into one KVP method call (see {@link HostModel.interceptKvpMethod}):
 * - `reject`: the method returns `returnValue` and starts no job (e.g. 32769 access denied);
 * - `fail`: the job ends in Exception with `failure`, after applying the first `applied`
 *   items (default 0) as a successful call would, so a partly applied batch can be modelled.
 */
export type KvpMethodFault =
  | { readonly kind: "reject"; readonly returnValue: number }
  | { readonly kind: "fail"; readonly failure: JobFailure; readonly applied?: number };

const UPPER_GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/**
 * The simulated host's WMI state. Mutated only through its methods; everything returned is
 * data (instances as {@link WsmanInstance}, operations for the guest as {@link KvpOperation}).
 */
export class HostModel {
  readonly hostName: string;
  private readonly now: () => number;
  private readonly newGuid: () => string;
  private readonly jobRetentionMs: number;
  private readonly maxJobs: number;
  private readonly vmList: VmState[] = [];
  private readonly jobs = new Map<string, JobState>();
  /**
   * Consulted for every KVP method call that passes the call's own checks: a fault it
   * returns replaces the normal outcome (undefined: the call proceeds). For tests of how
   * clients report failures Hyper-V's documentation does not pin down; unset by default.
   */
  interceptKvpMethod: ((call: KvpMethodCall) => KvpMethodFault | undefined) | undefined;

  constructor(options: HostModelOptions = {}) {
    this.hostName = options.hostName ?? "HV-HOST01";
    this.now = options.now ?? Date.now;
    this.newGuid = options.newGuid ?? (() => globalThis.crypto.randomUUID().toUpperCase());
    this.jobRetentionMs = options.jobRetentionMs ?? DEFAULT_JOB_RETENTION_MS;
    this.maxJobs = options.maxJobs ?? DEFAULT_MAX_JOBS;
  }

  /**
   * Adds a VM (running). Names may repeat, as on Hyper-V; GUIDs may not.
   * @throws {SimError} `invalid-argument` for an empty name, a malformed or repeated GUID.
   */
  addVm(name: string, guid?: string): VmState {
    if (typeof name !== "string" || name.trim() === "")
      throw new SimError("invalid-argument", "invalid VM name: empty");
    const id = (guid ?? this.newGuid()).toUpperCase();
    if (!UPPER_GUID.test(id)) throw new SimError("invalid-argument", `invalid VM GUID: ${JSON.stringify(id)}`);
    if (this.findVm(id) !== undefined) throw new SimError("invalid-argument", `invalid VM GUID: ${id} is already used`);
    const vm: VmState = {
      name,
      guid: id,
      running: true,
      kvpComponent: true,
      hostItems: new Map(),
      hostOnlyItems: new Map(),
    };
    this.vmList.push(vm);
    return vm;
  }

  /** Every VM, in the order added. */
  get vms(): readonly VmState[] {
    return this.vmList;
  }

  /** The VM with this GUID (ignoring case), if any. */
  findVm(guid: string): VmState | undefined {
    return this.vmList.find((vm) => equalsIgnoreCase(vm.guid, guid));
  }

  /**
   * Takes a VM off this host (its configuration leaves with it, as in a live migration) and
   * returns it, or undefined when the host has no VM with this GUID. Its jobs stay here.
   */
  removeVm(guid: string): VmState | undefined {
    const index = this.vmList.findIndex((vm) => equalsIgnoreCase(vm.guid, guid));
    if (index < 0) return undefined;
    return this.vmList.splice(index, 1)[0];
  }

  /**
   * Takes in a VM another host gave up ({@link removeVm}): same GUID, name, state and host
   * items (HostExchangeItems and HostOnlyItems travel with the VM's configuration).
   * @throws {SimError} `invalid-argument` for a malformed GUID or one already used here.
   */
  adoptVm(vm: VmState): VmState {
    if (!UPPER_GUID.test(vm.guid))
      throw new SimError("invalid-argument", `invalid VM GUID: ${JSON.stringify(vm.guid)}`);
    if (this.findVm(vm.guid) !== undefined)
      throw new SimError("invalid-argument", `invalid VM GUID: ${vm.guid} is already used`);
    this.vmList.push(vm);
    return vm;
  }

  /**
   * Validates and plans one KVP method call (see the module comment for the semantics).
   * On success the host stores already hold the new state and the job is Running.
   * @param target TargetSystem as an instance path (eprToPath of the EPR), or undefined when missing.
   * @param dataItems DataItems: embedded Msvm_KvpExchangeDataItem CIM-XML strings.
   */
  invokeKvpMethod(method: KvpMethod, target: CimInstancePath | undefined, dataItems: readonly string[]): MethodOutcome {
    const reject = (reason: string): MethodOutcome => ({
      kind: "rejected",
      returnValue: RETURN_VALUES.invalidParameter,
      reason,
    });
    if (target === undefined) return reject("TargetSystem is missing");
    if (!equalsIgnoreCase(target.className, WMI_CLASSES.computerSystem))
      return reject(`TargetSystem is a ${target.className}, not a Msvm_ComputerSystem`);
    const nameKey = target.keys.find((k) => equalsIgnoreCase(k.name, "Name"));
    const vm = nameKey !== undefined && typeof nameKey.value === "string" ? this.findVm(nameKey.value) : undefined;
    if (vm === undefined) return reject("TargetSystem names no virtual machine of this host");
    if (dataItems.length > MAX_KVP_ITEMS_PER_CALL)
      return reject(`${dataItems.length} DataItems (at most ${MAX_KVP_ITEMS_PER_CALL} per call)`);
    const items: KvpItem[] = [];
    for (const [i, xml] of dataItems.entries()) {
      let item: KvpItem;
      try {
        item = decodeKvpItem(xml);
      } catch (error) {
        return reject(`DataItems[${i}]: ${(error as Error).message}`);
      }
      if (item.source !== "host" && item.source !== "host-only")
        return reject(`DataItems[${i}]: Source ${item.source} cannot be written by the host`);
      if (item.name === "") return reject(`DataItems[${i}]: empty Name`);
      items.push(item);
    }

    const fault = this.interceptKvpMethod?.({ method, vm, items });
    if (fault?.kind === "reject") return { kind: "rejected", returnValue: fault.returnValue, reason: "injected fault" };

    this.pruneJobs();
    const job: JobState = {
      instanceId: this.newGuid().toUpperCase(),
      method,
      vmGuid: vm.guid,
      vmName: vm.name,
      state: JOB_STATE.running,
      errorCode: 0,
      errorDescription: "",
      cimStatusCode: 0,
      submittedAt: this.now(),
    };
    this.jobs.set(job.instanceId, job);

    // Validate on copies; commit only when every item passes.
    const host = new Map(vm.hostItems);
    const hostOnly = new Map(vm.hostOnlyItems);
    const operations: KvpOperation[] = [];
    const applying = fault === undefined ? items : items.slice(0, Math.max(0, fault.applied ?? 0));
    for (const item of applying) {
      const store = item.source === "host" ? host : hostOnly;
      const label = `${item.source === "host" ? "" : "host-only "}KVP item ${JSON.stringify(item.name)}`;
      const exists = store.has(item.name);
      let failure: JobFailure | undefined;
      if (method === "AddKvpItems" && exists) {
        failure = {
          errorCode: RETURN_VALUES.invalidParameter,
          cimStatusCode: 11,
          description: `The ${label} already exists on virtual machine ${JSON.stringify(vm.name)}; use ModifyKvpItems to change it.`,
        };
      } else if (method !== "AddKvpItems" && !exists) {
        failure = {
          errorCode: RETURN_VALUES.invalidParameter,
          cimStatusCode: 6,
          description: `The ${label} does not exist on virtual machine ${JSON.stringify(vm.name)}.`,
        };
      }
      if (failure !== undefined) {
        return {
          kind: "job",
          job,
          operations: [],
          failure: { ...failure, description: `${failure.description} No item of this call was applied.` },
        };
      }
      if (method === "RemoveKvpItems") {
        store.delete(item.name);
        if (item.source === "host") operations.push({ kind: "delete", vmGuid: vm.guid, key: item.name });
      } else {
        store.set(item.name, item.data);
        if (item.source === "host") operations.push({ kind: "set", vmGuid: vm.guid, key: item.name, value: item.data });
      }
    }
    replaceMap(vm.hostItems, host);
    replaceMap(vm.hostOnlyItems, hostOnly);
    return fault === undefined
      ? { kind: "job", job, operations }
      : { kind: "job", job, operations, failure: fault.failure };
  }

  /**
   * Ends a job: Completed (7) without `failure`, else Exception (10) with its ErrorCode and
   * ErrorDescription. Unknown or finished jobs are left alone.
   */
  finishJob(instanceId: string, failure?: JobFailure): void {
    const job = this.jobs.get(instanceId);
    if (job === undefined || job.state !== JOB_STATE.running) return;
    job.finishedAt = this.now();
    if (failure === undefined) {
      job.state = JOB_STATE.completed;
    } else {
      job.state = JOB_STATE.exception;
      job.errorCode = failure.errorCode;
      job.errorDescription = failure.description;
      job.cimStatusCode = failure.cimStatusCode;
    }
  }

  /** The job with this InstanceID (ignoring case), unless it finished more than the retention time ago. */
  findJob(instanceId: string): JobState | undefined {
    this.pruneJobs();
    return this.jobs.get(instanceId.toUpperCase());
  }

  /** Every job still kept. */
  get jobList(): readonly JobState[] {
    this.pruneJobs();
    return [...this.jobs.values()];
  }

  private pruneJobs(): void {
    const now = this.now();
    for (const [id, job] of this.jobs) {
      if (job.finishedAt !== undefined && now - job.finishedAt > this.jobRetentionMs) this.jobs.delete(id);
    }
    if (this.jobs.size < this.maxJobs) return;
    for (const [id, job] of this.jobs) {
      if (this.jobs.size < this.maxJobs) break;
      if (job.finishedAt !== undefined) this.jobs.delete(id);
    }
  }

  // -- what reads of the host itself see ------------------------------------------------

  /** Msvm_ComputerSystem: the host itself first (Caption "Hosting Computer System"), then each VM. */
  computerSystems(): WsmanInstance[] {
    return [hostComputerSystemOf(this.hostName), ...this.vmList.map(vmComputerSystemOf)];
  }

  /** The one Msvm_VirtualSystemManagementService (Name `vmms`, SystemName the host's name). */
  managementService(): WsmanInstance {
    return managementServiceOf(this.hostName);
  }
}

function replaceMap<K, V>(target: Map<K, V>, source: Map<K, V>): void {
  target.clear();
  for (const [k, v] of source) target.set(k, v);
}
