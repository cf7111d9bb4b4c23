// Manual pages for kvp-agent and kvp-pool, written from the programs' own --help (the
// top-level help and every command's), so `man kvp-pool` says exactly what `kvp-pool --help`
// does and cannot fall behind it. The help text is kept as printed (no-fill blocks); the page
// adds NAME and SYNOPSIS lines, the files and SEE ALSO.
import { spawnSync } from "node:child_process";

/**
 * The --help of `bundle` for `command` (a path of command names, [] for the top level).
 * @param {string} bundle a built .cjs bundle
 * @param {string[]} command
 * @returns {string}
 * @throws {Error} when the bundle does not print help and exit 0.
 */
function helpOf(bundle, command) {
  const result = spawnSync(process.execPath, [bundle, ...command, "--help"], {
    encoding: "utf8",
    // A fixed width (commander wraps at the terminal's), no colour, no CA bundle to read.
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", COLUMNS: "80", NO_COLOR: "1" },
    timeout: 60_000,
  });
  if (result.error || result.status !== 0)
    throw new Error(
      `${bundle} ${[...command, "--help"].join(" ")} failed: ${result.error?.message ?? result.stderr.trim()}`,
    );
  return result.stdout.replace(/\s+$/, "");
}

/** The command names a help text lists under "Commands:", without `help`. */
function commandsIn(help) {
  const section = /\nCommands:\n((?: {2}\S.*\n?| {3,}.*\n?)*)/.exec(help);
  if (!section) return [];
  return [...section[1].matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((name) => name !== "help");
}

/** Text as roff: backslashes escaped, a leading dot or quote made literal. */
function roff(text) {
  return text
    .split("\n")
    .map((line) => line.replaceAll("\\", "\\e"))
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join("\n");
}

/**
 * @typedef {object} ManPageInput
 * @property {string} name the command ("kvp-agent")
 * @property {string} bundle its built bundle, run with this Node to read the help
 * @property {string} version shown in the page footer
 * @property {Date} date shown in the page footer (the release's, for reproducible pages)
 * @property {[string, string][]} files paths and what they are, for the FILES section
 * @property {string[]} seeAlso other pages ("kvp-pool(1)")
 */

/**
 * The man page (section 1) of a command, from its --help and its commands' --help.
 * @param {ManPageInput} input
 * @returns {string} roff source
 * @throws {Error} when the program cannot print its help.
 */
export function manPage({ name, bundle, version, date, files, seeAlso }) {
  const top = helpOf(bundle, []);
  const [, purpose = ""] = /^Usage:[^\n]*\n\n([\s\S]*?)\n\n/.exec(top) ?? [];
  const sections = [];
  const visit = (path) => {
    for (const command of commandsIn(helpOf(bundle, path))) {
      const sub = [...path, command];
      sections.push([sub.join(" "), helpOf(bundle, sub)]);
      visit(sub);
    }
  };
  visit([]);
  const day = date.toISOString().slice(0, 10);
  const lines = [
    `.TH ${name.toUpperCase()} 1 "${day}" "${name} ${version}" "User Commands"`,
    ".SH NAME",
    `${name} \\- ${roff(purpose.replace(/\s+/g, " ").replace(/\.$/, ""))}`,
    ".SH SYNOPSIS",
    `.B ${name}`,
    "[\\fIoptions\\fR] \\fIcommand\\fR [\\fIarguments\\fR]",
    ".SH DESCRIPTION",
    "What",
    `.B ${name} --help`,
    "prints:",
    ".PP",
    ".nf",
    roff(top),
    ".fi",
    ".SH COMMANDS",
  ];
  for (const [command, help] of sections) lines.push(`.SS ${name} ${command}`, ".nf", roff(help), ".fi");
  if (files.length > 0) {
    lines.push(".SH FILES");
    for (const [path, what] of files) lines.push(".TP", `.I ${path}`, roff(what));
  }
  lines.push(".SH SEE ALSO", seeAlso.map((page) => `.BR ${page.replace(/\((\d)\)$/, " ($1)")}`).join(",\n"));
  return `${lines.join("\n")}\n`;
}
