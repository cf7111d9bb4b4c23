// Decoded payloads as shell-ready files: `decoded/KEY.env` in the state directory, one per
// pool-0 key whose decoder yields fields (`pairs`, or `json` with an object at the top), so a
// boot script can `. /run/kvp-agent/decoded/cloudstack-vm-userdata.env` and use `$eth0ip`.
// Rendering is pure (planDecodedEnv); syncDecodedEnvDir does the file IO.
import { existsSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type Decoded, decoderYieldsFields } from "./decoders.js";
import { shellNameProblem } from "./env-names.js";
import { quoteEnvValue, removeFile, writeFileAtomic } from "./state-files.js";

/** Sub-directory of the state directory holding the decoded env files. */
export const DECODED_ENV_DIR = "decoded";

/** Suffix of a decoded env file: `KEY.env`. */
export const DECODED_ENV_SUFFIX = ".env";

/**
 * Longest key, in characters, that gets a decoded env file. A file name holds at most 255
 * bytes (NAME_MAX); 200 leaves room for `.env` and writeFileAtomic's `.tmp-PID` suffix.
 */
export const MAX_DECODED_ENV_KEY = 200;

/** A field of a decoded payload left out of its env file, and why (for the log and `status`). */
export interface SkippedField {
  /** The field's name as the host sent it. */
  readonly field: string;
  readonly reason: string;
}

/** The decoded env file of one key, as planned from its decoded value. */
export interface DecodedEnvPlan {
  readonly key: string;
  /** File name inside {@link DECODED_ENV_DIR}, or null when the key gets no file (see `reason`). */
  readonly file: string | null;
  /** Why there is no file. */
  readonly reason?: string;
  /** The file's text (absent when there is no file). */
  readonly text?: string;
  /** Variable names written, in field order. */
  readonly variables: string[];
  /** Fields left out. */
  readonly skipped: SkippedField[];
}

/**
 * The file name of `key`'s decoded env file (`KEY.env`), or undefined when the key is not a
 * plain file name: ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit
 * (so never `.`, `..` or a hidden file), at most {@link MAX_DECODED_ENV_KEY} characters. The
 * name is the key itself, never an encoding of it: a boot script names the file it sources.
 */
export function decodedEnvFileName(key: string): string | undefined {
  if (key.length > MAX_DECODED_ENV_KEY || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) return undefined;
  return `${key}${DECODED_ENV_SUFFIX}`;
}

/** A lone UTF-16 surrogate: JSON's `\ud800` escapes make them, UTF-8 cannot carry them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A field's value as shell text, or why it has none. */
function fieldText(value: unknown): { text: string } | { reason: string } {
  if (typeof value === "boolean") return { text: String(value) };
  if (typeof value === "number")
    return Number.isFinite(value) ? { text: String(value) } : { reason: "not a finite number" };
  if (typeof value !== "string") {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : "an object";
    return { reason: `${kind}, not a string, number or boolean` };
  }
  // Shell variables end at a NUL; a lone surrogate would be written as U+FFFD. Either way the
  // script would read another value than the host sent: leave it out, say so.
  if (value.includes("\0")) return { reason: "holds a NUL character, which shell variables cannot" };
  if (LONE_SURROGATE.test(value)) return { reason: "not well-formed Unicode (a lone surrogate)" };
  return { text: value };
}

/** `name` as a log and status show it: quoted, cut at 60 characters. */
function shownName(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
}

/**
 * Plans the decoded env file of pool-0 key `key` from its decoded value, or returns undefined
 * when its decoder yields no fields (`raw`, `base64`, a failed decode): those keys get no file.
 * - `pairs`: every pair; `cmdline`: every argument (a bare name is `true`); `json`: every top-level member of an object whose value is a
 *   string, number (as JavaScript prints it: `1.50` → `1.5`) or boolean (`true`/`false`);
 *   nested objects, arrays and null are left out, as is a top-level array or scalar.
 * - Each field becomes `PREFIX + name='value'`, quoted as in host.env ({@link quoteEnvValue}):
 *   nothing in a value is expanded or run when the file is sourced.
 * - A field whose name (with the prefix) fails {@link shellNameProblem} is left out, never
 *   renamed: renaming (`eth-0` → `eth_0`) could collide with another field.
 * @param prefix put before every field name (config `env.decodedPrefix`, default empty).
 */
