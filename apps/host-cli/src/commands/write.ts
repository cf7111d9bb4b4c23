import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { HostCli } from "../host-session.js";
import { formatRemove, formatWaited, formatWrite } from "../print.js";
import {
  WAIT_INTERVAL_HELP,
  WAIT_TIMEOUT_HELP,
  type WaitCondition,
  type WaitResult,
  parseConditions,
  waitAsCommand,
  waitTimingOf,
} from "./wait.js";
import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import { type ApplyOptions, applyBatches } from "../apply.js";
import { HostCliError } from "../host-error.js";
import { decodeSourceItems } from "../items.js";
import type { JobWaitOptions } from "../jobs.js";
import { planRemove, planWrite, prepareRecords } from "../plan.js";
import { resolveVm } from "../resolve-vm.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";
import { quoted } from "../host-text.js";

/** Options of {@link writeItems}. */
export interface WriteOptions extends JobWaitOptions {
  /** `upsert` (set) or `add` (strict: fails when a key exists). */
  readonly mode: "upsert" | "add";
  /** Store long values as parts `K#1/N` … `K#N/N`. */
  readonly chunk?: boolean;
  /** Write HostOnlyItems (kept in the VM configuration, never sent to the guest). */
  readonly hostOnly?: boolean;
  /** Logical keys to remove (with every part) when stored: what the write replaces as a whole. */
  readonly remove?: readonly string[];
}

/** What a write did. Keys are stored keys (parts `K#i/N` of chunked values included). */
export interface WriteReport {
  readonly vm: VmInfo;
  readonly source: "host" | "host-only";
  readonly added: string[];
  readonly modified: string[];
  readonly removed: string[];
  readonly unchanged: string[];
  /** Add/Modify/RemoveKvpItems calls made. */
  readonly methodCalls: number;
}

/**
 * The stored items of `source` (key → value, parts as stored; the first of duplicates).
 * @throws {HostCliError} `io` when the VM has no KVP setting data.
 */
export async function readStored(
  wmi: HyperVWmi,
  vm: VmInfo,
  source: "host" | "host-only",
): Promise<Map<string, string>> {
  const settings = await wmi.getKvpSettingData(vm.id);
  if (settings === undefined)
    throw new HostCliError(
      "io",
      `VM ${quoted(vm.name)} (${vm.id}) has no KVP setting data (Msvm_KvpExchangeComponentSettingData)`,
    );
  const read = decodeSourceItems(source, source === "host" ? settings.hostItems : settings.hostOnlyItems, {
    raw: true,
  });
  const stored = new Map<string, string>();
  for (const item of read.items) if (!stored.has(item.key)) stored.set(item.key, item.value);
  return stored;
}

function applyOptions(wmi: HyperVWmi, vm: VmInfo, source: "host" | "host-only", options: JobWaitOptions): ApplyOptions {
  return { ...options, source, reread: () => readStored(wmi, vm, source) };
}

/**
 * `set` and `add`: writes `records` to the host items (or host-only items) of the VM `vmRef`
 * names, in as few calls as Hyper-V allows (see plan.ts).
 * @throws {HostCliError} `usage` for records the guest cannot receive whole; `refused` when
 *   `add` finds a key present; the errors of {@link applyBatches}.
 */
export async function writeItems(
  wmi: HyperVWmi,
  vmRef: string,
  records: readonly KvpRecord[],
  options: WriteOptions,
): Promise<WriteReport> {
  if (options.chunk && options.hostOnly)
    throw new HostCliError(
      "usage",
      "--chunk is for items the guest receives; host-only items are never sent to it",
      "kvp-host set --help",
    );
  const source = options.hostOnly ? "host-only" : "host";
  const prepared = prepareRecords(records, {
    ...(options.chunk ? { chunk: true } : {}),
    ...(options.hostOnly ? { hostOnly: true } : {}),
  });
  const vm = await resolveVm(wmi, vmRef);
  const stored = await readStored(wmi, vm, source);
  const plan = planWrite(stored, prepared, {
    mode: options.mode,
    vm,
    ...(options.remove === undefined ? {} : { remove: options.remove }),
  });
  const methodCalls = await applyBatches(wmi, vm, plan.batches, applyOptions(wmi, vm, source, options));
  return {
    vm,
    source,
    added: plan.add,
    modified: plan.modify,
    removed: plan.remove,
    unchanged: plan.unchanged,
    methodCalls,
  };
}

