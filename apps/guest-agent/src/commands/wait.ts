import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { AgentCli } from "../context.js";
import { poolTarget, readPool, snapshotPool } from "@hyperv-kvp/pool-file";
import { AgentError } from "../agent-error.js";
import { readUntil } from "../pool-wait.js";
import { type CommonOptions, loadFor } from "./common.js";
import { monotonicMs } from "../clock.js";

/** Options of {@link wait}. */
export interface WaitOptions extends CommonOptions {
  /** Give up after this many ms (default: wait forever). */
  readonly timeoutMs?: number;
  /** Pool to wait in: 0 (host items, default) or 3 (host facts). */
  readonly pool?: 0 | 3;
  readonly signal?: AbortSignal;
}

/** What `wait` found. */
export interface WaitResult {
  readonly key: string;
  readonly value: string;
  readonly pool: 0 | 3;
  /** How long it waited, in ms. */
  readonly waitedMs: number;
}

/**
 * `kvp-agent wait KEY`: resolves with KEY's value as soon as the host has sent it (a chunked
 * value `KEY#1/N` … `KEY#N/N` once every part is there, reassembled), reading
 * the pool itself (the agent need not run). Watches the pool directory rather than polling;
 * a missing directory or a held lock are waited out.
 * @throws {AgentError} `timeout` when `timeoutMs` passes first.
 */
export async function wait(key: string, options: WaitOptions): Promise<WaitResult> {
  const { config } = loadFor(options);
  const pool = options.pool ?? 0;
  const target = poolTarget(pool, config.poolDir);
  const start = monotonicMs();
  const outcome = await readUntil({
    dir: target.dir,
    pool,
    safetyNetMs: Math.min(config.safetyNetMs, 10_000),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal ? { signal: options.signal } : {}),
    read: async () => {
      const { records } = await readPool(target, { timeoutMs: config.lockTimeoutMs });
      // By logical key, as the agent materialises it: a chunked value once it is whole.
      const usable = records.filter((r) => r.keyTerminated && r.valueTerminated && r.validUtf8);
      return snapshotPool(usable, { reassemble: true }).entries.get(key)?.value;
    },
  });
  if (outcome.kind === "found") return { key, value: outcome.value, pool, waitedMs: Math.round(monotonicMs() - start) };
  throw new AgentError(
    "timeout",
    outcome.kind === "aborted"
      ? `interrupted while waiting for ${JSON.stringify(key)}`
      : `timed out after ${options.timeoutMs! / 1000} s: the host has not sent ${JSON.stringify(key)} (pool ${pool})`,
  );
}

/** `kvp-agent wait`: exit 1 when `--timeout` passes first. */
export const waitCommand: CliCommand<AgentCli> = {
  name: "wait",
  define: (command, { run, ctx, common }) =>
    command
      .description("block until the host has sent KEY (pool 0), then print its value")
      .argument("<key>", "the key")
      .option("--timeout <duration>", "give up after this long: 30s, 2m (exit 1; a bare number is seconds, deprecated)")
      .option("--facts", "wait in pool 3 (host facts) instead")
      .option("--json", "print {key, value, pool, waitedMs}")
      .action(async (key, opts) => {
        const timeoutMs =
          opts.timeout === undefined
            ? undefined
            : run.duration(opts.timeout, { option: "--timeout", bareUnit: "s", hint: `${run.tool} wait --help` });
        const result = await wait(key, {
          ...common(),
          signal: run.signal,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(opts.facts ? { pool: 3 as const } : {}),
        });
        if (opts.json) run.json(result);
        else ctx.stdout.write(`${result.value}\n`);
      }),
};
