/// <reference types="node" />
// Test support only (excluded from the build): reads the real daemon-written pool files in
// shared/samples/pools, found by walking up from this file so any checkout layout works.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findSamplesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "shared", "samples", "pools");
    if (existsSync(join(candidate, "NOTICE.md"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("shared/samples/pools not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The real pool files described in shared/samples/pools/NOTICE.md. */
export type SampleName = "fedoravm" | "centosvm" | "testpool";

/** Bytes of one sample pool file (a fresh copy each call). */
export function readSample(name: SampleName): Uint8Array {
  return new Uint8Array(readFileSync(join(findSamplesDir(), name)));
}
