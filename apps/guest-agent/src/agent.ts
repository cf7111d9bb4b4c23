import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ChunkProblemReason, DecodedRecord, PoolNumber } from "@hyperv-kvp/kvp-core";
import {
  type PoolTarget,
  describePool,
  isPoolFileError,
  poolTarget,
  resolvePoolDir,
  snapshotPool,
} from "@hyperv-kvp/pool-file";
import { CLOUD_INIT_KEYS } from "@hyperv-kvp/kvp-core";
import { NoCloudSeed, type SeedOutcome, describeRefused, describeSeedChanges } from "./cloud-init-seed.js";
import { type AgentConfig, type DecoderName, type HookSpec, fileModeWarning } from "./config.js";
import type { AgentContext } from "./context.js";
import {
  DECODED_ENV_DIR,
  type DecodedEnvPlan,
  type SkippedField,
  decodedEnvPath,
  describeSkipped,
  planDecodedEnv,
  syncDecodedEnvDir,
} from "./decoded-env.js";
import { type Decoded, decodeValue, decoderFor } from "./decoders.js";
import { HookDir, type HookEvent, HookQueue, type HookResult } from "./hooks.js";
import type { Logger } from "./logger.js";
import { PoolMirror } from "./pool-mirror.js";
import { type PoolDirWatch, watchPoolDir } from "./pool-watcher.js";
import { type AgentStatus, REPORT_KEYS, Reporter, hookReportKey } from "./reporter.js";
import {
  type AtomicWriteOptions,
  ensureStateDir,
  readStringMap,
  removeStateFile,
  removeStaleTempFiles,
  statePath,
  writeEnvFile,
  writeFileAtomic,
  writeJsonMap,
} from "./state-files.js";
import { CoalescingWriter } from "./state-writer.js";
import { VERSION } from "./version.js";
import { monotonicMs } from "./clock.js";

/**
 * Least time between two writes of agent-status.json for hook results, in ms: a hook result
 * is also in pool 1 at once; the state file may lag this much behind a burst of them.
 */
export const STATUS_WRITE_INTERVAL_MS = 1000;

/** Debounce of pool file events, in ms: the daemon writes a pool in one go, under its lock. */
export const WATCH_DEBOUNCE_MS = 5;

/** What `kvp-agent status` reads: the agent's view of itself, in the state directory. */
export interface AgentState {
  readonly status: AgentStatus;
  /** Why the status is degraded, one sentence per problem. */
  readonly problems: string[];
  readonly pid: number;
  readonly version: string;
  readonly bootId: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Last harvest that changed the state files. */
  readonly harvestedAt: string | null;
  /** Pool-0 items and pool-3 facts materialised. */
  readonly items: number;
  readonly facts: number;
  /** Keys whose decoder failed, with why. */
  readonly decodeErrors: Record<string, string>;
  /** Pool-0 keys left out of host.env (prefix + key is no variable name the host may set: see shellNameProblem). */
  readonly envSkipped: string[];
  /** The decoded env files (`decoded/KEY.env`), one entry per key whose decoder yields fields. */
  readonly decodedEnv: DecodedEnvStatus[];
  /** Why host.json and host.env are not written (pool 0 past `hostFilesMaxBytes`); null: they are. */
  readonly hostFilesOff: string | null;
  /** Last result of each hook. */
  readonly hooks: Record<string, HookResult>;
  /**
   * Chunked values (`KEY#1/N` … `KEY#N/N`) whose parts are not whole (a part missing, two
   * splits mixed, a part not valid UTF-8) or carry stray copies: never shown as a value.
   */
  readonly chunks: ChunkNote[];
  /** The NoCloud seed's last sync (config `cloudInit`); null when that is off or nothing was synced yet. */
  readonly cloudInit: SeedOutcome | null;
}

/** A chunked value the agent could not (or not entirely) reassemble, as `status` shows it. */
export interface ChunkNote {
  readonly pool: 0 | 3;
  /** The logical key. */
  readonly key: string;
  readonly reason: ChunkProblemReason;
  readonly message: string;
}

/** One key's decoded env file, as `status` shows it. */
export interface DecodedEnvStatus {
  readonly key: string;
  /** Absolute path of the file, or null when the key gets none (why in `reason`). */
  readonly file: string | null;
  readonly reason?: string;
  /** Variable names in the file. */
  readonly variables: string[];
  /** Fields left out of the file, and why. */
  readonly skipped: SkippedField[];
}

