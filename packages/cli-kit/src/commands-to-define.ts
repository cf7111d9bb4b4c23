/** What {@link commandsToDefine} needs of a command: its names. */
export interface NamedCommand {
  readonly name: string;
  readonly aliases?: readonly string[];
}

/** What {@link commandsToDefine} needs of a program option (commander's `Option` has these). */
export interface ProgramOption {
  readonly long?: string | undefined;
  readonly short?: string | undefined;
  /** Takes a value, `<value>`: the next argument whatever it is. */
  readonly required: boolean;
  /** May take a value, `[value]`: the next argument unless it looks like an option. */
  readonly optional: boolean;
}

/**
 * The commands a run needs defined: the one its first operand names, when the program's own
 * options are all it passes on the way there; every command otherwise (no command, `help`,
 * `--help`, `--`, a misspelt command, an option of the command's own placed before it, a
 * short option with its value attached). Building every command's options and help was about
 * 1.7 M instructions of a `kvp-agent once` (callgrind), for commands it does not run.
 *
 * Why that loses nothing: commander dispatches on the first operand and asks the other
 * commands nothing, so with that command defined the parse is the same; wherever the walk
 * below cannot be sure it reads the arguments as commander does, it gives every command
 * (help listings, "did you mean" suggestions). It follows commander's rules for program
 * options: `--name=value`, a required value in the next argument, an optional one unless that
 * argument looks like an option (`-` followed by something).
 */
export function commandsToDefine<T extends NamedCommand>(
  commands: readonly T[],
  args: readonly string[],
  options: readonly ProgramOption[],
): readonly T[] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!looksLikeOption(arg)) {
      const named = commands.find((c) => c.name === arg || c.aliases?.includes(arg) === true);
      return named === undefined ? commands : [named];
    }
    if (arg === "--") return commands;
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    const option = options.find((o) => o.long === flag || o.short === flag);
    if (option === undefined) return commands;
    if (equals > 0) continue;
    const next = args[i + 1];
    if (option.required || (option.optional && next !== undefined && !looksLikeOption(next))) i++;
  }
  return commands;
}

/** commander's test for an option: a `-` and at least one more character. */
function looksLikeOption(arg: string): boolean {
  return arg.length > 1 && arg[0] === "-";
}
