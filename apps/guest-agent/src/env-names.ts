// Which variable names the agent may write into the env files root's scripts source (host.env,
// decoded/KEY.env), where every name is chosen by the host. Those names and the names anything
// else reads from the environment must be disjoint by construction:
// - A name must hold a lower-case letter. POSIX leaves lower-case names to applications;
//   the system's (PATH, IFS, PS4, ENV, BASH_ENV, LD_PRELOAD, NODE_OPTIONS…) and this
//   toolkit's own (KVP_POOL_DIR, KVP_AGENT_NODE, KVP_DEBUG…) have none. That the toolkit's
//   have none is a test (toolkit-env.test.ts scans every variable the repository reads).
// - The few lower-case names that do mean something are left out: zsh's own parameters
//   (checked against zsh itself, env-files-zsh.interop.test.ts), and the lower-case
//   variables common tools read (`*_proxy`, `npm_*`, `pnpm_*`, `yarn_*`).
// - host.env's prefix must itself hold a lower-case letter, so every host.env name does,
//   whatever the host's key.

/** Default prefix of host.env names: lower-case, so no host key names a variable of the system or the toolkit. */
export const DEFAULT_ENV_PREFIX = "kvp_";

/** True when `name` is a portable environment variable name (POSIX shells and systemd accept it). */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * The lower-case parameters zsh 5.9 gives a meaning, its own and those of the modules it
 * ships (zsh/parameter is loaded on first use; zsh/mapfile, zsh/system, zsh/terminfo,
 * zsh/termcap, zsh/langinfo, zsh/zleparameter, zsh/curses, zsh/datetime by `zmodload`):
 * tied to upper-case ones (`path` is `$PATH`, `prompt` is `$PS1`), read-only or associations
 * (assigning `history` or `options` aborts a `. file`), or acting on assignment (`functions`
 * defines functions, `mapfile` writes files). POSIX sh, dash and bash give no lower-case
 * name a meaning.
 */
export const ZSH_SPECIAL_NAMES: ReadonlySet<string> = new Set([
  "aliases",
  "argv",
  "builtins",
  "cdpath",
  "commands",
  "dirstack",
  "dis_aliases",
  "dis_builtins",
  "dis_functions",
  "dis_functions_source",
  "dis_galiases",
  "dis_patchars",
  "dis_reswords",
  "dis_saliases",
  "epochtime",
  "errnos",
  "fignore",
  "fpath",
  "funcfiletrace",
  "funcsourcetrace",
  "funcstack",
  "functions",
  "functions_source",
  "functrace",
  "galiases",
  "histchars",
  "history",
  "historywords",
  "jobdirs",
  "jobstates",
  "jobtexts",
  "keymaps",
  "langinfo",
  "mailpath",
  "manpath",
  "mapfile",
  "module_path",
  "modules",
  "nameddirs",
  "options",
  "parameters",
  "patchars",
  "path",
  "pipestatus",
  "prompt",
  "psvar",
  "reswords",
  "saliases",
  "signals",
  "status",
  "sysparams",
  "termcap",
  "terminfo",
  "userdirs",
  "usergroups",
  "watch",
  "widgets",
  "zcurses_attrs",
  "zcurses_colors",
  "zcurses_keycodes",
  "zcurses_windows",
  "zsh_eval_context",
  "zsh_scheduled_events",
]);

/** Lower-case name families common tools read from the environment, matched in any case. */
const TOOL_NAME_PATTERNS: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  // curl, wget, apt, git, Python and Node clients: `<scheme>_proxy`, `no_proxy`, in either case.
  { pattern: /_proxy$/i, reason: "a proxy variable (http_proxy, no_proxy…) that curl, wget, apt and others read" },
  // The package managers' name spaces: any `npm_config_<setting>` (script-shell, prefix,
  // registry…) is a setting to npm, pnpm and yarn; `npm_execpath` and `npm_node_execpath`
  // name the programs run-scripts start; yarn 1 reads `yarn_*`, pnpm `pnpm_config_*`.
  {
    pattern: /^(npm|pnpm|yarn)_/i,
    reason: "in the name space of npm, pnpm and yarn (npm_config_*, npm_execpath…), which read it as settings",
  },
];

/** Name spaces of {@link TOOL_NAME_PATTERNS} that a prefix must not start or be part of. */
const TOOL_NAME_SPACES = ["npm_", "pnpm_", "yarn_"];

/**
 * Why `name` may not be assigned in a file that root's scripts source with the host choosing
 * the name, or undefined when it may. It must be a portable variable name; it must hold a
 * lower-case letter (names without one belong to the system and to this toolkit: `PATH`
 * would choose the programs the script runs next, `PS4` is expanded, command substitutions
 * included, under `set -x`, `LD_PRELOAD` loads code into every program, `KVP_AGENT_NODE`
 * chooses the node the launcher runs); it must not be one of {@link ZSH_SPECIAL_NAMES}, a
 * proxy variable or in a package manager's name space (`npm_…`, `pnpm_…`, `yarn_…`), in any case.
 */
export function shellNameProblem(name: string): string | undefined {
  if (!isEnvName(name)) return "not a shell variable name";
  if (!/[a-z]/.test(name))
    return "no lower-case letter: such names belong to the system and to kvp-agent (PATH, PS4, LD_PRELOAD, KVP_POOL_DIR…)";
  if (ZSH_SPECIAL_NAMES.has(name)) return "special to zsh";
  for (const { pattern, reason } of TOOL_NAME_PATTERNS) if (pattern.test(name)) return reason;
  return undefined;
}

/**
 * Why `prefix` cannot be host.env's (config `env.prefix`), or undefined when it can. It must
 * be non-empty (else the host names any variable), start a variable name, hold a lower-case
 * letter (so every name it starts does, and none is the system's or the toolkit's: `KVP_`,
 * the old default, is the toolkit's own name space), and leave no host key able to complete
 * it into a zsh parameter or a tool's setting (`h` + `istory`, `np` + `m_config_…`). Each
 * name is checked again as it is written (shellNameProblem), which also leaves out `…_proxy`.
 */
export function envPrefixProblem(prefix: string): string | undefined {
  if (prefix === "") return "must not be empty: the host would choose any variable name (PATH, LD_PRELOAD, PS4…)";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) return "must start a variable name (letters, digits, '_')";
  if (!/[a-z]/.test(prefix))
    return `${JSON.stringify(prefix)} has no lower-case letter: the host would choose among the names of the system and of kvp-agent itself (KVP_AGENT_NODE, KVP_POOL_DIR, LD_PRELOAD…); use one with a lower-case letter, such as "${DEFAULT_ENV_PREFIX}"`;
  for (const special of ZSH_SPECIAL_NAMES) {
    if (special.length > prefix.length && special.startsWith(prefix))
      return `a host key could complete it into ${JSON.stringify(special)}, special to zsh`;
  }
  const lower = prefix.toLowerCase();
  for (const space of TOOL_NAME_SPACES) {
    if (lower.startsWith(space) || space.startsWith(lower))
      return `a host key could complete it into a ${space}… variable, which npm, pnpm and yarn read as settings`;
  }
  return undefined;
}
