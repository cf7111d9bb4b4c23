/**
 * The instances root/virtualization/v2 serves, built from the model's state: what a read
 * (Get, Enumerate, WQL) answers. Pure functions of a VM, a job or a host name; every value
 * travels as text, as WS-Management carries it.
 */
import { type CimInstance, encodeKvpItem, toCimXml } from "@hyperv-kvp/kvp-core/cim";
import type { WsmanInstance, WsmanValue } from "@hyperv-kvp/wsman";
import type { JobState, VmState } from "./host-model.js";
import {
  COMPONENT_STATUS,
  JOB_STATE,
  type KvpMethod,
  REALIZED_SYSTEM_TYPE,
  V2_RESOURCE_URI,
  WMI_CLASSES,
} from "./wmi-classes.js";

const METHOD_CAPTIONS: Readonly<Record<KvpMethod, string>> = {
  AddKvpItems: "Adding KVP items",
  ModifyKvpItems: "Modifying KVP items",
  RemoveKvpItems: "Removing KVP items",
};

/** Builds a property map in order; numbers become their decimal text, as WS-Management carries them. */
function props(
  entries: readonly (readonly [string, string | number | readonly string[] | null])[],
): Map<string, WsmanValue> {
  return new Map(entries.map(([k, v]) => [k, typeof v === "number" ? String(v) : v]));
}

function instance(className: string, properties: Map<string, WsmanValue>): WsmanInstance {
  return { resourceUri: `${V2_RESOURCE_URI}/${className}`, className, properties };
}

/**
 * The Msvm_ComputerSystem of a hosting system named `name` (a host, or a cluster in
 * root/HyperVCluster/v2), in root/virtualization/v2.
 */
export function hostComputerSystemOf(name: string): WsmanInstance {
  return instance(
    WMI_CLASSES.computerSystem,
    props([
      ["Caption", "Hosting Computer System"],
      ["CreationClassName", WMI_CLASSES.computerSystem],
      ["Description", "Microsoft Hosting Computer System"],
      ["ElementName", name],
      ["EnabledState", 2],
      ["HealthState", 5],
      ["Name", name],
      ["OperationalStatus", ["2"]],
    ]),
  );
}

/** Msvm_ComputerSystem of one VM: EnabledState 2 when running, 3 when stopped. */
export function vmComputerSystemOf(vm: VmState): WsmanInstance {
  return instance(
    WMI_CLASSES.computerSystem,
    props([
      ["Caption", "Virtual Machine"],
      ["CreationClassName", WMI_CLASSES.computerSystem],
      ["Description", "Microsoft Virtual Machine"],
      ["ElementName", vm.name],
      ["EnabledState", vm.running ? 2 : 3],
      ["HealthState", 5],
      ["Name", vm.guid],
      ["OperationalStatus", ["2"]],
    ]),
  );
}

/**
 * Msvm_KvpExchangeComponent of one VM. `guest` and `intrinsic` are what ENUMERATE of
 * pools 1 and 2 returned (empty when the daemon is not running).
 */
export function kvpComponentOf(
  vm: VmState,
  guest: readonly { key: string; value: string }[] = [],
  intrinsic: readonly { key: string; value: string }[] = [],
): WsmanInstance {
  const status = vm.running ? COMPONENT_STATUS.ok : COMPONENT_STATUS.noContact;
  return instance(
    WMI_CLASSES.kvpComponent,
    props([
      ["Caption", "Key-Value Pair Exchange"],
      ["CreationClassName", WMI_CLASSES.kvpComponent],
      ["Description", "Microsoft Key-Value Pair Exchange"],
      ["DeviceID", `Microsoft:${vm.guid}\\KvpExchange`],
      ["ElementName", "Key-Value Pair Exchange"],
      ["EnabledState", vm.running ? 2 : 3],
      // What a guest wrote is passed on whatever it holds: a character XML 1.0 cannot carry
      // (a control character, say) becomes a character reference, as a serializer that does
      // not check writes it, rather than failing the whole enumeration (real WMI: UNVERIFIED).
      [
        "GuestExchangeItems",
        guest.map((r) =>
          encodeKvpItem({ name: r.key, data: r.value, source: "guest" }, { invalidXmlChars: "reference" }),
        ),
      ],
      [
        "GuestIntrinsicExchangeItems",
        intrinsic.map((r) =>
          encodeKvpItem({ name: r.key, data: r.value, source: "intrinsic" }, { invalidXmlChars: "reference" }),
        ),
      ],
      ["HealthState", 5],
      ["OperationalStatus", [String(status)]],
      ["StatusDescriptions", [status === COMPONENT_STATUS.ok ? "OK" : "No Contact"]],
      ["SystemCreationClassName", WMI_CLASSES.computerSystem],
      ["SystemName", vm.guid],
    ]),
  );
}

