import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type KvpRecord, encodePool, encodeRecord, parsePool } from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "@hyperv-kvp/pool-file";
import { afterEach, describe, expect, it } from "vitest";
import { formatList } from "../print.js";
import { makePoolDir } from "../test-support.js";
import { listForPeople } from "./list-for-people.js";
import { type ListOptions, list } from "./list.js";

let cleanup = () => {};
afterEach(() => cleanup());

function pools(init: Parameters<typeof makePoolDir>[0] = {}) {
  const made = makePoolDir(init);
  cleanup = made.cleanup;
  return made.dir;
}

const r = (key: string, value: string): KvpRecord => ({ key, value });
const AUTO = [r("FullyQualifiedDomainName", "guest.example"), r("OSName", "Linux\u202e")];

/** listForPeople against what it replaces: list's records through formatList, and the same notes. */
async function expectSameAsObjectPath(options: ListOptions) {
  const withAuto: ListOptions = { synthesizeAutoPool: () => AUTO, ...options };
  const shown = await listForPeople(withAuto);
  const listed = await list(withAuto);
  expect(new TextDecoder().decode(shown.output)).toBe(formatList(listed));
  expect({ failures: shown.failures, notes: shown.notes, chunkNotes: shown.chunkNotes }).toEqual({
    failures: listed.failures,
    notes: listed.notes,
    chunkNotes: listed.chunkNotes,
  });
  return shown;
}

describe("listForPeople", () => {
  it("shows every pool as formatList shows list's records: headings, blank lines, empty pools, pool 2", async () => {
    const dir = pools({
      0: [r("from-host", "h\\x"), r("ünïcode", "välue")],
      1: [r("a", "1"), r("tab", "a\tb")],
      3: [],
      4: [r("x", "")],
    });
    const shown = await expectSameAsObjectPath({ dir });
    expect(new TextDecoder().decode(shown.output)).toContain(
      "# pool 0 (external)\nfrom-host = h\\\\x\nünïcode = välue\n\n# pool 1 (guest)\n",
    );
    await expectSameAsObjectPath({ dir, pool: parsePool("1") });
  });

  it("reassembles chunked values, reports parts that are not whole, and --raw shows them as stored", async () => {
    const dir = pools({
      1: [
        r("a", "1"),
        r("report#1/2", "first "),
        r("b", "2"),
        r("report#2/2", "second"),
        r("lost#2/3", "x"),
        r("tag#1", "not a part"),
      ],
    });
    const shown = await expectSameAsObjectPath({ dir });
    const text = new TextDecoder().decode(shown.output);
    expect(text).toContain("report = first second   (2 parts)\n");
    expect(shown.chunkNotes.length).toBe(1);
    const raw = await expectSameAsObjectPath({ dir, raw: true });
    expect(new TextDecoder().decode(raw.output)).toContain("report#1/2 = first \n");
  });

  it("notes trailing bytes, and lists the pools after one that cannot be read", async () => {
    const dir = pools({ 0: [r("a", "1")], 1: [r("b", "2")], 4: [r("c", "3")] });
    appendFileSync(join(dir, ".kvp_pool_0"), "tail");
    rmSync(join(dir, ".kvp_pool_1"));
    const shown = await expectSameAsObjectPath({ dir });
    expect(shown.notes.some((n) => n.includes("4 trailing bytes"))).toBe(true);
    expect(shown.failures.map((f) => f.pool)).toEqual([1]);
  });

  it("lists pool 2's failure as list does", async () => {
    const dir = pools({ 1: [r("b", "2")] });
    await expectSameAsObjectPath({
      dir,
      synthesizeAutoPool: () => {
        throw new PoolFileError("io", "no libc here");
      },
    });
  });

  it("keeps the object path's output for records that are not UTF-8, in big pools across chunks", async () => {
    const dir = pools();
    const records = Array.from({ length: 700 }, (_, i) => encodeRecord(r(`key-${i}`, `value ${i} `.repeat(i % 5))));
    const broken = new Uint8Array(records[301]!);
    broken[514] = 0xff; // in the value "value 301 "
    records[301] = broken;
    const bytes = new Uint8Array(records.length * records[0]!.length);
    for (const [i, rec] of records.entries()) bytes.set(rec, i * rec.length);
    writeFileSync(join(dir, ".kvp_pool_1"), bytes);
    const shown = await expectSameAsObjectPath({ dir, pool: parsePool("1") });
    expect(new TextDecoder().decode(shown.output)).toContain("   (invalid UTF-8)\n");
    // A part in the last chunk sends the whole pool through the reassembling path.
    appendFileSync(join(dir, ".kvp_pool_1"), encodePool([r("late#1/2", "a"), r("late#2/2", "b")]));
    const late = await expectSameAsObjectPath({ dir, pool: parsePool("1") });
    expect(new TextDecoder().decode(late.output)).toMatch(/\nlate = ab {3}\(2 parts\)\n$/);
  });
});
