#!/usr/bin/env node
// Empties a package's build output before tsc writes it, so a source that was removed or
// renamed leaves no stale module in dist (tsc never deletes). A script rather than
// `rm -rf dist` because package scripts run under cmd.exe on Windows, which has no rm.
//
//   node ../../scripts/clean-dist.mjs [DIR]    (DIR defaults to dist, relative to the
//                                              package whose script runs it)
import { rmSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";

const dir = resolve(process.argv[2] ?? "dist");
const inside = relative(process.cwd(), dir);
// Only ever a directory inside the package: a typo must not empty anything else.
if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
  process.stderr.write(`clean-dist: refusing to remove ${dir}: not inside ${process.cwd()}\n`);
  process.exit(2);
}
rmSync(dir, { recursive: true, force: true });
