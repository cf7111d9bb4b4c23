import { type Stats, constants, accessSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { type HookEventType, type HookSpec, MAX_HOOK_NAME, matchesPattern } from "./config.js";
import type { SpawnFn } from "./context.js";
import type { Logger } from "./logger.js";
import { monotonicMs } from "./clock.js";

/** One key's change, as hooks receive it. */
export interface HookEvent {
  /** 0 for host items, 3 for host facts. */
  readonly pool: 0 | 3;
  readonly type: HookEventType;
  readonly key: string;
  /** The new value (absent for `removed`). */
  readonly value?: string;
  /** The value before (absent for `added`). */
  readonly previous?: string;
}

/** What one hook run did; reported to the host as `kvp-agent/hook/NAME`. */
export interface HookResult {
  readonly hook: string;
  readonly event: HookEventType;
  readonly key: string;
  readonly pool: 0 | 3;
  /** Keys the run covered (its `KVP_CHANGES`); `event` and `key` are the last of them. */
  readonly changes: number;
  /** Exit status, or null when killed or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** Why the hook could not be started (ENOENT, EACCES…). */
  readonly error?: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Bytes of output beyond {@link MAX_HOOK_OUTPUT_BYTES}, dropped from the log. */
  readonly outputDropped: number;
}

/** Output of one hook run kept for the log, in bytes; the rest is counted, not kept. */
export const MAX_HOOK_OUTPUT_BYTES = 16 * 1024;

/**
 * Most bytes of `KVP_CHANGES`, well below Linux's 128 KiB limit on one environment string
 * (MAX_ARG_STRLEN): past it, the oldest changes are left out of the list (`KVP_CHANGE_COUNT`
 * still counts them), so a run over a huge pool still starts.
 */
export const MAX_CHANGES_ENV_BYTES = 64 * 1024;

/** Time a hook gets between SIGTERM and SIGKILL after its timeout, in ms. */
export const HOOK_KILL_GRACE_MS = 2000;

/**
 * run-parts' default naming rule (Debian's debianutils, without `--lsbsysinit` or `--regex`):
 * a name made only of ASCII letters, digits, `_` and `-`. Every file with a dot (`x.sh`,
 * `x.disabled`, `x.bak`, `x.orig`, `x.dpkg-old`, `x.ucf-dist`), `~` or anything else is
 * skipped: that is how an admin disables a hook, and where package managers leave copies.
 */
export const RUN_PARTS_NAME = /^[A-Za-z0-9_-]+$/;

/** Options of {@link listHookDir}. */
export interface ListHookDirOptions {
  /** The user the agent runs as (default: this process's): files of root or of this user may run. */
  readonly uid?: number;
  /** Told why a file, or the whole directory, is not run. */
  readonly onSkip?: (message: string) => void;
}

/**
 * Why a file another user could change must not run as the agent's user (root), or
 * undefined: owned by someone else than root or that user, or writable by its group or
 * others (as sudo judges sudoers.d; run-parts itself does not check).
 */
function writableByOthers(stats: Stats, uid: number): string | undefined {
  if (stats.uid !== 0 && stats.uid !== uid) return `owned by uid ${stats.uid}`;
  if ((stats.mode & 0o002) !== 0) return "writable by others";
  if ((stats.mode & 0o020) !== 0) return "writable by its group";
  return undefined;
}

/**
 * Executables in the hooks directory, sorted by name (run-parts order: bytes, as the C
 * locale sorts), each run for every change of pool 0. Only names run-parts would run
 * ({@link RUN_PARTS_NAME}) of at most {@link MAX_HOOK_NAME} characters (the name is part of
 * the hook's pool-1 key). The agent runs as root: a file (a link: the file it leads to)
 * that another user could change is not run, and nothing runs from a directory another user
 * could add files to; `onSkip` says which and why. A missing directory means no hooks.
 */
export function listHookDir(dir: string, timeoutMs: number, options: ListHookDirOptions = {}): HookSpec[] {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  let names: string[];
  try {
    const stats = statSync(dir);
    if (!stats.isDirectory()) return [];
    const why = writableByOthers(stats, uid);
    if (why !== undefined) {
      options.onSkip?.(`hooks directory ${dir} is ${why}: none of its hooks run (another user could add one)`);
      return [];
    }
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const hooks: HookSpec[] = [];
  // Names that pass are ASCII, so sorting by UTF-16 units is sorting by bytes.
  for (const name of names.filter((n) => RUN_PARTS_NAME.test(n) && n.length <= MAX_HOOK_NAME).sort()) {
    const path = join(dir, name);
    let stats: Stats;
    try {
      stats = statSync(path);
      if (!stats.isFile()) continue;
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const why = writableByOthers(stats, uid);
    if (why !== undefined) {
      options.onSkip?.(`hooks directory ${dir}: ${name} is ${why}: not run (another user could choose what it runs)`);
      continue;
    }
    hooks.push({
      name,
      command: [path],
      keys: ["*"],
      events: ["added", "changed", "removed"],
      pools: [0],
      timeoutMs,
      source: "dir",
    });
  }
  return hooks;
}

/**
 * The hooks directory as the agent reads it at every batch of changes: {@link listHookDir},
 * with each reason a file is skipped logged once while it lasts (said again after it was
 * fixed and came back).
 */
export class HookDir {
  private said = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** The directory's hooks now. */
  list(): HookSpec[] {
    const now = new Set<string>();
    const hooks = listHookDir(this.dir, this.timeoutMs, { onSkip: (message) => now.add(message) });
    for (const message of now) if (!this.said.has(message)) this.log.warning(message);
    this.said = now;
    return hooks;
  }
}

/** True when `hook` wants `event`. */
export function hookMatches(hook: HookSpec, event: HookEvent): boolean {
  return (
    hook.pools.includes(event.pool) &&
    hook.events.includes(event.type) &&
    hook.keys.some((p) => matchesPattern(p, event.key))
  );
}

/** Options of {@link runHook}. */
export interface RunHookOptions {
  readonly spawn: SpawnFn;
  /** The agent's environment, which hooks inherit (PATH and the like). */
  readonly env: Record<string, string | undefined>;
  readonly stateDir: string;
  /** The pool directory the agent reads, passed on so a hook's own `kvp-agent report` or `kvp-pool` uses the same pools. */
  readonly poolDir?: string;
  readonly now: () => Date;
  readonly log: Logger;
  /** Called once the hook's process exists (the benchmark's "hook started"). */
  readonly onStart?: (hook: HookSpec, event: HookEvent) => void;
  /** The decoded env file of the event's key, if it has one now; passed as KVP_DECODED_ENV. */
  readonly decodedEnvFile?: (event: HookEvent) => string | undefined;
  /** Aborting kills the hook (SIGTERM, then SIGKILL after the grace). */
  readonly signal?: AbortSignal;
}

/**
 * Runs one hook once, without a shell: `command[0]` with the rest as arguments. `changes`
 * are the keys it runs for, oldest first (default: just `event`); `event` is the last of
 * them. The environment has KVP_CHANGES (the changes as a JSON array of
 * `{"event","key","pool"}`, at most {@link MAX_CHANGES_ENV_BYTES}: the newest that fit) and
 * KVP_CHANGE_COUNT, and for `event` KVP_EVENT, KVP_KEY, KVP_VALUE, KVP_OLD_VALUE, KVP_POOL,
 * and KVP_DECODED_ENV when its key has a decoded env file (`decoded/KEY.env`) at the hook's
 * start; also KVP_HOOK, KVP_STATE_DIR, KVP_POOL_DIR. `event`'s value goes on stdin. Output
 * (stdout and stderr) goes to the log line by line. After `timeoutMs` the hook's process
 * group gets SIGTERM, then SIGKILL. Never throws: a hook that cannot start is a result
 * with `error`.
 */
export function runHook(
  hook: HookSpec,
  event: HookEvent,
  options: RunHookOptions,
  changes: readonly HookEvent[] = [event],
): Promise<HookResult> {
  const started = options.now();
  const t0 = monotonicMs();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined && !k.startsWith("KVP_")) env[k] = v;
  Object.assign(env, {
    KVP_EVENT: event.type,
    KVP_KEY: event.key,
    KVP_VALUE: event.value ?? "",
    KVP_OLD_VALUE: event.previous ?? "",
    KVP_POOL: String(event.pool),
    KVP_HOOK: hook.name,
    KVP_STATE_DIR: options.stateDir,
    ...(options.poolDir !== undefined ? { KVP_POOL_DIR: options.poolDir } : {}),
    KVP_CHANGES: changesJson(changes),
    KVP_CHANGE_COUNT: String(changes.length),
  });
  const decodedEnv = options.decodedEnvFile?.(event);
  if (decodedEnv !== undefined) env["KVP_DECODED_ENV"] = decodedEnv;
  return new Promise((resolve) => {
    // Complete lines of both streams in arrival order; each stream keeps its own partial line
    // and decoder, so a line or a UTF-8 character split across reads stays whole.
    const lines: string[] = [];
    let kept = 0;
    let dropped = 0;
    let timedOut = false;
    let spawnError: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let child: ReturnType<SpawnFn>;
    try {
      child = options.spawn(hook.command[0]!, hook.command.slice(1), {
        env,
        cwd: "/",
        // Its own process group, so a timeout kills what the hook started too.
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
    } catch (error) {
      // spawn throws instead of emitting "error" for some failures (ENOTDIR, ELOOP, E2BIG, a
      // NUL in an argument): still a result, or the queue's promise rejects and the agent dies.
      resolve({
        hook: hook.name,
        event: event.type,
        key: event.key,
        pool: event.pool,
        changes: changes.length,
        exitCode: null,
        signal: null,
        timedOut: false,
        error: (error as NodeJS.ErrnoException).code ?? (error as Error).message,
        startedAt: started.toISOString(),
        durationMs: Math.round(monotonicMs() - t0),
        outputDropped: 0,
      });
      return;
    }
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    const stop = () => {
      kill("SIGTERM");
      killTimer ??= setTimeout(() => kill("SIGKILL"), HOOK_KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, hook.timeoutMs);
    options.signal?.addEventListener("abort", stop, { once: true });
    const reader = () => {
      const decoder = new StringDecoder("utf8");
      let partial = "";
      const take = (text: string) => {
        const parts = (partial + text).split("\n");
        partial = parts.pop()!;
        lines.push(...parts);
      };
      return {
        collect: (chunk: Buffer) => {
          const room = MAX_HOOK_OUTPUT_BYTES - kept;
          if (room <= 0) {
            dropped += chunk.length;
            return;
          }
          take(decoder.write(chunk.subarray(0, room)));
          kept += Math.min(room, chunk.length);
          dropped += Math.max(0, chunk.length - room);
        },
        finish: () => {
          take(decoder.end());
          lines.push(partial);
        },
      };
    };
    const out = reader();
    const err = reader();
    child.stdout?.on("data", out.collect);
    child.stderr?.on("data", err.collect);
    child.stdin?.on("error", () => undefined); // a hook that does not read stdin is fine
    child.stdin?.end(event.value ?? "");
    child.once("spawn", () => options.onStart?.(hook, event));
    child.once("error", (error) => {
      spawnError = (error as NodeJS.ErrnoException).code ?? error.message;
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", stop);
      out.finish();
      err.finish();
      for (const line of lines) if (line !== "") options.log.info(`hook ${hook.name}: ${line}`);
      if (dropped > 0) options.log.info(`hook ${hook.name}: (${dropped} more bytes of output dropped)`);
      resolve({
        hook: hook.name,
        event: event.type,
        key: event.key,
        pool: event.pool,
        changes: changes.length,
        // Node reports a spawn failure's negative errno as the code; the hook never ran.
        exitCode: spawnError !== undefined ? null : code,
        signal,
        timedOut,
        ...(spawnError !== undefined ? { error: spawnError } : {}),
        startedAt: started.toISOString(),
        durationMs: Math.round(monotonicMs() - t0),
        outputDropped: dropped,
      });
    });
  });
}

/**
 * `changes` as KVP_CHANGES: a JSON array of `{"event","key","pool"}`, oldest first; when
 * the whole list is longer than {@link MAX_CHANGES_ENV_BYTES}, the newest that fit.
 */
function changesJson(changes: readonly HookEvent[]): string {
  const items: string[] = [];
  let bytes = 2;
  for (let i = changes.length - 1; i >= 0; i--) {
    const c = changes[i]!;
    const item = JSON.stringify({ event: c.type, key: c.key, pool: c.pool });
    bytes += Buffer.byteLength(item) + 1;
    if (bytes > MAX_CHANGES_ENV_BYTES) break;
    items.push(item);
  }
  return `[${items.reverse().join(",")}]`;
}

/** Options of {@link HookQueue}. */
export interface HookQueueOptions extends Omit<RunHookOptions, "signal"> {
  /** The hooks to consider, asked again at every push (the hooks directory may change). */
  readonly hooks: () => readonly HookSpec[];
  /** Called with each finished run. */
  readonly onResult: (result: HookResult) => void;
  /** Called (and awaited) before each run starts: the agent makes its state visible first. */
  readonly beforeRun?: () => void | Promise<void>;
}

/** One key's change since a hook's last run: its value then (undefined: absent) and the latest event. */
interface PendingChange {
  readonly before: string | undefined;
  latest: HookEvent;
}

/** A hook's pending run: the changes since its last run, one per pool and key, in first-change order. */
interface PendingRun {
  hook: HookSpec;
  readonly changes: Map<string, PendingChange>;
}

/**
 * Runs hooks one at a time. Each hook has at most one run in progress and one pending: the
 * events for a hook that is pending already merge into its pending run, one entry per key
 * (the value at its last run and the latest event), so the queue holds at most one entry per
 * hook and host key however fast the host changes keys, and a slow hook runs once for all
 * that changed meanwhile, seeing the latest state. A key that changed and changed back, or
 * came and went, is no change. Hooks run in the order they became pending (config hooks,
 * then the directory's, for one batch of events). A failing hook is logged and reported,
 * never fatal.
 */
export class HookQueue {
  /** Pending runs by hook name, in the order they run (a Map keeps insertion order). */
  private readonly pending = new Map<string, PendingRun>();
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Kills the running hook at stop; made for the first run (AbortController loads a module: `once` without hooks has no use for it). */
  private abort: AbortController | undefined;

  constructor(private readonly options: HookQueueOptions) {}

  /** Changes waiting in pending runs, over every hook: at most hooks × keys. */
  get size(): number {
    let n = 0;
    for (const run of this.pending.values()) n += run.changes.size;
    return n;
  }

  /** Adds `events` to the pending runs of the hooks that want their pool and key. */
  push(events: readonly HookEvent[]): void {
    if (events.length === 0 || this.stopped) return;
    for (const hook of this.options.hooks()) {
      for (const event of events) {
        // The event type is checked on the net change, when the run starts.
        if (!hook.pools.includes(event.pool) || !hook.keys.some((p) => matchesPattern(p, event.key))) continue;
        let run = this.pending.get(hook.name);
        if (run === undefined) {
          run = { hook, changes: new Map() };
          this.pending.set(hook.name, run);
        }
        run.hook = hook;
        const id = `${event.pool}/${event.key}`;
        const known = run.changes.get(id);
        if (known === undefined) run.changes.set(id, { before: event.previous, latest: event });
        else known.latest = event;
      }
    }
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Settles when nothing is pending and no hook runs. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Drops pending runs and stops the running one (SIGTERM, SIGKILL after the grace). */
  async stop(): Promise<void> {
    this.pending.clear();
    this.stopped = true;
    this.abort?.abort();
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = this.pending.entries().next();
      if (next.done) return;
      const [name, run] = next.value;
      this.pending.delete(name);
      const { hook } = run;
      // The keys and pools were checked at push; the event type is the net change's.
      const changes = netChanges(run).filter((event) => hookMatches(hook, event));
      const event = changes[changes.length - 1];
      if (event === undefined) continue;
      this.options.log.debug(
        `hook ${hook.name}: ${event.type} ${event.key}${changes.length > 1 ? ` and ${changes.length - 1} more` : ""}`,
      );
      await this.options.beforeRun?.();
      if (this.stopped) return; // stopped while the agent wrote its state: the run is dropped
      this.abort ??= new AbortController();
      const result = await runHook(hook, event, { ...this.options, signal: this.abort.signal }, changes);
      const how = result.error
        ? `could not start: ${result.error}`
        : result.timedOut
          ? `timed out after ${hook.timeoutMs} ms`
          : result.exitCode === 0
            ? undefined
            : result.signal
              ? `killed by ${result.signal}`
              : `exited with ${result.exitCode}`;
      if (how)
        this.options.log.warning(
          `hook ${hook.name} (${event.type} ${event.key}${changes.length > 1 ? ` and ${changes.length - 1} more` : ""}) ${how}`,
        );
      this.options.onResult(result);
    }
  }
}

/**
 * A pending run's changes as events from the state at the hook's last run to the latest:
 * `added`, `changed` or `removed` with the value then as `previous`; keys whose value is
 * what it was (or that came and went) are left out.
 */
function netChanges(run: PendingRun): HookEvent[] {
  const events: HookEvent[] = [];
  for (const { before, latest } of run.changes.values()) {
    const after = latest.type === "removed" ? undefined : latest.value;
    if (before === after) continue;
    const { pool, key } = latest;
    if (before === undefined) events.push({ pool, type: "added", key, value: after! });
    else if (after === undefined) events.push({ pool, type: "removed", key, previous: before });
    else events.push({ pool, type: "changed", key, value: after, previous: before });
  }
  return events;
}
