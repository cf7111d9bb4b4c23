// kvp-pool and chunked values: values longer than the host receives whole, stored as parts
// KEY#1/N … KEY#N/N (kvp-core's chunking convention), in process against temp directories.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type KvpRecord, decodePool } from "@hyperv-kvp/kvp-core";
import { afterEach, describe, expect, it } from "vitest";
import { makePoolDir, runCli } from "./test-support.js";

let cleanup = () => {};
afterEach(() => cleanup());

function pools(init: Parameters<typeof makePoolDir>[0] = {}) {
  const made = makePoolDir(init);
  cleanup = made.cleanup;
  return made.dir;
}

const stored = (dir: string, n = 1) =>
  decodePool(readFileSync(join(dir, `.kvp_pool_${n}`))).records.map((r) => [r.key, r.value]);
const r = (key: string, value: string): KvpRecord => ({ key, value });

// 1022 + 1022 + 456 units of a two-byte character: three parts.
const LONG = "ü".repeat(2500);
const PARTS = [
  ["report#1/3", "ü".repeat(1022)],
  ["report#2/3", "ü".repeat(1022)],
  ["report#3/3", "ü".repeat(456)],
];

describe("set --chunk", () => {
  it("stores a long value as parts that get, list and delete treat as one key", async () => {
    const dir = pools({ 1: [r("a", "1")] });
    const set = await runCli(["--dir", dir, "set", "--chunk", "report", LONG, "--json"]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual([
      {
        key: "report",
        parts: 3,
        records: [
          { key: "report#1/3", action: "appended", index: 1 },
          { key: "report#2/3", action: "appended", index: 2 },
          { key: "report#3/3", action: "appended", index: 3 },
        ],
        removed: [],
      },
    ]);
    expect(stored(dir)).toEqual([["a", "1"], ...PARTS]);

    expect(await runCli(["--dir", dir, "get", "report"])).toEqual({ code: 0, stdout: `${LONG}\n`, stderr: "" });
    expect(JSON.parse((await runCli(["--dir", dir, "get", "report", "--json"])).stdout)).toEqual({
      pool: 1,
      poolName: "guest",
      index: 1,
      key: "report",
      value: LONG,
      parts: 3,
    });
    expect((await runCli(["--dir", dir, "get", "--raw", "report#2/3"])).stdout).toBe(`${"ü".repeat(1022)}\n`);
    const part = await runCli(["--dir", dir, "get", "report#2/3"]);
    expect(part.code).toBe(1);
    expect(part.stderr).toMatch(
      /no key "report#2\/3" in pool 1 .*\(that names one part of a chunked value: get --raw reads it as stored\)/,
    );
    expect((await runCli(["--dir", dir, "get", "--raw", "report"])).code).toBe(1);

    const list = await runCli(["--dir", dir, "list", "--pool", "1", "--json"]);
    expect(list.stderr).toBe("");
    expect(JSON.parse(list.stdout)).toEqual([
      { pool: 1, poolName: "guest", index: 0, key: "a", value: "1" },
      { pool: 1, poolName: "guest", index: 1, key: "report", value: LONG, parts: 3 },
    ]);
    expect((await runCli(["--dir", dir, "list", "--pool", "1"])).stdout).toBe(
      `# pool 1 (guest)\na = 1\nreport = ${LONG}   (3 parts)\n`,
    );
    const raw = JSON.parse((await runCli(["--dir", dir, "list", "--pool", "1", "--raw", "--json"])).stdout);
    expect(raw.map((x: { index: number; key: string }) => [x.index, x.key])).toEqual([
      [0, "a"],
      [1, "report#1/3"],
      [2, "report#2/3"],
      [3, "report#3/3"],
    ]);
    expect((await runCli(["--dir", dir, "check"])).code).toBe(0);

    const deleted = await runCli(["--dir", dir, "delete", "report", "--json"]);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout).map((x: { key: string }) => x.key)).toEqual([
      "report#1/3",
      "report#2/3",
      "report#3/3",
    ]);
    expect(stored(dir)).toEqual([["a", "1"]]);
  });

  it("replaces an earlier split, a plain record, or parts with a short value, leaving no stale part", async () => {
    const dir = pools({ 1: [r("report#1/2", "old"), r("report", "plain"), r("report#2/2", "old"), r("z", "9")] });
    expect((await runCli(["--dir", dir, "set", "--chunk", "report", LONG])).code).toBe(0);
    expect(stored(dir)).toEqual([["z", "9"], ...PARTS]);
    expect((await runCli(["--dir", dir, "set", "--chunk", "report", "short now"])).code).toBe(0);
    expect(stored(dir)).toEqual([
      ["z", "9"],
      ["report", "short now"],
    ]);
  });

  it("sets long values from a file under one lock", async () => {
    const dir = pools();
    const file = join(dir, "facts.json");
    writeFileSync(file, JSON.stringify({ report: LONG, small: "1", emoji: "😀".repeat(600) }));
    expect((await runCli(["--dir", dir, "set", "--chunk", "--from-file", file])).code).toBe(0);
    expect(stored(dir).map(([key]) => key)).toEqual([
      "report#1/3",
      "report#2/3",
      "report#3/3",
      "small",
      "emoji#1/2",
      "emoji#2/2",
    ]);
    expect((await runCli(["--dir", dir, "get", "emoji"])).stdout).toBe(`${"😀".repeat(600)}\n`);
  });

  it("refuses what cannot be chunked, and bad combinations, as usage errors that write nothing", async () => {
    const dir = pools({ 1: [r("a", "1")] });
    const cases: { args: string[]; stderr: RegExp }[] = [
      { args: ["set", "--chunk", "K".repeat(251), LONG], stderr: /invalid key: too long for a chunked value/ },
      { args: ["set", "--chunk", "k#1/2", "x"], stderr: /has the form of a part of a chunked value/ },
      { args: ["set", "--chunk", "k", "x".repeat(1022 * 999 + 1)], stderr: /needs more than 999 parts/ },
      { args: ["set", "--chunk", "--wire-limits", "k", LONG], stderr: /--chunk cannot be combined with --wire-limits/ },
      { args: ["set", "--chunk", "--ignore-case", "k", LONG], stderr: /--chunk cannot be combined with --ignore-case/ },
    ];
    for (const { args, stderr } of cases) {
      const result = await runCli(["--dir", dir, ...args]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(stderr) });
    }
    expect(stored(dir)).toEqual([["a", "1"]]);
  });

  it("without --chunk, refuses a long value and names --chunk; a long key gets no such advice", async () => {
    const dir = pools();
    const value = await runCli(["--dir", dir, "set", "k", "v".repeat(1023)]);
    expect(value.code).toBe(2);
    expect(value.stderr).toMatch(
      /1023 UTF-16 units, limit 1022; the host would see it truncated\)\nkvp-pool: --chunk sends it whole, as parts KEY#1\/N … KEY#N\/N that kvp-pool get reassembles\nkvp-pool: --wire-limits/,
    );
    const key = await runCli(["--dir", dir, "set", "K".repeat(255), "v"]);
    expect(key.code).toBe(2);
    expect(key.stderr).not.toMatch(/--chunk/);
    expect(key.stderr).toMatch(/--wire-limits/);
    expect(stored(dir)).toEqual([]);
  });
});

