import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECORD_BYTES, decodePool, encodePool, encodeRecord } from "@hyperv-kvp/kvp-core";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isPoolFileError } from "./errors.js";
import { checkPoolFile, deleteRecord, getRecord, readPool, repairPool, scanPool, setRecords } from "./pool-store.js";
import { poolTarget } from "./pool-target.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pool-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const guest = () => poolTarget(1, dir);
const file = () => join(dir, ".kvp_pool_1");
const write = (records: { key: string; value: string }[]) => writeFileSync(file(), encodePool(records));
const contents = () => decodePool(readFileSync(file())).records.map((r) => [r.key, r.value]);

describe("what is not a pool file", () => {
  it("refuses a FIFO at once instead of waiting for a writer forever", async () => {
    expect(spawnSync("mkfifo", [file()]).status).toBe(0);
    const error = await thrownAsync(readPool(guest()));
    expect(isPoolFileError(error, "io")).toBe(true);
    expect((error as Error).message).toMatch(/\.kvp_pool_1: not a regular file \(a FIFO\)$/);
    expect(isPoolFileError(await thrownAsync(setRecords(guest(), [{ key: "a", value: "1" }])), "io")).toBe(true);
  });

  it("refuses a directory, for reading and for writing", async () => {
    mkdirSync(file());
    expect(((await thrownAsync(getRecord(guest(), "a"))) as Error).message).toMatch(
      /not a regular file \(a directory\)$/,
    );
    expect(((await thrownAsync(deleteRecord(guest(), "a"))) as Error).message).toMatch(/EISDIR/);
  });
});

describe("reading", () => {
  it("reads records in file order and ignores a trailing fragment", async () => {
    write([
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ]);
    writeFileSync(file(), new Uint8Array(100), { flag: "a" });
    const content = await readPool(guest());
    expect(content.records.map((r) => r.key)).toEqual(["a", "b"]);
    expect(content.trailingBytes).toBe(100);
  });

  it("gets the first match, case-sensitively unless asked", async () => {
    write([
      { key: "Key", value: "first" },
      { key: "key", value: "second" },
      { key: "key", value: "third" },
    ]);
    expect((await getRecord(guest(), "key"))?.value).toBe("second");
    expect((await getRecord(guest(), "KEY", { ignoreCase: true }))?.value).toBe("first");
    expect(await getRecord(guest(), "nope")).toBeUndefined();
  });

  it("says the daemon seems absent when the directory or file is missing", async () => {
    const missingDir = await thrownAsync(readPool(poolTarget(1, join(dir, "nope"))));
    expect(isPoolFileError(missingDir, "daemon-absent")).toBe(true);
    expect((missingDir as Error).message).toMatch(/nope does not exist: hv_kvp_daemon seems absent/);
    const missingFile = await thrownAsync(readPool(guest()));
    expect(isPoolFileError(missingFile, "daemon-absent")).toBe(true);
    expect((missingFile as Error).message).toContain(".kvp_pool_1 does not exist");
  });

  it("reads a pool far larger than one scan chunk", async () => {
    const records = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    write(records);
    const content = await readPool(guest());
    expect(content.records).toHaveLength(1000);
    expect(content.records[999]).toMatchObject({ key: "k999", value: "v999", index: 999, offset: 999 * RECORD_BYTES });
    expect((await getRecord(guest(), "k700"))?.index).toBe(700);
  });
});

