import { describe, expect, it } from "vitest";
import { deleteRecords, findRecord, keyMatcher, upsertRecord } from "./pool-ops.js";
import { type KvpRecord, decodePool, encodePool, encodeRecord } from "./record.js";
import { concatBytes, fromHex, rawRecord } from "@hyperv-kvp/test-support";

const r = (key: string, value = "v"): KvpRecord => ({ key, value });
const rec = (key: string, value = "v") => encodeRecord({ key, value });

describe("findRecord", () => {
  const records = [r("Hostname", "0"), r("hostname", "1"), r("HOSTNAME", "2"), r("Other", "3"), r("hostname", "4")];

  it.each([
    { key: "Hostname", ignoreCase: false, index: 0 },
    { key: "hostname", ignoreCase: false, index: 1 },
    { key: "HOSTNAME", ignoreCase: false, index: 2 },
    { key: "HostName", ignoreCase: false, index: -1 },
    { key: "hostname", ignoreCase: true, index: 0 },
    { key: "HostName", ignoreCase: true, index: 0 },
    { key: "OTHER", ignoreCase: true, index: 3 },
    { key: "Other", ignoreCase: false, index: 3 },
    { key: "Othe", ignoreCase: false, index: -1 },
    { key: "Other ", ignoreCase: true, index: -1 },
    { key: "", ignoreCase: false, index: -1 },
  ])("$key (ignoreCase $ignoreCase) → $index", ({ key, ignoreCase, index }) => {
    expect(findRecord(records, key, { ignoreCase })).toBe(index);
  });

  it("is exact by default, and first match wins", () => {
    expect(findRecord(records, "hostname")).toBe(1);
    expect(findRecord(records, "HostName")).toBe(-1);
    expect(findRecord([], "k")).toBe(-1);
  });

  it("finds an empty key (an all-zero record) only when asked for it", () => {
    const pool = decodePool(concatBytes(new Uint8Array(2560), encodePool([r("k")])));
    expect(findRecord(pool.records, "")).toBe(0);
    expect(findRecord(pool.records, "k")).toBe(1);
  });

  it("compares the text before the NUL, not the garbage after it", () => {
    const pool = decodePool(concatBytes(rawRecord(fromHex("6b 00 41 42"), "v")));
    expect(findRecord(pool.records, "k")).toBe(0);
    expect(findRecord(pool.records, "k\0AB")).toBe(-1);
  });

  it("never matches a record whose key bytes are not valid UTF-8", () => {
    // "a\xff" decodes to "a\uFFFD"; the daemon compares bytes, so that text must not match.
    const pool = decodePool(concatBytes(rawRecord(fromHex("61 ff"), "bad"), encodePool([r("a\uFFFD", "good")])));
    expect(pool.records[0]!.key).toBe("a\uFFFD");
    expect(pool.records[0]!.keyValidUtf8).toBe(false);
    expect(findRecord(pool.records, "a\uFFFD")).toBe(1);
    expect(findRecord(pool.records, "A\uFFFD", { ignoreCase: true })).toBe(1);
    expect(findRecord([pool.records[0]!], "a\uFFFD")).toBe(-1);
    expect(findRecord([pool.records[0]!], "a\uFFFD", { ignoreCase: true })).toBe(-1);
  });

  it("still matches a record whose key is valid but whose value is not (the daemon matches keys only)", () => {
    const pool = decodePool(concatBytes(rec("x"), rawRecord("k", fromHex("76 ff"))));
    expect(pool.records[1]!.validUtf8).toBe(false);
    expect(pool.records[1]!.keyValidUtf8).toBe(true);
    expect(findRecord(pool.records, "k")).toBe(1);
    expect(findRecord(pool.records, "K", { ignoreCase: true })).toBe(1);
  });

  it("treats a plain record (no keyValidUtf8 flag) as valid", () => {
    expect(findRecord([{ key: "k", value: "v" }], "k")).toBe(0);
    expect(findRecord([{ key: "k", value: "v", keyValidUtf8: true }], "k")).toBe(0);
    expect(findRecord([{ key: "k", value: "v", keyValidUtf8: false }], "k")).toBe(-1);
  });
});

describe("keyMatcher", () => {
  it("returns a reusable predicate", () => {
    const exact = keyMatcher("Key");
    const folded = keyMatcher("Key", { ignoreCase: true });
    expect([exact(r("Key")), exact(r("key")), folded(r("key")), folded(r("KEY")), folded(r("Keys"))]).toEqual([
      true,
      false,
      true,
      true,
      false,
    ]);
  });

  it("folds non-ASCII letters too, without locale", () => {
    expect(keyMatcher("\u00c9T\u00c9", { ignoreCase: true })(r("\u00e9t\u00e9"))).toBe(true);
    expect(keyMatcher("\u00c9T\u00c9")(r("\u00e9t\u00e9"))).toBe(false);
  });
});

