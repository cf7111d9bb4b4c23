import { describe, expect, it } from "vitest";
import { valueAsArray } from "./values.js";

describe("valueAsArray", () => {
  it("gives every value as an array", () => {
    expect(valueAsArray(undefined)).toEqual([]);
    expect(valueAsArray(null)).toEqual([]);
    expect(valueAsArray("a")).toEqual(["a"]);
    expect(valueAsArray(["a", "b"])).toEqual(["a", "b"]);
  });
});
