import { describe, expect, it } from "vitest";
import { isCliError } from "./cli-error.js";
import { formatDuration, parseDuration } from "./duration.js";

const timeout = { option: "--timeout", bareUnit: "s" } as const;

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["5s", 5000],
    ["1.5s", 1500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    [" 3s ", 3000],
  ])("reads %j as %d ms without a note", (text, ms) => {
    expect(parseDuration(text, timeout)).toEqual({ ms });
  });

  it("reads a bare number in the option's old unit, with a deprecation note", () => {
    const seconds = parseDuration("30", timeout);
    expect(seconds.ms).toBe(30_000);
    expect(seconds.deprecation).toBe(
      "--timeout 30 without a unit is read as seconds; write 30s (a number without a unit will be refused in a later release)",
    );
    const ms = parseDuration("250", { option: "--timeout", bareUnit: "ms" });
    expect(ms.ms).toBe(250);
    expect(ms.deprecation).toMatch(/read as milliseconds; write 250ms/);
  });

  it.each(["", "fast", "5 s", "-1s", "5d", "1e3", "s"])("refuses %j as a usage error naming the option", (text) => {
    let caught: unknown;
    try {
      parseDuration(text, { ...timeout, hint: "tool --help" });
    } catch (error) {
      caught = error;
    }
    expect(isCliError(caught, "usage")).toBe(true);
    expect((caught as Error).message).toBe(
      `invalid --timeout ${JSON.stringify(text)}: a number with a unit: ms, s, m or h (e.g. 500ms, 5s, 2m)`,
    );
    expect((caught as { hint?: string }).hint).toBe("tool --help");
  });

  it("enforces the range", () => {
    const spec = { option: "--interval", bareUnit: "s", minMs: 100, maxMs: 3_600_000 } as const;
    expect(parseDuration("100ms", spec).ms).toBe(100);
    expect(() => parseDuration("50ms", spec)).toThrow(
      'invalid --interval "50ms": from 100ms to 1h (e.g. 500ms, 5s, 2m)',
    );
    expect(() => parseDuration("2h", spec)).toThrow(/from 100ms to 1h/);
  });
});

describe("formatDuration", () => {
  it("uses the largest unit that keeps the number whole", () => {
    expect([500, 1000, 1500, 60_000, 90_000, 3_600_000].map(formatDuration)).toEqual([
      "500ms",
      "1s",
      "1500ms",
      "1m",
      "90s",
      "1h",
    ]);
  });
});
