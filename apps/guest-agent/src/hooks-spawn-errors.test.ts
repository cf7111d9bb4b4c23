// Hooks whose program cannot even be started: node's spawn throws for some of these instead
// of emitting "error". Kept apart from hooks.test.ts.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { HookSpec } from "./config.js";
import { type HookEvent, type HookResult, HookQueue, runHook } from "./hooks.js";
import { createLogger } from "./logger.js";

const log = createLogger({ stream: { write: () => true }, level: "debug", logValues: false, journald: false });
const event: HookEvent = { pool: 0, type: "added", key: "k", value: "v" };
const hook = (name: string, command: string[]): HookSpec => ({
  name,
  command,
  keys: ["*"],
  events: ["added", "changed", "removed"],
  pools: [0],
  timeoutMs: 5000,
  source: "config",
});
const options = {
  spawn: (file: string, args: readonly string[], o: Parameters<typeof spawn>[2]) => spawn(file, [...args], o),
  env: { PATH: process.env["PATH"] },
  stateDir: "/nonexistent",
  now: () => new Date(0),
  log,
};

describe("hooks that cannot start", () => {
  it.each([
    ["a path through a regular file (ENOTDIR)", ["/etc/passwd/x"], "ENOTDIR"],
    ["a NUL in an argument", ["/bin/true", "a\0b"], "ERR_INVALID_ARG_VALUE"],
  ])("%s: a result with the error, not a rejection", async (_what, command, code) => {
    const result = await runHook(hook("bad", command), event, options);
    expect(result).toMatchObject({ hook: "bad", exitCode: null, signal: null, timedOut: false, error: code });
  });

  it("the queue goes on with the next hook", async () => {
    const results: HookResult[] = [];
    const queue = new HookQueue({
      ...options,
      hooks: () => [hook("bad", ["/etc/passwd/x"]), hook("good", ["/bin/true"])],
      onResult: (r) => results.push(r),
    });
    queue.push([event]);
    await queue.idle();
    expect(results.map((r) => [r.hook, r.error ?? r.exitCode])).toEqual([
      ["bad", "ENOTDIR"],
      ["good", 0],
    ]);
  });
});