describe("scanPool", () => {
  it("hands over the stored bytes in chunks, in file order, with the record count; the trailing fragment is counted, not visited", async () => {
    const records = Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const bytes = encodePool(records);
    writeFileSync(file(), Buffer.concat([bytes, Buffer.alloc(10, 1)]));
    const seen: Buffer[] = [];
    const calls: [number, number, number][] = [];
    const result = await scanPool(guest(), (chunk, first, count) => {
      calls.push([first, chunk.length / RECORD_BYTES, count]);
      seen.push(Buffer.from(chunk)); // the buffer is reused: copy
    });
    expect(result).toEqual({ records: 600, trailingBytes: 10 });
    expect(calls).toEqual([
      [0, 256, 600],
      [256, 256, 600],
      [512, 88, 600],
    ]);
    expect(Buffer.concat(seen).equals(Buffer.from(bytes))).toBe(true);
  });

  it("reads no further once the visitor returns false", async () => {
    write(Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    const firsts: number[] = [];
    const result = await scanPool(guest(), (_chunk, first) => {
      firsts.push(first);
      return first < 256;
    });
    expect(firsts).toEqual([0, 256]);
    expect(result.records).toBe(600);
  });

  it("reads every scan into the same memory: a reader scanning many times a second allocates nothing per scan", async () => {
    write(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    const memory = new Set<ArrayBufferLike>();
    for (let i = 0; i < 3; i++) await scanPool(guest(), (chunk) => void memory.add(chunk.buffer));
    await getRecord(guest(), "k49");
    await scanPool(guest(), (chunk) => void memory.add(chunk.buffer));
    expect(memory.size).toBe(1);
  });
});

describe("setRecords", () => {
  it("modifies the first match in place and appends new keys at the end", async () => {
    write([
      { key: "a", value: "1" },
      { key: "b", value: "2" },
      { key: "a", value: "dup" },
    ]);
    const outcomes = await setRecords(guest(), [
      { key: "a", value: "one" },
      { key: "c", value: "3" },
      { key: "b", value: "2" },
    ]);
    expect(outcomes).toEqual([
      { key: "a", action: "modified", index: 0, previous: "1" },
      { key: "c", action: "appended", index: 3 },
      { key: "b", action: "unchanged", index: 1, previous: "2" },
    ]);
    expect(contents()).toEqual([
      ["a", "one"],
      ["b", "2"],
      ["a", "dup"],
      ["c", "3"],
    ]);
  });

  it("keeps the inode: never replaces the file", async () => {
    write([{ key: "a", value: "1" }]);
    const before = statSync(file()).ino;
    await setRecords(guest(), [
      { key: "a", value: "2" },
      { key: "b", value: "3" },
    ]);
    await deleteRecord(guest(), "a");
    expect(statSync(file()).ino).toBe(before);
  });

  it("zeroes the old value's tail when a value gets shorter", async () => {
    write([{ key: "a", value: "a-long-value" }]);
    await setRecords(guest(), [{ key: "a", value: "s" }]);
    expect(readFileSync(file())).toEqual(Buffer.from(encodeRecord({ key: "a", value: "s" })));
  });

  it("uses the last value when a batch sets a new key twice", async () => {
    write([]);
    await setRecords(guest(), [
      { key: "n", value: "1" },
      { key: "n", value: "2" },
    ]);
    expect(contents()).toEqual([["n", "2"]]);
  });

  it("refuses what the host would get truncated on pool 1 unless wire limits are asked", async () => {
    write([]);
    const long = { key: "k", value: "x".repeat(1023) };
    const error = await thrownAsync(setRecords(guest(), [long]));
    expect(isPoolFileError(error, "invalid")).toBe(true);
    expect((error as Error).message).toMatch(/1023 UTF-16 units, limit 1022/);
    expect(contents()).toEqual([]);
    await setRecords(guest(), [long], { limits: "wire" });
    expect(contents()).toEqual([["k", long.value]]);
  });

  it("validates the whole batch before writing anything", async () => {
    write([{ key: "a", value: "1" }]);
    const error = await thrownAsync(
      setRecords(guest(), [
        { key: "a", value: "2" },
        { key: "bad\0key", value: "" },
      ]),
    );
    expect(isPoolFileError(error, "invalid")).toBe(true);
    expect(contents()).toEqual([["a", "1"]]);
  });

  it("refuses daemon-owned pools unless forced, saying why", async () => {
    writeFileSync(join(dir, ".kvp_pool_0"), new Uint8Array(0));
    const error = await thrownAsync(setRecords(poolTarget(0, dir), [{ key: "a", value: "1" }]));
    expect(isPoolFileError(error, "refused")).toBe(true);
    expect((error as Error).message).toMatch(/written by hv_kvp_daemon/);
    await setRecords(poolTarget(0, dir), [{ key: "a", value: "1" }], { force: true });
    expect((await readPool(poolTarget(0, dir))).records.map((r) => r.key)).toEqual(["a"]);
  });

  it("does not create a missing pool 1 file unless asked", async () => {
    const error = await thrownAsync(setRecords(guest(), [{ key: "a", value: "1" }]));
    expect(isPoolFileError(error, "daemon-absent")).toBe(true);
    await setRecords(guest(), [{ key: "a", value: "1" }], { create: true });
    expect(contents()).toEqual([["a", "1"]]);
    expect(statSync(file()).mode & 0o777).toBe(0o644);
  });

  it("drops a trailing fragment before appending, so records stay aligned", async () => {
    write([{ key: "a", value: "1" }]);
    writeFileSync(file(), new Uint8Array(10).fill(7), { flag: "a" });
    await setRecords(guest(), [{ key: "b", value: "2" }]);
    expect(statSync(file()).size).toBe(2 * RECORD_BYTES);
    expect(contents()).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
  });

  it("reports permission problems as io errors", async () => {
    if (process.getuid?.() === 0) return; // root can write anyway; covered where tests run unprivileged
    write([]);
    chmodSync(file(), 0o444);
    const error = await thrownAsync(setRecords(guest(), [{ key: "a", value: "1" }]));
    expect(isPoolFileError(error, "io")).toBe(true);
  });
});

describe("deleteRecord", () => {
  const five = () => write(["a", "b", "c", "b", "d"].map((key, i) => ({ key, value: `v${i}` })));

  it("deletes the first match and keeps the order of the rest", async () => {
    five();
    const removed = await deleteRecord(guest(), "b");
    expect(removed.map((r) => [r.index, r.value])).toEqual([[1, "v1"]]);
    expect(contents()).toEqual([
      ["a", "v0"],
      ["c", "v2"],
      ["b", "v3"],
      ["d", "v4"],
    ]);
    expect(statSync(file()).size).toBe(4 * RECORD_BYTES);
  });

  it("moves every later record up, byte for byte, past plans that cannot be gathered into one write", async () => {
    // Short values (plans that go forward: gathered), long values that cross a page end
    // (plans that write the second page first, or a cut value first: written on their own),
    // over more records than one gathered write holds.
    const records = Array.from({ length: 700 }, (_, i) => ({
      key: `k${i}`,
      value: i % 7 === 3 ? `${"é".repeat(600 + (i % 5))}${i}` : i % 11 === 5 ? "x".repeat(1900 + (i % 100)) : `v${i}`,
    }));
    write(records);
    const before = readFileSync(file());
    await deleteRecord(guest(), "k2");
    const after = readFileSync(file());
    expect(after.length).toBe(699 * RECORD_BYTES);
    // Records before the removed one untouched; each later one is its old bytes, one slot up
    // (the daemon's padding after each NUL included: nothing is re-encoded).
    expect(after.subarray(0, 2 * RECORD_BYTES).equals(before.subarray(0, 2 * RECORD_BYTES))).toBe(true);
    expect(after.subarray(2 * RECORD_BYTES).equals(before.subarray(3 * RECORD_BYTES))).toBe(true);
  });

  it("deletes all matches with all", async () => {
    five();
    await deleteRecord(guest(), "b", { all: true });
    expect(contents()).toEqual([
      ["a", "v0"],
      ["c", "v2"],
      ["d", "v4"],
    ]);
  });

  it("changes nothing when the key is absent", async () => {
    five();
    const before = readFileSync(file());
    expect(await deleteRecord(guest(), "zz")).toEqual([]);
    expect(readFileSync(file())).toEqual(before);
  });

  it("deletes across scan chunks in a large pool", async () => {
    write(Array.from({ length: 600 }, (_, i) => ({ key: i % 100 === 0 ? "x" : `k${i}`, value: `${i}` })));
    await deleteRecord(guest(), "x", { all: true });
    const left = contents();
    expect(left).toHaveLength(594);
    expect(left[0]).toEqual(["k1", "1"]);
    expect(left.at(-1)).toEqual(["k599", "599"]);
  });
});

describe("check and repair", () => {
  it("checks pool 1 for what the host would lose", async () => {
    write([{ key: "a", value: "x".repeat(1100) }]);
    const report = await checkPoolFile(guest());
    expect(report.diagnostics.map((d) => d.code)).toEqual(["host-truncated-value"]);
  });

  it("repairs fragments, unterminated fields, invalid UTF-8 and empty records", async () => {
    const bad = encodeRecord({ key: "bad", value: "ok" });
    bad[512] = 0xff; // invalid UTF-8 at the start of the value
    const open = encodeRecord({ key: "open", value: "" });
    open.fill(0x61, 512); // value field with no NUL
    const records = [encodeRecord({ key: "a", value: "1" }), bad, new Uint8Array(RECORD_BYTES), open];
    mkdirSync(dir, { recursive: true });
    writeFileSync(file(), Buffer.concat([...records, new Uint8Array(5)]));
    const actions = await repairPool(guest());
    expect(actions.map((a) => [a.action, a.index])).toEqual([
      ["replaced-invalid-utf8", 1],
      ["removed-empty-record", 2],
      ["terminated-field", 3],
      ["dropped-fragment", 4],
    ]);
    const report = await checkPoolFile(guest());
    // Text the host would see truncated is left for its writer to decide.
    expect(report.diagnostics.filter((d) => d.severity !== "info").map((d) => d.code)).toEqual([
      "host-truncated-value",
    ]);
    expect(contents()).toEqual([
      ["a", "1"],
      ["bad", "\ufffdk"],
      ["open", "a".repeat(2047)],
    ]);
  });

  it("names each repaired record by its key, with control characters escaped", async () => {
    const bad = encodeRecord({ key: "bad\u009b2J", value: "ok" });
    bad[512] = 0xff;
    mkdirSync(dir, { recursive: true });
    writeFileSync(file(), bad);
    expect(await repairPool(guest())).toEqual([
      {
        action: "replaced-invalid-utf8",
        index: 0,
        key: "bad\u009b2J",
        message: 'replaced invalid UTF-8 in "bad\\u009b2J" with U+FFFD, so the host enumerates past this record again',
      },
    ]);
  });

  it("keeps an empty key when it repairs the value (never renames a record) and names it (empty key)", async () => {
    const broken = new Uint8Array(RECORD_BYTES);
    broken[512] = 0xff; // empty key, value not valid UTF-8
    const open = new Uint8Array(RECORD_BYTES);
    open.fill(0x62, 512); // empty key, value field with no NUL
    mkdirSync(dir, { recursive: true });
    writeFileSync(file(), Buffer.concat([encodeRecord({ key: "a", value: "1" }), broken, open]));
    expect(await repairPool(guest())).toEqual([
      {
        action: "replaced-invalid-utf8",
        index: 1,
        key: "",
        message: "replaced invalid UTF-8 in (empty key) with U+FFFD, so the host enumerates past this record again",
      },
      {
        action: "terminated-field",
        index: 2,
        key: "",
        message: "ended the value field of (empty key) that had no NUL",
      },
    ]);
    expect(contents()).toEqual([
      ["a", "1"],
      ["", "\ufffd"],
      ["", "b".repeat(2047)],
    ]);
    // Repaired: nothing left to fix; the empty keys stay for their writer to decide.
    expect(await repairPool(guest())).toEqual([]);
    const report = await checkPoolFile(guest());
    expect(report.diagnostics.filter((d) => d.severity !== "info").map((d) => [d.code, d.index])).toEqual([
      ["empty-key", 1],
      ["empty-key", 2],
      ["host-truncated-value", 2],
    ]);
  });
});
