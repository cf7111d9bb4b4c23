/**
 * TEST DOUBLE — an in-memory stand-in for a Hyper-V host's WMI, implementing
 * {@link HyperVTransport} with the semantics the ground-truth spec §6 documents:
 * - at most 128 DataItems per Add/Modify/RemoveKvpItems call (more: 32773 invalid parameter);
 * - AddKvpItems fails if any key exists, ModifyKvpItems and RemoveKvpItems if any key is
 *   missing (Remove matches on Name only); a failing call applies nothing (what real Hyper-V
 *   does here is UNVERIFIED; `partialFailure` makes it apply the items before the bad one);
 * - calls are asynchronous: they return 4096 and a job that is Running for `jobPolls`
 *   reads, then Completed (7) or Exception (10) with ErrorCode, ErrorDescription and an
 *   Msvm_Error for GetErrorEx;
 * - DataItems are decoded with kvp-core, so they must be well-formed embedded CIM-XML;
 * - WQL for Msvm_ComputerSystem is evaluated: `Prop="value"` conditions joined by AND,
 *   compared ignoring case, as WMI does.
 * It has never been compared with a real host: it encodes what the spec says, nothing more.
 * The end-to-end tests against packages/hyperv-sim's WS-Management server come later.
 */
import {
  type KvpItem,
  type KvpSource,
  MAX_KVP_ITEMS_PER_CALL,
  type WmiError,
  type WmiJob,
  decodeKvpItem,
  encodeKvpItem,
} from "@hyperv-kvp/kvp-core/cim";
import {
  CallCounter,
  type HyperVTransport,
  type KvpComponentInfo,
  type KvpMethod,
  type KvpSettingDataInfo,
  type MethodResult,
  type VmInfo,
} from "../transport.js";

/** One VM of the in-memory host. */
export interface MemoryVm {
  readonly id: string;
  readonly name: string;
  enabledState?: number;
  /** Undefined: the VM has no Msvm_KvpExchangeComponent (e.g. off). */
  component?: { operationalStatus: number[]; guest: KvpItem[]; intrinsic: KvpItem[] } | undefined;
  /** HostExchangeItems, key → value, in insertion order. */
  readonly host: Map<string, string>;
  /** HostOnlyItems. */
  readonly hostOnly: Map<string, string>;
}

/** What a test may make the next call do instead of applying it. */
export type InjectedOutcome =
  | { readonly returnValue: number }
  | {
      readonly jobState: number;
      readonly errorCode?: number;
      readonly errorDescription?: string;
      readonly errorMessage?: string;
    };

/** Options of {@link MemoryHost}. */
export interface MemoryHostOptions {
  /** Reads a job stays Running before it finishes; default 1. 0 makes calls return 0 (synchronous). */
  readonly jobPolls?: number;
  /** Apply the items of a failing call that come before the offending one. Default false. */
  readonly partialFailure?: boolean;
  /** Called before each KVP method call; an outcome replaces applying the call. */
  readonly inject?: (method: KvpMethod, items: readonly KvpItem[], callIndex: number) => InjectedOutcome | undefined;
}

interface MemoryJob {
  pollsLeft: number;
  final: WmiJob;
  errors: WmiError[];
}

/** TEST DOUBLE of a Hyper-V host (see the module doc). Not a simulator of WS-Management. */
export class MemoryHostTestDouble implements HyperVTransport {
  readonly calls = new CallCounter();
  readonly vms: MemoryVm[] = [];
  /** Every KVP method call made, in order, with its decoded items. */
  readonly methodLog: { method: KvpMethod; vmId: string; items: KvpItem[] }[] = [];
  private readonly jobs = new Map<string, MemoryJob>();
  private nextJob = 1;
  closed = false;

  constructor(private readonly options: MemoryHostOptions = {}) {}

  /** Adds a VM; returns it for further setup. */
  addVm(
    id: string,
    name: string,
    init: Partial<Pick<MemoryVm, "enabledState" | "component">> & {
      host?: Record<string, string>;
      hostOnly?: Record<string, string>;
    } = {},
  ): MemoryVm {
    const vm: MemoryVm = {
      id: id.toUpperCase(),
      name,
      enabledState: init.enabledState ?? 2,
      component: "component" in init ? init.component : { operationalStatus: [2], guest: [], intrinsic: [] },
      host: new Map(Object.entries(init.host ?? {})),
      hostOnly: new Map(Object.entries(init.hostOnly ?? {})),
    };
    this.vms.push(vm);
    return vm;
  }

  async queryVms(wql: string): Promise<VmInfo[]> {
    this.calls.count("query Msvm_ComputerSystem");
    const conditions = parseSimpleWql(wql);
    return this.vms
      .filter((vm) =>
        conditions.every(([prop, value]) => {
          const actual =
            prop === "NAME"
              ? vm.id
              : prop === "ELEMENTNAME"
                ? vm.name
                : prop === "DESCRIPTION"
                  ? "Microsoft Virtual Machine"
                  : undefined;
          if (actual === undefined) throw new Error(`memory host: WQL property ${prop} not modelled`);
          return actual.toUpperCase() === value.toUpperCase();
        }),
      )
      .map((vm) => ({
        id: vm.id,
        name: vm.name,
        ...(vm.enabledState === undefined ? {} : { enabledState: vm.enabledState }),
      }));
  }

  async getKvpComponent(vmId: string): Promise<KvpComponentInfo | undefined> {
    this.calls.count("query Msvm_KvpExchangeComponent");
    const c = this.vm(vmId)?.component;
    if (c === undefined) return undefined;
    return {
      guestItems: c.guest.map((i) => encodeKvpItem(i)),
      intrinsicItems: c.intrinsic.map((i) => encodeKvpItem(i)),
      operationalStatus: [...c.operationalStatus],
      statusDescriptions: [],
    };
  }

