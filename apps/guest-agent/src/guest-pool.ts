// The agent's access to pool 1 (guest → host) by logical key: a value longer than the host
// takes whole is stored as parts `K#1/N`…`K#N/N` (kvp-core chunking) and read back whole.
// Writes and removals go through pool-file's setLogicalValues/removeLogicalKeys, which work
// under one write lock, so the host never sees old and new parts of a value mixed.
import { logicalKeyOf, reassembleRecords } from "@hyperv-kvp/kvp-core";
import {
  type PoolAccessOptions,
  type PoolTarget,
  readPool,
  removeLogicalKeys as removeKeys,
  setLogicalValues,
} from "@hyperv-kvp/pool-file";

/**
 * Stores each value under its logical key in pool 1 (chunked when longer than the host takes
 * whole; stale parts of earlier values removed). Other keys are never touched.
 * @throws {PoolFileError} from setLogicalValues (`invalid` for a key that cannot be stored).
 */
export async function writeLogicalValues(
  target: PoolTarget,
  values: ReadonlyMap<string, string>,
  options: PoolAccessOptions = {},
): Promise<void> {
  if (values.size === 0) return;
  await setLogicalValues(
    target,
    [...values].map(([key, value]) => ({ key, value })),
    options,
  );
}

/**
 * Removes every stored record whose logical key `shouldRemove` picks (plain records and
 * parts alike), under one write lock.
 * @returns how many stored records were removed.
 */
export async function removeLogicalKeys(
  target: PoolTarget,
  shouldRemove: (logicalKey: string) => boolean,
  options: PoolAccessOptions = {},
): Promise<number> {
  return (await removeKeys(target, (key) => shouldRemove(key), options)).length;
}

/**
 * Pool 1's records by logical key (parts reassembled; first record of a key wins), limited
 * to the keys `keep` picks; malformed records are skipped.
 */
export async function readLogicalValues(
  target: PoolTarget,
  keep: (logicalKey: string) => boolean,
  options: PoolAccessOptions = {},
): Promise<Map<string, string>> {
  const { records } = await readPool(target, options);
  const wanted = records.filter((r) => r.keyTerminated && r.validUtf8 && keep(logicalKeyOf(r.key)));
  const map = new Map<string, string>();
  for (const r of reassembleRecords(wanted).records) if (!map.has(r.key)) map.set(r.key, r.value);
  return map;
}
