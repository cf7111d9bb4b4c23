import {
  type DecodedRecord,
  type PoolInfo,
  RECORD_BYTES,
  decodeRecord,
  keyMatcher,
  mayHoldLogicalKey,
  parseChunkKey,
  reassembleRecords,
} from "@hyperv-kvp/kvp-core";
import { getRecord, poolTarget, scanPool } from "@hyperv-kvp/pool-file";
import { type CliCommand, CliError } from "@hyperv-kvp/cli-kit";
import type { PoolCli } from "../context.js";
import { formatValue } from "../print.js";
import { type CommonOptions, POOL_HELP, parsePoolOption } from "./pool-option.js";

/** The record `get` found: a stored record, or a value reassembled from its parts. */
export interface GotRecord {
  /** Position in the pool; for a reassembled value, that of its first stored part. */
  readonly index: number;
  readonly key: string;
  readonly value: string;
  /** Present for a value reassembled from `key#1/N` … `key#N/N`: N. */
  readonly parts?: number;
  /** Present and false when the record's bytes are not valid UTF-8 (shown with U+FFFD). */
  readonly validUtf8?: false;
}

/** Options of `kvp-pool get`. */
export interface GetOptions extends CommonOptions {
  readonly pool: PoolInfo;
  readonly ignoreCase?: boolean;
  /** Look up the stored record with exactly this key; chunked values are not reassembled. */
  readonly raw?: boolean;
}

/**
 * The value of `key` in the pool (default pool 1), as a reader of the chunking convention
 * sees it: a value stored as parts `key#i/N` comes back whole. First match wins.
 * With `raw`, the first stored record with the key, as the daemon looks it up.
 * @throws {CliError} `not-found` when the key is absent; the message says why when parts of
 *   the key exist but cannot be reassembled, or when the key names one part.
 */
export async function get(key: string, options: GetOptions): Promise<GotRecord> {
  const target = poolTarget(options.pool, options.dir);
  const access = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const match = { ...(options.ignoreCase ? { ignoreCase: true } : {}) };
  const where = `in pool ${options.pool.number} (${options.pool.name}) ${target.path}`;
  if (options.raw) {
    const record = await getRecord(target, key, { ...access, ...match });
    if (!record) throw new CliError("not-found", `no key ${JSON.stringify(key)} ${where}`);
    return stored(record);
  }
  const matches = keyMatcher(key, match);
  // Only the records of this key (plain copies and parts) are decoded and kept: a huge pool
  // is searched in bounded memory, and at the cost of comparing keys. A plain record with the
  // key, before any part of it, is the answer (reassembleRecords: the plain record wins over
  // parts, and it comes first): nothing after it is read.
  const relevant: DecodedRecord[] = [];
  const keyBytes = options.ignoreCase ? undefined : encoder.encode(key);
  let partSeen = false;
  await scanPool(
    target,
    (bytes, first) => {
      for (let at = 0; at < bytes.length; at += RECORD_BYTES) {
        if (keyBytes !== undefined && !mayHoldLogicalKey(bytes, at, keyBytes)) continue;
        const record = decodeRecord(bytes, at, first + at / RECORD_BYTES);
        const part = parseChunkKey(record.key);
        if (part ? matches({ key: part.base, value: "", keyValidUtf8: record.keyValidUtf8 }) : matches(record)) {
          relevant.push(record);
          if (part) partSeen = true;
          else if (!partSeen) return false;
        }
      }
      return true;
    },
    access,
  );
  const { records, problems } = reassembleRecords(relevant);
  const found = records.find((r) =>
    matches({ key: r.key, value: r.value, ...(r.record ? { keyValidUtf8: r.record.keyValidUtf8 } : {}) }),
  );
  if (found?.record) return stored(found.record);
  if (found?.parts) {
    return {
      index: Math.min(...found.parts.map((p) => p.index)),
      key: found.key,
      value: found.value,
      parts: found.parts.length,
    };
  }
  const why = problems.filter((p) => matches({ key: p.key, value: "" })).map((p) => `; ${p.message}`);
  const part = parseChunkKey(key) ? " (that names one part of a chunked value: get --raw reads it as stored)" : "";
  throw new CliError("not-found", `no key ${JSON.stringify(key)} ${where}${why.join("")}${part}`);
}

const encoder = new TextEncoder();

function stored(record: DecodedRecord): GotRecord {
  return {
    index: record.index,
    key: record.key,
    value: record.value,
    ...(record.validUtf8 ? {} : { validUtf8: false as const }),
  };
}

/** `kvp-pool get`: exit 1 when the key is absent. */
export const getCommand: CliCommand<PoolCli> = {
  name: "get",
  define: (command, { run, ctx, globals }) =>
    command
      .description("print the value of KEY (first match, exact case unless --ignore-case); a chunked value whole")
      .argument("<key>", "the key")
      .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
      .option("--ignore-case", "match the key case-insensitively")
      .option("--raw", "read the stored record with exactly KEY (e.g. one part, KEY#2/3); nothing is reassembled")
      .option("--json", "print the record as JSON (with parts: N for a reassembled value)")
      .addHelpText(
        "after",
        "\nExit code 1 when the key is absent.\nExamples:\n  kvp-pool get cloudstack-vm-userdata --pool external\n  kvp-pool get report            the value stored as report#1/N … report#N/N\n  kvp-pool get --raw 'report#2/3'",
      )
      .action(async (key, opts) => {
        const pool = parsePoolOption(opts.pool, "get");
        const record = await get(key, {
          ...globals(),
          pool,
          ...(opts.ignoreCase ? { ignoreCase: true } : {}),
          ...(opts.raw ? { raw: true } : {}),
        });
        if (!opts.json) {
          ctx.stdout.write(formatValue(record));
          return;
        }
        run.json({
          pool: pool.number,
          poolName: pool.name,
          index: record.index,
          key: record.key,
          value: record.value,
          ...(record.parts === undefined ? {} : { parts: record.parts }),
        });
      }),
};
