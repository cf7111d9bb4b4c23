import { parseCmdline } from "./cmdline.js";
import { type DecoderName, matchesPattern } from "./config.js";

/** A decoded value: the structured payload, or why it could not be decoded. */
export type Decoded =
  | { readonly decoder: DecoderName; readonly ok: true; readonly value: unknown }
  | { readonly decoder: DecoderName; readonly ok: false; readonly error: string };

/** The decoder the config names for `key` (first matching pattern), or undefined. */
export function decoderFor(
  key: string,
  rules: readonly { readonly pattern: string; readonly decoder: DecoderName }[],
): DecoderName | undefined {
  return rules.find((rule) => matchesPattern(rule.pattern, key))?.decoder;
}

/** Whether `decoder` yields named fields (an object), which get a decoded env file. */
export function decoderYieldsFields(decoder: DecoderName): boolean {
  return decoder === "pairs" || decoder === "cmdline" || decoder === "json";
}

/**
 * Decodes one host value. Never throws: a value the host sent wrongly is reported, and the
 * raw value is kept by the caller either way.
 * - `pairs`: `key=value;key=value` (the CloudStack convention) → an object of strings;
 *   empty segments are skipped, a segment without `=` fails, a repeated name keeps the last.
 * - `cmdline`: kernel-command-line arguments (CloudStack's boot arguments: ` type=router
 *   name=r-1-VM msg="a b" quiet`) → an object of strings, `true` for a bare name; the
 *   kernel's own rules (see parseCmdline); a NUL fails.
 * - `json`: any JSON text.
 * - `base64`: standard or URL-safe alphabet, padding optional, whitespace ignored → the
 *   UTF-8 text it encodes (binary payloads fail: the state files hold text).
 * - `raw`: the value itself.
 */
export function decodeValue(decoder: DecoderName, raw: string): Decoded {
  try {
    return { decoder, ok: true, value: DECODE[decoder](raw) };
  } catch (error) {
    return { decoder, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

const DECODE: Record<DecoderName, (raw: string) => unknown> = {
  raw: (raw) => raw,
  json: decodeJson,
  pairs: decodePairs,
  cmdline: parseCmdline,
  base64: decodeBase64Text,
};

function decodePairs(raw: string): Record<string, string> {
  // Object.fromEntries defines own properties, so a pair named __proto__ is plain data.
  const pairs = new Map<string, string>();
  raw.split(";").forEach((segment, i) => {
    if (segment.trim() === "") return;
    const eq = segment.indexOf("=");
    // The message is logged: it must not quote the value (user data carries secrets).
    if (eq < 0) throw new Error(`pair ${i + 1} has no "=" (${segment.length} chars)`);
    const name = segment.slice(0, eq).trim();
    if (name === "") throw new Error(`pair ${i + 1} has an empty name`);
    pairs.set(name, segment.slice(eq + 1));
  });
  return Object.fromEntries(pairs);
}

/**
 * JSON.parse, with a message that does not quote the value: V8's own messages carry an
 * excerpt of the text (`Unexpected token 'p', "password=…" is not valid JSON`), and decode
 * errors go to the log, where host values are redacted.
 */
function decodeJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    const at = /at position (\d+)/.exec(message)?.[1];
    const where = /end of JSON input/.test(message)
      ? ": it ends too early"
      : at === undefined
        ? ""
        : ` (at character ${Number(at) + 1})`;
    throw new Error(`not valid JSON${where}`);
  }
}

function decodeBase64Text(raw: string): string {
  const compact = raw.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) {
    throw new Error("not base64");
  }
  const bytes = Buffer.from(compact.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`base64 of ${bytes.length} bytes that are not UTF-8 text`);
  }
}
