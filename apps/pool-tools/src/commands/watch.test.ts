// `kvp-pool watch` in process against a temp directory: logical changes of chunked values by
// default, stored records with `raw`. Every write takes the pool's write lock (as the daemon
// does for each host SET/DELETE), so each read sees the pool between two operations.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PoolInfo, encodePool, parsePool } from "@hyperv-kvp/kvp-core";
import { deleteRecord, poolTarget, setLogicalValues, setRecords } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatEvent } from "../print.js";
import { type WatchEvent, watch } from "./watch.js";

let dir: string;
let controller: AbortController;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kvp-pool-watch-"));
  for (const n of [0, 1, 3, 4]) writeFileSync(join(dir, `.kvp_pool_${n}`), encodePool([]));
  controller = new AbortController();
});
afterEach(() => {
  controller.abort();
  rmSync(dir, { recursive: true, force: true });
});

const GUEST: PoolInfo = parsePool("guest");
const NOW = new Date("2026-11-21T07:01:02.345Z");
const set = (key: string, value: string) => setRecords(poolTarget(1, dir), [{ key, value }]);
const del = (key: string) => deleteRecord(poolTarget(1, dir), key);

/** Starts watching pool 1 and collects what it reports. */
async function start(raw = false) {
  const events: WatchEvent[] = [];
  const notes: string[] = [];
  const problems: string[] = [];
  let ready = false;
  const done = watch({
    dir,
    pools: [GUEST],
    ...(raw ? { raw: true } : {}),
    signal: controller.signal,
    debounceMs: 10,
    now: () => NOW,
    onEvent: (event) => events.push(event),
    onNote: (note) => notes.push(note),
    onProblem: (_pool, error) => problems.push(error.message),
    onReady: () => {
      ready = true;
    },
  });
  await waitFor(() => ready, "the first read");
  return { events, notes, problems, done };
}

const row = (e: WatchEvent) => [
  e.type,
  e.key,
  "value" in e ? e.value : null,
  "previous" in e ? e.previous : null,
  "parts" in e ? e.parts : null,
];

describe("kvp-pool watch", () => {
  it("reports a chunked value as its key, once, when its parts are whole; never a part or a half-written value", async () => {
    const w = await start();
    await set("report#1/3", "AA");
    await waitFor(() => w.notes.length === 1, "the note on the missing parts");
    expect(w.notes).toEqual([
      'pool 1: "report" is split into 3 parts but part(s) 2, 3 are missing (record 0); until its parts are whole or all gone, watch reports no change of "report"',
    ]);
    await set("report#2/3", "BB");
    await set("report#3/3", "C");
    await waitFor(() => w.events.length === 1, "the reassembled value");
    expect(w.events).toEqual([
      {
        time: NOW.toISOString(),
        pool: 1,
        poolName: "guest",
        type: "added",
        key: "report",
        value: "AABBC",
        index: 0,
        parts: 3,
      },
    ]);

    // Rewritten under one lock as a plain value, then as a new split: one change each.
    await setLogicalValues(poolTarget(1, dir), [{ key: "report", value: "short" }]);
    await waitFor(() => w.events.length === 2, "the plain value");
    const long = "é".repeat(1500);
    await setLogicalValues(poolTarget(1, dir), [{ key: "report", value: long }]);
    await waitFor(() => w.events.length === 3, "the new split");

    // Removed part by part (as a host removes items one at a time): held, then one removal.
    await del("report#2/2");
    await waitFor(() => w.notes.length === 2, "the note on the missing part");
    await set("other", "1");
    await waitFor(() => w.events.length === 4, "the unrelated change");
    await del("report#1/2");
    await waitFor(() => w.events.length === 5, "the removal");
    expect(w.events.map(row)).toEqual([
      ["added", "report", "AABBC", null, 3],
      ["changed", "report", "short", "AABBC", null],
      ["changed", "report", long, "short", 2],
      ["added", "other", "1", null, null],
      ["removed", "report", null, long, null],
    ]);
    expect(w.notes[1]).toMatch(
      /^pool 1: "report" is split into 2 parts but part\(s\) 2 are missing \(record 0\); until its parts are whole or all gone, watch reports no change of "report"$/,
    );
    expect(w.problems).toEqual([]);
  });

  it("with raw reports the stored records, each part a key of its own, without notes", async () => {
    const w = await start(true);
    await setRecords(poolTarget(1, dir), [{ key: "report#1/2", value: "A" }]);
    await waitFor(() => w.events.length === 1, "the first part");
    await setRecords(poolTarget(1, dir), [{ key: "report#2/2", value: "B" }]);
    await waitFor(() => w.events.length === 2, "the second part");
    expect(w.events.map(row)).toEqual([
      ["added", "report#1/2", "A", null, null],
      ["added", "report#2/2", "B", null, null],
    ]);
    expect(w.notes).toEqual([]);
  });

  it("says once what it does with parts beside a plain record, and follows the plain record", async () => {
    const w = await start();
    await set("k", "plain");
    await waitFor(() => w.events.length === 1, "the plain record");
    await setRecords(poolTarget(1, dir), [
      { key: "k#1/2", value: "A" },
      { key: "k#2/2", value: "B" },
    ]);
    await waitFor(() => w.notes.length === 1, "the note");
    expect(w.notes).toEqual([
      'pool 1: "k" is stored both as a plain record and in parts (records 1, 2); watch follows the plain record, as lookups do',
    ]);
    // The plain record goes: now the parts are the value.
    await del("k");
    await waitFor(() => w.events.length === 2, "the reassembled value");
    expect(w.events.map(row)).toEqual([
      ["added", "k", "plain", null, null],
      ["changed", "k", "AB", "plain", 2],
    ]);
  });

  it("prints a reassembled value for people with its part count", () => {
    const base = { time: NOW.toISOString(), pool: 1, poolName: "guest", index: 3 };
    expect(formatEvent({ ...base, type: "added", key: "report", value: "A\nB", parts: 2 })).toBe(
      "2026-11-21T07:01:02.345Z pool 1 added   report = A\\nB   (2 parts)\n",
    );
    expect(formatEvent({ ...base, type: "changed", key: "k", value: "new", previous: "old", parts: 3 })).toBe(
      "2026-11-21T07:01:02.345Z pool 1 changed k = new (was old)   (3 parts)\n",
    );
    expect(formatEvent({ ...base, type: "changed", key: "k", value: "new", previous: "old" })).toBe(
      "2026-11-21T07:01:02.345Z pool 1 changed k = new (was old)\n",
    );
  });
});
