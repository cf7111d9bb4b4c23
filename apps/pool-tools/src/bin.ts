#!/usr/bin/env node
// The kvp-pool command: a launcher only; everything is in main.ts.
import { main } from "./main.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kvp-pool: internal error: ${String(error)}\n`);
    process.exitCode = 3;
  },
);
