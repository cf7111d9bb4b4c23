import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";
import { allVmsQuery } from "../wql.js";

/** Every VM of the host, by name then GUID. */
export async function vms(wmi: HyperVWmi): Promise<VmInfo[]> {
  const found = await wmi.queryVms(allVmsQuery());
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
