import { CliError } from "./cli-error.js";

/** One `KEY=VALUE` pair, in input order. */
export interface Pair {
  readonly key: string;
  readonly value: string;
}

/**
 * Text of a file as Windows editors and PowerShell write it, as well as Unix tools: a UTF-8,
 * UTF-16 LE or UTF-16 BE byte-order mark says the encoding and is dropped (PowerShell 5.1's
 * `Out-File` and `>` write UTF-16 LE with a BOM; Notepad may write UTF-8 with one); without
 * one the bytes must be UTF-8. A string is taken as already decoded (a leading U+FEFF is
 * still dropped, so it can never become part of the first key).
 * @throws {CliError} `usage` when the bytes are not valid in their encoding.
 */
export function decodeText(input: string | Uint8Array, source: string): string {
  if (typeof input === "string") return input.startsWith("\ufeff") ? input.slice(1) : input;
  const [b0, b1, b2] = input;
  let encoding: "utf-8" | "utf-16le" | "utf-16be" = "utf-8";
  let skip = 0;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) skip = 3;
  else if (b0 === 0xff && b1 === 0xfe) [encoding, skip] = ["utf-16le", 2];
  else if (b0 === 0xfe && b1 === 0xff) [encoding, skip] = ["utf-16be", 2];
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(input.subarray(skip));
  } catch {
    throw new CliError(
      "usage",
      `${source}: not valid ${encoding === "utf-8" ? "UTF-8" : encoding.toUpperCase()} (save it as UTF-8, or as UTF-16 with a byte-order mark)`,
    );
  }
}

/**
 * Parses `--from-file` input: a JSON object (when the text starts with `{`) or `KEY=VALUE`
 * lines. The one rule for every CLI:
 * - JSON values may be strings, numbers or booleans (numbers and booleans become their JSON
 *   text: `1`, `true`); null, arrays and objects are refused. Keys keep their order;
 *   `__proto__` is an ordinary key.
 * - Lines: the key ends at the first `=`, the value may be empty or contain `=`; blank lines
 *   and comment lines (first non-blank character `#`, indented or not) are skipped; a
 *   trailing CR is dropped (Windows line ends).
 * @param source what to call the input in messages (a path, or "stdin").
 * @param hint the help line to print with a usage error.
 * @throws {CliError} `usage`, naming the line or key that is wrong.
 */
export function parsePairs(text: string, source: string, hint?: string): Pair[] {
  const trimmed = text.trimStart();
  return trimmed.startsWith("{") ? parseJsonPairs(trimmed, source, hint) : parseLinePairs(text, source, hint);
}

function usage(message: string, hint: string | undefined): CliError {
  return new CliError("usage", message, ...(hint === undefined ? [] : [hint]));
}

function parseJsonPairs(text: string, source: string, hint: string | undefined): Pair[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usage(`${source}: not valid JSON (${(error as Error).message})`, hint);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw usage(`${source}: expected a JSON object of key/value pairs`, hint);
  // Object.entries reads own properties only, so "__proto__" arrives as a plain key.
  return Object.entries(parsed).map(([key, value]) => {
    if (typeof value === "string") return { key, value };
    if (typeof value === "number" || typeof value === "boolean") return { key, value: String(value) };
    throw usage(
      `${source}: value of ${JSON.stringify(key)} is ${value === null ? "null" : Array.isArray(value) ? "an array" : "an object"}; values must be strings, numbers or booleans`,
      hint,
    );
  });
}

function parseLinePairs(text: string, source: string, hint: string | undefined): Pair[] {
  const pairs: Pair[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      const shown = line.length > 60 ? `${line.slice(0, 57)}...` : line;
      throw usage(`${source} line ${i + 1}: expected KEY=VALUE, got ${JSON.stringify(shown)}`, hint);
    }
    pairs.push({ key: line.slice(0, eq), value: line.slice(eq + 1) });
  });
  return pairs;
}

/**
 * `KEY=VALUE` command-line arguments as pairs: the key ends at the first `=`.
 * @throws {CliError} `usage` for an argument without `=` or with an empty key.
 */
export function parsePairArgs(args: readonly string[], hint?: string): Pair[] {
  return args.map((arg) => {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw usage(`expected KEY=VALUE, got ${JSON.stringify(arg)}`, hint);
    return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
  });
}

/** Where {@link readPairsInput} reads from. */
export interface PairsSource {
  /** Standard input to its end (`-`); a string counts as decoded text. */
  readonly readStdin: () => Promise<string | Uint8Array>;
  /** A file's bytes; default node:fs. */
  readonly readFile?: (path: string) => Promise<string | Uint8Array>;
}

/**
 * Reads and parses `--from-file FILE` (`-`: standard input) with {@link decodeText} and
 * {@link parsePairs}.
 * @throws {CliError} `usage` when the file cannot be read or parsed.
 */
export async function readPairsInput(file: string, from: PairsSource, hint?: string): Promise<Pair[]> {
  const source = file === "-" ? "stdin" : file;
  let input: string | Uint8Array;
  try {
    if (file === "-") input = await from.readStdin();
    else if (from.readFile) input = await from.readFile(file);
    else input = await (await import("node:fs/promises")).readFile(file);
  } catch (error) {
    // A system error (ENOENT, EACCES, EISDIR) is the user's to fix; anything else is a bug.
    const code = (error as { code?: unknown }).code;
    if (typeof code !== "string") throw error;
    throw usage(`cannot read --from-file ${JSON.stringify(file)}: ${code}`, hint);
  }
  return parsePairs(decodeText(input, source), source, hint);
}
