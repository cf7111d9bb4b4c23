import type { DecodedRecord, PoolInfo } from "@hyperv-kvp/kvp-core";
import { deleteRecord, poolTarget } from "@hyperv-kvp/pool-file";
import { CliError } from "../cli-error.js";
import type { CommonOptions } from "./pool-option.js";

/**
 * Deletes the first record with `key` (or all with `all`), keeping the order of the rest.
 * @throws {CliError} `not-found` when the key is absent (nothing is written then).
 */
export async function del(
  key: string,
  options: CommonOptions & { readonly pool: PoolInfo; readonly all?: boolean; readonly ignoreCase?: boolean; readonly force?: boolean },
): Promise<DecodedRecord[]> {
  const target = poolTarget(options.pool, options.dir);
  const removed = await deleteRecord(target, key, {
    ...(options.all ? { all: true } : {}),
    ...(options.ignoreCase ? { ignoreCase: true } : {}),
    ...(options.force ? { force: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  if (removed.length === 0) {
    throw new CliError("not-found", `no key ${JSON.stringify(key)} in pool ${options.pool.number} (${options.pool.name}) ${target.path}`);
  }
  return removed;
}
