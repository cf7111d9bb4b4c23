import type { CliCommand } from "@hyperv-kvp/cli-kit";
import { type HostCli, SOURCES } from "../host-session.js";
import { formatList } from "../print.js";
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

/** `kvp-host list`. */
export const listCommand: CliCommand<HostCli> = {
  name: "list",
  define: (command, { run, ctx, withHost, notes, parseSource }) =>
    command
      .description("list the KVP items of VM; chunked values K#1/N … K#N/N reassembled")
      .argument("<vm>", "VM name or GUID")
      .option("--source <source>", `${SOURCES.join("|")} (default all)`)
      .option("--raw", "show parts K#i/N as stored")
      .option("--json", "JSON: {vm, items: [{source, key, value, parts?}], notes}")
      .action(async (vm, opts) => {
        const source = parseSource(opts.source, "list");
        const result = await withHost((t) => list(t, vm, { source, ...(opts.raw ? { raw: true } : {}) }));
        if (opts.json) run.json(result);
        else ctx.stdout.write(formatList(result));
        notes(result.notes);
      }),
};
