/**
 * The names and numbers of root/virtualization/v2 that the simulator serves: its namespace,
 * classes, associations, the KVP methods and the return, job and status values they use.
 */
import { WMI_RESOURCE_URI_PREFIX } from "@hyperv-kvp/kvp-core/cim";

/** The association from a VM's Msvm_ComputerSystem to its realized Msvm_VirtualSystemSettingData. */
export const SETTINGS_DEFINE_STATE = "Msvm_SettingsDefineState";
/** The association from Msvm_VirtualSystemSettingData to its component settings (KVP among them). */
export const SETTING_DATA_COMPONENT = "Msvm_VirtualSystemSettingDataComponent";
/** VirtualSystemType of the settings a running configuration realizes. */
export const REALIZED_SYSTEM_TYPE = "Microsoft:Hyper-V:System:Realized";

/** The WMI namespace the simulator serves. */
export const V2_NAMESPACE = "root/virtualization/v2";
/** Resource URI prefix of its classes: `…/wmi/root/virtualization/v2`. */
export const V2_RESOURCE_URI = `${WMI_RESOURCE_URI_PREFIX}${V2_NAMESPACE}`;

/** Classes served, by name. */
export const WMI_CLASSES = Object.freeze({
  computerSystem: "Msvm_ComputerSystem",
  kvpComponent: "Msvm_KvpExchangeComponent",
  kvpSettingData: "Msvm_KvpExchangeComponentSettingData",
  settingData: "Msvm_VirtualSystemSettingData",
  managementService: "Msvm_VirtualSystemManagementService",
  concreteJob: "Msvm_ConcreteJob",
  error: "Msvm_Error",
} as const);

/** The three KVP methods of Msvm_VirtualSystemManagementService. */
export type KvpMethod = "AddKvpItems" | "ModifyKvpItems" | "RemoveKvpItems";

/** Every {@link KvpMethod}. */
export const KVP_METHODS: readonly KvpMethod[] = Object.freeze(["AddKvpItems", "ModifyKvpItems", "RemoveKvpItems"]);

/** Whether `method` is one of the {@link KVP_METHODS} (case-sensitive, as WMI method names are matched here). */
export function isKvpMethod(method: string): method is KvpMethod {
  return (KVP_METHODS as readonly string[]).includes(method);
}

/** Return values used here (kvp-core's RETURN_CODES names them all). */
export const RETURN_VALUES = Object.freeze({
  completed: 0,
  jobStarted: 4096,
  failed: 32768,
  invalidParameter: 32773,
} as const);

/** JobState values used here. */
export const JOB_STATE = Object.freeze({ running: 4, completed: 7, exception: 10 } as const);

/** OperationalStatus[0] of Msvm_KvpExchangeComponent: 2 OK, 12 No contact (daemon not running). */
export const COMPONENT_STATUS = Object.freeze({ ok: 2, noContact: 12 } as const);