describe("parts that cannot be reassembled", () => {
  const broken = [
    r("a", "1"),
    r("lost#1/3", "A"),
    r("lost#3/3", "C"),
    r("mixed#1/2", "x"),
    r("mixed#2/3", "y"),
    r("twice", "plain"),
    r("twice#1/2", "p"),
    r("twice#2/2", "q"),
  ];

  it("list shows them as stored, with a note on stderr naming the problem, with or without --json", async () => {
    const dir = pools({ 1: broken });
    const notes = [
      'kvp-pool: note: pool 1: "lost" is split into 3 parts but part(s) 2 are missing; shown as stored (records 1, 2)',
      'kvp-pool: note: pool 1: "mixed" has parts of different splits (into 2, 3 parts); shown as stored (records 3, 4)',
      'kvp-pool: note: pool 1: "twice" is stored both as a plain record and in parts; lookups of "twice" see the plain record, the parts are shown as stored (records 6, 7)',
    ];
    const list = await runCli(["--dir", dir, "list", "--pool", "1", "--json"]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((x: KvpRecord) => [x.key, x.value])).toEqual(
      broken.map((x) => [x.key, x.value]),
    );
    expect(list.stderr).toBe(`${notes.join("\n")}\n`);
    expect((await runCli(["--dir", dir, "list", "--pool", "1"])).stderr).toBe(`${notes.join("\n")}\n`);
    expect((await runCli(["--dir", dir, "list", "--pool", "1", "--raw"])).stderr).toBe("");
  });

  it("get says why a key is absent, and a plain record beside parts is what get shows", async () => {
    const dir = pools({ 1: broken });
    const lost = await runCli(["--dir", dir, "get", "lost"]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(
      /^kvp-pool: no key "lost" in pool 1 \(guest\) .*; "lost" is split into 3 parts but part\(s\) 2 are missing; shown as stored\n$/,
    );
    expect((await runCli(["--dir", dir, "get", "twice"])).stdout).toBe("plain\n");
  });

  it("check reports them as warnings (exit 1), in text and JSON", async () => {
    const dir = pools({ 1: broken });
    const text = await runCli(["--dir", dir, "check"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^pool 1 records 1,2: warning chunk-incomplete: "lost" is split into 3 parts but part\(s\) 2 are missing; shown as stored$/m,
    );
    expect(text.stdout).toMatch(/^pool 1 records 3,4: warning chunk-conflicting-totals: /m);
    expect(text.stdout).toMatch(/^pool 1 records 6,7: warning chunk-plain-beside-parts: /m);
    expect(text.stdout).toMatch(/: 8 record\(s\), 0 error\(s\), 0 warning\(s\), 3 chunked value problem\(s\)$/m);
    const json = JSON.parse((await runCli(["--dir", dir, "check", "--json"])).stdout);
    expect(
      json[0].chunks.map((c: { key: string; reason: string; indexes: number[] }) => [c.key, c.reason, c.indexes]),
    ).toEqual([
      ["lost", "incomplete", [1, 2]],
      ["mixed", "conflicting-totals", [3, 4]],
      ["twice", "plain-beside-parts", [6, 7]],
    ]);
  });
});

describe("delete", () => {
  it("deletes a logical key with every part of any split; --raw deletes one stored record", async () => {
    const dir = pools({
      1: [
        r("k#1/2", "a"),
        r("k", "plain"),
        r("k#2/2", "b"),
        r("k#1/3", "stale"),
        r("kk#1/2", "other"),
        r("k", "second"),
      ],
    });
    expect((await runCli(["--dir", dir, "delete", "--raw", "k#2/2"])).code).toBe(0);
    expect(stored(dir).map(([key]) => key)).toEqual(["k#1/2", "k", "k#1/3", "kk#1/2", "k"]);
    const part = await runCli(["--dir", dir, "delete", "k#1/2"]);
    expect(part.code).toBe(1);
    expect(part.stderr).toMatch(/\(that names one part of a chunked value: delete --raw deletes it alone\)/);
    // The first plain record goes, as the daemon deletes; every part goes.
    expect((await runCli(["--dir", dir, "delete", "k"])).code).toBe(0);
    expect(stored(dir)).toEqual([
      ["kk#1/2", "other"],
      ["k", "second"],
    ]);
    expect((await runCli(["--dir", dir, "delete", "K", "--ignore-case"])).code).toBe(0);
    expect(stored(dir)).toEqual([["kk#1/2", "other"]]);
    expect((await runCli(["--dir", dir, "delete", "k"])).code).toBe(1);
  });
});