/** Options of {@link Agent}. */
export interface AgentOptions {
  readonly config: AgentConfig;
  readonly ctx: AgentContext;
  readonly log: Logger;
  /** Called when a hook's process starts (benchmarks, tests). */
  readonly onHookStart?: (hook: HookSpec, event: HookEvent) => void;
  /**
   * One harvest, then {@link Agent.stop} (`kvp-agent once`): pool 1 and agent-status.json are
   * written when a hook is about to run and at the end, not for the `starting`, `ready` and
   * `stopping` a run without hooks passes through within milliseconds (the host and `status`
   * could never act on them). Default false: every status is written as it comes (`run`).
   */
  readonly oneShot?: boolean;
  /**
   * How long after their last write host.json and host.env may be written again, given how
   * long that write took (ms) and how many bytes it wrote (tests). Default {@link wholeFileDelayMs}.
   */
  readonly wholeFileDelayMs?: (lastWriteMs: number, lastWriteBytes: number) => number;
}

/**
 * The default pause between two writes of the files that hold the whole of pool 0 (host.json,
 * host.env), from the last write: none while they are under 1 MiB together (a slow write of
 * small files is the machine's hiccup, not their cost), else 49 times as long as that write
 * took (at most a minute), so rewriting them takes at most 2 % of the agent's time however
 * often the host changes a key (see
 * apps/guest-agent/README.md#state-files-mode-0600-by-default-written-by-temp-file--rename).
 */
export function wholeFileDelayMs(lastWriteMs: number, lastWriteBytes: number): number {
  return lastWriteBytes < 1 << 20 ? 0 : Math.min(49 * lastWriteMs, 60_000);
}

/**
 * Characters of `items`' keys and values, counted until they pass `limit` (then a number past
 * it): a lower bound of host.json's and of host.env's size, and cheap to count on a big pool.
 */
export function hostFilesCharacters(items: ReadonlyMap<string, string>, limit: number): number {
  let total = 0;
  for (const [key, value] of items) {
    total += key.length + value.length;
    if (total > limit) break;
  }
  return total;
}

/** Most keys stored more than once that a change applied key by key looks up in the pool. */
const MAX_KEY_LOOKUPS = 16;

/** Pools the agent reads: host items and host facts. */
const HOST_POOLS = [0, 3] as const;

/**
 * The guest agent: harvests pools 0 and 3 into the state directory, runs hooks on changes,
 * and reports to the host through its own keys in pool 1. `harvest()` is one pass (for
 * `once`); `start()` adds the watch that re-harvests on every change (for `run`).
 */
export class Agent {
  private readonly config: AgentConfig;
  private readonly ctx: AgentContext;
  private readonly log: Logger;
  private readonly targets: Record<0 | 1 | 3, PoolTarget>;
  private readonly reporter: Reporter;
  private readonly hooks: HookQueue;
  private readonly bootId: string;
  private readonly startedAt: string;
  /** Last materialised content per pool; undefined before the first successful read. */
  private readonly seen: Partial<Record<0 | 3, Map<string, string>>> = {};
  /** Baseline of the first harvest: what a previous run of this boot wrote. */
  private readonly previous: Partial<Record<0 | 3, Map<string, string>>> = {};
  /** Current read problems, per pool (a pool with no entry is fine). */
  private readonly problems = new Map<number, { code: string; message: string }>();
  private reportProblem: string | undefined;
  private status: AgentStatus = "starting";
  private harvestedAt: string | null = null;
  private decodeErrors: Record<string, string> = {};
  private envSkipped: string[] = [];
  /** See {@link AgentState.hostFilesOff}. */
  private hostFilesOff: string | null = null;
  private decodedEnv: DecodedEnvStatus[] = [];
  /** What was last said in the log about each key's decoded env file, so it is said once. */
  private decodedEnvSaid = new Map<string, string>();
  private readonly hookResults: Record<string, HookResult> = {};
  /** Writes agent-status.json for hook results, at most once per {@link STATUS_WRITE_INTERVAL_MS}. */
  private readonly statusWriter = new CoalescingWriter({
    write: () => this.writeState(),
    intervalMs: STATUS_WRITE_INTERVAL_MS,
  });
  /** Chunk problems of the last read of each pool. */
  private readonly chunkNotes: Record<0 | 3, ChunkNote[]> = { 0: [], 3: [] };
  /** Per host pool: how many usable records have each key (for {@link applyChanges}); undefined: not known. */
  private readonly keyCounts: Partial<Record<0 | 3, Map<string, number>>> = {};
  /** Each host pool as last read: a read decodes only the records that changed. */
  private readonly mirrors: Record<0 | 3, PoolMirror>;
  /** Per pool-0 key: its decoder (null: none), and the last decoding of its value. */
  private readonly decoderOf = new Map<string, DecoderName | null>();
  private decodedCache = new Map<string, { value: string; result: Decoded }>();
  /** host-decoded.json as last written (entries compared by identity). */
  private decodedWritten: Map<string, Decoded> | undefined;
  /** The decoded env files this process wrote, with their text. */
  private readonly decodedEnvWritten = new Map<string, string>();
  private readonly wholeFileDelay: (lastWriteMs: number, lastWriteBytes: number) => number;
  /** host.json/host.env: out of date since this pool-0 content, written when the timer fires. */
  private wholeFilesDue: Map<string, string> | undefined;
  private wholeFilesTimer: NodeJS.Timeout | undefined;
  private wholeFilesWrittenAt = 0;
  private wholeFilesCostMs = 0;
  private wholeFilesBytes = 0;
  private watch: PoolDirWatch | undefined;
  private harvesting: Promise<void> | undefined;
  private pendingPools = new Set<PoolNumber>();
  private stopped = false;
  private readonly seed: NoCloudSeed | undefined;
  private seedOutcome: SeedOutcome | null = null;
  /** The cloud-init documents last synced (null: a sync failed, try again at the next read). */
  private seedSynced: string | null = null;
  /** See {@link AgentOptions.oneShot}. */
  private readonly oneShot: boolean;
  /** True while a one-shot run writes nothing to pool 1 or agent-status.json. */
  private quiet: boolean;
  /** State files this process has written (or found current): see {@link firstWrite}. */
  private readonly writtenHere = new Set<string>();

