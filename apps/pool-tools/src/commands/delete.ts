import { type DecodedRecord, type PoolInfo, parseChunkKey } from "@hyperv-kvp/kvp-core";
import { deleteRecord, poolTarget, removeLogicalKeys } from "@hyperv-kvp/pool-file";
import { type CliCommand, CliError } from "@hyperv-kvp/cli-kit";
import type { PoolCli } from "../context.js";
import { type CommonOptions, POOL_HELP, parsePoolOption } from "./pool-option.js";

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
    const where = (logicalKey: string, record: DecodedRecord) => {
      if (!record.keyValidUtf8 || fold(logicalKey) !== wanted) return false;
      if (record.key !== logicalKey) return true; // a part: all go, whatever the split
      // Plain records: the first, as the daemon deletes, or every one with --all.
      plain++;
      return options.all === true || plain === 1;
    };
    // Exact case: the key itself, so records of other keys are passed over by their bytes.
    removed = await removeLogicalKeys(target, options.ignoreCase ? where : { keys: [key], where }, access);
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

/** `kvp-pool delete` (also `remove`, kvp-host's word): exit 1 when the key is absent. */
export const deleteCommand: CliCommand<PoolCli> = {
  name: "delete",
  aliases: ["remove"],
  define: (command, { run, globals }) =>
    command
      .description(
        "delete the first record with KEY (or --all) and every part KEY#i/N of a chunked KEY, keeping the order of the rest",
      )
      .argument("<key>", "the key")
      .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
      .option("--all", "delete every record with KEY")
      .option("--ignore-case", "match the key case-insensitively")
      .option("--raw", "delete only the stored record with exactly KEY (e.g. one part, KEY#2/3)")
      .option("--force", "write a pool the daemon owns (0, 2, 3, 4)")
      .option("--json", "print the deleted records as JSON")
      .addHelpText("after", "\nExit code 1 when the key is absent (nothing is written).")
      .action(async (key, opts) => {
        const pool = parsePoolOption(opts.pool, "delete");
        const removed = await del(key, {
          ...globals(),
          pool,
          ...(opts.all ? { all: true } : {}),
          ...(opts.raw ? { raw: true } : {}),
          ...(opts.ignoreCase ? { ignoreCase: true } : {}),
          ...(opts.force ? { force: true } : {}),
        });
        if (opts.json)
          run.json(removed.map((r) => ({ pool: pool.number, index: r.index, key: r.key, value: r.value })));
      }),
};
