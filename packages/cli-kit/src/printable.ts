/**
 * Characters that must not reach a terminal as they are: C0 controls, DEL, C1 controls, the
 * line and paragraph separators, and the bidirectional controls (embeddings, overrides,
 * isolates and marks) that make text display in another order than it is stored. The
 * backslash is escaped too, so `a\nb` as typed and a real newline never print alike.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text from elsewhere (a pool, a host, a file) made safe for one line of output for people:
 * `\` becomes `\\`, newline, CR and tab become `\n`, `\r`, `\t`, and every other control,
 * separator or bidi character becomes `\uXXXX`. Nothing else changes; `--json` output is the
 * place for the exact text.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** {@link UNPRINTABLE} without the backslash. */
const UNPRINTABLE_IN_PROSE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * An error message or other prose that quotes text from elsewhere, made safe for one line:
 * escaped as {@link printable} escapes, except that `\` stays as it is. A message is read,
 * not parsed back, and the paths it names on Windows (`C:\Windows\System32\…`) must read as
 * paths; values, keys and names printed on their own lines go through `printable`.
 */
export function printableProse(text: string): string {
  return text.replace(
    UNPRINTABLE_IN_PROSE,
    (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
