// Test support only (excluded from the build): the messages' common parts, shared by the SOAP
// tests of soap/.
import { pathToEpr } from "@hyperv-kvp/kvp-core/cim";

/** The resource URI prefix of Hyper-V's WMI namespace root/virtualization/v2. */
export const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
/** Request options every test message shares, with a fixed message ID. */
export const COMMON = {
  to: "https://host:5986/wsman",
  messageId: "uuid:00000000-0000-4000-8000-000000000001",
  operationTimeoutMs: 30_000,
};
/** A virtual machine's name (its GUID). */
export const VM_GUID = "A1B2C3D4-0000-1111-2222-333344445555";
/** The selectors of the virtual system management service. */
export const VSMS_SELECTORS = [
  { name: "CreationClassName", value: "Msvm_VirtualSystemManagementService" },
  { name: "Name", value: "vmms" },
  { name: "SystemCreationClassName", value: "Msvm_ComputerSystem" },
  { name: "SystemName", value: "HOST" },
];
/** The endpoint reference of the virtual machine named VM_GUID. */
export const TARGET = pathToEpr({
  namespace: "root/virtualization/v2",
  className: "Msvm_ComputerSystem",
  keys: [
    { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
    { name: "Name", type: "string", value: VM_GUID },
  ],
});
/** A KVP item as CIM-XML, with a character that must be escaped. */
export const ITEM =
  '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>a&amp;b</VALUE></PROPERTY></INSTANCE>';
