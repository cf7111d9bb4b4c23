#!/usr/bin/env node
/** The `hyperv-sim` command: one subcommand, `serve`; owns signals and exit codes. */
import { isSimError } from "./errors.js";
import { SERVE_USAGE, parseServeArgs, serve } from "./serve.js";

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h") {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  if (command !== "serve") {
    process.stderr.write(`hyperv-sim: unknown command ${JSON.stringify(command ?? "")}\n${SERVE_USAGE}\n`);
    return 2;
  }
  let options: ReturnType<typeof parseServeArgs>;
  try {
    options = parseServeArgs(rest);
  } catch (error) {
    process.stderr.write(`hyperv-sim: ${(error as Error).message}\n`);
    return 2;
  }
  const handle = await serve(options, process.stdout, process.stderr);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await handle.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`hyperv-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(isSimError(error, "invalid-argument") ? 2 : 1);
  },
);
