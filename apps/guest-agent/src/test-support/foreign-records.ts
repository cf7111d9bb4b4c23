// Pool-1 records of other writers, as raw bytes, for the tests that prove the agent never
// touches them: stored keys that look like ours but are not, garbage after the NUL, a key
// that is not UTF-8.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePool, poolFileName, RECORD_BYTES, VALUE_FIELD_OFFSET } from "@hyperv-kvp/kvp-core";

/** One raw record: key and value bytes, each followed by a NUL and then `garbage` (what a sloppy writer leaves). */
export function rawRecord(key: string | Uint8Array, value: string, garbage = ""): Uint8Array {
  const bytes = new Uint8Array(RECORD_BYTES);
  const enc = new TextEncoder();
  const k = typeof key === "string" ? enc.encode(key) : key;
  bytes.set(k, 0);
  bytes.set(enc.encode(garbage), k.length + 1);
  const v = enc.encode(value);
  bytes.set(v, VALUE_FIELD_OFFSET);
  bytes.set(enc.encode(garbage), VALUE_FIELD_OFFSET + v.length + 1);
  return bytes;
}

/** Other writers' records, in their order: none is in the agent's `kvp-agent/` namespace. */
export const FOREIGN_RECORDS: readonly Uint8Array[] = [
  rawRecord("hv-guest-name", "vm01"),
  rawRecord("kvp-agentX", "not ours: no slash", "old junk"),
  rawRecord("kvp-agent", "not ours: the bare prefix word"),
  rawRecord("kvp-agent#1/2", "a foreign chunked "),
  rawRecord("Kvp-Agent/status", "case differs"),
  rawRecord(new Uint8Array([0x6b, 0x76, 0x70, 0xff, 0x2f]), "key not UTF-8"),
  rawRecord("kvp-agent#2/2", "value"),
  rawRecord("kvp-agentX/status", "ready", "\u0001\u0002"),
];

/** Records of an agent of boot `bootId`, including a value stored in two parts. */
export function agentRecords(bootId: string): Uint8Array[] {
  return [
    rawRecord("kvp-agent/boot-id", bootId),
    rawRecord("kvp-agent/status", "ready"),
    rawRecord("kvp-agent/report/long#1/2", "first half "),
    rawRecord("kvp-agent/report/long#2/2", "second half"),
    rawRecord("kvp-agent/hook/h", '{"exit":0}'),
  ];
}

/** Writes pool 1 (and empty pools 0 and 3) with `records` interleaved as given. */
export function seedPool1(dir: string, records: readonly Uint8Array[]): void {
  const bytes = new Uint8Array(records.length * RECORD_BYTES);
  for (const [i, r] of records.entries()) bytes.set(r, i * RECORD_BYTES);
  writeFileSync(join(dir, poolFileName(1)), bytes);
  for (const pool of [0, 2, 3, 4] as const) writeFileSync(join(dir, poolFileName(pool)), new Uint8Array(0));
}

/** Foreign first, then an old agent's, then foreign again: removals must close gaps in order. */
export function interleave(foreign: readonly Uint8Array[], ours: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = Math.max(foreign.length, ours.length);
  for (let i = 0; i < n; i++) {
    if (foreign[i]) out.push(foreign[i]!);
    if (ours[i]) out.push(ours[i]!);
  }
  return out;
}

/** Pool 1's records as raw bytes, split by the stored key into the agent's (`kvp-agent/…`, valid UTF-8) and the rest. */
export function readPool1(dir: string): { ours: { key: string; value: string }[]; others: Uint8Array[] } {
  const bytes = new Uint8Array(readFileSync(join(dir, poolFileName(1))));
  const decoded = decodePool(bytes).records;
  const ours: { key: string; value: string }[] = [];
  const others: Uint8Array[] = [];
  decoded.forEach((r, i) => {
    if (r.keyValidUtf8 && r.key.startsWith("kvp-agent/")) ours.push({ key: r.key, value: r.value });
    else others.push(bytes.slice(i * RECORD_BYTES, (i + 1) * RECORD_BYTES));
  });
  if (bytes.length % RECORD_BYTES !== 0) others.push(bytes.slice(bytes.length - (bytes.length % RECORD_BYTES)));
  return { ours, others };
}

/** Each record as hex, so `toEqual` compares bytes and a failure shows which record differs. */
export function hexRecords(records: readonly Uint8Array[]): string[] {
  return records.map((r) => Buffer.from(r).toString("hex"));
}
