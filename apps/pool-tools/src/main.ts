import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { type KvpRecord, isKvpError } from "@hyperv-kvp/kvp-core";
import { isPoolFileError } from "@hyperv-kvp/pool-file";
import { CliError, EXIT } from "./cli-error.js";
import { check } from "./commands/check.js";
import { del } from "./commands/delete.js";
import { get } from "./commands/get.js";
import { list } from "./commands/list.js";
import { parsePairs } from "./commands/parse-pairs.js";
import { type CommonOptions, parsePoolOption } from "./commands/pool-option.js";
import { set } from "./commands/set.js";
import { watch } from "./commands/watch.js";
import { type CliContext, processContext } from "./context.js";
import { formatCheck, formatDiagnostic, formatEvent, formatList, formatValue, printable } from "./print.js";
import { VERSION } from "./version.js";

const TOOL = "kvp-pool";

const POOL_HELP = "pool number or name: 0|external, 1|guest, 2|auto, 3|auto-external, 4|auto-internal";

const EXAMPLES = `
Examples:
  kvp-pool list                          every pool, as the guest sees it
  kvp-pool get cloudstack-vm-userdata --pool external
  kvp-pool set ReadyState ready          tell the host (pool 1, guest)
  kvp-pool set --from-file report.env    many KEY=VALUE lines, one lock
  kvp-pool set --chunk --from-file big.json   long values as parts KEY#1/N … KEY#N/N
  kvp-pool get report                    a chunked value, reassembled (--raw: as stored)
  kvp-pool delete ReadyState
  kvp-pool check --all-pools --json
  kvp-pool watch --pool external --json  NDJSON, one change per line

Values longer than the host receives whole (1022 UTF-16 units) can be stored with --chunk as
parts KEY#1/N … KEY#N/N, each whole for the host; list, get, watch and delete treat them as
KEY (--raw: the stored records).
Pools live in /var/lib/hyperv unless --dir or $KVP_POOL_DIR says otherwise.
Exit codes: 0 ok, 1 not found / problems found, 2 usage, 3 IO or lock failure.`;

/**
 * Runs kvp-pool with `argv` (as `process.argv`: node, script, args…) and returns the exit
 * code. The one place that turns errors into `kvp-pool: message` lines and exit codes.
 */
export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return report(error, ctx);
  }
}

