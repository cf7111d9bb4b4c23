import { afterEach, expect, it } from "vitest";
import { failureOf } from "@hyperv-kvp/cli-kit";
import { PoolFileError } from "@hyperv-kvp/pool-file";
import { AgentError } from "./agent-error.js";
import { AGENT_ERRORS, main } from "./main.js";
import { tempDir, testContext } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

it("an unexpected error is one line on stderr, without a stack trace, exit 3", async () => {
  const { dir, cleanup } = tempDir("main");
  cleanups.push(cleanup);
  const ctx = {
    ...testContext(),
    bootId: () => {
      throw new RangeError("boot id exploded");
    },
  };
  let err = "";
  const code2 = await main(["node", "kvp-agent", "--dir", dir, "--state-dir", dir, "once"], {
    ctx: { ...ctx, stderr: { write: (s: string) => (err += s) } },
  });
  expect(code2).toBe(3);
  expect(err).toBe("kvp-agent: internal error: RangeError: boot id exploded\n");
});

it("maps pool-file's not-found to exit 1, as kvp-pool does, and its other failures to 2 or 3", () => {
  const exitOf = (error: unknown) => failureOf(error, AGENT_ERRORS).exitCode;
  expect(exitOf(new PoolFileError("not-found", "no key"))).toBe(1);
  expect(exitOf(new PoolFileError("refused", "daemon-owned"))).toBe(2);
  expect(exitOf(new PoolFileError("daemon-absent", "no pool directory"))).toBe(3);
  expect(exitOf(new PoolFileError("locked", "held"))).toBe(3);
  expect(exitOf(new AgentError("config", "bad"))).toBe(2);
  expect(exitOf(new AgentError("timeout", "gave up"))).toBe(1);
});
