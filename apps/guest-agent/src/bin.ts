#!/usr/bin/env node
// The kvp-agent command: a launcher only; everything is in main.ts.
import { main } from "./main.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // `run` and `wait` leave nothing pending when done; exit anyway so a stray handle
    // (a hook's pipe) cannot keep a stopped service alive past systemd's stop timeout.
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`kvp-agent: internal error: ${String(error)}\n`);
    process.exit(3);
  },
);