describe("upsertRecord", () => {
  it("modifies the first match in place, keeping position, order and the other records", () => {
    const records = [r("a", "1"), r("b", "2"), r("a", "3"), r("c", "4")];
    const { records: next, edit } = upsertRecord(records, r("a", "new"));
    expect(next).toEqual([r("a", "new"), r("b", "2"), r("a", "3"), r("c", "4")]);
    expect(edit).toEqual({ kind: "modify", index: 0, previous: r("a", "1") });
    expect(next[1]).toBe(records[1]);
    expect(next[3]).toBe(records[3]);
    // Pure: the input is untouched.
    expect(records).toEqual([r("a", "1"), r("b", "2"), r("a", "3"), r("c", "4")]);
  });

  it("modifies a match in the middle", () => {
    const { records, edit } = upsertRecord([r("a"), r("b", "old"), r("c")], r("b", "new"));
    expect(records).toEqual([r("a"), r("b", "new"), r("c")]);
    expect(edit).toMatchObject({ kind: "modify", index: 1 });
  });

  it("appends when no record has the key", () => {
    const records = [r("a", "1"), r("b", "2")];
    const { records: next, edit } = upsertRecord(records, r("c", "3"));
    expect(next).toEqual([r("a", "1"), r("b", "2"), r("c", "3")]);
    expect(edit).toEqual({ kind: "append", index: 2 });
    expect(records.length).toBe(2);
  });

  it("appends to an empty pool", () => {
    expect(upsertRecord([], r("k", "v"))).toEqual({ records: [r("k", "v")], edit: { kind: "append", index: 0 } });
  });

  it("is case-sensitive by default: a key differing in case is appended", () => {
    const { records, edit } = upsertRecord([r("Key", "1")], r("key", "2"));
    expect(records).toEqual([r("Key", "1"), r("key", "2")]);
    expect(edit.kind).toBe("append");
  });

  it("with ignoreCase, modifies the match and keeps the stored key's spelling", () => {
    const { records, edit } = upsertRecord([r("x"), r("Hostname", "old")], r("HOSTNAME", "new"), { ignoreCase: true });
    expect(records).toEqual([r("x"), r("Hostname", "new")]);
    expect(edit).toEqual({ kind: "modify", index: 1, previous: r("Hostname", "old") });
  });

  it("replaces the broken value of a record whose key is valid", () => {
    const pool = decodePool(concatBytes(rec("a"), rawRecord("k", fromHex("76 ff"))));
    const { records, edit } = upsertRecord(pool.records, r("k", "fixed"));
    expect(edit).toMatchObject({ kind: "modify", index: 1 });
    expect(records[1]).toEqual(r("k", "fixed"));
    expect(records.length).toBe(2);
  });

  it("never modifies a record whose key is invalid UTF-8: appends instead", () => {
    const bad = { key: "a\uFFFD", value: "old", keyValidUtf8: false };
    const { records, edit } = upsertRecord([bad], r("a\uFFFD", "new"));
    expect(records).toEqual([bad, r("a\uFFFD", "new")]);
    expect(edit).toEqual({ kind: "append", index: 1 });
  });
});

describe("deleteRecords", () => {
  const records = [r("a", "0"), r("b", "1"), r("a", "2"), r("c", "3"), r("A", "4"), r("a", "5")];

  it("deletes only the first match by default, keeping the order of the rest", () => {
    const { records: kept, removed } = deleteRecords(records, "a");
    expect(kept).toEqual([r("b", "1"), r("a", "2"), r("c", "3"), r("A", "4"), r("a", "5")]);
    expect(removed).toEqual([0]);
  });

  it("deletes every match with all, keeping the order of the rest", () => {
    const { records: kept, removed } = deleteRecords(records, "a", { all: true });
    expect(kept).toEqual([r("b", "1"), r("c", "3"), r("A", "4")]);
    expect(removed).toEqual([0, 2, 5]);
  });

  it("with ignoreCase and all, deletes every spelling", () => {
    const { records: kept, removed } = deleteRecords(records, "A", { all: true, ignoreCase: true });
    expect(kept).toEqual([r("b", "1"), r("c", "3")]);
    expect(removed).toEqual([0, 2, 4, 5]);
  });

  it("with ignoreCase only, deletes the first of any spelling", () => {
    const { records: kept, removed } = deleteRecords([r("x"), r("KEY", "1"), r("key", "2")], "Key", {
      ignoreCase: true,
    });
    expect(kept).toEqual([r("x"), r("key", "2")]);
    expect(removed).toEqual([1]);
  });

  it("deletes a later first match and shifts the rest up", () => {
    const { records: kept, removed } = deleteRecords(records, "c");
    expect(kept.map((x) => x.value)).toEqual(["0", "1", "2", "4", "5"]);
    expect(removed).toEqual([3]);
  });

  it("changes nothing when no record matches", () => {
    const { records: kept, removed } = deleteRecords(records, "zzz", { all: true });
    expect(kept).toEqual(records);
    expect(kept).not.toBe(records);
    expect(removed).toEqual([]);
  });

  it("is pure: the input array is untouched and kept records are the same objects", () => {
    const before = [...records];
    const { records: kept } = deleteRecords(records, "a", { all: true });
    expect(records).toEqual(before);
    expect(kept[0]).toBe(records[1]);
  });

  it("deletes a record whose key is valid even if its value is not", () => {
    const pool = decodePool(concatBytes(rawRecord("k", fromHex("ff")), rec("other")));
    const { records: kept, removed } = deleteRecords(pool.records, "k");
    expect(removed).toEqual([0]);
    expect(kept.map((x) => x.key)).toEqual(["other"]);
  });

  it("never deletes a record whose key is invalid UTF-8", () => {
    const pool = decodePool(
      concatBytes(rawRecord(fromHex("61 ff")), encodePool([r("a\uFFFD")]), rawRecord(fromHex("61 ff"))),
    );
    const { records: kept, removed } = deleteRecords(pool.records, "a\uFFFD", { all: true });
    expect(removed).toEqual([1]);
    expect(kept.map((x) => x.index)).toEqual([0, 2]);
  });
});