  constructor(options: AgentOptions) {
    this.config = options.config;
    this.ctx = options.ctx;
    this.log = options.log;
    const dir = this.config.poolDir;
    this.targets = { 0: poolTarget(0, dir), 1: poolTarget(1, dir), 3: poolTarget(3, dir) };
    this.mirrors = { 0: new PoolMirror(this.targets[0]), 3: new PoolMirror(this.targets[3]) };
    this.wholeFileDelay = options.wholeFileDelayMs ?? wholeFileDelayMs;
    this.oneShot = options.oneShot ?? false;
    this.quiet = this.oneShot;
    this.seed = this.config.cloudInit ? new NoCloudSeed(this.config.cloudInit.seedDir) : undefined;
    this.bootId = this.ctx.bootId();
    this.startedAt = this.ctx.now().toISOString();
    this.reporter = new Reporter(this.targets[1], {
      lockTimeoutMs: this.config.lockTimeoutMs,
      log: this.log,
      maxRetryMs: Math.min(this.config.safetyNetMs, 30_000),
      onHealth: (error) => {
        this.reportProblem = error ? `pool 1: ${error.message}` : undefined;
        this.refreshStatus();
      },
    });
    const hookDir = new HookDir(this.config.hooksDir, this.config.hookTimeoutMs, this.log);
    this.hooks = new HookQueue({
      spawn: this.ctx.spawn,
      env: this.ctx.env,
      stateDir: this.config.stateDir,
      poolDir: resolvePoolDir(this.config.poolDir, this.ctx.env),
      now: this.ctx.now,
      log: this.log,
      ...(options.onHookStart ? { onStart: options.onHookStart } : {}),
      // Checked when the hook starts: a later change may have removed the file since.
      decodedEnvFile: (event) => {
        const path = event.pool === 0 ? decodedEnvPath(this.config.stateDir, event.key) : undefined;
        return path !== undefined && existsSync(path) ? path : undefined;
      },
      hooks: () => [...this.config.hooks, ...hookDir.list()],
      onResult: (result) => this.hookDone(result),
      beforeRun: () => this.speak(),
    });
    const modeWarning = fileModeWarning(this.config.fileMode);
    if (modeWarning !== undefined) this.log.warning(modeWarning);
    ensureStateDir(this.config.stateDir);
    const stale = removeStaleTempFiles(this.config.stateDir);
    if (stale.length > 0)
      this.log.info(`removed ${stale.length} temporary file(s) a stopped agent left in ${this.config.stateDir}`);
    for (const pool of HOST_POOLS) {
      const before = readStringMap(statePath(this.config.stateDir, pool === 0 ? "host" : "facts"));
      if (before) this.previous[pool] = before;
    }
  }

  /** The pool directory in use. */
  get poolDir(): string {
    return this.targets[0].dir;
  }

  /**
   * Clears a previous boot's records from pool 1, reports `starting`, and harvests once.
   * Problems (no Hyper-V, locks) are logged and reflected in the status, never thrown.
   */
  async harvest(): Promise<AgentState> {
    const removed = await this.reporter.removeStale(this.bootId);
    if (removed) this.log.info(`removed ${removed} record(s) of an earlier boot from pool 1`);
    this.reporter.set({
      [REPORT_KEYS.status]: "starting",
      [REPORT_KEYS.version]: VERSION,
      [REPORT_KEYS.bootId]: this.bootId,
    });
    if (!this.quiet) await this.reporter.flush();
    // Through the queue, so a watch started before cannot harvest at the same time.
    this.queueHarvest(new Set(HOST_POOLS));
    while (this.harvesting) await this.harvesting;
    return this.state();
  }

