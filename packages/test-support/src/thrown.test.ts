import { describe, expect, it } from "vitest";
import { thrown, thrownAsync } from "./thrown.js";

class CodedError extends Error {
  constructor(readonly code: string) {
    super(`coded: ${code}`);
  }
}

describe("thrown", () => {
  it("returns what the function throws, even a non-Error", () => {
    const error = new CodedError("invalid");
    expect(
      thrown(() => {
        throw error;
      }),
    ).toBe(error);
    expect(
      thrown(() => {
        throw "text";
      }),
    ).toBe("text");
  });

  it("returns the error typed by its class", () => {
    const error = thrown(() => {
      throw new CodedError("truncated");
    }, CodedError);
    expect(error.code).toBe("truncated");
  });

  it("fails when nothing is thrown", () => {
    expect(() => thrown(() => 1)).toThrow("expected a throw, nothing was thrown");
    expect(() => thrown(() => 1, CodedError)).toThrow("expected a throw of CodedError, nothing was thrown");
  });

  it("fails on an error of another class, keeping it as the cause", () => {
    const other = new TypeError("not ours");
    const failure = thrown(
      () =>
        thrown(() => {
          throw other;
        }, CodedError),
      Error,
    );
    expect(failure.message).toBe("expected a CodedError, got TypeError: not ours");
    expect(failure.cause).toBe(other);
  });

  it("fails on a function that returns a promise (that is thrownAsync's job)", () => {
    expect(() => thrown(() => Promise.reject(new CodedError("late")))).toThrow("use thrownAsync");
  });
});

describe("thrownAsync", () => {
  it("returns the rejection of a promise or of a function's promise", async () => {
    const error = new CodedError("locked");
    expect(await thrownAsync(Promise.reject(error))).toBe(error);
    expect(await thrownAsync(async () => Promise.reject(error))).toBe(error);
  });

  it("counts a function that throws before returning its promise as rejecting", async () => {
    const error = await thrownAsync(() => {
      throw new CodedError("sync");
    }, CodedError);
    expect(error.code).toBe("sync");
  });

  it("fails when the promise resolves, or rejects with another class", async () => {
    await expect(thrownAsync(Promise.resolve(1))).rejects.toThrow("expected a rejection, it resolved");
    await expect(thrownAsync(Promise.reject(new RangeError("x")), CodedError)).rejects.toThrow(
      "expected a CodedError, got RangeError: x",
    );
  });
});
