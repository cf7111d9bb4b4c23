import { closeSync, constants, openSync, readSync } from "node:fs";
import * as v from "valibot";
import { AgentError } from "./agent-error.js";
import { DEFAULT_FIRST_BOOT_WAIT_SECONDS, DEFAULT_SEED_DIR } from "./cloud-init-seed.js";
import { DEFAULT_ENV_PREFIX, envPrefixProblem } from "./env-names.js";

/** Where `kvp-agent` looks for its config unless `--config` names another file. */
export const DEFAULT_CONFIG_PATH = "/etc/kvp-agent/config.json";

/** Default state directory: tmpfs, so state never outlives the boot it describes. */
export const DEFAULT_STATE_DIR = "/run/kvp-agent";

/** Default hooks directory: every executable in it runs for every change of pool 0. */
export const DEFAULT_HOOKS_DIR = "/etc/kvp-agent/hooks.d";

/** How a key's value is decoded; see decoders.ts. */
export const DECODERS = ["pairs", "cmdline", "json", "base64", "raw"] as const;

/** A decoder name. */
export type DecoderName = (typeof DECODERS)[number];

/** What happened to a key. */
export const HOOK_EVENTS = ["added", "changed", "removed"] as const;

/** A hook event name. */
export type HookEventType = (typeof HOOK_EVENTS)[number];

/** Log levels, most to least severe. */
export const LOG_LEVELS = ["error", "warning", "info", "debug"] as const;

/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Longest hook name: it becomes part of a pool-1 key, which the host cuts at 254 units. */
export const MAX_HOOK_NAME = 64;

/**
 * Longest `cloudInit.firstBootWaitSeconds`: the wait holds up the boot (cloud-init's first
 * stage waits for it), so it stays well inside systemd's default start timeout of 90 s.
 */
export const MAX_FIRST_BOOT_WAIT_SECONDS = 80;

/** Longest config file read, in bytes: the config is small; a huge file is a mistake. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Default of `hostFilesMaxBytes`: far above what CloudStack or cloud-init send, far below a full pool. */
export const DEFAULT_HOST_FILES_MAX_BYTES = 4 << 20;

/**
 * The config file's schema: every field optional, unknown fields refused (typos are not
 * silently ignored). Built on first use, not when the module loads: it is some eighty valibot
 * schemas, which a start without a config file (the packages ship none) does not need.
 */
