import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodePool } from "@hyperv-kvp/kvp-core";
import { poolTarget } from "@hyperv-kvp/pool-file";
import { afterEach, expect, it } from "vitest";
import { PoolMirror } from "./pool-mirror.js";
import { tempDir } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const records = (n: number, changed: Record<number, string> = {}) =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: changed[i] ?? `v${i}` }));

it("decodes only the records whose stored bytes changed, and says whether anything did", async () => {
  const { dir, cleanup } = tempDir("mirror");
  cleanups.push(cleanup);
  const file = join(dir, ".kvp_pool_0");
  writeFileSync(file, encodePool(records(600)));
  const mirror = new PoolMirror(poolTarget(0, dir));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records.map((r) => [r.key, r.value])).toEqual(records(600).map((r) => [r.key, r.value]));
  const untouched = mirror.records[300];
  const before = mirror.records[5];

  // The daemon rewrites the whole file for one change: one record differs.
  writeFileSync(file, encodePool(records(600, { 5: "new" })));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[5]).not.toBe(before);
  expect(mirror.records[5]).toMatchObject({ key: "k5", value: "new", index: 5 });
  expect(mirror.records[300]).toBe(untouched); // not decoded again
  expect(mirror.lastChanges).toEqual([{ index: 5, before, after: mirror.records[5] }]);

  writeFileSync(file, encodePool(records(600, { 5: "new" })));
  expect(await mirror.refresh()).toBe(false);
  expect(mirror.lastChanges).toEqual([]);

  writeFileSync(file, encodePool(records(10)));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records.map((r) => r.value)).toEqual(records(10).map((r) => r.value));
  // Record 5 back to its first value; 590 records gone.
  expect(mirror.lastChanges.map((c) => [c.index, c.before?.value, c.after?.value])).toEqual([
    [5, "new", "v5"],
    ...Array.from({ length: 590 }, (_, i) => [10 + i, `v${10 + i}`, undefined]),
  ]);

  writeFileSync(file, encodePool(records(700, { 650: "late" })));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records).toHaveLength(700);
  expect(mirror.records[650]).toMatchObject({ key: "k650", value: "late", index: 650 });
  expect(mirror.records[9]).toMatchObject({ key: "k9", value: "v9", index: 9 });

  writeFileSync(file, new Uint8Array(0));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records).toEqual([]);
});

it("keeps at most a small entry per record besides the decoded records, not a copy of the file", async () => {
  const { dir, cleanup } = tempDir("mirror");
  cleanups.push(cleanup);
  const file = join(dir, ".kvp_pool_0");
  // 1000 records of 2560 bytes: a copy of the file would be 2.5 MB.
  writeFileSync(file, encodePool(records(1000)));
  const mirror = new PoolMirror(poolTarget(0, dir));
  await mirror.refresh();
  expect(mirror.keptBytes).toBeLessThanOrEqual(64 * 1000);
  // A change is still seen by its bytes, and the entries stay per record as the pool grows.
  writeFileSync(file, encodePool(records(1300, { 999: "changed" })));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.lastChanges.map((c) => c.index)).toEqual([999, ...Array.from({ length: 300 }, (_, i) => 1000 + i)]);
  expect(mirror.keptBytes).toBeLessThanOrEqual(64 * 1300);
});

it("tells a change by what a decoding reads: bytes after a field's NUL are no change, its NUL is", async () => {
  const { dir, cleanup } = tempDir("mirror");
  cleanups.push(cleanup);
  const file = join(dir, ".kvp_pool_0");
  const bytes = Buffer.from(encodePool(records(300)));
  writeFileSync(file, bytes);
  const mirror = new PoolMirror(poolTarget(0, dir));
  await mirror.refresh();
  const value = 290 * 2560 + 512; // record 290's value field: "v290", then NULs
  bytes[value + 100] = 0x41; // past the NUL: a decoding never reads it
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(false);
  bytes.fill(0x42, value + 4, value + 2048); // the NUL and all after it: an unterminated value
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.lastChanges.map((c) => [c.index, c.after?.valueTerminated])).toEqual([[290, false]]);
  bytes.fill(0, value + 4, value + 2048);
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[290]).toMatchObject({ value: "v290", valueTerminated: true });
  bytes[value + 2] = 0; // a NUL earlier: "v2", though the bytes up to the old NUL are still there
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[290]).toMatchObject({ value: "v2" });
  bytes[value + 2] = 0x39; // and back: "v290"
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[290]).toMatchObject({ value: "v290" });
  bytes[290 * 2560 + 3] = 0x31; // one byte of the key: "k291"
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[290]).toMatchObject({ key: "k291" });
  bytes[290 * 2560 + 3] = 0x30;
  bytes[290 * 2560 + 4] = 0x78; // the key's NUL taken away: "k290x"
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[290]).toMatchObject({ key: "k290x" });
});

