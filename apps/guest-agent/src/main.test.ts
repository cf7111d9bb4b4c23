import { afterEach, expect, it } from "vitest";
import { main } from "./main.js";
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
