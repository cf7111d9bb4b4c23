/// <reference types="node" />
// Test support only (excluded from the build): reads the real daemon-written pool files kept
// in the repository beside this file (fixtures/pools, with their source and licence notice).
import { readFileSync } from "node:fs";

/** The real pool files described in fixtures/pools/NOTICE.md. */
export type SampleName = "fedoravm" | "centosvm" | "testpool";

/** Bytes of one sample pool file (a fresh copy each call). */
export function readSample(name: SampleName): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`fixtures/pools/${name}`, import.meta.url)));
}
