import { HostCliError } from "../cli-error.js";
import { type ListedItem, type SourceFilter, readItems } from "../items.js";
import { shorten } from "../plan.js";
import { resolveVm } from "../resolve-vm.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";

/** Options of {@link get}. */
export interface GetOptions {
  /** Which sources to search; default every source, in the order guest, intrinsic, host, host-only. */
  readonly source?: SourceFilter;
  /** Match stored keys exactly (e.g. one part `K#2/3`); nothing is reassembled. */
  readonly raw?: boolean;
}

/** What {@link get} returns. */
export interface GetResult {
  readonly vm: VmInfo;
  readonly item: ListedItem;
  readonly notes: string[];
}

/**
 * The first item with `key` (exact case) of the VM `vmRef` names; a chunked value reassembled.
 * @throws {HostCliError} `not-found` when no searched source has the key.
 */
export async function get(wmi: HyperVWmi, vmRef: string, key: string, options: GetOptions = {}): Promise<GetResult> {
  const vm = await resolveVm(wmi, vmRef);
  const source = options.source ?? "all";
  const read = await readItems(wmi, vm, source, options.raw ? { raw: true } : {});
  const item = read.items.find((i) => i.key === key);
  if (item === undefined) {
    throw new HostCliError(
      "not-found",
      `VM ${JSON.stringify(vm.name)} has no item ${shorten(key)}${source === "all" ? "" : ` in ${source}`}`,
      undefined,
      {
        notes: read.notes,
      },
    );
  }
  return { vm, item, notes: read.notes };
}
