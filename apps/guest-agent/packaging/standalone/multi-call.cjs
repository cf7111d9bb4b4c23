// The program of kvp-agent-standalone: kvp-agent and kvp-pool in one single executable
// (Node.js inside, see build-standalone.mjs). Which one runs is the name it was called by,
// as busybox does: /usr/bin/kvp-agent and /usr/bin/kvp-pool are links to it, and
// process.argv[1] is the name as invoked (in a single executable argv[0] and argv[1] are
// the executable's path and the name it was started as). Under any other name the first
// argument says: `kvp-agent-standalone agent status`, `kvp-agent-standalone pool list`.
//
// Each tool is its own built launcher (dist/kvp-agent.cjs, pool-tools' dist/kvp-pool.cjs,
// exactly what the kvp-agent package runs on the system's node), bundled in here by esbuild
// as lazily run modules, each reading its bundle from an asset of the executable
// (packaging/lib/standalone-program.mjs): only the chosen one is compiled and started. Both load koffi with
// createRequire(<this executable>), from node_modules beside the executable.
"use strict";
const { basename } = require("node:path");

const TOOLS = { "kvp-agent": "agent", "kvp-pool": "pool" };
const SELF = "kvp-agent-standalone";

const calledAs = basename(process.argv[1] ?? "");
let tool = TOOLS[calledAs];
if (tool === undefined) {
  const first = process.argv[2];
  if (first === "agent" || first === "pool") {
    tool = first;
    // The tools parse process.argv from index 2: drop the tool's name, as if called by it.
    process.argv.splice(2, 1);
  } else {
    const usage = `usage: ${calledAs || SELF} agent|pool [arguments], or call it by a link named kvp-agent or kvp-pool\n`;
    if (first === "--help" || first === "-h") {
      process.stdout.write(
        `${usage}kvp-agent and kvp-pool with Node.js included: \`${calledAs || SELF} agent --help\`, \`${calledAs || SELF} pool --help\`.\n`,
      );
      process.exit(0);
    }
    process.stderr.write(
      `${SELF}: ${first === undefined ? "no tool named" : `unknown tool ${JSON.stringify(first)}`}; ${usage}`,
    );
    process.exit(2);
  }
}
if (tool === "agent") require("kvp-agent-bundle");
else require("kvp-pool-bundle");