function report(error: unknown, ctx: CliContext): number {
  if (error instanceof CommanderError) {
    // Help and version are not errors; commander has already printed them.
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    ) {
      return EXIT.ok;
    }
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    if (error.hint) ctx.stderr.write(`(see: ${error.hint})\n`);
    return error.code === "usage" ? EXIT.usage : EXIT.notFound;
  }
  if (isPoolFileError(error)) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    switch (error.code) {
      case "not-found":
        return EXIT.notFound;
      case "invalid":
      case "refused":
        return EXIT.usage;
      default:
        return EXIT.io;
    }
  }
  if (isKvpError(error)) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    return EXIT.usage;
  }
  // A bug: still one line (no stack trace: users get messages, never traces), enough to report it.
  ctx.stderr.write(
    `${TOOL}: internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
  );
  return EXIT.io;
}

function parseTimeout(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0)
    throw new CliError(
      "usage",
      `invalid --timeout ${JSON.stringify(text)}: milliseconds, a whole number ≥ 0`,
      `${TOOL} --help`,
    );
  return ms;
}

function common(opts: { dir?: string; timeout?: string }): CommonOptions {
  return {
    ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
    ...(opts.timeout !== undefined ? { timeoutMs: parseTimeout(opts.timeout) } : {}),
  };
}

function json(ctx: CliContext, data: unknown): void {
  ctx.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

function buildProgram(ctx: CliContext, setExit: (code: number) => void) {
  const program = new Command(TOOL)
    .description("Read, write, delete, check and watch Hyper-V KVP pool records, safely beside hv_kvp_daemon.")
    .version(VERSION, "-V, --version", "print the version")
    .option("--dir <dir>", "pool directory (default: $KVP_POOL_DIR, else /var/lib/hyperv)")
    .option("--timeout <ms>", "longest wait for a pool lock, in milliseconds (default 5000)")
    .addHelpText("after", EXAMPLES)
    .exitOverride()
    .showHelpAfterError(`(run ${TOOL} --help for usage)`)
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(s.startsWith("error:") ? `${TOOL}: ${s.slice(7)}` : s),
    });

  const globals = () => common(program.opts());

  program
    .command("list")
    .description("list records in file order (every pool unless --pool); chunked values reassembled")
    .option("--pool <pool>", POOL_HELP)
    .option("--raw", "show the stored records as they are: parts KEY#i/N are not reassembled")
    .option("--json", "JSON array of {pool, poolName, index, key, value}, plus parts: N for a reassembled value")
    .addHelpText(
      "after",
      "\nPool 2 (auto) is synthesised by the daemon; list shows what it would send for this machine.\n" +
        "A value stored as parts KEY#1/N … KEY#N/N is listed once as KEY, where its first part is;\n" +
        "parts that cannot be reassembled (one missing, two splits mixed) are listed as stored, with a note.\n" +
        "A pool that cannot be read (pool 2: synthesised) is one line on stderr; the others are still\n" +
        "listed, and the exit code is 3.",
    )
    .action(async (opts) => {
      const result = await list({
        ...globals(),
        ...(opts.pool ? { pool: parsePoolOption(opts.pool, "list") } : {}),
        ...(opts.raw ? { raw: true } : {}),
        ...(ctx.synthesizeAutoPool ? { synthesizeAutoPool: ctx.synthesizeAutoPool } : {}),
      });
      if (opts.json) json(ctx, result.records);
      else ctx.stdout.write(formatList(result));
      for (const note of result.notes) if (!opts.json) ctx.stderr.write(`${TOOL}: note: ${note}\n`);
      for (const note of result.chunkNotes) ctx.stderr.write(`${TOOL}: note: ${note}\n`);
      for (const f of result.failures) ctx.stderr.write(`${TOOL}: ${f.message}\n`);
      if (result.failures.length > 0) setExit(EXIT.io);
    });

  program
    .command("get")
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
      if (opts.json) {
        json(ctx, {
          pool: pool.number,
          poolName: pool.name,
          index: record.index,
          key: record.key,
          value: record.value,
          ...(record.parts === undefined ? {} : { parts: record.parts }),
        });
      } else ctx.stdout.write(formatValue(record));
    });

  program
    .command("set")
    .description("add or change records (upsert): KEY VALUE, or many from --from-file")
    .argument("[key]", "the key")
    .argument("[value]", "the value (may be empty)")
    .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
    .option("--from-file <file>", "KEY=VALUE lines or a JSON object ('-' reads stdin); all set under one lock")
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
    .addOption(new Option("--force", "write a pool the daemon owns (0, 2, 3, 4)"))
    .option("--json", "print what was done as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  kvp-pool set ReadyState ready\n  printf 'a=1\\nb=2\\n' | kvp-pool set --from-file -\n  kvp-pool set --from-file facts.json --json\n  kvp-pool set --chunk report \"$(cat report.txt)\"   up to 999 parts; kvp-pool get report reassembles it",
    )
    .action(async (key, value, opts) => {
      const pool = parsePoolOption(opts.pool, "set");
      if (opts.chunk && (opts.wireLimits || opts.ignoreCase)) {
        throw new CliError(
          "usage",
          `--chunk cannot be combined with ${opts.wireLimits ? "--wire-limits (parts are always what the host receives whole)" : "--ignore-case (parts are matched exactly)"}`,
          `${TOOL} set --help`,
        );
      }
      let records: KvpRecord[];
      if (opts.fromFile !== undefined) {
        if (key !== undefined)
          throw new CliError("usage", "give either KEY VALUE or --from-file, not both", `${TOOL} set --help`);
        records = parsePairs(await readInput(opts.fromFile, ctx), opts.fromFile === "-" ? "stdin" : opts.fromFile);
      } else if (key === undefined || value === undefined) {
        throw new CliError(
          "usage",
          key === undefined
            ? "missing KEY and VALUE"
            : `missing VALUE for ${JSON.stringify(key)} (use "" for an empty value)`,
          `${TOOL} set --help`,
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
        if (isPoolFileError(error, "invalid") && /host receives whole/.test(error.message)) {
          // --chunk helps with a long value, never with a long key.
          const chunk = isKvpError(error.cause, "invalid-value")
            ? `\n${TOOL}: --chunk sends it whole, as parts KEY#1/N … KEY#N/N that kvp-pool get reassembles`
            : "";
          throw new CliError(
            "usage",
            `${error.message}${chunk}\n${TOOL}: --wire-limits stores up to 511/2047 bytes, but the host would still get it cut`,
            `${TOOL} set --help`,
          );
        }
        throw error;
      });
      if (opts.json) json(ctx, outcomes);
    });

  program
    .command("delete")
    .description(
      "delete the first record with KEY (or --all) and every part KEY#i/N of a chunked KEY, keeping the order of the rest",
    )
    .argument("<key>", "the key")
    .option("--pool <pool>", `${POOL_HELP} (default 1)`, "1")
    .option("--all", "delete every record with KEY")
    .option("--ignore-case", "match the key case-insensitively")
    .option("--raw", "delete only the stored record with exactly KEY (e.g. one part, KEY#2/3)")
    .addOption(new Option("--force", "write a pool the daemon owns (0, 2, 3, 4)"))
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
        json(
          ctx,
          removed.map((r) => ({ pool: pool.number, index: r.index, key: r.key, value: r.value })),
        );
    });

  program
    .command("check")
    .description(
      "find what the daemon or the host would stumble on, and chunked values that cannot be reassembled (pool 1 unless --pool or --all-pools)",
    )
    .option("--pool <pool>", POOL_HELP)
    .option("--all-pools", "check pools 0, 1, 3 and 4")
    .option("--repair", "fix what is safe to fix, under the write lock, and say what was done")
    .addOption(new Option("--force", "allow --repair on pools the daemon owns"))
    .option("--verbose", "also show notes (such as garbage after NULs, which is harmless)")
    .option("--json", "print the reports as JSON")
    .addHelpText("after", "\nExit code 1 when errors or warnings remain.")
    .action(async (opts) => {
      if (opts.pool !== undefined && opts.allPools)
        throw new CliError("usage", "give --pool or --all-pools, not both", `${TOOL} check --help`);
      const pools =
        opts.pool !== undefined
          ? [parsePoolOption(opts.pool, "check")]
          : opts.allPools
            ? undefined
            : [parsePoolOption("1", "check")];
      const { ALL_POOLS } = await import("./commands/pool-option.js");
      const results = await check({
        ...globals(),
        pools: pools ?? ALL_POOLS,
        ...(opts.repair ? { repair: true } : {}),
        ...(opts.force ? { force: true } : {}),
      });
      if (opts.json) json(ctx, results);
      else ctx.stdout.write(formatCheck(results, opts.verbose === true));
      if (results.some((r) => r.failure)) setExit(EXIT.io);
      else if (results.some((r) => r.report && r.report.errors + r.report.warnings + (r.chunks?.length ?? 0) > 0))
        setExit(EXIT.notFound);
    });

  program
    .command("watch")
    .description(
      "print changes (added, changed, removed keys) as they happen, until interrupted; chunked values as one key",
    )
    .option("--pool <pool>", `${POOL_HELP} (default: every pool with a file)`)
    .option("--raw", "report stored records as they are: each part KEY#i/N of a chunked value is a key of its own")
    .option("--json", "one JSON object per change and line (NDJSON), shape below")
    .addHelpText(
      "after",
      "\nA value stored as parts KEY#1/N … KEY#N/N is reported as KEY, one change per value, with parts: N.\n" +
        "Parts that cannot be reassembled (one missing, e.g. while a writer adds them one by one; two\n" +
        "splits mixed) are never reported as a value: KEY keeps its last reported value until its parts\n" +
        "are whole (then added/changed) or all gone (then removed), and a note on stderr says so once.\n" +
        "\nWith --json, one object per line:\n" +
        '  {"time":"2026-11-21T07:01:02.345Z","pool":1,"poolName":"guest","type":"changed","key":"report",\n' +
        '   "value":"…","previous":"…","index":4,"parts":3}\n' +
        "type is added, changed or removed; value is absent for removed, previous only for changed and\n" +
        "removed, parts only for a reassembled value; index is the record's position in the pool (a\n" +
        "reassembled value's first part). Notes and problems go to stderr, never into the stream.",
    )
    .action(async (opts) => {
      const pools = opts.pool !== undefined ? [parsePoolOption(opts.pool, "watch")] : undefined;
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        await watch({
          ...globals(),
          ...(pools ? { pools } : {}),
          ...(opts.raw ? { raw: true } : {}),
          signal: controller.signal,
          onEvent: (event) => ctx.stdout.write(opts.json ? `${JSON.stringify(event)}\n` : formatEvent(event)),
          onProblem: (_pool, error) => ctx.stderr.write(`${TOOL}: ${error.message}\n`),
          onNote: (note) => ctx.stderr.write(`${TOOL}: note: ${note}\n`),
          onReady: () => ctx.stderr.write(`${TOOL}: watching; Ctrl-C stops\n`),
        });
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });

  return program;
}

async function readInput(file: string, ctx: CliContext): Promise<string> {
  if (file === "-") return ctx.readStdin();
  const { readFile } = await import("node:fs/promises");
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new CliError("usage", `cannot read --from-file ${JSON.stringify(file)}: ${code}`, `${TOOL} set --help`);
  }
}

// Re-exported for the printers' tests and for scripts embedding kvp-pool.
export { formatDiagnostic, printable };