it("a full field (no NUL) is unchanged while its bytes are, and changed by a NUL put in", async () => {
  const { dir, cleanup } = tempDir("mirror");
  cleanups.push(cleanup);
  const file = join(dir, ".kvp_pool_0");
  const bytes = Buffer.from(encodePool(records(3)));
  const value = 1 * 2560 + 512;
  bytes.fill(0x61, value, value + 2048); // record 1's value: 2048 × "a", unterminated
  writeFileSync(file, bytes);
  const mirror = new PoolMirror(poolTarget(0, dir));
  await mirror.refresh();
  expect(mirror.records[1]).toMatchObject({ value: "a".repeat(2048), valueTerminated: false });
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(false);
  bytes[value + 2047] = 0;
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[1]).toMatchObject({ value: "a".repeat(2047), valueTerminated: true });
});

it("a record whose decoding does not give its bytes back (broken UTF-8, a BOM) is compared by its bytes", async () => {
  const { dir, cleanup } = tempDir("mirror");
  cleanups.push(cleanup);
  const file = join(dir, ".kvp_pool_0");
  const bytes = Buffer.from(encodePool(records(3)));
  const value = (i: number) => i * 2560 + 512;
  bytes.set([0xff, 0x41], value(0)); // "\uFFFDA"
  bytes.set([0xef, 0xbb, 0xbf, 0x42], value(1)); // a BOM, then "B"
  writeFileSync(file, bytes);
  const mirror = new PoolMirror(poolTarget(0, dir));
  await mirror.refresh();
  expect(mirror.records[0]).toMatchObject({ validUtf8: false });
  // The same bytes again: no change, though decoding them does not give them back.
  expect(await mirror.refresh()).toBe(false);
  // Other broken bytes that decode to the same text: a change all the same.
  bytes.set([0xfe], value(0));
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.lastChanges.map((c) => c.index)).toEqual([0]);
  expect(mirror.records[0]!.value).toBe(mirror.lastChanges[0]!.before!.value);
  expect(mirror.keptBytes).toBeLessThanOrEqual(2 * 64);
  // Mended: compared by its text again.
  bytes.set([0x43], value(0));
  writeFileSync(file, bytes);
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[0]).toMatchObject({ value: "CA", validUtf8: true });
  expect(await mirror.refresh()).toBe(false);
});

it("compares non-ASCII text by its UTF-8 bytes: the same text is no change, a longer one is", async () => {
  const { dir, cleanup } = tempDir("mirror");
  cleanups.push(cleanup);
  const file = join(dir, ".kvp_pool_0");
  const text = "é中😀".repeat(170); // 1530 bytes, 510 UTF-16 units
  writeFileSync(file, encodePool([{ key: "k", value: text }]));
  const mirror = new PoolMirror(poolTarget(0, dir));
  await mirror.refresh();
  writeFileSync(file, encodePool([{ key: "k", value: text }]));
  expect(await mirror.refresh()).toBe(false);
  // The stored bytes are the first 1530 of a longer text: the NUL moved, a change.
  writeFileSync(file, encodePool([{ key: "k", value: `${text}😀` }]));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[0]?.value).toBe(`${text}😀`);
  writeFileSync(file, encodePool([{ key: "k", value: `${text.slice(0, -2)}😁` }]));
  expect(await mirror.refresh()).toBe(true);
  expect(mirror.records[0]?.value).toBe(`${text.slice(0, -2)}😁`);
});
