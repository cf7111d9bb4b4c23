import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type KvpRecord,
  RECORD_BYTES,
  decodePool,
  encodePool,
  reassembleRecords,
  splitValue,
} from "@hyperv-kvp/kvp-core";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isPoolFileError } from "./errors.js";
import { removeLogicalKeys, setLogicalValues } from "./pool-update.js";
import { checkPoolFile } from "./pool-store.js";
import { poolTarget } from "./pool-target.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pool-update-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const guest = () => poolTarget(1, dir);
const file = (n = 1) => join(dir, `.kvp_pool_${n}`);
const write = (records: KvpRecord[], n = 1) => writeFileSync(file(n), encodePool(records, { limits: "wire" }));
const stored = () => decodePool(readFileSync(file())).records.map((r) => [r.key, r.value] as [string, string]);
const r = (key: string, value: string): KvpRecord => ({ key, value });

// 2500 two-byte characters: 1022 + 1022 + 456 units, three parts.
const LONG = "ü".repeat(2500);
const LONG_PARTS: [string, string][] = [
  ["k#1/3", "ü".repeat(1022)],
  ["k#2/3", "ü".repeat(1022)],
  ["k#3/3", "ü".repeat(456)],
];

describe("setLogicalValues", () => {
  it("with split false, a key shaped like a part is changed in place, not appended again", async () => {
    write([r("a", "1"), r("k#1/2", "old"), r("b", "2")]);
    const [outcome] = await setLogicalValues(guest(), [r("k#1/2", "new")], { split: false });
    expect(stored()).toEqual([
      ["a", "1"],
      ["k#1/2", "new"],
      ["b", "2"],
    ]);
    expect(outcome!.records).toEqual([{ key: "k#1/2", action: "modified", index: 1, previous: "old" }]);
  });

  it("appends a long value as parts the host receives whole, and a short one as one record", async () => {
    write([r("a", "1")]);
    const outcomes = await setLogicalValues(guest(), [r("k", LONG), r("s", "short")]);
    expect(stored()).toEqual([["a", "1"], ...LONG_PARTS, ["s", "short"]]);
    expect(outcomes).toEqual([
      {
        key: "k",
        parts: 3,
        records: [
          { key: "k#1/3", action: "appended", index: 1 },
          { key: "k#2/3", action: "appended", index: 2 },
          { key: "k#3/3", action: "appended", index: 3 },
        ],
        removed: [],
      },
      { key: "s", parts: 1, records: [{ key: "s", action: "appended", index: 4 }], removed: [] },
    ]);
    const report = await checkPoolFile(guest());
    expect({ errors: report.errors, warnings: report.warnings }).toEqual({ errors: 0, warnings: 0 });
    expect(reassembleRecords(decodePool(readFileSync(file())).records).records.map((x) => [x.key, x.value])).toEqual([
      ["a", "1"],
      ["k", LONG],
      ["s", "short"],
    ]);
  });

  it("modifies parts of the same split in place, keeping their positions", async () => {
    write([r("k#1/3", "old1"), r("a", "1"), r("k#2/3", "old2"), r("k#3/3", "old3")]);
    const outcomes = await setLogicalValues(guest(), [r("k", LONG)]);
    expect(stored()).toEqual([LONG_PARTS[0], ["a", "1"], LONG_PARTS[1], LONG_PARTS[2]]);
    expect(outcomes[0]!.records.map((o) => [o.action, o.index, o.previous])).toEqual([
      ["modified", 0, "old1"],
      ["modified", 2, "old2"],
      ["modified", 3, "old3"],
    ]);
  });

  const replacements: {
    name: string;
    before: KvpRecord[];
    value: string;
    after: [string, string][];
    removed: string[];
  }[] = [
    {
      name: "a longer split replaces a shorter one: old parts removed, new ones appended",
      before: [r("k#1/2", "x"), r("a", "1"), r("k#2/2", "y"), r("b", "2")],
      value: LONG,
      after: [["a", "1"], ["b", "2"], ...LONG_PARTS],
      removed: ["k#1/2", "k#2/2"],
    },
    {
      name: "a short value replaces parts: one plain record, parts gone",
      before: [r("k#1/3", "x"), r("a", "1"), r("k#2/3", "y"), r("k#3/3", "z")],
      value: "short",
      after: [
        ["a", "1"],
        ["k", "short"],
      ],
      removed: ["k#1/3", "k#2/3", "k#3/3"],
    },
    {
      name: "parts replace a plain record (and its duplicate)",
      before: [r("k", "plain"), r("a", "1"), r("k", "again")],
      value: LONG,
      after: [["a", "1"], ...LONG_PARTS],
      removed: ["k", "k"],
    },
    {
      name: "a plain value replaces plain K in place and drops a stale part and a duplicate copy",
      before: [r("k#1/5", "stale"), r("a", "1"), r("k", "old"), r("k", "dup"), r("b", "2")],
      value: "new",
      after: [
        ["a", "1"],
        ["k", "new"],
        ["b", "2"],
      ],
      removed: ["k#1/5", "k"],
    },
    {
      name: "other keys are never touched, however alike",
      before: [r("kk#1/2", "1"), r("K#1/2", "2"), r("k#1/1", "3"), r("k#", "4"), r("x#k#1/2", "5"), r("k#1/2", "old")],
      value: "v",
      after: [
        ["kk#1/2", "1"],
        ["K#1/2", "2"],
        ["k#1/1", "3"],
        ["k#", "4"],
        ["x#k#1/2", "5"],
        ["k", "v"],
      ],
      removed: ["k#1/2"],
    },
  ];
  it.each(replacements)("$name", async ({ before, value, after, removed }) => {
    write(before);
    const [outcome] = await setLogicalValues(guest(), [r("k", value)]);
    expect(stored()).toEqual(after);
    expect(outcome!.removed.map((x) => x.key)).toEqual(removed);
    // Every reported index is where the record now is.
    for (const o of outcome!.records) expect(stored()[o.index]![0]).toBe(o.key);
  });

  it("reports where modified records end up after stale ones before them are removed", async () => {
    write([r("k#1/4", "stale"), r("a", "1"), r("k", "old"), r("b", "2")]);
    const [outcome] = await setLogicalValues(guest(), [r("k", "new")]);
    expect(outcome!.records).toEqual([{ key: "k", action: "modified", index: 1, previous: "old" }]);
    expect(stored()).toEqual([
      ["a", "1"],
      ["k", "new"],
      ["b", "2"],
    ]);
  });

  it("says unchanged when the same value is set again, and the later of two values for one key wins", async () => {
    write([r("k", "same")]);
    expect((await setLogicalValues(guest(), [r("k", "same")]))[0]!.records[0]!.action).toBe("unchanged");
    const outcomes = await setLogicalValues(guest(), [r("k", "first"), r("j", "1"), r("k", "second")]);
    expect(outcomes.map((o) => o.key)).toEqual(["k", "j"]);
    expect(stored()).toEqual([
      ["k", "second"],
      ["j", "1"],
    ]);
  });

  it("works across scan chunks in a large pool and drops a trailing fragment", async () => {
    const filler = Array.from({ length: 600 }, (_, i) => r(`f${i}`, String(i)));
    write([...filler.slice(0, 300), r("k#2/2", "old"), ...filler.slice(300), r("k#1/2", "old")]);
    writeFileSync(file(), new Uint8Array(10), { flag: "a" });
    await setLogicalValues(guest(), [r("k", LONG)]);
    const after = stored();
    expect(readFileSync(file()).length).toBe(603 * RECORD_BYTES);
    expect(after.slice(0, 600)).toEqual(filler.map((x) => [x.key, x.value]));
    expect(after.slice(600)).toEqual(LONG_PARTS);
  });

  const invalid: { name: string; key: string; value: string; message: RegExp }[] = [
    {
      name: "part keys too long",
      key: "K".repeat(251),
      value: LONG,
      message: /^"K+\.\.\.": invalid key: too long for a chunked value/,
    },
    { name: "a key that is a part key", key: "k#1/2", value: "x", message: /^"k#1\/2": invalid key: .*form of a part/ },
    { name: "a NUL in the value", key: "k", value: "a\0b", message: /^"k": invalid value: contains NUL/ },
    { name: "a plain key the host would see cut", key: "K".repeat(255), value: "x", message: /host receives whole/ },
    {
      name: "a value over 999 parts",
      key: "k",
      value: "x".repeat(1022 * 999 + 1),
      message: /needs more than 999 parts/,
    },
  ];
  it.each(invalid)("refuses $name before touching the file", async ({ key, value, message }) => {
    write([r("k#1/2", "x"), r("k#2/2", "y")]);
    const before = readFileSync(file());
    const error = await thrownAsync(setLogicalValues(guest(), [r("ok", "1"), r(key, value)]));
    expect(isPoolFileError(error, "invalid")).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(readFileSync(file())).toEqual(before);
  });

  it("refuses a daemon-owned pool unless forced, and writes parts there with force", async () => {
    write([], 0);
    const pool0 = poolTarget(0, dir);
    expect(isPoolFileError(await thrownAsync(setLogicalValues(pool0, [r("k", LONG)])), "refused")).toBe(true);
    await setLogicalValues(pool0, [r("k", LONG)], { force: true });
    expect(decodePool(readFileSync(file(0))).records.map((x) => x.key)).toEqual(["k#1/3", "k#2/3", "k#3/3"]);
  });

  it("creates the pool file only when asked", async () => {
    expect(isPoolFileError(await thrownAsync(setLogicalValues(guest(), [r("k", "v")])), "daemon-absent")).toBe(true);
    await setLogicalValues(guest(), [r("k", "v")], { create: true });
    expect(stored()).toEqual([["k", "v"]]);
  });
});

