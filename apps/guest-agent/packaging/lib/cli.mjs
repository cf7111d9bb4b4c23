// The builders' command-line glue: options, and one place that turns a failure into
// `tool: message` on stderr with exit 2 (usage) or 1 (anything else), never a stack trace.

/** A mistake in the command line: exit status 2. */
export class UsageError extends Error {}

/**
 * Parses `argv` against `spec`: option name → "value" (takes the next argument) or "flag".
 * @param {string[]} argv
 * @param {Record<string, "value" | "flag">} spec e.g. { "--arch": "value", "--no-build": "flag" }
 * @param {string} usage shown when an argument is unknown
 * @returns {Record<string, string | true | undefined>}
 * @throws {UsageError}
 */
export function parseOptions(argv, spec, usage) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const kind = spec[arg];
    if (kind === undefined) throw new UsageError(`unknown argument ${JSON.stringify(arg)} (usage: ${usage})`);
    if (kind === "flag") options[arg] = true;
    else {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      options[arg] = value;
    }
  }
  return options;
}

/**
 * Runs `main` and prints each path it returns on stdout (the release's protocol), or the
 * failure as `tool: message` on stderr.
 * @param {string} tool
 * @param {() => Promise<string[]> | string[]} main
 */
export async function runBuilder(tool, main) {
  try {
    const paths = await main();
    for (const path of paths) process.stdout.write(`${path}\n`);
  } catch (error) {
    process.stderr.write(`${tool}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