export function planDecodedEnv(key: string, decoded: Decoded, prefix: string): DecodedEnvPlan | undefined {
  if (!decoded.ok || !decoderYieldsFields(decoded.decoder)) return undefined;
  const file = decodedEnvFileName(key) ?? null;
  const value = decoded.value;
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  if (file === null) {
    return {
      key,
      file,
      reason: `not a plain file name (letters, digits, '.', '_', '-', at most ${MAX_DECODED_ENV_KEY})`,
      variables: [],
      skipped: [],
    };
  }
  if (!isObject) return { key, file: null, reason: "the JSON value is not an object", variables: [], skipped: [] };
  const variables: string[] = [];
  const skipped: SkippedField[] = [];
  const lines = [
    `# Written by kvp-agent from Hyper-V KVP pool 0 key ${key} (decoder ${decoded.decoder}); do not edit (rewritten at every change).`,
  ];
  // Own enumerable properties only: a field named __proto__ (JSON.parse and the pairs decoder
  // make it an own property) is data like any other.
  for (const [field, raw] of Object.entries(value as Record<string, unknown>)) {
    const name = prefix + field;
    const problem = shellNameProblem(name);
    if (problem !== undefined) {
      skipped.push({ field, reason: prefix === "" ? problem : `as ${shownName(name)}: ${problem}` });
      continue;
    }
    const text = fieldText(raw);
    if ("reason" in text) {
      skipped.push({ field, reason: text.reason });
      continue;
    }
    variables.push(name);
    lines.push(`${name}=${quoteEnvValue(text.text)}`);
  }
  return { key, file, text: `${lines.join("\n")}\n`, variables, skipped };
}

/** One line per left-out field, for the log: `field "eth-0": not a shell variable name`. */
export function describeSkipped(skipped: readonly SkippedField[]): string[] {
  return skipped.map((s) => `field ${shownName(s.field)}: ${s.reason}`);
}

/**
 * Makes `DIR/decoded` hold exactly the planned files: each written atomically with `mode`
 * (see writeFileAtomic), then every other `*.env` file there removed, so a key the host
 * removed (or whose payload no longer decodes) leaves no stale file behind. The directory is
 * created with `mode` plus search permission where `mode` grants read (0600 → 0700).
 * `written` (file name → text), when given, is what this process wrote last: a file with the
 * same text that still exists is not written again; it is updated with what is written. A
 * file not in it is compared first and left alone when it holds the text already.
 * @throws Error when `decoded` is not a real directory (a planted symlink is refused, never
 *   followed), or from the writes; files already written stay (the next harvest retries).
 */
export function syncDecodedEnvDir(
  stateDir: string,
  plans: readonly DecodedEnvPlan[],
  mode: number,
  written?: Map<string, string>,
): void {
  const dir = join(stateDir, DECODED_ENV_DIR);
  mkdirSync(dir, { mode: dirModeFor(mode), recursive: true });
  if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  const wanted = new Set<string>();
  for (const plan of plans) {
    if (plan.file === null || plan.text === undefined) continue;
    wanted.add(plan.file);
    const path = join(dir, plan.file);
    if (written?.get(plan.file) === plan.text && existsSync(path)) continue;
    // A file this process has not written may hold this text already (an earlier run's).
    const unlessSame = written?.has(plan.file) !== true;
    written?.delete(plan.file); // until the write succeeds
    writeFileAtomic(path, plan.text, mode, { unlessSame });
    written?.set(plan.file, plan.text);
  }
  if (written) for (const name of written.keys()) if (!wanted.has(name)) written.delete(name);
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(DECODED_ENV_SUFFIX) || wanted.has(name)) continue;
    const path = join(dir, name);
    // Files and links only (a link is removed, not followed); a directory is not ours to remove.
    if (lstatSync(path).isDirectory()) continue;
    removeFile(path);
  }
}

/** Path of `key`'s decoded env file in `stateDir`, or undefined when the key cannot have one. */
export function decodedEnvPath(stateDir: string, key: string): string | undefined {
  const name = decodedEnvFileName(key);
  return name === undefined ? undefined : join(stateDir, DECODED_ENV_DIR, name);
}

/** A directory mode for files of `fileMode`: search permission wherever read is granted. */
export function dirModeFor(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2);
}
