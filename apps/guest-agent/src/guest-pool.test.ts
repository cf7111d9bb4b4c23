// Unit tests of the agent's logical-key access to pool 1: chunked values round-trip through
// real pool files, and other writers' records stay byte for byte where they were.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodePool, MAX_CHUNK_UNITS, poolFileName, reassembleRecords, splitValue } from "@hyperv-kvp/kvp-core";
import { isPoolFileError, poolTarget } from "@hyperv-kvp/pool-file";
import { afterEach, describe, expect, it } from "vitest";
import { readLogicalValues, removeLogicalKeys, writeLogicalValues } from "./guest-pool.js";
import { isAgentKey } from "./reporter.js";
import {
  agentRecords,
  FOREIGN_RECORDS,
  hexRecords,
  interleave,
  rawRecord,
  readPool1,
  seedPool1,
} from "./test-support/foreign-records.js";
import { tempDir } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(records: readonly Uint8Array[] = FOREIGN_RECORDS) {
  const { dir, cleanup } = tempDir("guest-pool");
  cleanups.push(cleanup);
  seedPool1(dir, records);
  return { dir, target: poolTarget(1, dir) };
}

function storedRecords(dir: string) {
  return decodePool(new Uint8Array(readFileSync(join(dir, poolFileName(1))))).records;
}

const KEY = "kvp-agent/report/long";

describe("writeLogicalValues / readLogicalValues", () => {
  const values: { name: string; value: string; parts: number }[] = [
    { name: "empty", value: "", parts: 1 },
    { name: "exactly what the host takes whole", value: "a".repeat(MAX_CHUNK_UNITS), parts: 1 },
    { name: "one unit more", value: "a".repeat(MAX_CHUNK_UNITS + 1), parts: 2 },
    { name: "two-byte characters", value: "é".repeat(3000), parts: splitValue(KEY, "é".repeat(3000)).length },
    {
      name: "surrogate pairs on every boundary",
      value: `x${"😀".repeat(2000)}`,
      parts: splitValue(KEY, `x${"😀".repeat(2000)}`).length,
    },
    {
      name: "mixed, with newlines and quotes",
      value: `{"a":"${"ü\n'\"".repeat(900)}"}`,
      parts: splitValue(KEY, `{"a":"${"ü\n'\"".repeat(900)}"}`).length,
    },
  ];
  it.each(values)("stores $name as KEY or KEY#i/N and reads it back whole", async ({ value, parts }) => {
    const { dir, target } = setup();
    await writeLogicalValues(target, new Map([[KEY, value]]));
    const ours = readPool1(dir).ours;
    expect(ours.map((r) => r.key)).toEqual(
      parts === 1 ? [KEY] : Array.from({ length: parts }, (_, i) => `${KEY}#${i + 1}/${parts}`),
    );
    // Every stored part fits what the host takes whole.
    for (const r of ours) expect(r.value.length).toBeLessThanOrEqual(MAX_CHUNK_UNITS);
    // kvp-core's reader, over every record of the pool, sees the value whole.
    const whole = reassembleRecords(storedRecords(dir).filter((r) => r.validUtf8)).records.filter((r) => r.key === KEY);
    expect(whole.map((r) => r.value)).toEqual([value]);
    expect(await readLogicalValues(target, isAgentKey)).toEqual(new Map([[KEY, value]]));
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });

  it("a value that grows, shrinks and grows again leaves no stale parts", async () => {
    const { dir, target } = setup();
    const sequence = ["a".repeat(5000), "short", "b".repeat(2500), "c".repeat(MAX_CHUNK_UNITS * 4)];
    for (const value of sequence) {
      await writeLogicalValues(target, new Map([[KEY, value]]));
      const keys = readPool1(dir).ours.map((r) => r.key);
      const n = splitValue(KEY, value).length;
      expect(keys).toEqual(n === 1 ? [KEY] : Array.from({ length: n }, (_, i) => `${KEY}#${i + 1}/${n}`));
      expect(await readLogicalValues(target, isAgentKey)).toEqual(new Map([[KEY, value]]));
    }
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });

  it("reads only the keys asked for; the first record of a key wins; records of broken UTF-8 are skipped", async () => {
    const { target } = setup([
      ...FOREIGN_RECORDS,
      rawRecord("kvp-agent/status", "first"),
      rawRecord("kvp-agent/status", "second"),
      rawRecord("kvp-agent/broken", "\u0000"),
      rawRecord(new Uint8Array([...new TextEncoder().encode("kvp-agent/"), 0xc3]), "bad key"),
    ]);
    const found = await readLogicalValues(target, isAgentKey);
    expect(found).toEqual(
      new Map([
        ["kvp-agent/status", "first"],
        ["kvp-agent/broken", ""],
      ]),
    );
    // `keep` sees logical keys: the foreign parts `kvp-agent#i/2` belong to `kvp-agent`, never to us.
    const asked: string[] = [];
    await readLogicalValues(target, (k) => {
      asked.push(k);
      return false;
    });
    expect(asked).toContain("kvp-agent");
    expect(asked.filter((k) => k.includes("#"))).toEqual([]);
  });

  it("refuses a key in the form of a part, changing nothing", async () => {
    const { dir, target } = setup();
    const before = readFileSync(join(dir, poolFileName(1)));
    const error = await writeLogicalValues(target, new Map([["kvp-agent/x#1/2", "v"]])).catch((e: unknown) => e);
    expect(isPoolFileError(error, "invalid")).toBe(true);
    expect(readFileSync(join(dir, poolFileName(1)))).toEqual(before);
  });

  it("writes nothing for an empty map (even without a pool file)", async () => {
    const { dir } = setup();
    await expect(writeLogicalValues(poolTarget(1, join(dir, "absent")), new Map())).resolves.toBeUndefined();
  });
});

describe("removeLogicalKeys", () => {
  it("removes every stored record of the picked logical keys, parts included, and keeps the others' order and bytes", async () => {
    const { dir, target } = setup(interleave(FOREIGN_RECORDS, agentRecords("boot-A")));
    expect(await removeLogicalKeys(target, isAgentKey)).toBe(agentRecords("boot-A").length);
    expect(readPool1(dir).ours).toEqual([]);
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
    expect(await removeLogicalKeys(target, isAgentKey)).toBe(0);
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });
});
