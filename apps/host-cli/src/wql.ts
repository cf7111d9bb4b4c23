/**
 * The WQL kvp-host sends: to find VMs, and a VM's KVP component. Hyper-V lists the host itself as an
 * Msvm_ComputerSystem too; VMs are the instances whose Description is "Microsoft Virtual
 * Machine" (the filter libvirt's Hyper-V driver uses). WQL compares strings ignoring case.
 */
import { wqlString } from "@hyperv-kvp/kvp-core/cim";

/** The condition that selects VMs (not the host) among Msvm_ComputerSystem instances. */
export const VM_CONDITION = 'Description="Microsoft Virtual Machine"';

/** Every VM of the host. */
export function allVmsQuery(): string {
  return `SELECT * FROM Msvm_ComputerSystem WHERE ${VM_CONDITION}`;
}

/** The VMs whose ElementName (display name) is `name`. */
export function vmsByNameQuery(name: string): string {
  return `${allVmsQuery()} AND ElementName=${wqlString(name)}`;
}

/** The VM whose Name (GUID) is `id`. */
export function vmByIdQuery(id: string): string {
  return `${allVmsQuery()} AND Name=${wqlString(id)}`;
}

/** The VM's KVP component: its SystemName is the VM's GUID (Msvm_ComputerSystem.Name). */
export function componentQuery(vmId: string): string {
  return `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName=${wqlString(vmId)}`;
}

const GUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/** `text` as Hyper-V writes a VM GUID (upper case, no braces), or undefined when it is not a GUID. */
export function normalizeGuid(text: string): string | undefined {
  const match = GUID.exec(text.trim());
  return match === null ? undefined : match[1]!.toUpperCase();
}