  /**
   * Starts watching: every change of pools 0, 1 and 3 is harvested (or checked) again.
   * Call before {@link harvest}, so no change between the first read and the watch is missed.
   */
  start(): void {
    this.watch = watchPoolDir({
      dir: this.poolDir,
      pools: [0, 1, 3],
      debounceMs: WATCH_DEBOUNCE_MS,
      safetyNetMs: this.config.safetyNetMs,
      onChange: (pools) => this.queueHarvest(pools),
    });
  }

  /** Settles when no harvest, hook or report write is in progress (tests, `once`). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.harvesting) await this.harvesting;
      this.flushWholeFiles();
      await this.hooks.idle();
      if (!this.quiet) await this.reporter.flush();
      if (!this.harvesting) break;
    }
    this.statusWriter.flush();
  }

  /**
   * Stops: no more harvests, hooks stopped (the running one gets SIGTERM), status
   * `stopping` then `stopped` (or `final`) reported; with `oneShot`, which stops once idle,
   * only `final`.
   */
  async stop(final: AgentStatus = "stopped"): Promise<AgentState> {
    this.stopped = true;
    this.watch?.close();
    if (!this.oneShot) {
      this.setStatus("stopping");
      await this.reporter.flush();
    }
    await this.hooks.stop();
    if (this.harvesting) await this.harvesting;
    // What the host sent last is in the files when the agent is gone.
    this.flushWholeFiles();
    this.quiet = false;
    this.setStatus(final);
    // setStatus wrote the final state: nothing is written after it.
    this.statusWriter.close();
    await this.reporter.flush();
    this.reporter.close();
    return this.state();
  }

  /** The agent's view of itself (also written to agent-status.json). */
  state(): AgentState {
    return {
      status: this.status,
      problems: this.problemList(),
      pid: this.ctx.pid,
      version: VERSION,
      bootId: this.bootId,
      startedAt: this.startedAt,
      updatedAt: this.ctx.now().toISOString(),
      harvestedAt: this.harvestedAt,
      items: this.seen[0]?.size ?? 0,
      facts: this.seen[3]?.size ?? 0,
      decodeErrors: this.decodeErrors,
      envSkipped: this.envSkipped,
      decodedEnv: this.decodedEnv,
      hostFilesOff: this.hostFilesOff,
      hooks: this.hookResults,
      chunks: [...this.chunkNotes[0], ...this.chunkNotes[3]],
      cloudInit: this.seedOutcome,
    };
  }

  private queueHarvest(pools: ReadonlySet<PoolNumber>): void {
    if (this.stopped) return;
    for (const p of pools) this.pendingPools.add(p);
    if (this.harvesting) return;
    this.harvesting = (async () => {
      while (this.pendingPools.size > 0 && !this.stopped) {
        const batch = this.pendingPools;
        this.pendingPools = new Set();
        if (batch.has(0) || batch.has(3)) await this.harvestPools(batch);
        if (batch.has(1)) await this.reporter.verify();
      }
    })().finally(() => {
      this.harvesting = undefined;
    });
  }

  private async harvestPools(pools: ReadonlySet<PoolNumber>): Promise<void> {
    let changed = false;
    for (const pool of HOST_POOLS) {
      if (!pools.has(pool)) continue;
      const changedBytes = await this.readHostPool(pool);
      if (changedBytes === undefined) continue;
      const before = this.seen[pool];
      const failing = this.problems.has(100 + pool);
      // Nothing stored changed (the pool rewritten as it was, the safety net): nothing to do,
      // unless the last write of the state files failed (retried at every read).
      if (!changedBytes && before !== undefined && !failing) continue;
      const mirror = this.mirrors[pool];
      if (
        before !== undefined &&
        !failing &&
        !mirror.hasParts &&
        this.chunkNotes[pool].length === 0 &&
        this.keyCounts[pool] !== undefined &&
        mirror.lastChanges.length <= Math.max(64, mirror.records.length / 8)
      ) {
        // A few records changed in a pool without chunked values: only their keys are looked at.
        const applied = this.applyChanges(pool, before);
        if (applied !== undefined) {
          const { events, keys } = applied;
          if (events.length === 0) continue;
          try {
            this.materialise(pool, before, false, keys);
          } catch (error) {
            // Back to what was written, so the next (full) read finds these changes again.
            for (const e of events) {
              if (e.previous === undefined) before.delete(e.key);
              else before.set(e.key, e.previous);
            }
            this.stateProblem(pool, error);
            continue;
          }
          changed = true;
          this.pushEvents(pool, events);
          continue;
        }
      }
      const baseline = before ?? this.previous[pool] ?? new Map<string, string>();
      const items = this.logicalItems(pool, baseline);
      if (before !== undefined && !failing && sameMap(before, items)) continue;
      try {
        this.materialise(pool, items, before === undefined);
      } catch (error) {
        this.stateProblem(pool, error);
        continue;
      }
      this.problems.delete(100 + pool);
      this.seen[pool] = items;
      // The previous run's content was only the first harvest's baseline: its memory goes.
      delete this.previous[pool];
      changed = true;
      this.pushEvents(pool, diffItems(pool, baseline, items));
    }
    if (changed) {
      this.harvestedAt = this.ctx.now().toISOString();
      this.reporter.set({ [REPORT_KEYS.harvestedAt]: this.harvestedAt });
    }
    this.refreshStatus();
    if (!this.quiet) void this.reporter.flush();
  }

