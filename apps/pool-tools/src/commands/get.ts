import type { DecodedRecord, PoolInfo } from "@hyperv-kvp/kvp-core";
import { getRecord, poolTarget } from "@hyperv-kvp/pool-file";
import { CliError } from "../cli-error.js";
import type { CommonOptions } from "./pool-option.js";

/**
 * The first record with `key` in the pool (default pool 1).
 * @throws {CliError} `not-found` when the key is absent.
 */
export async function get(
  key: string,
  options: CommonOptions & { readonly pool: PoolInfo; readonly ignoreCase?: boolean },
): Promise<DecodedRecord> {
  const target = poolTarget(options.pool, options.dir);
  const record = await getRecord(target, key, {
    ...(options.ignoreCase ? { ignoreCase: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  if (!record) {
    throw new CliError("not-found", `no key ${JSON.stringify(key)} in pool ${options.pool.number} (${options.pool.name}) ${target.path}`);
  }
  return record;
}
