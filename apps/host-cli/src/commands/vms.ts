import type { HyperVTransport, VmInfo } from "../transport.js";
import { allVmsQuery } from "../wql.js";

/** Every VM of the host, by name then GUID. */
export async function vms(transport: HyperVTransport): Promise<VmInfo[]> {
  const found = await transport.queryVms(allVmsQuery());
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
