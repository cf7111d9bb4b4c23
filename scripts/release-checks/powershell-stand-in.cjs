// TEST STAND-IN for powershell.exe, used by host-exe.test.ts: no PowerShell runs here (Wine's
// powershell.exe is a stub that runs nothing), so this program takes its place through
// $KVP_HOST_POWERSHELL to see what kvp-host hands PowerShell. The check builds it into a
// Windows single executable (so Wine runs it as a Windows program) and runs it with node on
// Linux.
//
// It writes its report: {"args": [...], "path": the -File argument, "script": that file's
// bytes in base64 (null without -File), "env": the names of the variables it was given}, to
// $KVP_STAND_IN_REPORT, else beside itself (EXE.report.json): kvp-host hands PowerShell only
// an allow-list of variables, so on Windows the report's place cannot come through the
// environment, and on Linux the wrapper script sets it. Then it speaks just enough of the bridge
// protocol (version 2, apps/host-cli/src/transports/powershell-protocol.ts) for `vms`: the
// hello line, an empty list of instances to every request, and an exit when its standard
// input ends.
"use strict";
const { readFileSync, writeFileSync } = require("node:fs");

// A single executable gets [exe, exe, ...args]; `node stand-in.cjs ...args` [node, script, ...args].
const args = process.argv.slice(2);
const at = args.indexOf("-File");
const path = at === -1 ? null : (args[at + 1] ?? null);
const script = path === null ? null : readFileSync(path).toString("base64");
const report = process.env.KVP_STAND_IN_REPORT ?? `${process.execPath}.report.json`;
writeFileSync(report, JSON.stringify({ args, path, script, env: Object.keys(process.env) }));

const send = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
send({ bridge: "kvp-host-bridge", protocol: 2, psVersion: "stand-in", psEdition: "", pid: process.pid });
let pending = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  pending += chunk;
  let newline = pending.indexOf("\n");
  while (newline !== -1) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (line !== "") send({ id: JSON.parse(line).id, ok: true, result: [] });
    newline = pending.indexOf("\n");
  }
});
process.stdin.on("end", () => process.exit(0));
