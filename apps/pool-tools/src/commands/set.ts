import { type CliCommand, CliError, readPairsInput } from "@hyperv-kvp/cli-kit";
import {
  type KvpRecord,
  type PoolInfo,
  isHostVisible,
  isKvpError,
  parseChunkKey,
  validateRecord,
} from "@hyperv-kvp/kvp-core";
import {
  type LogicalSetOutcome,
  type SetOutcome,
  isPoolFileError,
  poolTarget,
  setLogicalValues,
  setRecords,
} from "@hyperv-kvp/pool-file";
import type { PoolCli } from "../context.js";
import { type CommonOptions, POOL_HELP, parsePoolOption } from "./pool-option.js";

/** Options of `kvp-pool set`. */
export interface SetOptions extends CommonOptions {
  readonly pool: PoolInfo;
  /** Allow up to the record's 511/2047-byte limits instead of what the host receives whole. */
  readonly wireLimits?: boolean;
  readonly ignoreCase?: boolean;
  /** Write a daemon-owned pool anyway. */
  readonly force?: boolean;
  /** Create the pool file when missing. */
  readonly create?: boolean;
  /**
   * Store values longer than the host receives whole as parts `KEY#1/N` … `KEY#N/N` (and
   * remove any earlier parts or plain record of each key). Keys match exactly; not with
   * `wireLimits` or `ignoreCase` (the caller refuses those).
   */
  readonly chunk?: boolean;
}

/** What `set` did: per record, or with `chunk`, per logical key. */
export type SetResult = SetOutcome[] | LogicalSetOutcome[];

/**
 * Upserts records under one write lock (the first record with a key is changed in place,
 * else the record is appended). Everything is validated first: one bad record writes none.
 * With `chunk`, each value is written as its logical key (see pool-file's `setLogicalValues`).
 */
export async function set(records: readonly KvpRecord[], options: SetOptions): Promise<SetResult> {
  const target = poolTarget(options.pool, options.dir);
  const common = {
    ...(options.force ? { force: true } : {}),
    ...(options.create ? { create: true } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  if (options.chunk) return setLogicalValues(target, records, common);
  if (!options.ignoreCase && !records.some((r) => parseChunkKey(r.key))) {
    // Setting K replaces the logical key K: parts K#i/N of an earlier --chunk go, so a
    // reader never sees the new plain value beside stale parts. Same lock, same write path.
    const outcomes = await setLogicalValues(target, records, {
      ...common,
      split: false,
      ...(options.wireLimits ? { limits: "wire" as const } : {}),
    });
    return outcomes.map((o) => o.records[0]!);
  }
  // Case-insensitive matching, or writing a part record by hand: the daemon's plain upsert.
  return setRecords(target, records, {
    ...common,
    ...(options.wireLimits ? { limits: "wire" as const } : {}),
    ...(options.ignoreCase ? { ignoreCase: true } : {}),
  });
}

/** True when the record fits a record's own limits but not what the host receives whole. */
function fitsOnlyTheWire(record: KvpRecord): boolean {
  if (isHostVisible(record)) return false;
  try {
    validateRecord(record);
    return true;
  } catch {
    return false;
  }
}

/**
 * A refused write explained: when the pool refused a record the host would get cut (by its
 * error's class and code, and the records themselves), say what --chunk and --wire-limits do.
 */
function explainRefusal(error: unknown, records: readonly KvpRecord[], tool: string): unknown {
  if (!isPoolFileError(error, "invalid") || !isKvpError(error.cause) || !records.some(fitsOnlyTheWire)) return error;
  // --chunk helps with a long value, never with a long key.
  const chunk = isKvpError(error.cause, "invalid-value")
    ? `\n${tool}: --chunk sends it whole, as parts KEY#1/N … KEY#N/N that kvp-pool get reassembles`
    : "";
  return new CliError(
    "usage",
    `${error.message}${chunk}\n${tool}: --wire-limits stores up to 511/2047 bytes, but the host would still get it cut`,
    `${tool} set --help`,
  );
}

/** `kvp-pool set`: KEY VALUE, or many pairs from --from-file, under one lock. */
export const setCommand: CliCommand<PoolCli> = {
  name: "set",
  define: (command, { run, ctx, globals }) =>
    command
      .description("add or change records (upsert): KEY VALUE, or many from --from-file")
      .argument("[key]", "the key")
      .argument("[value]", "the value (may be empty)")
      .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
      .option(
        "--from-file <file>",
        "KEY=VALUE lines or a JSON object ('-' reads stdin; UTF-8, or UTF-16 with a BOM); all set under one lock",
      )
      .option(
        "--chunk",
        "store a value longer than the host receives whole (1022 UTF-16 units) as parts KEY#1/N … KEY#N/N, each whole for the host; removes earlier parts of KEY",
      )
      .option(
        "--wire-limits",
        "allow up to 511/2047 bytes; by default pool 1 refuses what the host would get truncated (254/1022 UTF-16 units)",
      )
      .option("--ignore-case", "match existing keys case-insensitively")
      .option("--create", "create the pool file if it is missing")
      .option("--force", "write a pool the daemon owns (0, 2, 3, 4)")
      .option("--json", "print what was done as JSON")
      .addHelpText(
        "after",
        "\n--from-file: KEY=VALUE lines (blank lines and # comments skipped) or a JSON object of strings,\n" +
          "numbers or booleans.\nExamples:\n  kvp-pool set ReadyState ready\n  printf 'a=1\\nb=2\\n' | kvp-pool set --from-file -\n  kvp-pool set --from-file facts.json --json\n  kvp-pool set --chunk report \"$(cat report.txt)\"   up to 999 parts; kvp-pool get report reassembles it",
      )
      .action(async (key, value, opts) => {
        const hint = `${run.tool} set --help`;
        const pool = parsePoolOption(opts.pool, "set");
        if (opts.chunk && (opts.wireLimits || opts.ignoreCase)) {
          throw new CliError(
            "usage",
            `--chunk cannot be combined with ${opts.wireLimits ? "--wire-limits (parts are always what the host receives whole)" : "--ignore-case (parts are matched exactly)"}`,
            hint,
          );
        }
        let records: KvpRecord[];
        if (opts.fromFile !== undefined) {
          if (key !== undefined) throw new CliError("usage", "give either KEY VALUE or --from-file, not both", hint);
          records = await readPairsInput(opts.fromFile, ctx, hint);
        } else if (key === undefined || value === undefined) {
          throw new CliError(
            "usage",
            key === undefined
              ? "missing KEY and VALUE"
              : `missing VALUE for ${JSON.stringify(key)} (use "" for an empty value)`,
            hint,
          );
        } else {
          records = [{ key, value }];
        }
        const outcomes = await set(records, {
          ...globals(),
          pool,
          ...(opts.wireLimits ? { wireLimits: true } : {}),
          ...(opts.ignoreCase ? { ignoreCase: true } : {}),
          ...(opts.create ? { create: true } : {}),
          ...(opts.force ? { force: true } : {}),
          ...(opts.chunk ? { chunk: true } : {}),
        }).catch((error: unknown) => {
          throw opts.wireLimits ? error : explainRefusal(error, records, run.tool);
        });
        if (opts.json) run.json(outcomes);
      }),
};