function buildConfigSchema() {
  const seconds = (max: number) =>
    v.pipe(
      v.number("must be a number of seconds"),
      v.minValue(0.001, "must be > 0"),
      v.maxValue(max, `must be ≤ ${max}`),
    );
  const nonEmpty = v.pipe(v.string("must be a string"), v.nonEmpty("must not be empty"));
  const keyPattern = v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
    v.maxLength(511, "longer than a key can be"),
  );

  const hookSchema = v.strictObject({
    name: v.pipe(
      v.string("must be a string"),
      v.regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        "letters, digits, '.', '_' and '-' only, starting with a letter or digit",
      ),
      v.maxLength(MAX_HOOK_NAME, `at most ${MAX_HOOK_NAME} characters`),
    ),
    command: v.pipe(
      v.array(nonEmpty, "must be an array of strings (program, then arguments; no shell)"),
      v.minLength(1, "must name a program"),
    ),
    keys: v.optional(v.array(keyPattern, "must be an array of key patterns"), ["*"]),
    events: v.optional(
      v.array(v.picklist(HOOK_EVENTS, `must be one of ${HOOK_EVENTS.join(", ")}`), "must be an array"),
      [...HOOK_EVENTS],
    ),
    pools: v.optional(v.array(v.picklist([0, 3], "must be 0 (host items) or 3 (host facts)"), "must be an array"), [0]),
    timeoutSeconds: v.optional(seconds(3600)),
  });

  return v.strictObject({
    poolDir: v.optional(nonEmpty),
    stateDir: v.optional(nonEmpty),
    fileMode: v.optional(
      v.pipe(
        v.string('must be an octal string such as "0600"'),
        v.regex(/^0?[0-7]{3}$/, 'must be an octal mode such as "0600"'),
        v.check(
          (text) => (Number.parseInt(text, 8) & 0o002) === 0,
          (issue) =>
            `${octal(Number.parseInt(String(issue.input), 8))} is world-writable: any local user could rewrite host.env and the decoded env files, which root scripts source; use 0600, or 0640/0644 for readers`,
        ),
      ),
    ),
    env: v.optional(
      v.strictObject({
        // Every host.env name is this prefix + a key the host chose: see envPrefixProblem.
        prefix: v.optional(
          v.pipe(
            v.string("must be a string"),
            v.check(
              (prefix) => envPrefixProblem(prefix) === undefined,
              (issue) => envPrefixProblem(String(issue.input)) ?? "invalid",
            ),
          ),
        ),
        decodedPrefix: v.optional(
          v.pipe(
            v.string("must be a string"),
            v.regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, "must be empty or a valid variable name start"),
          ),
        ),
      }),
    ),
    decoders: v.optional(
      v.record(
        keyPattern,
        v.picklist(DECODERS, `must be one of ${DECODERS.join(", ")}`),
        "must be an object of key pattern → decoder",
      ),
    ),
    hooksDir: v.optional(nonEmpty),
    hooks: v.optional(v.array(hookSchema, "must be an array of hooks")),
    hookTimeoutSeconds: v.optional(seconds(3600)),
    log: v.optional(
      v.strictObject({
        level: v.optional(v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`)),
        values: v.optional(v.boolean("must be true or false")),
      }),
    ),
    // Bytes are counted as characters of pool 0's keys and values (see hostFilesCharacters).
    hostFilesMaxBytes: v.optional(
      v.pipe(
        v.number("must be a number of bytes"),
        v.integer("must be a whole number of bytes"),
        v.check((n) => n === 0 || n >= 64 << 10, "must be 0 (never write them) or ≥ 65536 (64 KiB)"),
        v.maxValue(1 << 30, "must be ≤ 1073741824 (1 GiB)"),
      ),
    ),
    cloudInit: v.optional(
      v.strictObject({
        enabled: v.optional(v.boolean("must be true or false")),
        seedDir: v.optional(
          v.pipe(
            nonEmpty,
            v.startsWith("/", "must be an absolute path"),
            v.check((p) => !p.split("/").includes(".."), "must not hold .."),
          ),
        ),
        firstBootWaitSeconds: v.optional(
          v.pipe(
            v.number("must be a number of seconds"),
            v.minValue(0, "must be ≥ 0"),
            v.maxValue(MAX_FIRST_BOOT_WAIT_SECONDS, `must be ≤ ${MAX_FIRST_BOOT_WAIT_SECONDS}`),
          ),
        ),
      }),
    ),
    safetyNetSeconds: v.optional(seconds(86_400)),
    lockTimeoutSeconds: v.optional(seconds(600)),
  });
}

let configSchema: ReturnType<typeof buildConfigSchema> | undefined;

/** The config file as written. */
export type ConfigFile = v.InferOutput<ReturnType<typeof buildConfigSchema>>;

/** One hook from the config or the hooks directory, resolved. */
export interface HookSpec {
  readonly name: string;
  /** Program and arguments; run without a shell. */
  readonly command: readonly string[];
  /** Key patterns (`*` matches any run of characters). */
  readonly keys: readonly string[];
  readonly events: readonly HookEventType[];
  readonly pools: readonly (0 | 3)[];
  /** Milliseconds before the hook is killed. */
  readonly timeoutMs: number;
  readonly source: "config" | "dir";
}

/** The agent's settings with every default filled in. */
export interface AgentConfig {
  /** Pool directory; undefined means `$KVP_POOL_DIR`, else /var/lib/hyperv. */
  readonly poolDir: string | undefined;
  readonly stateDir: string;
  /** Mode of the files the agent writes (default 0600: host data carries secrets). */
  readonly fileMode: number;
  /** Prefix of host.env variable names (default `kvp_`; never empty, always with a lower-case letter). */
  readonly envPrefix: string;
  /** Prefix of the variable names in the decoded env files `decoded/KEY.env` (default empty: `$eth0ip`). */
  readonly decodedEnvPrefix: string;
  /** Key pattern → decoder, first match wins, in file order. */
  readonly decoders: readonly { readonly pattern: string; readonly decoder: DecoderName }[];
  readonly hooksDir: string;
  readonly hooks: readonly HookSpec[];
  /** Default hook timeout, in ms (default 30 s). */
  readonly hookTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Log host values as they are (default false: redacted to their length). */
  readonly logValues: boolean;
  /**
   * Largest pool 0 (its keys' and values' characters) that host.json and host.env are written
   * for (default {@link DEFAULT_HOST_FILES_MAX_BYTES}); past it they are removed, so that a
   * one-key change writes bytes in proportion to the change, not to the pool. 0: never written.
   */
  readonly hostFilesMaxBytes: number;
  /** Re-check interval when nothing changes, in ms (default 60 s): a safety net only. */
  readonly safetyNetMs: number;
  /** The NoCloud seed from pool 0's `cloud-init/*` items; null: off (the default). */
  readonly cloudInit: CloudInitConfig | null;
  /** Longest wait for a pool lock, in ms (default 5 s). */
  readonly lockTimeoutMs: number;
}

/** `cloudInit` with its defaults. */
export interface CloudInitConfig {
  /** The NoCloud seed directory (default {@link DEFAULT_SEED_DIR}). */
  readonly seedDir: string;
  /** How long `kvp-agent cloud-init-seed` waits for the host's meta-data at first boot, in ms (default 30 s). */
  readonly firstBootWaitMs: number;
}

/** Settings from the command line, which win over the file. */
export interface ConfigOverrides {
  readonly poolDir?: string;
  readonly stateDir?: string;
}

/**
 * Validates a parsed config file and fills in defaults.
 * @param source how messages name the file, e.g. its path.
 * @throws {AgentError} `config`, naming the first bad field: `config.json: hooks[0].command: must name a program`.
 */
export function validateConfig(input: unknown, source: string, overrides: ConfigOverrides = {}): AgentConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new AgentError("config", `${source}: must be a JSON object`);
  }
  // No config file is read as `{}`, valid by construction (every field is optional): the
  // default install, which ships none, never builds the schema.
  const file: ConfigFile = Object.keys(input).length === 0 ? {} : parseConfigFile(input, source);
  const hookTimeoutMs = Math.round((file.hookTimeoutSeconds ?? 30) * 1000);
  const hooks: HookSpec[] = (file.hooks ?? []).map((h) => ({
    name: h.name,
    command: h.command,
    keys: h.keys,
    events: h.events,
    pools: h.pools,
    timeoutMs: h.timeoutSeconds === undefined ? hookTimeoutMs : Math.round(h.timeoutSeconds * 1000),
    source: "config",
  }));
  const names = new Set<string>();
  for (const [i, hook] of hooks.entries()) {
    if (names.has(hook.name))
      throw new AgentError("config", `${source}: hooks[${i}].name: ${JSON.stringify(hook.name)} is used twice`);
    names.add(hook.name);
  }
  return {
    poolDir: overrides.poolDir ?? file.poolDir,
    stateDir: overrides.stateDir ?? file.stateDir ?? DEFAULT_STATE_DIR,
    fileMode: file.fileMode === undefined ? 0o600 : Number.parseInt(file.fileMode, 8),
    envPrefix: file.env?.prefix ?? DEFAULT_ENV_PREFIX,
    decodedEnvPrefix: file.env?.decodedPrefix ?? "",
    decoders: Object.entries(file.decoders ?? {}).map(([pattern, decoder]) => ({ pattern, decoder })),
    hooksDir: file.hooksDir ?? DEFAULT_HOOKS_DIR,
    hooks,
    hookTimeoutMs,
    logLevel: file.log?.level ?? "info",
    logValues: file.log?.values ?? false,
    hostFilesMaxBytes: file.hostFilesMaxBytes ?? DEFAULT_HOST_FILES_MAX_BYTES,
    safetyNetMs: Math.round((file.safetyNetSeconds ?? 60) * 1000),
    cloudInit:
      file.cloudInit?.enabled === true
        ? {
            seedDir: file.cloudInit.seedDir ?? DEFAULT_SEED_DIR,
            firstBootWaitMs: Math.round(
              (file.cloudInit.firstBootWaitSeconds ?? DEFAULT_FIRST_BOOT_WAIT_SECONDS) * 1000,
            ),
          }
        : null,
    lockTimeoutMs: Math.round((file.lockTimeoutSeconds ?? 5) * 1000),
  };
}

/** `input` checked against the schema, or an AgentError naming the first bad field. */
function parseConfigFile(input: object, source: string): ConfigFile {
  configSchema ??= buildConfigSchema();
  const result = v.safeParse(configSchema, input);
  if (!result.success) {
    const issue = result.issues[0];
    const path = (issue.path ?? [])
      .map((item) => (typeof item.key === "number" ? `[${item.key}]` : `.${String(item.key)}`))
      .join("")
      .replace(/^\./, "");
    const message = issue.type === "strict_object" ? "unknown field (check its spelling)" : issue.message;
    throw new AgentError("config", `${source}: ${path === "" ? "" : `${path}: `}${message}`);
  }
  return result.output;
}

/** Where a config came from, for `config check` and the start-up log line. */
export interface LoadedConfig {
  readonly config: AgentConfig;
  readonly path: string;
  /** False when the default file is absent and the defaults apply. */
  readonly found: boolean;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * A missing file at `path` means defaults, as at the default path (for the config of a
   * system installed under another root). Default false: a named file must exist.
   */
  readonly optional?: boolean;
}

/** A mode as `config check` and the messages write it: `0640`. */
function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

/**
 * Why a valid `fileMode` is still risky, or undefined. The state files are root's and root
 * scripts source them (`host.env`, `decoded/KEY.env`), so whoever can write them chooses
 * what root runs: world-writable is refused by the schema; group-writable is allowed (an
 * admin group may be meant) but said, by `config check` and at every start.
 */
export function fileModeWarning(mode: number): string | undefined {
  if ((mode & 0o020) === 0) return undefined;
  return `fileMode ${octal(mode)} is group-writable: members of the state files' group could rewrite host.env and the decoded env files, which root scripts source; 0640 lets them read`;
}

/**
 * Reads and validates the config. A missing file at the default path is normal (defaults
 * apply); a missing file that was named explicitly is an error unless `optional`.
 * @throws {AgentError} `config` for an unreadable, oversized, non-JSON or invalid file.
 */
export function loadConfig(
  path: string | undefined,
  overrides: ConfigOverrides = {},
  options: LoadConfigOptions = {},
): LoadedConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    const bytes = readAtMost(file, MAX_CONFIG_BYTES + 1);
    if (bytes.length > MAX_CONFIG_BYTES)
      throw new AgentError("config", `${file}: larger than ${MAX_CONFIG_BYTES} bytes`);
    text = bytes.toString("utf8");
  } catch (error) {
    if (error instanceof AgentError) throw error;
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" && (path === undefined || options.optional === true))
      return { config: validateConfig({}, file, overrides), path: file, found: false };
    throw new AgentError("config", `cannot read config ${file}: ${code ?? String(error)}`, undefined, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AgentError("config", `${file}: not JSON: ${(error as Error).message}`);
  }
  return { config: validateConfig(parsed, file, overrides), path: file, found: true };
}

/**
 * The first `limit` bytes of a file at most: a config path naming something endless
 * (`/dev/zero`, a FIFO left open) or huge is refused by size instead of read whole.
 */
function readAtMost(path: string, limit: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buffer = Buffer.alloc(limit);
    let length = 0;
    while (length < limit) {
      const n = readSync(fd, buffer, length, limit - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * True when `key` matches `pattern`: exact, case-sensitive (as the daemon matches keys),
 * with `*` standing for any run of characters.
 */
export function matchesPattern(pattern: string, key: string): boolean {
  if (!pattern.includes("*")) return pattern === key;
  const parts = pattern.split("*");
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!key.startsWith(first) || key.length < first.length + last.length || !key.endsWith(last)) return false;
  let at = first.length;
  const end = key.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = key.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
