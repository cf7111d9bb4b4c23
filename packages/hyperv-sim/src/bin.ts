#!/usr/bin/env node
/** The `hyperv-sim` command: one subcommand, `serve`; owns signals and exit codes. */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { isSimError } from "./errors.js";
import type { WmiCluster } from "./wmi/cluster.js";
import { SERVE_USAGE, parseServeArgs, serve } from "./serve.js";

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h") {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  if (command === "--version" || command === "-V") {
    process.stdout.write(`${packageVersion()}\n`);
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
  const cluster = handle.cluster;
  let lines: ReturnType<typeof createInterface> | undefined;
  // Live migration on demand, so users can test that their automation follows a VM. Only
  // from a pipe or file: reading a terminal would stop a `serve … &` with SIGTTIN.
  if (cluster !== undefined && !process.stdin.isTTY) {
    lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      void migrateCommand(cluster, line).then(
        (done) => done && process.stdout.write(`${JSON.stringify({ migrated: done })}\n`),
        (error: unknown) =>
          process.stderr.write(`hyperv-sim: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    });
  }
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  lines?.close();
  await handle.close();
  return 0;
}

/**
 * The version in this package's package.json: one directory up from src/ (sources, tests)
 * and from dist/ (the published build) alike, and it ships in every tarball.
 */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

/** `migrate VM NODE` (VM by name or GUID): what moved, or undefined for a blank line. */
async function migrateCommand(
  cluster: WmiCluster,
  line: string,
): Promise<{ vm: string; guid: string; from: string; to: string } | undefined> {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
  if (words.length === 0) return undefined;
  if (words[0] !== "migrate" || words.length !== 3)
    throw new Error(`unknown command ${JSON.stringify(line.trim())}: migrate VM NODE`);
  const [, ref, node] = words as [string, string, string];
  const matches = cluster.vms.filter(
    (vm) => vm.guid.toUpperCase() === ref.replace(/[{}]/g, "").toUpperCase() || vm.name === ref,
  );
  if (matches.length !== 1)
    throw new Error(
      `migrate: ${matches.length === 0 ? "no VM" : "several VMs"} named ${JSON.stringify(ref)}; give its GUID`,
    );
  const vm = matches[0]!;
  const from = cluster.ownerOf(vm.guid) ?? "";
  await cluster.migrateVm(vm.guid, node);
  return { vm: vm.name, guid: vm.guid, from, to: cluster.ownerOf(vm.guid) ?? node };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`hyperv-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(isSimError(error, "invalid-argument") ? 2 : 1);
  },
);
