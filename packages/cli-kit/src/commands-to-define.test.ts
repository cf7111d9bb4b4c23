import { Command } from "@commander-js/extra-typings";
import { describe, expect, it } from "vitest";
import { commandsToDefine } from "./commands-to-define.js";

const commands = [{ name: "get" }, { name: "set" }, { name: "delete", aliases: ["remove"] }, { name: "list" }];

/** A program with the kinds of options kvp-pool, kvp-agent and kvp-host have before the command. */
function demoProgram() {
  return new Command("demo")
    .version("1.0.0", "-V, --version")
    .option("-d, --dir <dir>", "a value")
    .option("--timeout <duration>", "a value")
    .option("--color [when]", "an optional value")
    .option("--no-lock", "negated")
    .option("-q, --quiet", "a flag");
}
const programOptions = () => demoProgram().options;

const names = (args: string[]) => commandsToDefine(commands, args, programOptions()).map((c) => c.name);
const ALL = commands.map((c) => c.name);

describe("commandsToDefine", () => {
  it("gives the command the first operand names, past the program's options and their values", () => {
    expect(names(["get", "k"])).toEqual(["get"]);
    expect(names(["remove", "k"])).toEqual(["delete"]);
    expect(names(["--dir", "/tmp/x", "set", "k", "v"])).toEqual(["set"]);
    expect(names(["-d", "list", "get", "k"])).toEqual(["get"]); // "list" is the directory
    expect(names(["--dir=/tmp/x", "-q", "--no-lock", "list"])).toEqual(["list"]);
    expect(names(["--timeout", "--weird", "get"])).toEqual(["get"]); // a required value is taken whatever it is
    expect(names(["--color", "always", "get"])).toEqual(["get"]);
    expect(names(["--color", "-q", "get"])).toEqual(["get"]); // an optional value is not an option
    expect(names(["--color", "-", "get"])).toEqual(["get"]); // "-" alone is a value, as for commander
  });

  it("gives every command where help, a misspelt command or an unknown option may follow", () => {
    expect(names([])).toEqual(ALL);
    expect(names(["--help"])).toEqual(ALL);
    expect(names(["-h", "get"])).toEqual(ALL);
    expect(names(["help", "get"])).toEqual(ALL);
    expect(names(["gte", "get"])).toEqual(ALL); // "did you mean get?" needs the others
    expect(names(["--json", "get"])).toEqual(ALL); // a command's option before it
    expect(names(["-dfoo", "get"])).toEqual(ALL); // a short option's value attached
    expect(names(["--", "get"])).toEqual(ALL);
    expect(names(["-V"])).toEqual(ALL);
  });
});

/**
 * Runs `args` through commander with the given commands defined; returns what happened: the
 * command run with its arguments and options, or commander's error and what it printed.
 */
function outcome(args: string[], defined: readonly { name: string; aliases?: readonly string[] }[]): string {
  let printed = "";
  let ran = "";
  const program = demoProgram()
    .exitOverride()
    .configureOutput({ writeOut: (s) => (printed += s), writeErr: (s) => (printed += s) });
  for (const { name, aliases } of defined) {
    const command = program.command(name).argument("[words...]").option("--json", "JSON");
    if (aliases !== undefined) command.aliases(aliases);
    command.action((words, opts) => {
      ran = `${name} ${JSON.stringify(words)} ${JSON.stringify(opts)} ${JSON.stringify(program.opts())}`;
    });
  }
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    return `error ${(error as { code?: string }).code}: ${printed}`;
  }
  return `${ran} | ${printed}`;
}

describe("commandsToDefine against commander", () => {
  it("runs every command line as commander does with all commands defined", () => {
    const lines = [
      ["get", "k"],
      ["remove", "k", "--json"],
      ["--dir", "/x", "set", "k", "v"],
      ["-d", "list", "get", "list"],
      ["--dir=/x", "-q", "list"],
      ["--color", "get", "set"],
      ["--color", "-q", "delete", "k"],
      ["--color", "-", "get"],
      ["gte", "get"],
      ["get", "--help"],
      ["--help"],
      ["help", "set"],
      ["--json", "get"],
      ["-dfoo", "get"],
      ["--", "get"],
      ["-V"],
      [],
      ["-q"],
      ["--bogus"],
      ["--timeout", "--no-lock", "get"],
      ["--no-lock", "get"],
    ];
    for (const args of lines) {
      const chosen = commandsToDefine(commands, args, programOptions());
      expect(outcome(args, chosen), args.join(" ")).toBe(outcome(args, commands));
    }
  });
});
