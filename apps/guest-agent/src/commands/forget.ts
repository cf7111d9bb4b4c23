import { type CliCommand, printable } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { lstatSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { type DecodedRecord, logicalKeyOf } from "@hyperv-kvp/kvp-core";
import { DEFAULT_POOL_DIR, isPoolFileError, poolTarget, removeLogicalKeys } from "@hyperv-kvp/pool-file";
import { AgentError } from "../agent-error.js";
import { DEFAULT_CONFIG_PATH } from "../config.js";
import { REPORT_PREFIX, isAgentKey } from "../reporter.js";
import { type CommonOptions, isRunning, loadFor, readAgentState } from "./common.js";

/** Options of {@link forget}. */
export interface ForgetOptions extends CommonOptions {
  /**
   * Act on the system installed under this directory instead of this machine (what the
   * .deb's prerm passes as $DPKG_ROOT): its config `ROOT/etc/kvp-agent/config.json` (absent:
   * defaults) unless `configPath` names one, and its pool directory `ROOT` + the config's
   * `poolDir` (default /var/lib/hyperv) unless `poolDir` names one. `$KVP_POOL_DIR` is
   * ignored: it names this machine's pools. Both paths are resolved within ROOT and never
   * leave it (see {@link pathUnderRoot}).
   */
  readonly root?: string;
}

/** What `kvp-agent forget` did. */
export interface ForgetResult {
  /** The pool-1 file acted on. */
  readonly pool: string;
  /** Stored records removed (a chunked value counts each part). */
  readonly removed: number;
  /** Logical keys removed (parts `K#i/N` counted once as `K`), in pool order. */
  readonly keys: string[];
  /** Why nothing could be removed although that is fine (no pool: no KVP daemon here). */
  readonly note?: string;
  /** A running agent's pid: it will write its records again until it is stopped. */
  readonly runningAgentPid?: number;
}

/**
 * `kvp-agent forget`: removes every record the agent owns in pool 1 (the `kvp-agent/`
 * namespace: its status, hook results and reports, every part of a chunked value), under
 * the daemon-compatible write lock, so the host stops seeing a stale status after the agent
 * is removed. Other writers' records are kept, in their order. A missing pool directory or
 * file (no KVP daemon) is not an error: nothing to forget, said in `note`.
 * @throws {AgentError} `config` for a bad config; {@link PoolFileError} `locked` when the
 *   lock wait times out, `io` when the pool cannot be written (not root).
 */
export async function forget(options: ForgetOptions): Promise<ForgetResult> {
  const root = options.root === undefined || options.root === "" ? undefined : resolve(options.root);
  const configPath = options.configPath ?? (root === undefined ? undefined : pathUnderRoot(root, DEFAULT_CONFIG_PATH));
  const { config } = loadFor(options, configPath, { optional: root !== undefined && options.configPath === undefined });
  const target =
    root === undefined
      ? poolTarget(1, config.poolDir)
      : poolTarget(1, options.poolDir ?? pathUnderRoot(root, config.poolDir ?? DEFAULT_POOL_DIR, "poolDir"));
  // Under another root, a state file's pid is no process of this machine.
  const state = root === undefined ? readAgentState(config.stateDir) : null;
  const running =
    state !== null && isRunning(state) && state.pid !== options.ctx.pid ? { runningAgentPid: state.pid } : {};
  let removed: DecodedRecord[];
  try {
    // The same selection as the agent's own clean-up of an earlier boot (Reporter.removeStale).
    removed = await removeLogicalKeys(target, (key) => isAgentKey(key), { timeoutMs: config.lockTimeoutMs });
  } catch (error) {
    if (isPoolFileError(error, "daemon-absent")) {
      return { pool: target.path, removed: 0, keys: [], note: `nothing to forget: ${error.message}`, ...running };
    }
    throw error;
  }
  const keys = [...new Set(removed.map((r) => logicalKeyOf(r.key)))];
  return { pool: target.path, removed: removed.length, keys, ...running };
}

/** Most links followed while resolving one path under a root, as the kernel's ELOOP limit. */
const MAX_LINKS = 40;

/**
 * `path` of the system installed under `root` (absolute there; a relative one is taken from
 * its `/`) as this machine reaches it, confined to `root`: each component is resolved as a
 * chroot at `root` would resolve it, so an absolute link target starts again at `root`
 * (`/var/run -> /run` is `ROOT/run`), and a `..` that would climb above `root`, in the path
 * or in a link, is refused rather than followed out. Components that do not exist are taken
 * as written. A root is root's to write (a .deb's build root), so nothing swaps a component
 * between this check and the use.
 * @param what how the message names the path's origin, e.g. `poolDir`.
 * @throws {AgentError} `config` when the path's own `..` leads out, `io` when a link does.
 */
function pathUnderRoot(root: string, path: string, what = "path"): string {
  const parts: string[] = [];
  let pending = components(path);
  let links = 0;
  let via: string | undefined;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      if (parts.length === 0) {
        throw via === undefined
          ? new AgentError("config", `--root ${root}: ${what} ${JSON.stringify(path)} leads out of ${root} (..)`)
          : new AgentError("io", `--root ${root}: ${via} is a link that leads out of ${root}; not followed`);
      }
      parts.pop();
      continue;
    }
    const here = join(root, ...parts, part);
    let link: string | undefined;
    try {
      if (lstatSync(here).isSymbolicLink()) link = readlinkSync(here);
    } catch {
      // Missing (or unreadable): taken as written; the pool code says what is missing.
    }
    if (link === undefined) {
      parts.push(part);
      continue;
    }
    if (++links > MAX_LINKS)
      throw new AgentError("io", `--root ${root}: too many links resolving ${JSON.stringify(path)}`);
    via = here;
    if (link.startsWith("/")) parts.length = 0;
    pending = [...components(link), ...pending];
  }
  return join(root, ...parts);
}

/** The names of a path, without empty ones and `.`. */
function components(path: string): string[] {
  return path.split("/").filter((p) => p !== "" && p !== ".");
}

/** `forget` for people. */
export function formatForget(result: ForgetResult): string {
  if (result.note !== undefined) return "";
  if (result.removed === 0) return `no ${REPORT_PREFIX}* records in ${result.pool}\n`;
  return `${printable(`removed ${result.removed} record(s) from ${result.pool}: ${result.keys.join(", ")}`)}\n`;
}

/** `kvp-agent forget`: no pool (no KVP daemon) is a note and exit 0. */
export const forgetCommand: CliCommand<AgentCli> = {
  name: "forget",
  define: (command, { run, ctx, common }) =>
    command
      .summary("remove the agent's records from pool 1 (the .deb does on remove/purge)")
      .description(
        "remove every record the agent owns in pool 1 (kvp-agent/*, chunked parts too) under the daemon's lock, so the host stops seeing a stale status; other writers' records stay. No pool (no KVP daemon): a note, exit 0. The .deb runs it when the package is removed or purged",
      )
      .option(
        "--root <dir>",
        "act on the system installed under DIR (its config and pool directory), as the .deb's prerm does with $DPKG_ROOT",
      )
      .option("--json", "print what was removed as JSON")
      .action(async (opts) => {
        const result = await forget({ ...common(), ...(opts.root !== undefined ? { root: opts.root } : {}) });
        if (result.runningAgentPid !== undefined) {
          run.warn(
            `the agent (pid ${result.runningAgentPid}) is running and writes its records again; stop it first (systemctl stop kvp-agent)`,
          );
        }
        if (result.note !== undefined) run.note(result.note);
        if (opts.json) run.json(result);
        else ctx.stdout.write(formatForget(result));
      }),
};
