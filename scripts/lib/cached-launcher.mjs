// Writes a program's bundle as its launcher: a few kilobytes of code (cli-kit's
// compile-cache.ts) that run the bundle, carried in a comment, through a V8 code cache.
// Why a comment: Node passes over a comment with a quick search for its end, where a string
// literal is scanned, copied and hashed. Why one file: it is what users run, ship and package
// (npm's bin, the .deb's /usr/lib/kvp-agent/*.cjs, the single executables' input). See
// compile-cache.ts.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";

/**
 * What each comment end (`*` then `/`) of a bundle is written as in its carrier, so that it
 * cannot end the carrier's comment early; the launcher hands it to sourceInCarrier, which turns
 * it back. A bundle holding U+0001 at all is refused (none of ours does; esbuild prints a
 * "\u0001" of the sources as the character itself, so such a source fails the build by name),
 * so the mark reads back unambiguously.
 */
const CARRIER_ESCAPE = "*\u0001/";

/**
 * The command names in a program's `--help` (the first word of each line of its Commands
 * section, and each alias after a `|`).
 * @param {string} help
 * @returns {string[]}
 */
export function commandsInHelp(help) {
  const section = /\nCommands:\n((?: {2}\S.*\n?| {3,}.*\n?)*)/.exec(help)?.[1] ?? "";
  const names = [];
  for (const line of section.split("\n")) {
    const match = /^ {2}([a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*)/.exec(line);
    if (match) names.push(...match[1].split("|"));
  }
  return names;
}

/**
 * Writes `outfile` (mode 0755, with a `#!/usr/bin/env node` line): the launcher, running
 * `bundle` through the code cache under the name `program`.
 * @param {{ bundle: string, outfile: string, program: string, appDir: string, target: string }} options
 *   bundle: the program's CommonJS bundle (its text); appDir: where `@hyperv-kvp/cli-kit`
 *   resolves from; target: esbuild's target for the launcher (the bundle's own)
 * @returns {Promise<{ commands: string[], sourceId: string }>}
 */
export async function writeCachedLauncher({ bundle, outfile, program, appDir, target }) {
  // vm.Script has no loader for import() on Node 18 and 20 (it throws
  // ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING when the line runs, not before): the bundle must
  // have none left (esbuild: supported: { "dynamic-import": false }).
  if (/\bimport\s*\(/.test(bundle)) {
    throw new Error(
      `${program}: the bundle has a dynamic import(), which its launcher cannot run on Node 18 or 20; build it with supported: { "dynamic-import": false }`,
    );
  }
  // The carrier's comment must hold the bundle whole: its comment ends are escaped with a
  // character the bundle must not hold, so that they read back unambiguously.
  if (bundle.includes("\u0001")) {
    throw new Error(
      `${program}: the bundle holds the character U+0001, which its launcher's carrier uses as an escape`,
    );
  }
  const commands = helpCommands(bundle, outfile);
  if (commands.length === 0) throw new Error(`${program}: no commands found in its --help`);
  const sourceId = createHash("sha256").update(bundle).digest("hex").slice(0, 16);
  const body = bundle.replace(/^#!.*\n/, "");
  const escaped = body.includes("*/");
  const result = await build({
    stdin: {
      contents: `import { runCached, sourceInCarrier } from "@hyperv-kvp/cli-kit/compile-cache";
runCached({
  source: sourceInCarrier(__kvpCarrier${escaped ? `, ${JSON.stringify(CARRIER_ESCAPE)}` : ""}),
  sourceId: ${JSON.stringify(sourceId)},
  filename: __filename,
  program: ${JSON.stringify(program)},
  commands: ${JSON.stringify(commands)},
  createRequire: module.constructor.createRequire ?? require("node:module").createRequire,
});`,
      resolveDir: appDir,
      loader: "js",
    },
    bundle: true,
    platform: "node",
    format: "cjs",
    target,
    minify: true,
    conditions: ["@hyperv-kvp/source"],
    banner: { js: "#!/usr/bin/env node" },
    write: false,
    logLevel: "warning",
  });
  // The carrier goes after esbuild's output (esbuild drops comments), at the module's top
  // level, where its declaration is hoisted over the call above. Without the #! line: Node
  // strips it from a main module, vm.Script would not.
  const carrier = `function __kvpCarrier(){/*\n${escaped ? body.replaceAll("*/", CARRIER_ESCAPE) : body}*/}\n`;
  writeFileSync(outfile, result.outputFiles[0].text + carrier);
  chmodSync(outfile, 0o755);
  return { commands, sourceId };
}

/** The carrier as writeCachedLauncher appends it: the launcher's last line. */
const CARRIER = /\nfunction __kvpCarrier\(\)\{\/\*\n([\s\S]*)\*\/\}\n$/;

/**
 * A launcher's text with its carrier reading the bundle from the single executable's asset
 * `asset` (node:sea's getAsset, Node 20.12 and later), and the bundle to store under that name:
 * for the standalone executable, whose esbuild run drops comments and so the carrier's.
 * sourceInCarrier calls a carrier that holds no comment. Why not a string literal: V8 scans a
 * literal character by character when it compiles the script; the two bundles of
 * kvp-agent-standalone cost ~8 M instructions at every start that way; an asset is in memory
 * already and only decoded (`once` there: 133.1 M → 120.3 M in all).
 * @param {string} launcher the text of a launcher writeCachedLauncher wrote
 * @param {string} asset the asset's name in the executable
 * @returns {{ launcher: string, bundle: string }}
 */
export function withBundleAsAsset(launcher, asset) {
  const carrier = CARRIER.exec(launcher);
  if (carrier === null) throw new Error("not a launcher written by writeCachedLauncher: no carrier at its end");
  return {
    launcher: `${launcher.slice(0, carrier.index)}\nfunction __kvpCarrier(){return require("node:sea").getAsset(${JSON.stringify(asset)},"utf8")}\n`,
    bundle: carrier[1].replaceAll(CARRIER_ESCAPE, "*/"),
  };
}

/** Runs the bundle (from a file beside `outfile`, where its `require`s resolve) with `--help`. */
function helpCommands(bundle, outfile) {
  const file = join(dirname(outfile), `.help-${process.pid}.cjs`);
  writeFileSync(file, bundle);
  try {
    const run = spawnSync(process.execPath, [file, "--help"], {
      encoding: "utf8",
      env: { ...process.env, COLUMNS: "200" },
    });
    if (run.status !== 0) throw new Error(`the bundle's --help failed (${run.status}): ${run.stderr}`);
    return commandsInHelp(run.stdout);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Writes what an app's esbuild run (`write: false`) produced: its source map as it is, its
 * bundle as the launcher (see {@link writeCachedLauncher}) under the bundle's own name.
 * @param {import("esbuild").BuildResult} result
 * @param {{ program: string, target: string, appDir?: string }} options  appDir: the app's
 *   directory (the build's working directory unless given).
 */
export async function writeBuiltProgram(result, { program, target, appDir = process.cwd() }) {
  const bundle = result.outputFiles.find((f) => f.path.endsWith(".cjs"));
  const map = result.outputFiles.find((f) => f.path.endsWith(".map"));
  // With write: false esbuild creates no directory, and a fresh clone has no dist/.
  mkdirSync(dirname(bundle.path), { recursive: true });
  if (map) writeFileSync(map.path, map.contents);
  await writeCachedLauncher({ bundle: bundle.text, outfile: bundle.path, program, appDir, target });
}
