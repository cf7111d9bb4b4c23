import type { CliCommand } from "@hyperv-kvp/cli-kit";
import { type HostCli, SOURCES } from "../host-session.js";
import { HostCliError } from "../host-error.js";
import { type ListedItem, type SourceFilter, readItems } from "../items.js";
import { shorten } from "../plan.js";
import { resolveVm } from "../resolve-vm.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";
import { quoted } from "../host-text.js";

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
      `VM ${quoted(vm.name)} has no item ${shorten(key)}${source === "all" ? "" : ` in ${source}`}`,
      undefined,
      {
        notes: read.notes,
      },
    );
  }
  return { vm, item, notes: read.notes };
}

/** `kvp-host get`: exit 1 when the key is absent. */
export const getCommand: CliCommand<HostCli> = {
  name: "get",
  define: (command, { run, ctx, withHost, notes, parseSource }) =>
    command
      .description(
        "print the value of KEY (exit 1 if absent); searches guest, intrinsic, host, host-only unless --source",
      )
      .argument("<vm>", "VM name or GUID")
      .argument("<key>", "the key (exact case)")
      .option("--source <source>", `${SOURCES.join("|")} (default all)`)
      .option("--raw", "match stored keys exactly, e.g. one part K#2/3")
      .option("--json", "JSON: {vm, source, key, value, parts?}")
      .action(async (vm, key, opts) => {
        const source = parseSource(opts.source, "get");
        const result = await withHost((t) => get(t, vm, key, { source, ...(opts.raw ? { raw: true } : {}) }));
        if (opts.json) run.json({ vm: result.vm, ...result.item });
        else ctx.stdout.write(`${result.item.value}\n`);
        notes(result.notes);
      }),
};