describe("removeLogicalKeys", () => {
  const before = [
    r("kvp-agent/a#1/2", "1"),
    r("other", "x"),
    r("kvp-agent/a", "plain"),
    r("kvp-agent/a#2/2", "2"),
    r("kvp-agent/a#1/7", "stale"),
    r("kvp-agent/b", "b"),
    r("kvp-agent/a#1/1", "not a part"),
    r("kvp-agentX", "y"),
  ];

  it("removes a logical key with every part and copy, keeping the order of the rest", async () => {
    write(before);
    const removed = await removeLogicalKeys(guest(), ["kvp-agent/a"]);
    expect(removed.map((x) => [x.index, x.key])).toEqual([
      [0, "kvp-agent/a#1/2"],
      [2, "kvp-agent/a"],
      [3, "kvp-agent/a#2/2"],
      [4, "kvp-agent/a#1/7"],
    ]);
    expect(stored()).toEqual([
      ["other", "x"],
      ["kvp-agent/b", "b"],
      ["kvp-agent/a#1/1", "not a part"],
      ["kvp-agentX", "y"],
    ]);
  });

  it("removes by predicate over logical keys, e.g. a prefix", async () => {
    write(before);
    const removed = await removeLogicalKeys(guest(), (key) => key.startsWith("kvp-agent/"));
    expect(removed.length).toBe(6);
    expect(stored()).toEqual([
      ["other", "x"],
      ["kvp-agentX", "y"],
    ]);
  });

  it("writes nothing when no key matches", async () => {
    write(before);
    const bytes = readFileSync(file());
    expect(await removeLogicalKeys(guest(), ["absent"])).toEqual([]);
    expect(await removeLogicalKeys(guest(), () => false)).toEqual([]);
    expect(readFileSync(file())).toEqual(bytes);
  });

  it("undoes setLogicalValues exactly", async () => {
    write([r("a", "1")]);
    const value = `${"😀".repeat(600)}${"中".repeat(700)}`;
    await setLogicalValues(guest(), [r("k", value)]);
    expect(stored().map(([key]) => key)).toEqual(["a", ...splitValue("k", value).map((x) => x.key)]);
    await removeLogicalKeys(guest(), ["k"]);
    expect(stored()).toEqual([["a", "1"]]);
  });

  it("refuses a daemon-owned pool unless forced", async () => {
    write([r("k", "v")], 0);
    expect(isPoolFileError(await thrownAsync(removeLogicalKeys(poolTarget(0, dir), ["k"])), "refused")).toBe(true);
  });
});
