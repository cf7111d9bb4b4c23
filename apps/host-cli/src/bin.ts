#!/usr/bin/env node
// The kvp-host command: a launcher only; everything is in main.ts.
import { main } from "./main.js";

// A reader that stops early (`| head`) closes the pipe: end quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kvp-host: internal error: ${String(error)}\n`);
    process.exitCode = 3;
  },
);