  /** Ends the quiet of a one-shot run: the status so far goes to agent-status.json and pool 1. */
  private async speak(): Promise<void> {
    if (!this.quiet) return;
    this.quiet = false;
    this.writeState();
    await this.reporter.flush();
  }

  /**
   * Our own directory failed (full, read-only): say so, keep going; the next read retries
   * (a full one, against the items last written).
   */
  private stateProblem(pool: 0 | 3, error: unknown): void {
    this.problems.set(100 + pool, {
      code: "state",
      message: `cannot write state files in ${this.config.stateDir}: ${(error as Error).message}`,
    });
    this.log.error(this.problems.get(100 + pool)!.message);
  }

  private pushEvents(pool: 0 | 3, events: HookEvent[]): void {
    if (events.length > 0) {
      this.log.info(
        `pool ${pool}: ${events.map((e) => `${e.type} ${e.key}${e.value === undefined ? "" : ` = ${this.log.value(e.value)}`}`).join(", ")}`,
      );
    }
    this.hooks.push(events);
  }

  /**
   * A pool's items by logical key (kvp-core's chunking convention, through pool-file's
   * snapshotPool, as `kvp-pool get` and `watch` read them): a complete group `K#1/N` …
   * `K#N/N` is the one key `K`; parts that are not whole are never a value, and a `K` they
   * leave without one keeps its value of `baseline` until they are whole or gone. Problems are
   * noted for `status`, and logged when they change.
   */
  private logicalItems(pool: 0 | 3, baseline: ReadonlyMap<string, string>): Map<string, string> {
    const mirror = this.mirrors[pool];
    const records = mirror.records.filter(usable);
    const bad = mirror.records.length - records.length;
    if (bad > 0) this.log.debug(`${describePool(this.targets[pool])}: ${bad} malformed record(s) ignored`);
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
    this.keyCounts[pool] = counts;
    if (!mirror.hasParts && this.chunkNotes[pool].length === 0) {
      // No chunked value: every key is its own (first record of a key wins).
      const items = new Map<string, string>();
      for (const r of records) if (!items.has(r.key)) items.set(r.key, r.value);
      return items;
    }
    const snapshot = snapshotPool(records, { reassemble: true });
    const items = new Map<string, string>();
    for (const [key, entry] of snapshot.entries) items.set(key, entry.value);
    for (const key of snapshot.held) {
      const kept = baseline.get(key);
      if (kept !== undefined) items.set(key, kept);
    }
    const said = new Set(this.chunkNotes[pool].map((n) => `${n.reason}\u0000${n.key}`));
    this.chunkNotes[pool] = snapshot.problems.map((p) => {
      const keeps = snapshot.held.has(p.key) && baseline.has(p.key) ? "; its last whole value is kept" : "";
      return { pool, key: p.key, reason: p.reason, message: `${chunkMessage(p.reason, p.message)}${keeps}` };
    });
    for (const note of this.chunkNotes[pool]) {
      if (!said.has(`${note.reason}\u0000${note.key}`))
        this.log.warning(`pool ${pool} key ${note.key}: chunked value: ${note.message}`);
    }
    return items;
  }

  /**
   * Reads a host pool into its mirror; on failure records the problem (logged once) and
   * returns undefined.
   * @returns whether a stored record changed since the last read.
   */
  private async readHostPool(pool: 0 | 3): Promise<boolean | undefined> {
    const target = this.targets[pool];
    try {
      const changed = await this.mirrors[pool].refresh({ timeoutMs: this.config.lockTimeoutMs });
      if (this.problems.has(pool)) {
        this.log.info(`${describePool(target)} is readable again`);
        this.problems.delete(pool);
      }
      return changed;
    } catch (error) {
      const code = isPoolFileError(error) ? error.code : "io";
      const message =
        code === "daemon-absent"
          ? `${describePool(target)} is missing: no Hyper-V KVP daemon yet (not on Hyper-V, or hv_kvp_daemon not running); waiting for it`
          : (error as Error).message;
      if (this.problems.get(pool)?.code !== code) this.log.warning(message);
      this.problems.set(pool, { code, message });
      if (code === "daemon-absent") this.watch?.rearm();
      return undefined;
    }
  }

