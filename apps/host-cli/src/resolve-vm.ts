/**
 * Finds the VM a user names: by GUID (Msvm_ComputerSystem.Name) or by display name
 * (ElementName). Display names are not unique in Hyper-V, so a name that matches several
 * VMs is an error that lists them; the user then gives the GUID.
 */
import { HostCliError } from "./host-error.js";
import type { HyperVWmi, VmInfo } from "./hyperv-wmi.js";
import { normalizeGuid, vmByIdQuery, vmsByNameQuery } from "./wql.js";

/**
 * The one VM `ref` names: a GUID (with or without braces, any case) is looked up by Name
 * first and, when no VM has it, as a display name; anything else by display name.
 * @throws {HostCliError} `not-found` when no VM matches; `ambiguous` when a display name
 *   matches several VMs (the message lists each with its GUID).
 */
export async function resolveVm(wmi: HyperVWmi, ref: string): Promise<VmInfo> {
  if (ref.trim() === "") throw new HostCliError("usage", "VM: empty name", "kvp-host vms");
  const guid = normalizeGuid(ref);
  if (guid !== undefined) {
    const byId = await wmi.queryVms(vmByIdQuery(guid));
    if (byId.length > 0) return byId[0]!;
  }
  const byName = await wmi.queryVms(vmsByNameQuery(ref));
  if (byName.length === 1) return byName[0]!;
  if (byName.length === 0) {
    throw new HostCliError(
      "not-found",
      `no VM named ${JSON.stringify(ref)}${guid === undefined ? "" : " and none with that GUID"} (kvp-host vms lists them)`,
    );
  }
  const candidates = byName.map((vm) => `  ${vm.id}  ${JSON.stringify(vm.name)}`).join("\n");
  throw new HostCliError(
    "ambiguous",
    `${byName.length} VMs are named ${JSON.stringify(ref)}; name one by its GUID:\n${candidates}`,
  );
}
