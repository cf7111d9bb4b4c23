import { type ErrorRule, errorsByCode, runCli } from "@hyperv-kvp/cli-kit";
import { isKvpError } from "@hyperv-kvp/kvp-core";
import { isPoolFileError } from "@hyperv-kvp/pool-file";
import { checkCommand } from "./commands/check.js";
import { deleteCommand } from "./commands/delete.js";
import { getCommand } from "./commands/get.js";
import { listCommand } from "./commands/list-command.js";
import type { CommonOptions } from "./commands/pool-option.js";
import { setCommand } from "./commands/set.js";
import { watchCommand } from "./commands/watch.js";
import { type CliContext, processContext } from "./context.js";
import { VERSION } from "./version.js";

const TOOL = "kvp-pool";

const EXAMPLES = `
Examples:
  kvp-pool list                          every pool, as the guest sees it
  kvp-pool get cloudstack-vm-userdata --pool external
  kvp-pool set ReadyState ready          tell the host (pool 1, guest)
  kvp-pool set --from-file report.env    many KEY=VALUE lines, one lock
  kvp-pool set --chunk --from-file big.json   long values as parts KEY#1/N … KEY#N/N
  kvp-pool get report                    a chunked value, reassembled (--raw: as stored)
  kvp-pool delete ReadyState             (remove is the same command)
  kvp-pool check --all-pools --json
  kvp-pool watch --pool external --json  NDJSON, one change per line

Values longer than the host receives whole (1022 UTF-16 units) can be stored with --chunk as
parts KEY#1/N … KEY#N/N, each whole for the host; list, get, watch and delete treat them as
KEY (--raw: the stored records).
Pools live in /var/lib/hyperv unless --dir or $KVP_POOL_DIR says otherwise.
With --json, a failure also prints {"error":{"code","message","exitCode"}} on stdout.
Exit codes: 0 ok, 1 not found / problems found, 2 usage, 3 IO or lock failure.`;

/**
 * kvp-pool's error table (the kit knows its own CliError: usage 2, not-found/problems 1):
 * pool-file's `not-found` is 1, a refused or invalid write is the user's to fix (2), the
 * rest is IO (3); kvp-core's errors are invalid input (2).
 */
export const POOL_ERRORS: readonly ErrorRule[] = [
  errorsByCode(isPoolFileError, { "not-found": 1, invalid: 2, refused: 2 }, 3),
  errorsByCode(isKvpError, {}, 2),
];

/**
 * Runs kvp-pool with `argv` (as `process.argv`: node, script, args…) and returns the exit
 * code; the kit's run loop reports every failure.
 */
export function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  return runCli(
    {
      tool: TOOL,
      version: VERSION,
      description: "Read, write, delete, check and watch Hyper-V KVP pool records, safely beside hv_kvp_daemon.",
      configure: (program) =>
        program
          .option("--dir <dir>", "pool directory (default: $KVP_POOL_DIR, else /var/lib/hyperv)")
          .option(
            "--timeout <duration>",
            "longest wait for a pool lock: 500ms, 5s, 1m (default 5s; a bare number is milliseconds, deprecated)",
          )
          .addHelpText("after", EXAMPLES),
      context: (run, program) => ({
        run,
        ctx,
        globals: (): CommonOptions => {
          const opts = program.opts() as { dir?: string; timeout?: string };
          return {
            ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
            ...(opts.timeout !== undefined
              ? {
                  timeoutMs: run.duration(opts.timeout, {
                    option: "--timeout",
                    bareUnit: "ms",
                    hint: `${TOOL} --help`,
                  }),
                }
              : {}),
          };
        },
      }),
      commands: [listCommand, getCommand, setCommand, deleteCommand, checkCommand, watchCommand],
      errors: POOL_ERRORS,
    },
    argv,
    ctx,
  );
}
