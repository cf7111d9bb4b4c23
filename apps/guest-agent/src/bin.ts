#!/usr/bin/env node
// The kvp-agent command: a launcher only; everything is in main.ts.
import { main } from "./main.js";

// A reader that stops early (`| head`) closes the pipe: that is not an error of ours, so end
// quietly instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

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