/** What `remove` did. */
export interface RemoveReport {
  readonly vm: VmInfo;
  readonly source: "host" | "host-only";
  /** Stored keys removed (every part of a chunked key). */
  readonly removed: string[];
  readonly methodCalls: number;
}

/**
 * `remove`: removes host items (or host-only items) and every stored part `K#i/N` of each key.
 * @throws {HostCliError} `not-found` when a key is not stored (then nothing is removed).
 */
export async function removeItems(
  wmi: HyperVWmi,
  vmRef: string,
  keys: readonly string[],
  options: JobWaitOptions & { readonly hostOnly?: boolean } = {},
): Promise<RemoveReport> {
  const source = options.hostOnly ? "host-only" : "host";
  const vm = await resolveVm(wmi, vmRef);
  const stored = await readStored(wmi, vm, source);
  const plan = planRemove(stored, keys);
  if (plan.missing.length > 0) {
    const names = plan.missing.map((k) => JSON.stringify(k)).join(", ");
    throw new HostCliError(
      "not-found",
      `VM ${quoted(vm.name)} has no ${source} item ${names}; nothing removed`,
      undefined,
      { missing: plan.missing },
    );
  }
  const methodCalls = await applyBatches(wmi, vm, plan.batches, applyOptions(wmi, vm, source, options));
  return { vm, source, removed: plan.remove, methodCalls };
}

const JOB_TIMEOUT_HELP = "longest wait for each job: 30s, 2m (default 60s; a bare number is seconds, deprecated)";

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The help of `--wait`. */
export const WAIT_HELP =
  "then wait until the guest's items show KEY (with VALUE, when given), e.g. kvp-agent/status=ready; repeatable, all must hold; exit 1 at --wait-timeout";

/** What `set --wait` (and `cloud-init --wait`) did: the write, then what the guest showed. */
export type WriteAndWaitReport<R> = R & { readonly waited?: WaitResult };

/**
 * Runs `write`, then, with conditions, waits for the guest as `kvp-host wait` does. The write's
 * report is printed (`print`) before the wait starts, for people; with `--json` the caller
 * prints both at the end. A wait that fails says that the write itself succeeded.
 * @throws {HostCliError} `not-ready` when the guest did not show the conditions in time (exit
 *   1), its details holding the write's report under `write`; the errors of `write`.
 */
export async function writeThenWait<R extends { readonly vm: VmInfo }>(
  cli: HostCli,
  wmi: HyperVWmi,
  write: () => Promise<R>,
  wait: { conditions: readonly WaitCondition[]; timeoutMs: number; intervalMs: number } | undefined,
  print: (report: R) => void,
  what: string,
): Promise<WriteAndWaitReport<R>> {
  const report = await write();
  if (wait === undefined) return report;
  print(report);
  try {
    const waited = await waitAsCommand(cli, wmi, report.vm.id, wait.conditions, wait);
    return { ...report, waited };
  } catch (error) {
    if (error instanceof HostCliError)
      throw new HostCliError(error.code, `${what} succeeded, but ${error.message}`, error.hint, {
        ...error.details,
        write: report,
      });
    cli.run.note(`${what} succeeded; waiting for the guest failed:`);
    throw error;
  }
}

