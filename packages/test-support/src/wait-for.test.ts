import { describe, expect, it } from "vitest";
import { thrownAsync } from "./thrown.js";
import { waitFor } from "./wait-for.js";

describe("waitFor", () => {
  it("resolves once the condition holds, sync or async", async () => {
    let calls = 0;
    await waitFor(() => ++calls === 3, "the third call");
    expect(calls).toBe(3);
    let asyncCalls = 0;
    await waitFor(async () => ++asyncCalls === 2, "the second call");
    expect(asyncCalls).toBe(2);
  });

  it("fails at the deadline, naming what it waited for", async () => {
    const error = await thrownAsync(
      waitFor(() => false, "nothing", 0),
      Error,
    );
    expect(error.message).toBe("timed out after 0 ms waiting for nothing");
  });
});
