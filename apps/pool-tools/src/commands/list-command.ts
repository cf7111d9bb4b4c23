import { type CliCommand, KIT_EXIT } from "@hyperv-kvp/cli-kit";
import type { PoolCli } from "../context.js";
import { type ListOptions, type ListResult, list } from "./list.js";
import { listForPeople } from "./list-for-people.js";
import { POOL_HELP, parsePoolOption } from "./pool-option.js";

/** `kvp-pool list`: exit 3 when a pool could not be read (the others are still listed). */
export const listCommand: CliCommand<PoolCli> = {
  name: "list",
  define: (command, { run, ctx, globals }) =>
    command
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
        const options: ListOptions = {
          ...globals(),
          ...(opts.pool ? { pool: parsePoolOption(opts.pool, "list") } : {}),
          ...(opts.raw ? { raw: true } : {}),
          ...(ctx.synthesizeAutoPool ? { synthesizeAutoPool: ctx.synthesizeAutoPool } : {}),
        };
        let result: Omit<ListResult, "records">;
        if (opts.json) {
          const listed = await list(options);
          run.json(listed.records);
          result = listed;
        } else {
          const shown = await listForPeople(options);
          ctx.stdout.write(utf8.decode(shown.output));
          for (const note of shown.notes) run.note(note);
          result = shown;
        }
        for (const note of result.chunkNotes) run.note(note);
        for (const f of result.failures) ctx.stderr.write(`${run.tool}: ${f.message}\n`);
        if (result.failures.length > 0) run.setExitCode(KIT_EXIT.io);
      }),
};

// The listing's bytes are UTF-8 made by us (text encoded, or ASCII copied): nothing to replace.
const utf8 = new TextDecoder();
