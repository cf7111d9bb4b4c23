import { printable } from "@hyperv-kvp/cli-kit";
import type { PoolDiagnostic } from "@hyperv-kvp/kvp-core";
import { MAX_CHUNK_NOTES } from "./commands/chunk-notes.js";
import type { PoolCheck } from "./commands/check.js";
import type { GotRecord } from "./commands/get.js";
import type { ListResult, ListedRecord } from "./commands/list.js";
import type { WatchEvent } from "./commands/watch.js";

/** `list` for people: a heading per pool, then `key = value` lines. */
export function formatList(result: Pick<ListResult, "records">): string {
  const lines: string[] = [];
  let current = -1;
  for (const r of result.records) {
    if (r.pool !== current) {
      current = r.pool;
      lines.push(`${lines.length > 0 ? "\n" : ""}${formatListHeading(r.pool, r.poolName, r.synthesized === true)}`);
    }
    lines.push(formatListLine(r));
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** The heading of a pool in `list` for people, without its newline. */
export function formatListHeading(pool: number, poolName: string, synthesized: boolean): string {
  return `# pool ${pool} (${poolName})${synthesized ? ", synthesised by the daemon" : ""}`;
}

/** One `key = value` line of `list` for people, without its newline, flagged as needed. */
export function formatListLine(r: Pick<ListedRecord, "key" | "value" | "validUtf8" | "parts">): string {
  const flag = r.validUtf8 === false ? "   (invalid UTF-8)" : r.parts !== undefined ? `   (${r.parts} parts)` : "";
  return `${printable(r.key)} = ${printable(r.value)}${flag}`;
}

/** `get` for people: the value (reassembled, when it was chunked) and a newline. */
export function formatValue(record: GotRecord): string {
  return `${record.value}\n`;
}

/** One diagnostic line: where, how bad, what. */
export function formatDiagnostic(pool: number, d: PoolDiagnostic): string {
  const key =
    d.key !== undefined ? ` ${JSON.stringify(printable(d.key.length > 40 ? `${d.key.slice(0, 37)}...` : d.key))}` : "";
  return `pool ${pool} record ${d.index} @${d.offset}${key}: ${d.severity} ${d.code}: ${d.message}`;
}

/** `check` for people: repairs, findings and a summary line per pool. */
export function formatCheck(results: readonly PoolCheck[], verbose: boolean): string {
  const lines: string[] = [];
  for (const c of results) {
    if (c.failure) {
      lines.push(`pool ${c.pool} (${c.poolName}): cannot check: ${c.failure.message}`);
      continue;
    }
    for (const r of c.repairs ?? []) lines.push(`pool ${c.pool} record ${r.index}: repaired: ${r.message}`);
    const report = c.report!;
    for (const d of report.diagnostics) {
      if (d.severity === "info" && !verbose) continue;
      lines.push(formatDiagnostic(c.pool, d));
    }
    const chunks = c.chunks ?? [];
    for (const f of chunks.slice(0, MAX_CHUNK_NOTES)) {
      const where =
        f.indexes.length === 1
          ? `record ${f.indexes[0]}`
          : `records ${f.indexes.slice(0, 10).join(",")}${f.indexes.length > 10 ? ",…" : ""}`;
      lines.push(`pool ${c.pool} ${where}: warning chunk-${f.reason}: ${f.message}`);
    }
    if (chunks.length > MAX_CHUNK_NOTES)
      lines.push(
        `pool ${c.pool}: ${chunks.length - MAX_CHUNK_NOTES} more chunked value problem(s) (--json lists them all)`,
      );
    const omitted = Object.entries(report.omitted ?? {});
    if (omitted.length > 0) {
      const counts = omitted.map(([code, n]) => `${n} ${code}`).join(", ");
      lines.push(`pool ${c.pool}: not listed, only counted (more of the same kind): ${counts}`);
    }
    const infos =
      report.diagnostics.filter((d) => d.severity === "info").length + (report.omitted?.["garbage-after-nul"] ?? 0);
    const chunkText = chunks.length > 0 ? `, ${chunks.length} chunked value problem(s)` : "";
    const verdict =
      report.errors + report.warnings + chunks.length === 0
        ? "ok"
        : `${report.errors} error(s), ${report.warnings} warning(s)${chunkText}`;
    lines.push(
      `pool ${c.pool} (${c.poolName}) ${c.path}: ${report.records} record(s), ${verdict}` +
        (infos > 0 && !verbose ? `, ${infos} note(s) (--verbose shows them)` : ""),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One watch event for people; a reassembled value says from how many parts, as `list` does. */
export function formatEvent(e: WatchEvent): string {
  const key = printable(e.key);
  const parts = e.type !== "removed" && e.parts !== undefined ? `   (${e.parts} parts)` : "";
  if (e.type === "added") return `${e.time} pool ${e.pool} added   ${key} = ${printable(e.value)}${parts}\n`;
  if (e.type === "changed") {
    return `${e.time} pool ${e.pool} changed ${key} = ${printable(e.value)} (was ${printable(e.previous)})${parts}\n`;
  }
  return `${e.time} pool ${e.pool} removed ${key} (was ${printable(e.previous)})\n`;
}