  async getKvpSettingData(vmId: string): Promise<KvpSettingDataInfo | undefined> {
    this.calls.count("query Msvm_KvpExchangeComponentSettingData");
    const vm = this.vm(vmId);
    if (vm === undefined) return undefined;
    const encode = (map: Map<string, string>, source: KvpSource) =>
      [...map].map(([name, data]) => encodeKvpItem({ name, data, source }));
    return { hostItems: encode(vm.host, "host"), hostOnlyItems: encode(vm.hostOnly, "host-only") };
  }

  async invokeKvpMethod(method: KvpMethod, vmId: string, dataItems: readonly string[]): Promise<MethodResult> {
    this.calls.count(`invoke ${method}`);
    const vm = this.vm(vmId);
    if (vm === undefined) return { returnValue: 32773 };
    const items = dataItems.map((xml) => decodeKvpItem(xml));
    this.methodLog.push({ method, vmId, items });
    const injected = this.options.inject?.(method, items, this.methodLog.length - 1);
    if (injected !== undefined && "returnValue" in injected) return { returnValue: injected.returnValue };
    let failure: { errorCode: number; description: string } | undefined;
    if (injected !== undefined) {
      failure = {
        errorCode: injected.errorCode ?? 32768,
        description: injected.errorDescription ?? "injected failure",
      };
    } else if (items.length > MAX_KVP_ITEMS_PER_CALL) {
      return { returnValue: 32773 };
    } else {
      failure = this.apply(vm, method, items);
    }
    const jobPolls = this.options.jobPolls ?? 1;
    if (jobPolls === 0 && failure === undefined) return { returnValue: 0 };
    const id = `MEMORY-JOB-${this.nextJob++}`;
    const jobState =
      injected !== undefined && "jobState" in injected ? injected.jobState : failure === undefined ? 7 : 10;
    const final: WmiJob =
      failure === undefined || jobState === 7
        ? { instanceId: id, caption: `${method}`, jobState: 7, errorCode: 0 }
        : {
            instanceId: id,
            caption: `${method}`,
            jobState,
            errorCode: failure.errorCode,
            errorDescription: failure.description,
          };
    const errors: WmiError[] =
      failure === undefined || jobState === 7
        ? []
        : [
            {
              className: "Msvm_Error",
              message:
                (injected !== undefined && "jobState" in injected ? injected.errorMessage : undefined) ??
                failure.description,
              messageArguments: [],
              recommendedActions: [],
            },
          ];
    this.jobs.set(id, { pollsLeft: jobPolls, final, errors });
    return { returnValue: 4096, jobId: id };
  }

  /** Applies a call as spec §6 says; returns the failure, if any. */
  private apply(
    vm: MemoryVm,
    method: KvpMethod,
    items: readonly KvpItem[],
  ): { errorCode: number; description: string } | undefined {
    const storeOf = (item: KvpItem) =>
      item.source === "host-only" ? vm.hostOnly : item.source === "host" ? vm.host : undefined;
    const bad = items.findIndex((item) => {
      const store = storeOf(item);
      if (store === undefined) return true;
      return method === "AddKvpItems" ? store.has(item.name) : !store.has(item.name);
    });
    const upTo = bad < 0 ? items.length : this.options.partialFailure ? bad : 0;
    for (const item of items.slice(0, upTo)) {
      const store = storeOf(item)!;
      if (method === "RemoveKvpItems") store.delete(item.name);
      else store.set(item.name, item.data);
    }
    if (bad < 0) return undefined;
    const item = items[bad]!;
    const why =
      storeOf(item) === undefined
        ? `has source ${item.source}, which the host cannot write`
        : method === "AddKvpItems"
          ? "already exists"
          : "does not exist";
    return { errorCode: 32773, description: `The KVP item ${JSON.stringify(item.name)} ${why}.` };
  }

  async getJob(instanceId: string): Promise<WmiJob> {
    this.calls.count("get Msvm_ConcreteJob");
    const job = this.jobs.get(instanceId);
    if (job === undefined) throw new Error(`memory host: no job ${instanceId}`);
    if (job.pollsLeft > 0) {
      job.pollsLeft--;
      return { instanceId, caption: job.final.caption ?? "", jobState: 4, percentComplete: 50 };
    }
    return job.final;
  }

  async getJobErrors(instanceId: string): Promise<WmiError[]> {
    this.calls.count("invoke GetErrorEx");
    return this.jobs.get(instanceId)?.errors ?? [];
  }

  close(): void {
    this.closed = true;
  }

  private vm(id: string): MemoryVm | undefined {
    return this.vms.find((vm) => vm.id === id.toUpperCase());
  }
}

/** `SELECT * FROM Msvm_ComputerSystem WHERE A="x" AND B="y"` → [["A","x"],["B","y"]] (names upper-cased). */
export function parseSimpleWql(wql: string): [string, string][] {
  const match = /^SELECT \* FROM Msvm_ComputerSystem(?: WHERE (.*))?$/is.exec(wql);
  if (match === null) throw new Error(`memory host: WQL not modelled: ${wql}`);
  const out: [string, string][] = [];
  let rest = match[1] ?? "";
  const cond = /^\s*([A-Za-z_]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:AND\s+|$)/i;
  while (rest.trim() !== "") {
    const m = cond.exec(rest);
    if (m === null) throw new Error(`memory host: WQL condition not modelled: ${rest}`);
    out.push([m[1]!.toUpperCase(), m[2]!.replace(/\\(.)/gs, "$1")]);
    rest = rest.slice(m[0].length);
  }
  return out;
}
