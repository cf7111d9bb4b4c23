import { type CliCommand, type DurationSpec, printable } from "@hyperv-kvp/cli-kit";
import { type HostCli, SOURCES } from "../host-session.js";
import { formatWatchEvent } from "../print.js";
/**
 * `watch`: reports a VM's KVP items as they change. WMI over WS-Management offers no event
 * subscription kvp-host could rely on (WS-Eventing to WMI intrinsic events is neither in
 * libvirt's proven shapes nor in the simulator), so the items are read every interval and
 * compared: one cheap query per poll (the component for guest items). A host that stops
 * answering is reported once and retried with back-off; changes made meanwhile are reported
 * when it answers again, so a restart of the host or of the guest's daemon loses nothing
 * that is still there afterwards.
 */
import type { KvpSource } from "@hyperv-kvp/kvp-core/cim";
import { type ItemsRead, type ListedItem, type SourceFilter, readItems } from "../items.js";
import { resolveVm } from "../resolve-vm.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";

/** Default pause between reads, milliseconds. */
export const DEFAULT_WATCH_INTERVAL_MS = 2_000;
/** Longest pause between reads while the host does not answer, milliseconds. */
export const MAX_RETRY_INTERVAL_MS = 30_000;

/** One change, as `watch --json` prints it (one object per line). */
export interface HostWatchEvent {
  /** ISO 8601 time of the read that saw the change. */
  readonly time: string;
  /** `present`: an item there when watching began (with --initial). */
  readonly type: "present" | "added" | "changed" | "removed";
  readonly source: KvpSource;
  readonly key: string;
  /** The value now (absent for `removed`). */
  readonly value?: string;
  /** The value before (for `changed` and `removed`). */
  readonly previous?: string;
  /** For a value reassembled from parts `key#1/N` … `key#N/N`: N. */
  readonly parts?: number;
}

