import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { CliCommand } from "@hyperv-kvp/cli-kit";
import { CLOUD_INIT_KEYS } from "@hyperv-kvp/kvp-core";
import { type PoolTarget, poolTarget, readPool, snapshotPool } from "@hyperv-kvp/pool-file";
import { NoCloudSeed, type RefusedDocument, describeRefused, describeSeedChanges } from "../cloud-init-seed.js";
import type { LoadedConfig } from "../config.js";
import type { AgentCli } from "../context.js";
import { readUntil } from "../pool-wait.js";
import { type CommonOptions, loadFor, loggerFor } from "./common.js";
import { monotonicMs } from "../clock.js";

/** Options of {@link cloudInitSeed}. */
export interface CloudInitSeedOptions extends CommonOptions {
  /** Longest wait for the host's meta-data, in ms; default the config's `firstBootWaitSeconds` at first boot, else 0. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What `kvp-agent cloud-init-seed` did. */
export interface CloudInitSeedResult {
  /**
   * `disabled`: config `cloudInit` is off; `absent`: no meta-data from the host in time
   * (cloud-init then tries its other datasources); `incomplete`: a document's parts were
   * still missing at the deadline (nothing written); `refused`: see `refused`; `written`:
   * the seed is what the host sent.
   */
  readonly state: "disabled" | "absent" | "incomplete" | "refused" | "written";
  readonly seedDir: string | null;
  /** How long it waited for the host, in ms. */
  readonly waitedMs: number;
  readonly written: readonly string[];
  readonly removed: readonly string[];
  readonly refused: readonly RefusedDocument[];
  /** Documents whose parts were not whole (state `incomplete`). */
  readonly incomplete: readonly string[];
}

/** Pool 0 by logical key, and the cloud-init keys whose parts are stored but not whole. */
interface SeedRead {
  readonly items: Map<string, string>;
  readonly incomplete: string[];
}

const SEED_KEYS: ReadonlySet<string> = new Set(Object.values(CLOUD_INIT_KEYS));

async function readSeedItems(target: PoolTarget, lockTimeoutMs: number): Promise<SeedRead> {
  const { records } = await readPool(target, { timeoutMs: lockTimeoutMs });
  const usable = records.filter((r) => r.keyTerminated && r.valueTerminated && r.validUtf8);
  const snapshot = snapshotPool(usable, { reassemble: true });
  const items = new Map<string, string>();
  for (const [key, entry] of snapshot.entries) if (SEED_KEYS.has(key)) items.set(key, entry.value);
  const incomplete = [...new Set(snapshot.problems.map((p) => p.key))].filter((k) => SEED_KEYS.has(k));
  return { items, incomplete };
}

/**
 * Reads pool 0 until the host's cloud-init documents are there (meta-data, and every document
 * whose parts are stored whole), watching the pool directory, for at most `waitMs`.
 * @returns the last read (empty when the pools never appeared).
 */
async function waitForSeed(
  target: PoolTarget,
  waitMs: number,
  lockTimeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<SeedRead> {
  let last: SeedRead = { items: new Map(), incomplete: [] };
  const found = (read: SeedRead) => read.items.has(CLOUD_INIT_KEYS["meta-data"]) && read.incomplete.length === 0;
  // Without a wait, the first read (whatever it found) is the answer; else the last one read.
  await readUntil({
    dir: target.dir,
    pool: 0,
    safetyNetMs: 1000,
    timeoutMs: waitMs,
    ...(signal ? { signal } : {}),
    read: async () => {
      last = await readSeedItems(target, lockTimeoutMs);
      return found(last) ? last : undefined;
    },
  });
  return last;
}

/**
 * `kvp-agent cloud-init-seed`: writes the NoCloud seed from pool 0's `cloud-init/*` items once,
 * for the boot step ordered before cloud-init's first stage. At first boot (no meta-data in the
 * seed directory yet) it waits up to the config's `firstBootWaitSeconds` for the host's
 * meta-data; later boots read the pool once. Never waits longer: a VM whose host sends
 * nothing boots on (state `absent`).
 * @throws {AgentError} `config` for a bad config; `io` for an unsafe seed directory or a failed write.
 */
export async function cloudInitSeed(
  options: CloudInitSeedOptions,
  loaded: LoadedConfig = loadFor(options),
): Promise<CloudInitSeedResult> {
  const none = { written: [], removed: [], refused: [], incomplete: [] };
  const settings = loaded.config.cloudInit;
  if (settings === null) return { state: "disabled", seedDir: null, waitedMs: 0, ...none };
  let seeded = true;
  try {
    lstatSync(join(settings.seedDir, "meta-data"));
  } catch {
    seeded = false;
  }
  const waitMs = options.timeoutMs ?? (seeded ? 0 : settings.firstBootWaitMs);
  const start = monotonicMs();
  const read = await waitForSeed(
    poolTarget(0, loaded.config.poolDir),
    waitMs,
    loaded.config.lockTimeoutMs,
    options.signal,
  );
  const waitedMs = Math.round(monotonicMs() - start);
  if (read.incomplete.length > 0)
    return { state: "incomplete", seedDir: settings.seedDir, waitedMs, ...none, incomplete: read.incomplete };
  const outcome = new NoCloudSeed(settings.seedDir).sync(read.items);
  return {
    state: outcome.state,
    seedDir: settings.seedDir,
    waitedMs,
    written: outcome.written,
    removed: outcome.removed,
    refused: outcome.refused,
    incomplete: [],
  };
}

/** One line for people (stderr, so the journal has it): what the boot step did. */
export function describeSeedResult(result: CloudInitSeedResult): string {
  const seconds = `${(result.waitedMs / 1000).toFixed(1)} s`;
  switch (result.state) {
    case "disabled":
      return 'cloud-init seeding is off (config: "cloudInit": { "enabled": true } turns it on)';
    case "absent":
      return `no cloud-init meta-data from the host after ${seconds}: no seed written; cloud-init uses its other datasources`;
    case "incomplete":
      return `cloud-init document(s) ${result.incomplete.join(", ")} not whole after ${seconds} (parts missing): no seed written`;
    case "refused":
      return describeRefused(result.refused);
    case "written":
      return `cloud-init seed in ${result.seedDir} is the host's (${describeSeedChanges(result) || "unchanged"}) after ${seconds}`;
  }
}

/** `kvp-agent cloud-init-seed`: exit 0 whatever the host sent (the boot goes on), 2 bad config, 3 unsafe seed directory. */
export const cloudInitSeedCommand: CliCommand<AgentCli> = {
  name: "cloud-init-seed",
  define: (command, { run, common }) =>
    command
      .description(
        "write the NoCloud seed from the host's cloud-init/* items (waits for meta-data at first boot; exit 0 without it)",
      )
      .option(
        "--timeout <duration>",
        "wait this long for the host's meta-data (default: config firstBootWaitSeconds at first boot, else 0)",
      )
      .option("--json", "print what was done as JSON")
      .action(async (opts) => {
        const timeoutMs =
          opts.timeout === undefined
            ? undefined
            : run.duration(opts.timeout, {
                option: "--timeout",
                bareUnit: "s",
                hint: `${run.tool} cloud-init-seed --help`,
              });
        const options = common();
        // One read of the config for the seed and the log line.
        const loaded = loadFor(options);
        const result = await cloudInitSeed(
          { ...options, signal: run.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
          loaded,
        );
        const log = loggerFor(loaded, options.ctx);
        const line = describeSeedResult(result);
        if (result.state === "refused" || result.state === "incomplete") log.warning(line);
        else log.info(line);
        if (opts.json) run.json(result);
      }),
};
