import { RECORD_BYTES, decodePool, encodePool, reassembleRecords } from "@hyperv-kvp/kvp-core";
import { describe, expect, it } from "vitest";
import { MAX_CHUNK_NOTES, watchChunkNotes } from "./chunk-notes.js";

const problemsOf = (bytes: Uint8Array) => reassembleRecords(decodePool(bytes).records).problems;
const pool = (records: [string, string][]) => encodePool(records.map(([key, value]) => ({ key, value })));

describe("watchChunkNotes", () => {
  it("says for each kind of problem what watch does instead of showing the parts", () => {
    const bytes = pool([
      ["mixed#1/2", "x"],
      ["mixed#2/3", "y"],
      ["dup#1/2", "a"],
      ["dup#2/2", "b"],
      ["dup#1/2", "stale"],
      ["bad#1/2", "ok"],
      ["bad#2/2", "ok"],
    ]);
    bytes[6 * RECORD_BYTES + 512] = 0xff; // bad#2/2's value is not valid UTF-8
    expect(watchChunkNotes(3, problemsOf(bytes))).toEqual([
      'pool 3: "mixed" has parts of different splits (into 2, 3 parts) (records 0, 1); until its parts are whole or all gone, watch reports no change of "mixed"',
      'pool 3: parts of "dup" are stored more than once (record 4); the first copy of each counts',
      'pool 3: "bad#2/2" of "bad" not valid UTF-8 (the host stops enumerating there) (record 6); until its parts are whole or all gone, watch reports no change of "bad"',
    ]);
  });

  it("lists a bounded number and counts the rest", () => {
    const bytes = pool(Array.from({ length: MAX_CHUNK_NOTES + 5 }, (_, i): [string, string] => [`k${i}#1/2`, "x"]));
    const notes = watchChunkNotes(0, problemsOf(bytes));
    expect(notes).toHaveLength(MAX_CHUNK_NOTES + 1);
    expect(notes.at(-1)).toBe("pool 0: 5 more chunked value problem(s) (kvp-pool check --pool 0 lists them)");
  });
});
