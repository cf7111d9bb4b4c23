import { describe, expect, it } from "vitest";
import { notifySocketAddress, notifyText, withoutNotifySocket } from "./sd-notify.js";

describe("notifySocketAddress", () => {
  it("takes an absolute path as a file-system socket, its bytes as sun_path", () => {
    expect(notifySocketAddress("/run/systemd/notify")).toEqual({
      ok: true,
      sunPath: new TextEncoder().encode("/run/systemd/notify"),
      abstract: false,
    });
  });

  it("takes @NAME as an abstract socket: sun_path starts with a NUL, and has no terminating NUL", () => {
    expect(notifySocketAddress("@systemd/notify/1")).toEqual({
      ok: true,
      sunPath: Uint8Array.from([0, ...new TextEncoder().encode("systemd/notify/1")]),
      abstract: true,
    });
  });

  it.each([
    ["", /empty/],
    ["run/notify", /absolute path or @/],
    ["vsock:2:1234", /absolute path or @/],
    [`/${"x".repeat(108)}`, /longer than/],
    ["/a\0b", /NUL/],
  ])("refuses %j", (value, reason) => {
    const result = notifySocketAddress(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it("accepts the longest path sun_path holds with its NUL (107 bytes), and an abstract name of 107", () => {
    expect(notifySocketAddress(`/${"x".repeat(106)}`).ok).toBe(true);
    expect(notifySocketAddress(`@${"x".repeat(107)}`).ok).toBe(true);
    expect(notifySocketAddress(`@${"x".repeat(108)}`).ok).toBe(false);
  });
});

describe("notifyText", () => {
  it("writes one VAR=value line per field, in order, with newlines in values flattened", () => {
    expect(notifyText({ READY: "1", STATUS: "harvested: 3 items\nand more" })).toBe(
      "READY=1\nSTATUS=harvested: 3 items and more\n",
    );
  });
});

describe("withoutNotifySocket", () => {
  it("drops NOTIFY_SOCKET (hooks must not speak for the agent) and keeps the rest", () => {
    const env = { PATH: "/bin", NOTIFY_SOCKET: "/run/systemd/notify" };
    expect(withoutNotifySocket(env)).toEqual({ PATH: "/bin" });
    expect(env.NOTIFY_SOCKET).toBe("/run/systemd/notify");
  });
});