/** Options of {@link watchItems}. */
export interface WatchOptions {
  /** Which sources; default guest (what the VM reports). */
  readonly source?: SourceFilter;
  /** Parts `K#i/N` as stored, not reassembled. */
  readonly raw?: boolean;
  /** Pause between reads, milliseconds; default {@link DEFAULT_WATCH_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Report the items present at the start as `present` events. */
  readonly initial?: boolean;
  /** Stops watching; {@link watchItems} resolves then. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: HostWatchEvent) => void;
  /** Notes for people: the host stopped or resumed answering, unreadable items, no component. */
  readonly onNote: (message: string) => void;
  /** Called after the first read, with the VM watched and how many items it has. */
  readonly onReady?: (vm: VmInfo, items: number) => void;
  /** Clock and sleep, injectable for tests; sleep must end early when `signal` aborts. */
  readonly now?: () => Date;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

type Snapshot = Map<string, ListedItem>;

function identity(item: ListedItem): string {
  return `${item.source}\u0000${item.key}`;
}

function snapshotOf(items: readonly ListedItem[]): Snapshot {
  const snapshot: Snapshot = new Map();
  // Hyper-V arrays can hold a key twice; the first is the one readers see (as `get`).
  for (const item of items) if (!snapshot.has(identity(item))) snapshot.set(identity(item), item);
  return snapshot;
}

function withParts(event: Omit<HostWatchEvent, "parts">, item: ListedItem): HostWatchEvent {
  return item.parts === undefined ? event : { ...event, parts: item.parts };
}

/**
 * The changes from `before` to `after`, in `after`'s order (then removals in `before`'s).
 * Pure, for tests and for anyone diffing two `list --json` results.
 */
export function diffItems(before: readonly ListedItem[], after: readonly ListedItem[], time: string): HostWatchEvent[] {
  const old = snapshotOf(before);
  const now = snapshotOf(after);
  const events: HostWatchEvent[] = [];
  for (const [id, item] of now) {
    const was = old.get(id);
    if (was === undefined)
      events.push(withParts({ time, type: "added", source: item.source, key: item.key, value: item.value }, item));
    else if (was.value !== item.value)
      events.push(
        withParts(
          { time, type: "changed", source: item.source, key: item.key, value: item.value, previous: was.value },
          item,
        ),
      );
  }
  for (const [id, item] of old) {
    if (!now.has(id)) events.push({ time, type: "removed", source: item.source, key: item.key, previous: item.value });
  }
  return events;
}

/** Sleeps `ms`, ending early (without error) when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Why a read failed, in one line. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

/**
 * Watches the VM `vmRef` names until `options.signal` aborts. The VM is resolved and read
 * once before anything else: a VM that does not exist, a host that refuses the credentials or
 * cannot be reached fail the command (thrown); after that, failures to read are notes and
 * watching goes on.
 */
export async function watchItems(wmi: HyperVWmi, vmRef: string, options: WatchOptions): Promise<void> {
  const source = options.source ?? "guest";
  const interval = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? abortableSleep;
  const readOptions = options.raw ? { raw: true } : {};
  const vm = await resolveVm(wmi, vmRef);

  // Notes repeat on every read while their cause lasts: say each once until it goes away.
  let shownNotes = new Set<string>();
  const noteAll = (read: ItemsRead) => {
    const current = new Set(read.notes);
    for (const note of current) if (!shownNotes.has(note)) options.onNote(note);
    shownNotes = current;
  };

  const first = await readItems(wmi, vm, source, readOptions);
  noteAll(first);
  let items = first.items;
  if (options.initial) {
    const time = now().toISOString();
    for (const item of snapshotOf(items).values()) {
      options.onEvent(
        withParts({ time, type: "present", source: item.source, key: item.key, value: item.value }, item),
      );
    }
  }
  options.onReady?.(vm, items.length);

  let failing: string | undefined;
  let pause = interval;
  while (!options.signal.aborted) {
    await sleep(pause, options.signal);
    if (options.signal.aborted) break;
    let read: ItemsRead;
    try {
      read = await readItems(wmi, vm, source, readOptions);
    } catch (error) {
      const reason = reasonOf(error);
      if (failing === undefined) options.onNote(`cannot read VM ${JSON.stringify(vm.name)}: ${reason}; retrying`);
      failing = reason;
      pause = Math.min(Math.max(pause * 2, interval), Math.max(MAX_RETRY_INTERVAL_MS, interval));
      continue;
    }
    if (failing !== undefined)
      options.onNote(`reading VM ${JSON.stringify(vm.name)} again; changes made meanwhile follow`);
    failing = undefined;
    pause = interval;
    noteAll(read);
    // A component that vanished (VM off, guest service stopped) says nothing about the items:
    // keep the last ones known rather than reporting every item removed.
    const componentGone = read.notes.some((n) => n.includes("has no KVP exchange component"));
    const next = componentGone
      ? [...items.filter((i) => i.source === "guest" || i.source === "intrinsic"), ...read.items]
      : read.items;
    for (const event of diffItems(items, next, now().toISOString())) options.onEvent(event);
    items = next;
  }
}

/** How `--interval` is read: a duration from 100ms to 1h; a bare number is seconds (deprecated). */
const INTERVAL_SPEC: DurationSpec = {
  option: "--interval",
  bareUnit: "s",
  minMs: 100,
  maxMs: 3_600_000,
  hint: "kvp-host watch --help",
};

/** `kvp-host watch`: until SIGINT/SIGTERM, then exit 0. */
export const watchCommand: CliCommand<HostCli> = {
  name: "watch",
  define: (command, { run, ctx, withHost, parseSource }) =>
    command
      .description(
        "print changes of VM's KVP items (added, changed, removed) as they happen, until interrupted; reads every --interval",
      )
      .argument("<vm>", "VM name or GUID")
      .option("--source <source>", `${SOURCES.join("|")} (default guest: what the VM reports)`)
      .option(
        "--interval <duration>",
        `pause between reads: 500ms, 5s (default ${DEFAULT_WATCH_INTERVAL_MS / 1000}s; a bare number is seconds, deprecated)`,
      )
      .option("--initial", "first print the items present when watching starts")
      .option("--raw", "show parts K#i/N as stored")
      .option("--json", "one JSON object per line (NDJSON): {time, type, source, key, value?, previous?, parts?}")
      .action(async (vm, opts) => {
        const source = opts.source === undefined ? "guest" : parseSource(opts.source, "watch");
        const intervalMs =
          opts.interval === undefined ? DEFAULT_WATCH_INTERVAL_MS : run.duration(opts.interval, INTERVAL_SPEC);
        const signal = run.signal;
        await withHost((t) =>
          watchItems(t, vm, {
            source,
            intervalMs,
            signal,
            ...(opts.initial ? { initial: true } : {}),
            ...(opts.raw ? { raw: true } : {}),
            ...(ctx.watchSleep ? { sleep: ctx.watchSleep } : {}),
            onEvent: (event) => ctx.stdout.write(opts.json ? `${JSON.stringify(event)}\n` : formatWatchEvent(event)),
            onNote: (message) => run.note(printable(message)),
            onReady: (found, count) =>
              ctx.stderr.write(
                `${run.tool}: watching ${source} items of VM ${JSON.stringify(printable(found.name))} (${found.id}), ${count} now; Ctrl-C stops\n`,
              ),
          }),
        );
        // Said only when a signal ended it: proof for scripts (and the Wine check) that Ctrl-C
        // stopped the watch cleanly rather than killing the process.
        if (signal.aborted) ctx.stderr.write(`${run.tool}: stopped watching\n`);
      }),
};
