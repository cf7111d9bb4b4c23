import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { KvpError } from "./errors.js";
import { POOLS, parsePool, poolFileName } from "./pools.js";

describe("POOLS", () => {
  it("lists the five pools in number order with the kernel's names", () => {
    expect(POOLS.map((p) => [p.number, p.name, p.kernelName])).toEqual([
      [0, "external", "KVP_POOL_EXTERNAL"],
      [1, "guest", "KVP_POOL_GUEST"],
      [2, "auto", "KVP_POOL_AUTO"],
      [3, "auto-external", "KVP_POOL_AUTO_EXTERNAL"],
      [4, "auto-internal", "KVP_POOL_AUTO_INTERNAL"],
    ]);
    expect(POOLS.map((p) => p.number)).toEqual([0, 1, 2, 3, 4]);
  });

  it("files are .kvp_pool_<n>", () => {
    expect(POOLS.map((p) => poolFileName(p.number))).toEqual([
      ".kvp_pool_0",
      ".kvp_pool_1",
      ".kvp_pool_2",
      ".kvp_pool_3",
      ".kvp_pool_4",
    ]);
  });
});

describe("parsePool", () => {
  it.each([
    { input: 0, number: 0 },
    { input: 1, number: 1 },
    { input: 4, number: 4 },
    { input: "0", number: 0 },
    { input: "3", number: 3 },
    { input: " 1 ", number: 1 },
    { input: "external", number: 0 },
    { input: "guest", number: 1 },
    { input: "auto", number: 2 },
    { input: "auto-external", number: 3 },
    { input: "auto-internal", number: 4 },
    { input: "GUEST", number: 1 },
    { input: "Auto-External", number: 3 },
    { input: "KVP_POOL_EXTERNAL", number: 0 },
    { input: "KVP_POOL_GUEST", number: 1 },
    { input: "KVP_POOL_AUTO", number: 2 },
    { input: "KVP_POOL_AUTO_EXTERNAL", number: 3 },
    { input: "kvp_pool_auto_internal", number: 4 },
    { input: "Kvp_Pool_Guest", number: 1 },
  ])("$input → pool $number", ({ input, number }) => {
    const pool = parsePool(input);
    expect(pool.number).toBe(number);
    expect(pool).toBe(POOLS[number]);
  });

  const names = "0|external, 1|guest, 2|auto, 3|auto-external, 4|auto-internal";
  it.each([
    { input: 5, shown: "5" },
    { input: -1, shown: "-1" },
    { input: 1.5, shown: "1.5" },
    { input: "5", shown: "5" },
    { input: "", shown: "" },
    { input: "pool1", shown: "pool1" },
    { input: "guests", shown: "guests" },
    { input: "auto_external", shown: "auto_external" },
    { input: "KVP_POOL", shown: "KVP_POOL" },
    { input: ".kvp_pool_1", shown: ".kvp_pool_1" },
  ])("rejects $input with invalid-pool, listing the valid names", ({ input, shown }) => {
    const error = thrown(() => parsePool(input), KvpError);
    expect(error.code).toBe("invalid-pool");
    expect(error.message).toBe(`invalid pool: ${JSON.stringify(shown)} (use one of ${names})`);
  });
});
