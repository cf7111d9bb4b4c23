import { type ListedItem, type SourceFilter, readItems } from "../items.js";
import { resolveVm } from "../resolve-vm.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";

/** Options of {@link list}. */
export interface ListOptions {
  /** Which sources; default every source. */
  readonly source?: SourceFilter;
  /** Parts `K#i/N` as stored, not reassembled. */
  readonly raw?: boolean;
}

/** What {@link list} returns. */
export interface ListResult {
  readonly vm: VmInfo;
  readonly items: ListedItem[];
  readonly notes: string[];
}

/** The KVP items of the VM `vmRef` names, source by source (guest, intrinsic, host, host-only). */
export async function list(wmi: HyperVWmi, vmRef: string, options: ListOptions = {}): Promise<ListResult> {
  const vm = await resolveVm(wmi, vmRef);
  const read = await readItems(wmi, vm, options.source ?? "all", options.raw ? { raw: true } : {});
  return { vm, items: read.items, notes: read.notes };
}
