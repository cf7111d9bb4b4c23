import { RECORD_BYTES } from "@hyperv-kvp/kvp-core";
import { describe, expect, it } from "vitest";
import { DaemonPoolMemory } from "./daemon-pool-memory.js";
import {
  concatBytes,
  expectedPool,
  freshRecord,
  knownMismatches,
  knownRecord,
  rawRecord,
} from "@hyperv-kvp/test-support";

const encoder = new TextEncoder();
/** A message-style string: UTF-8 and a NUL; its size is what the kernel would send. */
const c = (s: string) => encoder.encode(`${s}\0`);

function set(memory: DaemonPoolMemory, key: string, value: string): boolean {
  const k = c(key);
  const v = c(value);
  return memory.set(k, k.length, v, v.length);
}

function expectMemory(memory: DaemonPoolMemory, expected: ReturnType<typeof expectedPool>) {
  expect(knownMismatches(memory.fileBytes(), expected)).toEqual([]);
  expect(memory.unknownFileBytes()).toEqual(expected.unknown);
}

describe("DaemonPoolMemory", () => {
  it("appends into fresh memory: only the copied bytes are known", () => {
    const memory = new DaemonPoolMemory();
    set(memory, "alpha", "one");
    expect(memory.count).toBe(1);
    expectMemory(memory, expectedPool(freshRecord("alpha\0", "one\0")));
  });

  it("modifies the first match in place, copying only value_size bytes", () => {
    const memory = new DaemonPoolMemory();
    memory.load(concatBytes(rawRecord("k", "a-long-value"), rawRecord("k", "second")));
    set(memory, "k", "short");
    expectMemory(memory, expectedPool(knownRecord("k", "short\0-value"), knownRecord("k", "second")));
  });

  it("compares key_size bytes: exact and case-sensitive", () => {
    const memory = new DaemonPoolMemory();
    memory.load(concatBytes(rawRecord("Key", "1"), rawRecord("key", "2"), rawRecord("keys", "3")));
    expect(memory.find(c("key"), 4)).toBe(1);
    expect(memory.find(c("KEY"), 4)).toBe(-1);
    // A key_size without the NUL is a prefix match, as memcmp would have it.
    expect(memory.find(c("key"), 3)).toBe(1);
    expect(memory.find(c("anything"), 0)).toBe(0);
  });

  it("refuses sizes past the fields", () => {
    const memory = new DaemonPoolMemory();
    expect(memory.set(c("k"), 513, c("v"), 2)).toBe(false);
    expect(memory.set(c("k"), 2, c("v"), 2049)).toBe(false);
    expect(memory.count).toBe(0);
  });

  it("deletes by strcpy-shifting later records, leaving tails", () => {
    const memory = new DaemonPoolMemory();
    memory.load(concatBytes(rawRecord("a", "1"), rawRecord("long-key", "long-value"), rawRecord("b", "2")));
    const key = c("long-key");
    expect(memory.delete(key, key.length)).toBe(true);
    expectMemory(memory, expectedPool(knownRecord("a", "1"), knownRecord("b\0ng-key", "2\0ng-value")));
    expect(memory.delete(c("nope"), 5)).toBe(false);
  });

  it("keeps slots past the end, so a later append inherits their tails", () => {
    const memory = new DaemonPoolMemory();
    memory.load(concatBytes(rawRecord("a", "1"), rawRecord("bbbb", "2222")));
    memory.load(rawRecord("a", "1"));
    set(memory, "c", "3");
    expectMemory(memory, expectedPool(knownRecord("a", "1"), knownRecord("c\0bb", "3\x0022")));
  });

  it("reads a trailing fragment into the next slot", () => {
    const memory = new DaemonPoolMemory();
    memory.load(concatBytes(rawRecord("a", "1"), new Uint8Array(10).fill(0x41)));
    expect(memory.count).toBe(1);
    set(memory, "b", "2");
    expectMemory(memory, expectedPool(knownRecord("a", "1"), freshRecord("b\0AAAAAAAA", "2\0")));
  });

  it("keeps bytes unknown across a re-read when told so", () => {
    const memory = new DaemonPoolMemory();
    set(memory, "a", "1");
    const bytes = memory.fileBytes();
    const unknown = memory.unknownFileBytes();
    const again = new DaemonPoolMemory();
    again.load(bytes, unknown);
    expect(again.unknownFileBytes()).toEqual(unknown);
    expect(unknown.length).toBe(RECORD_BYTES);
  });
});
