import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { readUntil } from "./pool-wait.js";
import { tempDir } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function pools() {
  const { dir, cleanup } = tempDir("pool-wait");
  cleanups.push(cleanup);
  return join(dir, "pools");
}

it("reads at once, and again when the pool changes, until read finds something", async () => {
  const dir = pools();
  mkdirSync(dir);
  writeFileSync(join(dir, ".kvp_pool_0"), "");
  let reads = 0;
  const outcome = readUntil({
    dir,
    pool: 0,
    safetyNetMs: 60_000,
    read: async () => {
      reads++;
      return reads >= 2 ? "second" : undefined;
    },
  });
  await new Promise((r) => setTimeout(r, 50));
  writeFileSync(join(dir, ".kvp_pool_0"), "x");
  expect(await outcome).toEqual({ kind: "found", value: "second" });
});

it("timeoutMs 0 reads once; a deadline and an abort end the wait", async () => {
  const dir = pools(); // not there yet: waited for, no error
  let reads = 0;
  const read = async () => {
    reads++;
    return undefined;
  };
  expect(await readUntil({ dir, pool: 0, safetyNetMs: 60_000, timeoutMs: 0, read })).toEqual({ kind: "timeout" });
  expect(reads).toBe(1);
  expect(await readUntil({ dir, pool: 0, safetyNetMs: 60_000, timeoutMs: 30, read })).toEqual({ kind: "timeout" });
  const controller = new AbortController();
  const waiting = readUntil({ dir, pool: 0, safetyNetMs: 60_000, read, signal: controller.signal });
  controller.abort();
  expect(await waiting).toEqual({ kind: "aborted" });
});
