import type { WmiCluster } from "../index.js";

/** What a `migrate` line moved. */
export interface Migration {
  readonly vm: string;
  readonly guid: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Runs one line of serve's stdin: `migrate VM NODE` (VM by name or GUID) live-migrates the
 * VM, so users can test that their automation follows it. A blank line does nothing.
 * @throws {Error} for any other line, or a VM name that is not one VM's.
 */
export async function migrateCommand(cluster: WmiCluster, line: string): Promise<Migration | undefined> {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  if (words.length === 0) return undefined;
  if (words[0] !== "migrate" || words.length !== 3)
    throw new Error(`unknown command ${JSON.stringify(line.trim())}: migrate VM NODE`);
  const [, ref, node] = words as [string, string, string];
  const matches = cluster.vms.filter(
    (vm) => vm.guid.toUpperCase() === ref.replace(/[{}]/g, "").toUpperCase() || vm.name === ref,
  );
  if (matches.length !== 1)
    throw new Error(
      `migrate: ${matches.length === 0 ? "no VM" : "several VMs"} named ${JSON.stringify(ref)}; give its GUID`,
    );
  const vm = matches[0]!;
  const from = cluster.ownerOf(vm.guid) ?? "";
  await cluster.migrateVm(vm.guid, node);
  return { vm: vm.name, guid: vm.guid, from, to: cluster.ownerOf(vm.guid) ?? node };
}
