import { CliError } from "./cli-error.js";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A unit a duration may be written in. */
export type DurationUnit = keyof typeof UNIT_MS;

/** How one option reads durations. */
export interface DurationSpec {
  /** The option, for messages: `--timeout`. */
  readonly option: string;
  /**
   * What a number without a unit means: what it meant before units were accepted. Such a
   * number still works but draws a deprecation note (see {@link ParsedDuration}).
   */
  readonly bareUnit: "ms" | "s";
  /** Smallest accepted value, milliseconds (inclusive); default 0. */
  readonly minMs?: number;
  /** Largest accepted value, milliseconds (inclusive); default none. */
  readonly maxMs?: number;
  /** The help line for a usage error, e.g. "kvp-host watch --help". */
  readonly hint?: string;
}

/** A duration read from the command line. */
export interface ParsedDuration {
  /** Whole milliseconds (rounded). */
  readonly ms: number;
  /** Set when the text had no unit: a one-line note for stderr saying how to write it. */
  readonly deprecation?: string;
}

const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/;

/**
 * Reads a duration such as `500ms`, `5s`, `1.5s`, `2m` or `1h`. A bare number is read in
 * `spec.bareUnit` and comes back with a deprecation note.
 * @throws {CliError} `usage` naming the option, the accepted forms and the range.
 */
export function parseDuration(text: string, spec: DurationSpec): ParsedDuration {
  const match = DURATION.exec(text.trim());
  const min = spec.minMs ?? 0;
  const fail = (why: string) =>
    new CliError(
      "usage",
      `invalid ${spec.option} ${JSON.stringify(text)}: ${why} (e.g. 500ms, 5s, 2m)`,
      ...(spec.hint === undefined ? [] : [spec.hint]),
    );
  if (!match) throw fail("a number with a unit: ms, s, m or h");
  const unit = (match[2] as DurationUnit | undefined) ?? spec.bareUnit;
  const ms = Math.round(Number(match[1]) * UNIT_MS[unit]);
  if (ms < min || (spec.maxMs !== undefined && ms > spec.maxMs))
    throw fail(`from ${formatDuration(min)}${spec.maxMs === undefined ? "" : ` to ${formatDuration(spec.maxMs)}`}`);
  if (match[2] !== undefined) return { ms };
  return {
    ms,
    deprecation: `${spec.option} ${text.trim()} without a unit is read as ${spec.bareUnit === "ms" ? "milliseconds" : "seconds"}; write ${text.trim()}${spec.bareUnit} (a number without a unit will be refused in a later release)`,
  };
}

/** `ms` in the largest unit that keeps it whole: `500ms`, `5s`, `2m`, `1h`. */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
