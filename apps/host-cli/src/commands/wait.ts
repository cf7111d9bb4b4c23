/**
 * `wait`: until the guest's items (GuestExchangeItems, what the VM writes to pool 1; chunked
 * values reassembled) show every awaited key, with its value when one is given. It is `watch`
 * with a goal and a deadline: the same reads (one query of the VM's KVP component per
 * interval, whatever the number of keys; back-off while the host does not answer), so waiting
 * never costs the host more than watching does.
 */
import { type CliCommand, type DurationSpec, formatDuration, printable } from "@hyperv-kvp/cli-kit";
import { HostCliError } from "../host-error.js";
import type { HostCli } from "../host-session.js";
import { quoted } from "../host-text.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";
import type { ListedItem } from "../items.js";
import { shorten } from "../plan.js";
import { DEFAULT_WATCH_INTERVAL_MS, abortableSleep, watchItems } from "./watch.js";

/** Default longest wait, milliseconds (10 minutes: a first boot that installs packages takes minutes). */
export const DEFAULT_WAIT_TIMEOUT_MS = 600_000;

/** One awaited item: `KEY` (present, any value) or `KEY=VALUE` (exactly that value). */
export interface WaitCondition {
  readonly key: string;
  /** The value awaited; undefined: any value. */
  readonly value?: string;
}

/** Options of {@link waitForItems}. */
export interface WaitOptions {
  /** Longest wait from the start, milliseconds; default {@link DEFAULT_WAIT_TIMEOUT_MS}. 0: read once. */
  readonly timeoutMs?: number;
  /** Pause between reads, milliseconds; default `watch`'s, {@link DEFAULT_WATCH_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Stops waiting early (Ctrl-C): the wait then fails as not ready. */
  readonly signal?: AbortSignal;
  /** Notes for people: the host stopped or resumed answering, the VM has no component yet. */
  readonly onNote?: (message: string) => void;
  /** Called after the first read, with the VM. */
  readonly onReady?: (vm: VmInfo) => void;
  /** Clock (milliseconds) and sleep, injectable for tests; sleep must end early when its signal aborts. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What {@link waitForItems} found. */
export interface WaitResult {
  readonly vm: VmInfo;
  /** The guest item that met each condition, in the conditions' order. */
  readonly items: ListedItem[];
  /** Reads of the guest's items it took (the first included). */
  readonly reads: number;
}

/**
 * Reads `KEY[=VALUE]` arguments (split at the first `=`; a key may not be empty).
 * @throws {HostCliError} `usage`.
 */
export function parseConditions(args: readonly string[], hint: string): WaitCondition[] {
  if (args.length === 0) throw new HostCliError("usage", "nothing to wait for: give KEY or KEY=VALUE", hint);
  return args.map((arg) => {
    const eq = arg.indexOf("=");
    const key = eq < 0 ? arg : arg.slice(0, eq);
    if (key === "")
      throw new HostCliError("usage", `invalid condition ${JSON.stringify(arg)}: expected KEY or KEY=VALUE`, hint);
    return eq < 0 ? { key } : { key, value: arg.slice(eq + 1) };
  });
}

/** `"KEY"` or `"KEY"="VALUE"`, for messages. */
export function describeCondition(c: WaitCondition): string {
  return c.value === undefined ? shorten(c.key) : `${shorten(c.key)}=${JSON.stringify(printable(c.value))}`;
}

/**
 * Waits until the guest items of the VM `vmRef` names meet every condition at one read.
 * The VM is resolved and read first: a VM that does not exist, a host that refuses the
 * credentials or cannot be reached fail at once (thrown, as `watch`); later failures to read
 * are notes and waiting goes on. A VM without a KVP component (off, starting) is waited for.
 * @throws {HostCliError} `not-ready` when the deadline passes (or `signal` aborts) first; its
 *   details hold what was awaited and what the guest showed of those keys.
 */
export async function waitForItems(
  wmi: HyperVWmi,
  vmRef: string,
  conditions: readonly WaitCondition[],
  options: WaitOptions = {},
): Promise<WaitResult> {
  const clock = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const deadline = clock() + (options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
  const stop = new AbortController();
  const interrupted = () => stop.abort();
  options.signal?.addEventListener("abort", interrupted, { once: true });
  // The guest's items as watch reports them: it diffs each read against the one before.
  const seen = new Map<string, ListedItem>();
  const met = () =>
    conditions.every((c) => {
      const item = seen.get(c.key);
      return item !== undefined && (c.value === undefined || item.value === c.value);
    });
  let vm: VmInfo | undefined;
  let reads = 0;
  let outcome: "met" | "timeout" | undefined;
  try {
    await watchItems(wmi, vmRef, {
      source: "guest",
      initial: true,
      intervalMs: options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS,
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === "removed") seen.delete(event.key);
        else seen.set(event.key, { source: event.source, key: event.key, value: event.value ?? "", ...parts(event) });
      },
      onNote: (note) => options.onNote?.(note),
      onReady: (found) => {
        vm = found;
        options.onReady?.(found);
      },
      // watch sleeps after every read (successful or not): the place to judge what it saw.
      sleep: async (ms, signal) => {
        reads++;
        if (met()) outcome = "met";
        else if (clock() >= deadline) outcome = "timeout";
        if (outcome !== undefined) {
          stop.abort();
          return;
        }
        // The last read falls on the deadline, not a whole interval after it.
        await sleep(Math.min(ms, Math.max(0, deadline - clock())), signal);
      },
    });
  } finally {
    options.signal?.removeEventListener("abort", interrupted);
  }
  // watch resolved the VM before anything else, so it is known here.
  const found = vm!;
  if (outcome === "met") {
    return { vm: found, items: conditions.map((c) => seen.get(c.key)!), reads };
  }
  const missing = conditions.filter((c) => {
    const item = seen.get(c.key);
    return item === undefined || (c.value !== undefined && item.value !== c.value);
  });
  const shown = missing.map((c) => {
    const item = seen.get(c.key);
    return item === undefined
      ? `${shorten(c.key)} absent`
      : `${shorten(c.key)}=${JSON.stringify(printable(item.value))}`;
  });
  const why =
    outcome === "timeout" ? `after ${formatDuration(options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS)}` : "interrupted";
  throw new HostCliError(
    "not-ready",
    `VM ${quoted(found.name)} did not show ${missing.map(describeCondition).join(", ")} (${why}; guest shows ${shown.join(", ")})`,
    undefined,
    {
      vm: found,
      reason: outcome === "timeout" ? "timeout" : "interrupted",
      missing,
      seen: Object.fromEntries(missing.flatMap((c) => (seen.has(c.key) ? [[c.key, seen.get(c.key)!.value]] : []))),
    },
  );
}

