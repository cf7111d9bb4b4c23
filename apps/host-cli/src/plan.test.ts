import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { isHostCliError } from "./host-error.js";
import { planRemove, planWrite, prepareRecords } from "./plan.js";

const items = (n: number, prefix = "k") =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: `v${i}` }));

describe("prepareRecords", () => {
  it("keeps the last value of a repeated key at its first place", () => {
    expect(
      prepareRecords([
        { key: "a", value: "1" },
        { key: "b", value: "2" },
        { key: "a", value: "3" },
      ]).records,
    ).toEqual([
      { key: "a", value: "3" },
      { key: "b", value: "2" },
    ]);
  });

  it.each([
    ["an empty key", { key: "", value: "x" }],
    ["a NUL", { key: "a", value: "x\0y" }],
    ["a part-shaped key", { key: "a#1/2", value: "x" }],
    ["a key over 254 UTF-16 units", { key: "k".repeat(255), value: "x" }],
    ["a value over 1022 UTF-16 units", { key: "k", value: "v".repeat(1023) }],
    ["a value over 2047 bytes", { key: "k", value: "é".repeat(1000) + "€".repeat(20) }],
    ["a control character", { key: "k", value: "a\u0001b" }],
  ])("refuses %s (usage)", (_, record) => {
    expect(
      isHostCliError(
        thrown(() => prepareRecords([record])),
        "usage",
      ),
    ).toBe(true);
  });

  it("accepts exactly 1022 units, and host-only values beyond", () => {
    expect(prepareRecords([{ key: "k", value: "v".repeat(1022) }]).records).toHaveLength(1);
    expect(prepareRecords([{ key: "k", value: "v".repeat(5000) }], { hostOnly: true }).records).toHaveLength(1);
  });

  it("chunks a long value with kvp-core's K#i/N convention", () => {
    const { records, logicalKeys } = prepareRecords([{ key: "doc", value: "x".repeat(2500) }], { chunk: true });
    expect(records.map((r) => r.key)).toEqual(["doc#1/3", "doc#2/3", "doc#3/3"]);
    expect(records.map((r) => r.value).join("")).toBe("x".repeat(2500));
    expect(logicalKeys).toEqual(["doc"]);
  });
});

describe("planWrite", () => {
  it("fills calls to 128: 1000 new items are 8 AddKvpItems calls", () => {
    const plan = planWrite(new Map(), prepareRecords(items(1000)), { mode: "upsert" });
    expect(plan.batches.map((b) => [b.method, b.items.length])).toEqual([
      ...Array.from({ length: 7 }, () => ["AddKvpItems", 128]),
      ["AddKvpItems", 104],
    ]);
  });

  it("sorts into Add and Modify, skipping values already stored", () => {
    const stored = new Map([
      ["k0", "v0"],
      ["k1", "old"],
      ["other", "x"],
    ]);
    const plan = planWrite(stored, prepareRecords(items(3)), { mode: "upsert" });
    expect(plan.batches).toEqual([
      { method: "AddKvpItems", items: [{ key: "k2", value: "v2" }] },
      { method: "ModifyKvpItems", items: [{ key: "k1", value: "v1" }] },
    ]);
    expect(plan.unchanged).toEqual(["k0"]);
  });

  it("removes stale parts and a plain key replaced by parts", () => {
    const stored = new Map([
      ["doc#1/4", "a"],
      ["doc#2/4", "b"],
      ["doc#3/4", "c"],
      ["doc#4/4", "d"],
      ["note", "plain"],
    ]);
    const prepared = prepareRecords(
      [
        { key: "doc", value: "x".repeat(2000) },
        { key: "note", value: "y".repeat(1500) },
      ],
      { chunk: true },
    );
    const plan = planWrite(stored, prepared, { mode: "upsert" });
    expect(plan.add).toEqual(["doc#1/2", "doc#2/2", "note#1/2", "note#2/2"]);
    expect(plan.remove).toEqual(["doc#1/4", "doc#2/4", "doc#3/4", "doc#4/4", "note"]);
    expect(plan.batches.map((b) => b.method)).toEqual(["AddKvpItems", "RemoveKvpItems"]);
  });

  it("add mode refuses a stored key (or a stored part of it)", () => {
    for (const stored of [new Map([["k1", "x"]]), new Map([["k1#1/2", "x"]])]) {
      const error = thrown(() => planWrite(stored, prepareRecords(items(3)), { mode: "add" }));
      expect(isHostCliError(error, "refused")).toBe(true);
      expect((error as Error).message).toContain('"k1" already exists');
    }
  });
});

describe("planRemove", () => {
  it("removes a key with its parts and reports missing keys", () => {
    const stored = new Map([
      ["a", "1"],
      ["b#1/2", "x"],
      ["b#2/2", "y"],
    ]);
    expect(planRemove(stored, ["a", "b", "c"])).toMatchObject({ remove: ["a", "b#1/2", "b#2/2"], missing: ["c"] });
  });
});
