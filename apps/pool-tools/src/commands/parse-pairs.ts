import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import { CliError } from "../cli-error.js";

/**
 * Parses `set --from-file` input: a JSON object of string (or number/boolean) values, or
 * lines of `KEY=VALUE` (split at the first `=`; blank lines and lines starting with `#`
 * are skipped; a trailing CR is dropped so Windows files work). Order is kept.
 * @param source what to call the input in messages (a path, or "stdin").
 * @throws {CliError} `usage`, naming the line or key that is wrong.
 */
export function parsePairs(text: string, source: string): KvpRecord[] {
  const trimmed = text.trimStart();
  return trimmed.startsWith("{") ? parseJsonObject(trimmed, source) : parseLines(text, source);
}

function parseJsonObject(text: string, source: string): KvpRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError("usage", `${source}: not valid JSON (${(error as Error).message})`, "kvp-pool set --help");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CliError("usage", `${source}: expected a JSON object of key/value pairs`, "kvp-pool set --help");
  }
  // Object.entries reads own properties only, so "__proto__" arrives as a plain key.
  return Object.entries(parsed).map(([key, value]) => {
    if (typeof value === "string") return { key, value };
    if (typeof value === "number" || typeof value === "boolean") return { key, value: String(value) };
    throw new CliError(
      "usage",
      `${source}: value of ${JSON.stringify(key)} is ${value === null ? "null" : typeof value}; values must be strings, numbers or booleans`,
      "kvp-pool set --help",
    );
  });
}

function parseLines(text: string, source: string): KvpRecord[] {
  const records: KvpRecord[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      throw new CliError(
        "usage",
        `${source} line ${i + 1}: expected KEY=VALUE, got ${JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line)}`,
        "kvp-pool set --help",
      );
    }
    records.push({ key: line.slice(0, eq), value: line.slice(eq + 1) });
  });
  return records;
}