function writeCommand(name: "set" | "add", description: string): CliCommand<HostCli> {
  return {
    name,
    define: (command, cli) => {
      const { run, ctx, withHost, jobOptions, readRecords } = cli;
      return command
        .description(description)
        .argument("<vm>", "VM name or GUID")
        .argument("[pairs...]", "KEY=VALUE items")
        .option(
          "--from-file <file>",
          "KEY=VALUE lines or a JSON object ('-' reads stdin; UTF-8, or UTF-16 with a BOM as PowerShell writes)",
        )
        .option("--host-only", "write HostOnlyItems (kept in the VM configuration, never sent to the guest)")
        .option(
          "--chunk",
          "store values the guest cannot receive whole (over 1022 UTF-16 units) as parts KEY#1/N … KEY#N/N",
        )
        .option("--job-timeout <duration>", JOB_TIMEOUT_HELP)
        .option("--wait <KEY[=VALUE]>", WAIT_HELP, collect)
        .option("--wait-timeout <duration>", WAIT_TIMEOUT_HELP)
        .option("--interval <duration>", WAIT_INTERVAL_HELP)
        .option("--json", "print what was done as JSON (with --wait: and what the guest showed, under waited)")
        .action(async (vm, pairs, opts) => {
          const records = await readRecords(pairs, opts.fromFile, name);
          const wait = waitOptionsOf(cli, opts, name);
          if (wait !== undefined && opts.hostOnly)
            throw new HostCliError(
              "usage",
              "--wait goes with items the guest receives, not --host-only",
              `${run.tool} ${name} --help`,
            );
          const result = await withHost((t) =>
            writeThenWait(
              cli,
              t,
              () =>
                writeItems(t, vm, records, {
                  mode: name === "set" ? "upsert" : "add",
                  ...(opts.chunk ? { chunk: true } : {}),
                  ...(opts.hostOnly ? { hostOnly: true } : {}),
                  ...jobOptions(opts.jobTimeout),
                }),
              wait,
              (report) => {
                if (!opts.json) ctx.stdout.write(formatWrite(report));
              },
              `the ${name}`,
            ),
          );
          if (opts.json) run.json(result);
          else if (result.waited === undefined) ctx.stdout.write(formatWrite(result));
          else ctx.stdout.write(formatWaited(result.waited));
        });
    },
  };
}

/**
 * `--wait`, `--wait-timeout` and `--interval` of a writing command, read before anything is
 * written (a typo must not leave a write done and the wait never started).
 * @throws {HostCliError} `usage` for `--wait-timeout` or `--interval` without `--wait`.
 */
export function waitOptionsOf(
  cli: HostCli,
  opts: { wait?: string[]; waitTimeout?: string; interval?: string },
  command: string,
): { conditions: WaitCondition[]; timeoutMs: number; intervalMs: number } | undefined {
  const hint = `${cli.run.tool} ${command} --help`;
  if (opts.wait === undefined) {
    const stray =
      opts.waitTimeout !== undefined ? "--wait-timeout" : opts.interval !== undefined ? "--interval" : undefined;
    if (stray !== undefined) throw new HostCliError("usage", `${stray} goes with --wait`, hint);
    return undefined;
  }
  return { conditions: parseConditions(opts.wait, hint), ...waitTimingOf(cli, opts, command) };
}

/** `kvp-host set`: upsert. */
export const setCommand = writeCommand("set", "add or modify host items of VM (upsert), at most 128 per call");

/** `kvp-host add`: fails (exit 4, nothing written) if any key exists. */
export const addCommand = writeCommand(
  "add",
  "add host items to VM; fails if any key exists (nothing is written then)",
);

/** `kvp-host remove` (also `delete`, kvp-pool's word): exit 1, nothing removed, if a key is absent. */
export const removeCommand: CliCommand<HostCli> = {
  name: "remove",
  aliases: ["delete"],
  define: (command, { run, ctx, withHost, jobOptions }) =>
    command
      .description(
        "remove host items of VM, with every part KEY#i/N of a chunked KEY; exit 1 (nothing removed) if a key is absent",
      )
      .argument("<vm>", "VM name or GUID")
      .argument("<keys...>", "keys to remove")
      .option("--host-only", "remove HostOnlyItems")
      .option("--job-timeout <duration>", JOB_TIMEOUT_HELP)
      .option("--json", "print what was removed as JSON")
      .action(async (vm, keys, opts) => {
        const result = await withHost((t) =>
          removeItems(t, vm, keys, { ...(opts.hostOnly ? { hostOnly: true } : {}), ...jobOptions(opts.jobTimeout) }),
        );
        if (opts.json) run.json(result);
        else ctx.stdout.write(formatRemove(result));
      }),
};
