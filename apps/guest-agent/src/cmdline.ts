// Kernel-command-line arguments (`name=value`, a bare `name`, `name="a value with spaces"`),
// as CloudStack passes a system VM its boot arguments. The rules are the Linux kernel's own
// tokenizer (next_arg() in lib/cmdline.c), so a value means here what it would mean on the
// kernel's command line; see apps/guest-agent/README.md#the-cmdline-decoder.

/** Parsed arguments: a bare `name` is `true`, `name=` is `""`; a repeated name keeps the last value. */
export type CmdlineArgs = Record<string, string | true>;

/** Separators, as the kernel's isspace() for ASCII. */
const SPACE = /[ \t\n\v\f\r]/;

/**
 * Splits `line` into arguments exactly as the kernel's next_arg() does:
 * - arguments are separated by runs of white space; white space between double quotes does
 *   not separate (a `"` anywhere in an argument opens or closes a quoted run);
 * - the first `=` splits name from value; without one the argument is a bare name (`true`);
 * - a value starting with `"` loses that quote, and the argument's last character when it is
 *   a `"`; an argument starting with `"` (`"name=a b"`) loses that quote and a closing one
 *   the same way; other quotes are kept as they are (there is no escape character);
 * - an unterminated quote runs to the end of the line.
 * Differs from the kernel only where the kernel works on bytes: its isspace() also takes the
 * Latin-1 byte 0xA0, which here (UTF-8 text) is part of a character, never a separator.
 * The object is built from own properties only: `__proto__=x` is plain data.
 * @throws Error when `line` holds a NUL (the kernel's command line ends there); the message
 *   never quotes the value (decode errors are logged, host values are redacted there).
 */
export function parseCmdline(line: string): CmdlineArgs {
  const nul = line.indexOf("\0");
  if (nul >= 0) throw new Error(`holds a NUL character (at character ${nul + 1}), where a kernel command line ends`);
  const args = new Map<string, string | true>();
  let at = 0;
  for (;;) {
    while (at < line.length && SPACE.test(line[at]!)) at++;
    if (at >= line.length) break;
    const quoted = line[at] === '"';
    const start = quoted ? at + 1 : at;
    let end = start;
    let inQuote = quoted;
    for (; end < line.length; end++) {
      const c = line[end]!;
      if (!inQuote && SPACE.test(c)) break;
      if (c === '"') inQuote = !inQuote;
    }
    at = end;
    const token = line.slice(start, end);
    // The kernel takes the first "=" past the argument's first character as the separator.
    const eq = token.indexOf("=", 1);
    const closes = token.length > 0 && token.endsWith('"');
    if (eq < 0) {
      args.set(quoted && closes ? token.slice(0, -1) : token, true);
      continue;
    }
    let value = token.slice(eq + 1);
    const opens = value.startsWith('"');
    if (opens) value = value.slice(1);
    // One closing quote is cut, and only when the value still holds it (`a="` is empty).
    if (closes && (opens || quoted) && value.endsWith('"')) value = value.slice(0, -1);
    args.set(token.slice(0, eq), value);
  }
  return Object.fromEntries(args);
}

/**
 * Writes `args` as one command line that {@link parseCmdline} (and the kernel) read back as
 * the same arguments: `name=value`, `name="value"` when the value holds white space, a bare
 * `name` for `true`, separated by single spaces.
 * @throws Error for what no command line can carry: a name that is empty or holds white
 *   space, `=` or `"`, or a value that holds a `"` (there is no escape).
 */
export function formatCmdline(args: ReadonlyMap<string, string | true>): string {
  const words: string[] = [];
  for (const [name, value] of args) {
    if (name === "" || /[\s="]/.test(name))
      throw new Error(`argument name ${JSON.stringify(name)}: not a command-line name`);
    if (value === true) {
      words.push(name);
      continue;
    }
    if (value.includes("\0")) throw new Error(`argument ${name}: a NUL cannot be on a command line`);
    // A quote opens or closes a quoted run wherever it is, and there is no escape.
    if (value.includes('"')) throw new Error(`argument ${name}: a value with a quote (") cannot be written`);
    if (!/\s/.test(value)) {
      words.push(`${name}=${value}`);
      continue;
    }
    words.push(`${name}="${value}"`);
  }
  return words.join(" ");
}
