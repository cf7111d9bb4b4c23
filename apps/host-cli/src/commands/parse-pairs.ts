import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import { HostCliError } from "../cli-error.js";

/**
 * `KEY=VALUE` arguments as records: the key ends at the first `=`, the value may be empty or
 * contain `=`.
 * @throws {HostCliError} `usage` for an argument without `=` or with an empty key.
 */
export function parsePairArgs(args: readonly string[], command: string): KvpRecord[] {
  return args.map((arg) => {
    const eq = arg.indexOf("=");
    if (eq <= 0)
      throw new HostCliError("usage", `expected KEY=VALUE, got ${JSON.stringify(arg)}`, `kvp-host ${command} --help`);
    return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
  });
}

/**
 * The content of `--from-file`: a JSON object of strings (when it starts with `{`), else
 * `KEY=VALUE` lines; blank lines and lines starting with `#` are skipped, a trailing CR is
 * dropped (files written on Windows).
 * @throws {HostCliError} `usage` naming the file and line.
 */
export function parsePairsText(text: string, label: string): KvpRecord[] {
  if (text.trimStart().startsWith("{")) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new HostCliError("usage", `${label}: not valid JSON: ${(error as Error).message}`);
    }
    if (data === null || typeof data !== "object" || Array.isArray(data))
      throw new HostCliError("usage", `${label}: expected a JSON object of strings`);
    return Object.entries(data).map(([key, value]) => {
      if (typeof value !== "string")
        throw new HostCliError("usage", `${label}: the value of ${JSON.stringify(key)} is not a string`);
      return { key, value };
    });
  }
  const records: KvpRecord[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new HostCliError("usage", `${label}:${i + 1}: expected KEY=VALUE`);
    records.push({ key: line.slice(0, eq), value: line.slice(eq + 1) });
  });
  return records;
}
