#!/usr/bin/env node
// Prints the path of a pinned official Node build, fetching it from the npm registry into
// the cache on first use (scripts/lib/node-builds.mjs says which builds are pinned and why).
//
//   node scripts/fetch-node.mjs <linux|win>-<x64|arm64>@<version>     e.g. linux-x64@18.20.4
//
// Exit status 0 with the path on stdout; 1 with `fetch-node: why` on stderr; 2 for bad usage.
import { NodeBuildError, fetchNode, parseNodeSpec } from "./lib/node-builds.mjs";

const [spec, ...rest] = process.argv.slice(2);
try {
  if (spec === undefined || rest.length > 0)
    throw new NodeBuildError("usage: node scripts/fetch-node.mjs <linux|win>-<x64|arm64>@<version>");
  parseNodeSpec(spec);
  process.stdout.write(`${fetchNode(spec)}\n`);
} catch (error) {
  process.stderr.write(`fetch-node: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode =
    spec === undefined || rest.length > 0 || /^invalid Node build/.test(String(error?.message)) ? 2 : 1;
}