function parts(event: { readonly parts?: number }): { parts?: number } {
  return event.parts === undefined ? {} : { parts: event.parts };
}

/** How `--wait-timeout` is read: a duration up to a day; 0 reads once. */
export const WAIT_TIMEOUT_SPEC: DurationSpec = {
  option: "--wait-timeout",
  bareUnit: "s",
  minMs: 0,
  maxMs: 86_400_000,
};

/** How `--interval` is read for waiting: as `watch` reads it. */
export const WAIT_INTERVAL_SPEC: DurationSpec = {
  option: "--interval",
  bareUnit: "s",
  minMs: 100,
  maxMs: 3_600_000,
};

/** The help of `--wait-timeout`. */
export const WAIT_TIMEOUT_HELP = `longest wait for the guest: 30s, 10m (default ${DEFAULT_WAIT_TIMEOUT_MS / 60_000}m; 0 reads once); --timeout is the wait for one answer from the host`;

/** The help of `--interval` for waiting. */
export const WAIT_INTERVAL_HELP = `pause between reads of the guest's items, as watch's: 500ms, 5s (default ${DEFAULT_WATCH_INTERVAL_MS / 1000}s)`;

/** `--wait-timeout` and `--interval` of `wait` and `set --wait`, read. */
export function waitTimingOf(
  cli: HostCli,
  opts: { waitTimeout?: string; interval?: string },
  command: string,
): { timeoutMs: number; intervalMs: number } {
  const hint = `${cli.run.tool} ${command} --help`;
  return {
    timeoutMs:
      opts.waitTimeout === undefined
        ? DEFAULT_WAIT_TIMEOUT_MS
        : cli.run.duration(opts.waitTimeout, { ...WAIT_TIMEOUT_SPEC, hint }),
    intervalMs:
      opts.interval === undefined
        ? DEFAULT_WATCH_INTERVAL_MS
        : cli.run.duration(opts.interval, { ...WAIT_INTERVAL_SPEC, hint }),
  };
}

/** {@link waitForItems} as a command runs it: Ctrl-C, notes, the test's sleep. */
export function waitAsCommand(
  cli: HostCli,
  wmi: HyperVWmi,
  vmRef: string,
  conditions: readonly WaitCondition[],
  timing: { timeoutMs: number; intervalMs: number },
): Promise<WaitResult> {
  const { run, ctx } = cli;
  return waitForItems(wmi, vmRef, conditions, {
    ...timing,
    signal: run.signal,
    onNote: (message) => run.note(printable(message)),
    ...(ctx.watchSleep ? { sleep: ctx.watchSleep } : {}),
    ...(ctx.now ? { now: ctx.now } : {}),
  });
}

/** The values of a met wait for people: one per line, in the conditions' order. */
export function formatWaitValues(result: WaitResult): string {
  return result.items.map((item) => `${item.value}\n`).join("");
}

/** `kvp-host wait`: exit 0 with the values, 1 when the guest did not show them in time. */
export const waitCommand: CliCommand<HostCli> = {
  name: "wait",
  define: (command, cli) =>
    command
      .description(
        "wait until the guest's items (pool 1, chunked values reassembled) show every KEY (with VALUE, when given) and print their values; exit 1 at --wait-timeout",
      )
      .argument("<vm>", "VM name or GUID")
      .argument("<conditions...>", "KEY (present) or KEY=VALUE (exactly that value); all must hold")
      .option("--wait-timeout <duration>", WAIT_TIMEOUT_HELP)
      .option("--interval <duration>", WAIT_INTERVAL_HELP)
      .option("--json", "JSON: {vm, items: [{source, key, value, parts?}], reads}")
      .action(async (vm, args, opts) => {
        const conditions = parseConditions(args, `${cli.run.tool} wait --help`);
        const timing = waitTimingOf(cli, opts, "wait");
        const result = await cli.withHost((wmi) => waitAsCommand(cli, wmi, vm, conditions, timing));
        if (opts.json) cli.run.json(result);
        else cli.ctx.stdout.write(formatWaitValues(result));
      }),
};