  /**
   * Writes the state files of `items` whose content changed: pool 3's file; for pool 0 the
   * decodings (a key's value decoded again only when it changed), the decoded env files
   * whose text changed, host-decoded.json when a decoding changed, and host.json/host.env
   * now (`first`, or while cheap) or a little later ({@link wholeFileDelayMs}).
   */
  private materialise(
    pool: 0 | 3,
    items: Map<string, string>,
    first: boolean,
    changedKeys?: ReadonlySet<string>,
  ): void {
    const dir = this.config.stateDir;
    const mode = this.config.fileMode;
    if (pool === 3) {
      const path = statePath(dir, "facts");
      writeJsonMap(path, items, mode, this.firstWrite(path));
      return;
    }
    const decoded = changedKeys === undefined ? new Map<string, Decoded>() : new Map(this.decodedWritten);
    const cache = changedKeys === undefined ? new Map<string, { value: string; result: Decoded }>() : this.decodedCache;
    if (this.decoderOf.size > 2 * items.size + 1024) this.decoderOf.clear(); // keys long gone
    for (const key of changedKeys ?? items.keys()) {
      let decoder = this.decoderOf.get(key);
      if (decoder === undefined) {
        decoder = decoderFor(key, this.config.decoders) ?? null;
        this.decoderOf.set(key, decoder);
      }
      if (decoder === null) continue;
      const value = items.get(key);
      if (value === undefined) {
        decoded.delete(key);
        cache.delete(key);
        continue;
      }
      const last = this.decodedCache.get(key);
      const result = last !== undefined && last.value === value ? last.result : decodeValue(decoder, value);
      cache.set(key, last !== undefined && last.result === result ? last : { value, result });
      decoded.set(key, result);
    }
    this.decodedCache = cache;
    const decodedSame = this.decodedWritten !== undefined && sameMap(this.decodedWritten, decoded);
    if (!(decodedSame && changedKeys !== undefined)) {
      // Keys come from the host: with a prototype, `errors["__proto__"] = …` would be lost.
      const errors: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [key, result] of decoded) if (!result.ok) errors[key] = result.error;
      for (const [key, error] of Object.entries(errors)) {
        if (this.decodeErrors[key] !== error)
          this.log.warning(
            `pool 0 key ${key}: cannot decode as ${decoded.get(key)?.decoder}: ${error}; raw value kept`,
          );
      }
      this.decodeErrors = errors;
      const plans: DecodedEnvPlan[] = [];
      for (const [key, result] of decoded) {
        const plan = planDecodedEnv(key, result, this.config.decodedEnvPrefix);
        if (plan !== undefined) plans.push(plan);
      }
      // host.json last: a reader that waits for it finds the others already current.
      syncDecodedEnvDir(dir, plans, mode, this.decodedEnvWritten);
      this.noteDecodedEnv(plans);
    }
    if (!decodedSame) {
      this.decodedWritten = undefined; // until written
      const path = statePath(dir, "decoded");
      writeJsonMap(path, decoded, mode, this.firstWrite(path));
      this.decodedWritten = decoded;
    }
    this.wholeFilesDue = items;
    if (first) this.writeWholeFiles();
    else this.scheduleWholeFiles();
    this.syncSeed(items);
  }

  /**
   * Keeps the NoCloud seed equal to pool 0's `cloud-init/*` items (config `cloudInit`), when
   * they changed or the last sync failed. Never throws: a refused document or an unsafe seed
   * directory is logged (once) and is a problem in `status`.
   */
  private syncSeed(items: ReadonlyMap<string, string>): void {
    if (this.seed === undefined) return;
    const documents = JSON.stringify(Object.values(CLOUD_INIT_KEYS).map((key) => items.get(key) ?? null));
    if (documents === this.seedSynced) return;
    const said = this.problems.get(200)?.message;
    let problem: string | undefined;
    try {
      const outcome = this.seed.sync(items);
      this.seedOutcome = outcome;
      if (outcome.state === "refused") problem = describeRefused(outcome.refused);
      const changes = describeSeedChanges(outcome);
      if (changes !== "") this.log.info(`cloud-init seed ${outcome.seedDir}: ${changes}`);
      this.seedSynced = documents;
    } catch (error) {
      problem = (error as Error).message;
      this.seedSynced = null;
    }
    if (problem === undefined) this.problems.delete(200);
    else {
      this.problems.set(200, { code: "cloud-init", message: problem });
      if (problem !== said) this.log.warning(problem);
    }
  }

  /**
   * Applies the records the last read changed to `items` (a pool without chunked values,
   * read before): only the keys of those records are looked at, so a change costs what
   * changed, not the pool. The first usable record of a key wins, as in a full read.
   * @returns the events, and the keys whose value changed; undefined (nothing changed) when a
   *   full read is cheaper.
   */
  private applyChanges(
    pool: 0 | 3,
    items: Map<string, string>,
  ): { events: HookEvent[]; keys: Set<string> } | undefined {
    const mirror = this.mirrors[pool];
    const counts = this.keyCounts[pool]!;
    const touched = new Set<string>();
    const latest = new Map<string, DecodedRecord>();
    for (const { before, after } of mirror.lastChanges) {
      if (before !== undefined && usable(before)) {
        const n = (counts.get(before.key) ?? 0) - 1;
        if (n > 0) counts.set(before.key, n);
        else counts.delete(before.key);
        touched.add(before.key);
      }
      if (after !== undefined && usable(after)) {
        counts.set(after.key, (counts.get(after.key) ?? 0) + 1);
        touched.add(after.key);
        latest.set(after.key, after);
      }
    }
    // A key stored more than once is looked up in the pool: a few are fine, many would make
    // the change cost the pool times the change (a full read is then cheaper).
    let lookups = 0;
    for (const key of touched) {
      const n = counts.get(key) ?? 0;
      if (n > 1 || (n === 1 && !latest.has(key))) lookups++;
    }
    if (lookups > MAX_KEY_LOOKUPS) return undefined;
    const events: HookEvent[] = [];
    const removed: HookEvent[] = [];
    const keys = new Set<string>();
    for (const key of touched) {
      const n = counts.get(key) ?? 0;
      // The one record with the key is a changed one, or (duplicates) the first in the pool.
      const value =
        n === 0
          ? undefined
          : n === 1 && latest.has(key)
            ? latest.get(key)!.value
            : mirror.records.find((r) => r.key === key && usable(r))?.value;
      const previous = items.get(key);
      if (value === previous) continue;
      keys.add(key);
      if (value === undefined) {
        items.delete(key);
        removed.push({ pool, type: "removed", key, previous: previous! });
      } else {
        items.set(key, value);
        events.push(
          previous === undefined
            ? { pool, type: "added", key, value }
            : { pool, type: "changed", key, value, previous },
        );
      }
    }
    return { events: [...events, ...removed], keys };
  }

  /** Writes host.json/host.env now, or sets a timer for when the pause after the last write is over. */
  private scheduleWholeFiles(): void {
    if (this.wholeFilesTimer !== undefined) return;
    const wait =
      this.wholeFilesWrittenAt + this.wholeFileDelay(this.wholeFilesCostMs, this.wholeFilesBytes) - monotonicMs();
    if (wait <= 0) {
      this.writeWholeFiles();
      return;
    }
    this.wholeFilesTimer = setTimeout(() => {
      this.wholeFilesTimer = undefined;
      this.flushWholeFiles();
      this.refreshStatus();
    }, wait);
  }

  /** {@link writeWholeFiles}, a failure recorded as pool 0's state problem (retried at the next read). */
  private flushWholeFiles(): void {
    if (this.wholeFilesDue === undefined) return;
    try {
      this.writeWholeFiles();
    } catch (error) {
      this.stateProblem(0, error);
    }
  }

  /**
   * Writes host.env, then host.json, of the pool-0 content they are behind on (nothing when
   * they are current).
   * @throws Error from the writes; they are then still due.
   */
  private writeWholeFiles(): void {
    clearTimeout(this.wholeFilesTimer);
    this.wholeFilesTimer = undefined;
    const items = this.wholeFilesDue;
    if (items === undefined) return;
    const dir = this.config.stateDir;
    const mode = this.config.fileMode;
    const max = this.config.hostFilesMaxBytes;
    if (max === 0 || hostFilesCharacters(items, max) > max) {
      // Stale files would be worse than none: a reader would act on values the host changed.
      removeStateFile(statePath(dir, "env"));
      removeStateFile(statePath(dir, "host"));
      this.envSkipped = [];
      this.wholeFilesBytes = 0;
      this.wholeFilesDue = undefined;
      if (this.hostFilesOff === null) {
        this.hostFilesOff =
          max === 0
            ? "hostFilesMaxBytes is 0: host.json and host.env are not written"
            : `pool 0's keys and values come to more than hostFilesMaxBytes (${max} characters): host.json and host.env are not written (removed) until they are back under it; read keys with \`kvp-agent wait KEY\` or \`kvp-pool get KEY\`, decoded/KEY.env, or a hook's KVP_VALUE`;
        this.log.warning(this.hostFilesOff);
      }
      return;
    }
    if (this.hostFilesOff !== null) {
      this.hostFilesOff = null;
      this.log.info(
        `pool 0 is back under hostFilesMaxBytes (${max} characters): host.json and host.env are written again`,
      );
    }
    const start = monotonicMs();
    const envPath = statePath(dir, "env");
    const env = writeEnvFile(envPath, items, this.config.envPrefix, mode, this.firstWrite(envPath));
    this.envSkipped = env.skipped;
    const hostPath = statePath(dir, "host");
    this.wholeFilesBytes = env.bytes + writeJsonMap(hostPath, items, mode, this.firstWrite(hostPath));
    this.wholeFilesDue = undefined;
    this.wholeFilesWrittenAt = monotonicMs();
    this.wholeFilesCostMs = this.wholeFilesWrittenAt - start;
  }

  /**
   * How to write state file `path`: compared first when this process has not written it yet
   * (an earlier run of this boot, `once` after `once`, may have left these very bytes: then
   * nothing is written); afterwards the agent writes a file only for content it knows changed.
   */
  private firstWrite(path: string): AtomicWriteOptions {
    if (this.writtenHere.has(path)) return {};
    this.writtenHere.add(path);
    return { unlessSame: true };
  }

  /** Records the decoded env files for `status`; logs a key's left-out fields when they change. */
  private noteDecodedEnv(plans: readonly DecodedEnvPlan[]): void {
    const said = new Map<string, string>();
    for (const plan of plans) {
      const where = plan.file === null ? "" : `${DECODED_ENV_DIR}/${plan.file}`;
      const message =
        plan.file === null
          ? `no decoded env file: ${plan.reason}`
          : plan.skipped.length > 0
            ? `${where} leaves out ${describeSkipped(plan.skipped).join("; ")}`
            : "";
      said.set(plan.key, message);
      if (message !== "" && this.decodedEnvSaid.get(plan.key) !== message)
        this.log.warning(`pool 0 key ${plan.key}: ${message}`);
    }
    this.decodedEnvSaid = said;
    this.decodedEnv = plans.map((plan) => ({
      key: plan.key,
      file: plan.file === null ? null : join(this.config.stateDir, DECODED_ENV_DIR, plan.file),
      ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
      variables: plan.variables,
      skipped: plan.skipped,
    }));
  }

  private hookDone(result: HookResult): void {
    this.hookResults[result.hook] = result;
    const summary = {
      event: result.event,
      key: result.key,
      ...(result.changes > 1 ? { changes: result.changes } : {}),
      exit: result.exitCode,
      ...(result.signal ? { signal: result.signal } : {}),
      ...(result.timedOut ? { timedOut: true } : {}),
      ...(result.error ? { error: result.error } : {}),
      at: result.startedAt,
      ms: result.durationMs,
    };
    this.reporter.set({ [hookReportKey(result.hook)]: JSON.stringify(summary) });
    this.statusWriter.request();
    void this.reporter.flush();
  }

  private problemList(): string[] {
    const list = [...this.problems.values()].map((p) => p.message);
    if (this.reportProblem) list.push(this.reportProblem);
    return list;
  }

  private refreshStatus(): void {
    if (this.status === "stopping" || this.status === "stopped") return;
    const problems = this.problemList();
    this.setStatus(problems.length > 0 ? "degraded" : this.seen[0] && this.seen[3] ? "ready" : "starting", problems);
  }

  private setStatus(status: AgentStatus, problems = this.problemList()): void {
    const changed = status !== this.status;
    this.status = status;
    this.reporter.set({
      [REPORT_KEYS.status]: status,
      [REPORT_KEYS.detail]: status === "degraded" ? problems.join("; ") : "",
    });
    if (changed) this.log.info(`status ${status}`);
    this.writeState();
  }

  private writeState(): void {
    if (this.quiet) return;
    try {
      writeFileAtomic(
        statePath(this.config.stateDir, "status"),
        `${JSON.stringify(this.state(), null, 2)}\n`,
        this.config.fileMode,
      );
    } catch {
      // The harvest reports a failing state directory; the status file is secondary.
    }
  }
}

