import { type ErrorRule, errorsByCode, runCli } from "@hyperv-kvp/cli-kit";
import { isSimError } from "../index.js";
import { type SimContext, processContext } from "./context.js";
import { serveCommand } from "./serve-command.js";
import { VERSION } from "./version.js";

/**
 * hyperv-sim's error table: a wrong command line is 2, anything else the simulator reports
 * (no daemon, no compiler) or the system refuses (a port in use) is 1.
 */
export const SIM_ERRORS: readonly ErrorRule[] = [
  errorsByCode(isSimError, { "invalid-argument": 2 }, 1),
  (error) =>
    error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string"
      ? { code: (error as NodeJS.ErrnoException).code!, message: error.message, exitCode: 1 }
      : undefined,
];

/** Runs hyperv-sim with `argv` (as `process.argv`) and returns the exit code. */
export function main(argv: readonly string[], ctx: SimContext = processContext()): Promise<number> {
  return runCli(
    {
      tool: "hyperv-sim",
      version: VERSION,
      description:
        "A simulated Hyper-V host: WMI over WS-Management in front of the real hv_kvp_daemon (or its model).",
      configure: (program) =>
        program.addHelpText(
          "after",
          "\nExamples:\n  hyperv-sim serve                       one VM web01, sealed HTTP with NTLM\n  hyperv-sim serve --vms web01,db01 --https\n  hyperv-sim serve --help                every option",
        ),
      context: (run) => ({ run, ctx }),
      commands: [serveCommand],
      errors: SIM_ERRORS,
    },
    argv,
    ctx,
  );
}
