/** Human output: aligned tables and one-line reports. `--json` bypasses all of this. */
import { printable } from "@hyperv-kvp/cli-kit";
import type { ListResult } from "./commands/list.js";
import type { StatusResult } from "./commands/status.js";
import type { WaitResult } from "./commands/wait.js";
import type { HostWatchEvent } from "./commands/watch.js";
import type { RemoveReport, WriteReport } from "./commands/write.js";
import type { VmInfo } from "./hyperv-wmi.js";
import { quoted } from "./host-text.js";

/** Msvm_ComputerSystem EnabledState values Hyper-V uses. */
export const VM_STATES: Readonly<Record<number, string>> = Object.freeze({
  2: "Running",
  3: "Off",
  6: "Saved",
  9: "Paused",
  10: "Starting",
  32768: "Paused",
  32769: "Saved",
  32770: "Starting",
  32773: "Saving",
  32774: "Stopping",
  32776: "Pausing",
  32777: "Resuming",
});

/** Rows under headers, columns padded to the widest cell (code points), two spaces apart; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = (s: string) => [...s].length;
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - width(c))))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

function stateName(vm: VmInfo): string {
  return vm.enabledState === undefined ? "" : (VM_STATES[vm.enabledState] ?? `state ${vm.enabledState}`);
}

export function formatVms(vms: readonly VmInfo[]): string {
  if (vms.length === 0) return "(no VMs)\n";
  return formatTable(
    ["NAME", "GUID", "STATE"],
    vms.map((vm) => [printable(vm.name), vm.id, stateName(vm)]),
  );
}

export function formatList(result: ListResult): string {
  if (result.items.length === 0) return `(no items on VM ${quoted(result.vm.name)})\n`;
  return formatTable(
    ["SOURCE", "KEY", "VALUE"],
    result.items.map((i) => [
      i.source,
      printable(i.key) + (i.parts === undefined ? "" : ` (${i.parts} parts)`),
      printable(i.value),
    ]),
  );
}

export function formatWrite(report: WriteReport): string {
  const parts = [
    report.added.length > 0 ? `${report.added.length} added` : "",
    report.modified.length > 0 ? `${report.modified.length} modified` : "",
    report.removed.length > 0 ? `${report.removed.length} stale parts removed` : "",
    report.unchanged.length > 0 ? `${report.unchanged.length} unchanged` : "",
  ].filter((p) => p !== "");
  return `${report.source} items of ${quoted(report.vm.name)}: ${parts.join(", ") || "nothing to do"} (${report.methodCalls} call${report.methodCalls === 1 ? "" : "s"})\n`;
}

export function formatRemove(report: RemoveReport): string {
  return `${report.source} items of ${quoted(report.vm.name)}: ${report.removed.length} removed (${report.methodCalls} call${report.methodCalls === 1 ? "" : "s"})\n`;
}

export function formatStatus(s: StatusResult): string {
  const rows: [string, string][] = [
    ["VM", `${printable(s.vm.name)} (${s.vm.id})`],
    ["state", stateName(s.vm)],
    ["KVP service", s.operationalStatus === undefined ? s.health : `${s.health} (${s.operationalStatus})`],
  ];
  if (s.statusDescriptions.length > 0) rows.push(["status", printable(s.statusDescriptions.join("; "))]);
  if (s.component) rows.push(["guest items", String(s.guestItems)], ["intrinsic items", String(s.intrinsicItems)]);
  for (const [k, v] of Object.entries(s.intrinsic)) rows.push([k, printable(v)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}

/** What the guest showed when a `--wait` was met: `guest of "web01": "k"="v", … (N reads)`. */
export function formatWaited(result: WaitResult): string {
  const shown = result.items.map((i) => `${JSON.stringify(printable(i.key))}=${JSON.stringify(printable(i.value))}`);
  return `guest of ${quoted(result.vm.name)}: ${shown.join(", ")} (${result.reads} read${result.reads === 1 ? "" : "s"})\n`;
}

/** One `watch` change for people: time, what happened, source, key, value (and the value before). */
export function formatWatchEvent(e: HostWatchEvent): string {
  const key = printable(e.key) + (e.parts === undefined ? "" : ` (${e.parts} parts)`);
  const head = `${e.time} ${e.type.padEnd(7)} ${e.source.padEnd(9)} ${key}`;
  if (e.type === "removed") return `${head} (was ${printable(e.previous ?? "")})\n`;
  if (e.type === "changed") return `${head} = ${printable(e.value ?? "")} (was ${printable(e.previous ?? "")})\n`;
  return `${head} = ${printable(e.value ?? "")}\n`;
}
