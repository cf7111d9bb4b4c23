/**
 * The two ASSOCIATORS OF queries the simulator answers: the route from a VM to its KVP
 * setting data that libvirt's driver and kvp-host take (docs/wmi-and-cim.md#finding-a-vm-and-its-items).
 * Every other association is refused, so a client that depends on one finds out here.
 */
import { equalsIgnoreCase } from "@hyperv-kvp/kvp-core/cim";
import type { WsmanInstance } from "@hyperv-kvp/wsman";
import { SimError } from "../errors.js";
import type { VmState } from "./host-model.js";
import { kvpSettingDataOf, settingsInstanceIdOf, virtualSystemSettingDataOf } from "./instances.js";
import { SETTINGS_DEFINE_STATE, SETTING_DATA_COMPONENT, WMI_CLASSES } from "./wmi-classes.js";
import type { WqlAssociatorsQuery } from "./wql.js";

/**
 * Answers `query` over `vms`: `{Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="GUID"}`
 * with AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData, and
 * `{Msvm_VirtualSystemSettingData.InstanceID="Microsoft:GUID"}` with
 * AssocClass=Msvm_VirtualSystemSettingDataComponent ResultClass=Msvm_KvpExchangeComponentSettingData.
 * Names compare ignoring case; an object path naming no VM gives no instances.
 * @throws {SimError} `invalid-argument` for any other association, or a path whose keys are not exactly the class's keys.
 */
export function associatorsOf(vms: readonly VmState[], query: WqlAssociatorsQuery): WsmanInstance[] {
  const keysOf = (expected: readonly string[]): Map<string, string> => {
    const refuse = () =>
      new SimError(
        "invalid-argument",
        `invalid WQL query: the object path of ${query.sourceClass} must bind exactly ${expected.join(", ")}`,
      );
    const keys = new Map<string, string>();
    for (const k of query.sourceKeys) {
      const canonical = expected.find((e) => equalsIgnoreCase(e, k.property));
      if (canonical === undefined || keys.has(canonical)) throw refuse();
      keys.set(canonical, k.value);
    }
    if (keys.size !== expected.length) throw refuse();
    return keys;
  };
  const is = equalsIgnoreCase;
  if (
    is(query.sourceClass, WMI_CLASSES.computerSystem) &&
    is(query.assocClass, SETTINGS_DEFINE_STATE) &&
    is(query.resultClass, WMI_CLASSES.settingData)
  ) {
    const keys = keysOf(["CreationClassName", "Name"]);
    if (!is(keys.get("CreationClassName")!, WMI_CLASSES.computerSystem)) return [];
    const name = keys.get("Name")!;
    const vm = vms.find((v) => is(v.guid, name));
    return vm === undefined ? [] : [virtualSystemSettingDataOf(vm)];
  }
  if (
    is(query.sourceClass, WMI_CLASSES.settingData) &&
    is(query.assocClass, SETTING_DATA_COMPONENT) &&
    is(query.resultClass, WMI_CLASSES.kvpSettingData)
  ) {
    const id = keysOf(["InstanceID"]).get("InstanceID")!;
    const vm = vms.find((v) => is(settingsInstanceIdOf(v), id));
    return vm === undefined ? [] : [kvpSettingDataOf(vm)];
  }
  throw new SimError(
    "invalid-argument",
    `invalid WQL query: ASSOCIATORS OF ${query.sourceClass} with AssocClass=${query.assocClass} ResultClass=${query.resultClass} is not served by this simulator ` +
      `(only ${SETTINGS_DEFINE_STATE} from Msvm_ComputerSystem to ${WMI_CLASSES.settingData}, and ${SETTING_DATA_COMPONENT} from it to ${WMI_CLASSES.kvpSettingData})`,
  );
}