/** True for records the agent materialises: whole, valid UTF-8, with a key. */
function usable(record: DecodedRecord): boolean {
  return record.keyTerminated && record.valueTerminated && record.validUtf8 && record.key !== "";
}

/**
 * What a chunk problem means for the agent: kvp-core's sentence says what a lister shows
 * ("shown as stored"); the agent shows such parts nowhere.
 */
function chunkMessage(reason: ChunkProblemReason, message: string): string {
  const why = message.replace(/[;,] (?:the parts are |later copies are )?shown as stored$/, "");
  switch (reason) {
    case "incomplete":
    case "conflicting-totals":
    case "invalid-utf8":
      return `not whole, so no value yet: ${why}`;
    case "plain-beside-parts":
      return `${why}; the parts are ignored`;
    case "duplicate-part":
      return `${why}; later copies are ignored`;
  }
}

/** Same keys, each with the same value (strings by content, objects by identity); order aside. */
function sameMap<T>(a: ReadonlyMap<string, T>, b: ReadonlyMap<string, T>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Events from one content of a pool to the next: added and changed in pool order, then removed. */
export function diffItems(
  pool: 0 | 3,
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): HookEvent[] {
  const events: HookEvent[] = [];
  for (const [key, value] of after) {
    const previous = before.get(key);
    if (previous === undefined) events.push({ pool, type: "added", key, value });
    else if (previous !== value) events.push({ pool, type: "changed", key, value, previous });
  }
  for (const [key, previous] of before) if (!after.has(key)) events.push({ pool, type: "removed", key, previous });
  return events;
}
