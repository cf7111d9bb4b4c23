import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { HostCli } from "../host-session.js";
import { formatVms } from "../print.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";
import { allVmsQuery } from "../wql.js";

/** Every VM of the host, by name then GUID. */
export async function vms(wmi: HyperVWmi): Promise<VmInfo[]> {
  const found = await wmi.queryVms(allVmsQuery());
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** `kvp-host vms`. */
export const vmsCommand: CliCommand<HostCli> = {
  name: "vms",
  define: (command, { run, ctx, withHost }) =>
    command
      .description("list the VMs of the host")
      .option("--json", "JSON array of {id, name, enabledState}")
      .action(async (opts) => {
        const found = await withHost((t) => vms(t));
        if (opts.json) run.json(found);
        else ctx.stdout.write(formatVms(found));
      }),
};