/** Msvm_KvpExchangeComponentSettingData of one VM: the host's stores. */
export function kvpSettingDataOf(vm: VmState): WsmanInstance {
  const encode = (store: Map<string, string>, source: "host" | "host-only") =>
    [...store].map(([name, data]) => encodeKvpItem({ name, data, source }));
  return instance(
    WMI_CLASSES.kvpSettingData,
    props([
      ["Caption", "Key-Value Pair Exchange"],
      ["DisableHostKVPItems", "false"],
      ["ElementName", "Key-Value Pair Exchange"],
      ["HostExchangeItems", encode(vm.hostItems, "host")],
      ["HostOnlyItems", encode(vm.hostOnlyItems, "host-only")],
      ["InstanceID", `Microsoft:${vm.guid}\\KvpExchangeComponentSettingData`],
    ]),
  );
}

/** InstanceID of a VM's realized Msvm_VirtualSystemSettingData: `Microsoft:<GUID>`. */
export function settingsInstanceIdOf(vm: VmState): string {
  return `Microsoft:${vm.guid}`;
}

/** The realized Msvm_VirtualSystemSettingData of one VM (the KVP setting data hangs off it). */
export function virtualSystemSettingDataOf(vm: VmState): WsmanInstance {
  return instance(
    WMI_CLASSES.settingData,
    props([
      ["Caption", "Virtual Machine Settings"],
      ["Description", "Active settings for the virtual machine."],
      ["ElementName", vm.name],
      ["InstanceID", settingsInstanceIdOf(vm)],
      ["VirtualSystemIdentifier", vm.guid],
      ["VirtualSystemType", REALIZED_SYSTEM_TYPE],
    ]),
  );
}

/**
 * The Msvm_VirtualSystemManagementService scoped to the system `systemName` (Name `vmms`,
 * the key properties the transport reads back as selectors), in root/virtualization/v2.
 */
export function managementServiceOf(systemName: string): WsmanInstance {
  return instance(
    WMI_CLASSES.managementService,
    props([
      ["Caption", "Hyper-V Virtual System Management Service"],
      ["CreationClassName", WMI_CLASSES.managementService],
      ["ElementName", "Msvm_VirtualSystemManagementService"],
      ["EnabledState", 2],
      ["Name", "vmms"],
      ["SystemCreationClassName", WMI_CLASSES.computerSystem],
      ["SystemName", systemName],
    ]),
  );
}

/** Msvm_ConcreteJob of one job. */
export function concreteJobOf(job: JobState): WsmanInstance {
  const caption = METHOD_CAPTIONS[job.method];
  const status =
    job.state === JOB_STATE.running
      ? "Job is running"
      : job.state === JOB_STATE.completed
        ? "Job completed successfully"
        : "Job failed";
  return instance(
    WMI_CLASSES.concreteJob,
    props([
      ["Caption", caption],
      ["Description", `${caption} on virtual machine ${JSON.stringify(job.vmName)}`],
      ["ElementName", caption],
      ["ErrorCode", job.errorCode],
      ["ErrorDescription", job.errorDescription],
      ["ErrorSummaryDescription", job.errorDescription],
      ["InstanceID", job.instanceId],
      ["JobState", job.state],
      ["JobStatus", status],
      ["PercentComplete", job.state === JOB_STATE.running ? 0 : 100],
    ]),
  );
}

/**
 * GetErrorEx's Errors: one embedded Msvm_Error per failure of the job (none unless it
 * ended in Exception), as CIM-XML strings.
 */
export function jobErrorsOf(job: JobState): string[] {
  if (job.state !== JOB_STATE.exception) return [];
  const error: CimInstance = {
    className: WMI_CLASSES.error,
    properties: [
      { name: "CIMStatusCode", type: "uint32", value: job.cimStatusCode },
      { name: "ErrorSource", type: "string", value: job.vmName },
      { name: "ErrorType", type: "uint16", value: 4 },
      { name: "Message", type: "string", value: job.errorDescription },
      { name: "MessageArguments", type: "string", array: true, value: [job.vmName] },
      { name: "MessageID", type: "string", value: `HVSIM${job.cimStatusCode}` },
      { name: "OwningEntity", type: "string", value: "Microsoft-Windows-Hyper-V-VMMS" },
      { name: "PerceivedSeverity", type: "uint16", value: 5 },
    ],
  };
  return [toCimXml(error)];
}
