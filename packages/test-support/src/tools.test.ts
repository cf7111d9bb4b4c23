import { afterEach, describe, expect, it, vi } from "vitest";
import { type Tool, toolPolicy } from "./tools.js";

const present: Tool = { name: "present", allowMissingEnv: "KVP_ALLOW_NO_PRESENT", missing: () => undefined };
const absent: Tool = { name: "absent", allowMissingEnv: "KVP_ALLOW_NO_ABSENT", missing: () => "absent is gone" };

describe("toolPolicy", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("runs when every tool is usable", () => {
    expect(toolPolicy([present], {})).toEqual({ run: true });
  });

  it("fails without permission to skip, naming the tool and the variable", () => {
    expect(toolPolicy([present, absent], {})).toEqual({
      run: false,
      fail: true,
      reason:
        "absent is gone; the tests that need absent cannot run (set KVP_ALLOW_NO_ABSENT=1 to skip them knowingly)",
    });
  });

  it("fails in CI even with permission to skip", () => {
    const policy = toolPolicy([absent], { CI: "true", KVP_ALLOW_NO_ABSENT: "1" });
    expect(policy).toMatchObject({ run: false, fail: true });
    expect(policy.run === false && policy.reason).toContain("CI must run them");
  });

  it("skips with a banner when the tool's own variable allows it outside CI", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(toolPolicy([absent], { KVP_ALLOW_NO_ABSENT: "1" })).toMatchObject({ run: false, fail: false });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("SKIPPING every test that needs absent"));
  });

  it("does not take another tool's permission", () => {
    expect(toolPolicy([absent], { KVP_ALLOW_NO_PRESENT: "1" })).toMatchObject({ run: false, fail: true });
  });
});
