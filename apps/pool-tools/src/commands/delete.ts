import { type DecodedRecord, type PoolInfo, parseChunkKey } from "@hyperv-kvp/kvp-core";
import { deleteRecord, poolTarget, removeLogicalKeys } from "@hyperv-kvp/pool-file";
import { CliError } from "../cli-error.js";
import type { CommonOptions } from "./pool-option.js";

/** Options of `kvp-pool delete`. */
export interface DeleteCommandOptions extends CommonOptions {
  readonly pool: PoolInfo;
  /** Delete every plain record with the key, not only the first. */
  readonly all?: boolean;
  readonly ignoreCase?: boolean;
  readonly force?: boolean;
  /** Delete only the stored record with exactly this key (a part `K#2/3` is then an ordinary key). */
  readonly raw?: boolean;
}

/**
 * Deletes the logical key: the first record with `key` (or all with `all`) and every part
 * `key#i/N` of a chunked value, under one lock, keeping the order of the rest. With `raw`,
 * only the first stored record with exactly that key (or all), as the daemon deletes.
 * @throws {CliError} `not-found` when nothing has the key (nothing is written then).
 */
export async function del(key: string, options: DeleteCommandOptions): Promise<DecodedRecord[]> {
  const target = poolTarget(options.pool, options.dir);
  const access = {
    ...(options.force ? { force: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  let removed: DecodedRecord[];
  if (options.raw) {
    removed = await deleteRecord(target, key, {
      ...access,
      ...(options.all ? { all: true } : {}),
      ...(options.ignoreCase ? { ignoreCase: true } : {}),
    });
  } else {
    const fold = options.ignoreCase ? (text: string) => text.toLowerCase() : (text: string) => text;
    const wanted = fold(key);
    let plain = 0;
    removed = await removeLogicalKeys(
      target,
      (logicalKey, record) => {
        if (!record.keyValidUtf8 || fold(logicalKey) !== wanted) return false;
        if (record.key !== logicalKey) return true; // a part: all go, whatever the split
        // Plain records: the first, as the daemon deletes, or every one with --all.
        plain++;
        return options.all === true || plain === 1;
      },
      access,
    );
  }
  if (removed.length === 0) {
    const part =
      !options.raw && parseChunkKey(key)
        ? " (that names one part of a chunked value: delete --raw deletes it alone)"
        : "";
    throw new CliError(
      "not-found",
      `no key ${JSON.stringify(key)} in pool ${options.pool.number} (${options.pool.name}) ${target.path}${part}`,
    );
  }
  return removed;
}
