// What a harvest after a change costs: only the state files whose content changed are
// written; the files that hold the whole pool (host.json, host.env) can be written later
// than the per-key ones when writing them is costly, never left stale at stop.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { poolTarget, setRecords } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { Agent, hostFilesCharacters } from "./agent.js";
import { validateConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { mapToJson, renderEnvFile, writeEnvFile, writeJsonMap } from "./state-files.js";
import { readJson, tempDir, testContext, writePools } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(wholeFileDelayMs?: (lastWriteMs: number) => number, extra: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir("harvest");
  cleanups.push(cleanup);
  const pools = join(dir, "pools");
  const state = join(dir, "state");
  const hookOut = join(dir, "hook.out");
  writeFileSync(hookOut, "");
  mkdirSync(pools);
  const config = validateConfig(
    {
      decoders: { a: "pairs", b: "pairs" },
      // One line per run: the keys it covers (KVP_CHANGES), then the last one's key=value.
      hooks: [
        {
          name: "h",
          command: ["/bin/sh", "-c", 'printf "%s %s=%s\\n" "$KVP_CHANGES" "$KVP_KEY" "$KVP_VALUE" >> "$0"', hookOut],
        },
      ],
      hooksDir: join(dir, "hooks.d"),
      safetyNetSeconds: 3600,
      ...extra,
    },
    "test",
    { poolDir: pools, stateDir: state },
  );
  const ctx = testContext();
  const log = createLogger({ stream: ctx.stderr, level: "info", logValues: false, journald: false });
  const start = async () => {
    const agent = new Agent({ config, ctx, log, ...(wholeFileDelayMs ? { wholeFileDelayMs } : {}) });
    cleanups.push(() => agent.stop());
    agent.start();
    await agent.harvest();
    return agent;
  };
  return { pools, state, hookOut, ctx, start, config };
}

const ino = (path: string) => statSync(path).ino;

describe("incremental harvest", () => {
  it("a single-key change rewrites only the state files whose content changed", async () => {
    const s = setup();
    const items = [
      { key: "a", value: "x=1" },
      { key: "b", value: "y=2" },
      { key: "c", value: "3" },
    ];
    writePools(s.pools, { 0: items, 3: [{ key: "HostName", value: "hv01" }] });
    await s.start();
    const files = {
      aEnv: join(s.state, "decoded", "a.env"),
      bEnv: join(s.state, "decoded", "b.env"),
      decoded: join(s.state, "host-decoded.json"),
      facts: join(s.state, "host-facts.json"),
      host: join(s.state, "host.json"),
      env: join(s.state, "host.env"),
    };
    const before = Object.fromEntries(Object.entries(files).map(([k, p]) => [k, ino(p)]));

    await setRecords(poolTarget(0, s.pools), [{ key: "c", value: "4" }], { force: true });
    await waitFor(() => (readJson(files.host) as Record<string, string> | undefined)?.["c"] === "4", "c harvested");
    await waitFor(() => readFileSync(files.env, "utf8").includes("kvp_c='4'"), "host.env");
    expect(ino(files.aEnv)).toBe(before["aEnv"]);
    expect(ino(files.bEnv)).toBe(before["bEnv"]);
    expect(ino(files.decoded)).toBe(before["decoded"]);
    expect(ino(files.facts)).toBe(before["facts"]);

    await setRecords(poolTarget(0, s.pools), [{ key: "a", value: "x=9" }], { force: true });
    await waitFor(() => readFileSync(files.aEnv, "utf8").includes("x='9'"), "a.env rewritten");
    expect(ino(files.bEnv)).toBe(before["bEnv"]);
    await waitFor(() => JSON.stringify(readJson(files.decoded)).includes('"9"'), "host-decoded.json rewritten");

    // The pool rewritten as it was (the daemon does that) and a fact changed: pool 0's files stay.
    const host = ino(files.host);
    const env = ino(files.env);
    const aEnv = ino(files.aEnv);
    writeFileSync(
      join(s.pools, poolFileName(0)),
      encodePool([{ key: "a", value: "x=9" }, items[1]!, { key: "c", value: "4" }]),
    );
    writeFileSync(join(s.pools, poolFileName(3)), encodePool([{ key: "HostName", value: "hv02" }]));
    await waitFor(() => (readJson(files.facts) as Record<string, string> | undefined)?.["HostName"] === "hv02", "fact");
    expect([ino(files.host), ino(files.env), ino(files.aEnv)]).toEqual([host, env, aEnv]);
  });

  it("host.json and host.env may trail the per-key files and hooks when writing them is costly; stop writes them", async () => {
    // A policy that defers every later write of the whole-pool files by a minute.
    const s = setup(() => 60_000);
    writePools(s.pools, { 0: [{ key: "a", value: "x=1" }], 3: [{ key: "HostName", value: "hv01" }] });
    const agent = await s.start();
    // The first harvest is never deferred: units after the agent find the files current.
    expect(readJson(join(s.state, "host.json"))).toEqual({ a: "x=1" });

    await setRecords(poolTarget(0, s.pools), [{ key: "a", value: "x=2" }], { force: true });
    await waitFor(() => readFileSync(s.hookOut, "utf8").includes("a=x=2"), "hook ran for the change");
    expect(readFileSync(join(s.state, "decoded", "a.env"), "utf8")).toContain("x='2'");
    expect(readJson(join(s.state, "host.json"))).toEqual({ a: "x=1" });
    await agent.stop();
    expect(readJson(join(s.state, "host.json"))).toEqual({ a: "x=2" });
    expect(readFileSync(join(s.state, "host.env"), "utf8")).toContain("kvp_a='x=2'");
  });
});

describe("a pool 0 past hostFilesMaxBytes", () => {
  it("gets no host.json or host.env (none stale either), and a one-key change writes about that key", async () => {
    const s = setup(undefined, { hostFilesMaxBytes: 65536 });
    const small = [
      { key: "a", value: "x=1" },
      { key: "c", value: "3" },
    ];
    writePools(s.pools, { 0: small, 3: [] });
    const agent = await s.start();
    expect(readJson(join(s.state, "host.json"))).toEqual({ a: "x=1", c: "3" });
    expect(agent.state().hostFilesOff).toBeNull();

    // 40 values of 2000 characters: 80,000 characters, past 65,536.
    const big = [...small, ...Array.from({ length: 40 }, (_, i) => ({ key: `big${i}`, value: "v".repeat(2000) }))];
    writePools(s.pools, { 0: big });
    await waitFor(() => !existsSync(join(s.state, "host.json")), "host.json removed");
    expect(existsSync(join(s.state, "host.env"))).toBe(false);
    expect(agent.state().hostFilesOff).toMatch(/more than hostFilesMaxBytes \(65536 characters\)/);
    expect(s.ctx.err()).toContain("host.json and host.env are not written");
    expect(readJson(join(s.state, "agent-status.json"))).toMatchObject({ items: 42 });

    // A one-key change: its decoded file and its hook, and no whole-pool file.
    await setRecords(poolTarget(0, s.pools), [{ key: "a", value: "x=2" }], { force: true });
    await waitFor(() => readFileSync(s.hookOut, "utf8").includes("a=x=2"), "hook ran for the change");
    expect(readFileSync(join(s.state, "decoded", "a.env"), "utf8")).toContain("x='2'");
    expect(existsSync(join(s.state, "host.json"))).toBe(false);
    await agent.idle();
    expect(existsSync(join(s.state, "host.json"))).toBe(false);

    // Back under the limit: written again.
    writePools(s.pools, { 0: small });
    await waitFor(() => existsSync(join(s.state, "host.json")), "host.json written again");
    expect(readJson(join(s.state, "host.json"))).toEqual({ a: "x=1", c: "3" });
    expect(readFileSync(join(s.state, "host.env"), "utf8")).toContain("kvp_c='3'");
    expect(agent.state().hostFilesOff).toBeNull();
    expect(s.ctx.err()).toContain("host.json and host.env are written again");
  });

  it("hostFilesMaxBytes 0: never written, even for an empty pool", async () => {
    const s = setup(undefined, { hostFilesMaxBytes: 0 });
    writePools(s.pools, { 0: [], 3: [] });
    const agent = await s.start();
    expect(existsSync(join(s.state, "host.json"))).toBe(false);
    expect(existsSync(join(s.state, "host.env"))).toBe(false);
    expect(agent.state().hostFilesOff).toBe("hostFilesMaxBytes is 0: host.json and host.env are not written");
    await setRecords(poolTarget(0, s.pools), [{ key: "a", value: "x=2" }], { force: true });
    await waitFor(() => readFileSync(s.hookOut, "utf8").includes("a=x=2"), "hook ran for the change");
    expect(readFileSync(join(s.state, "decoded", "a.env"), "utf8")).toContain("x='2'");
    expect(existsSync(join(s.state, "host.json"))).toBe(false);
  });

  it("hostFilesCharacters counts keys and values, and stops once past the limit", () => {
    const items = new Map([
      ["ab", "cdé"],
      ["x", ""],
    ]);
    expect(hostFilesCharacters(items, 100)).toBe(6);
    const many = new Map(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, "v".repeat(100)]));
    const counted = hostFilesCharacters(many, 1000);
    expect(counted).toBeGreaterThan(1000);
    expect(counted).toBeLessThan(1200);
  });

  it("the limit is a config field with bounds", () => {
    expect(validateConfig({}, "t").hostFilesMaxBytes).toBe(4 << 20);
    expect(() => validateConfig({ hostFilesMaxBytes: 1000 }, "t")).toThrow(
      /hostFilesMaxBytes: must be 0 \(never write them\) or ≥ 65536/,
    );
    expect(validateConfig({ hostFilesMaxBytes: 0 }, "t").hostFilesMaxBytes).toBe(0);
    expect(() => validateConfig({ hostFilesMaxBytes: 2 ** 31 }, "t")).toThrow(/must be ≤ 1073741824/);
    expect(() => validateConfig({ hostFilesMaxBytes: 70000.5 }, "t")).toThrow(/whole number/);
  });
});

describe("changes applied key by key", () => {
  it("give what a full read gives: duplicate keys (first wins), renames, removals, additions", async () => {
    const s = setup();
    const file = join(s.pools, poolFileName(0));
    const host = () => readJson(join(s.state, "host.json")) as Record<string, string> | undefined;
    writePools(s.pools, {
      0: [
        { key: "a", value: "x=1" },
        { key: "b", value: "y=2" },
        { key: "a", value: "x=3" },
        { key: "c", value: "4" },
      ],
      3: [],
    });
    await s.start();
    expect(host()).toEqual({ a: "x=1", b: "y=2", c: "4" });
    const steps: [{ key: string; value: string }[], Record<string, string>][] = [
      // The first a goes: the second one is the value now.
      [
        [
          { key: "b", value: "y=2" },
          { key: "b", value: "y=2" },
          { key: "a", value: "x=3" },
          { key: "c", value: "4" },
        ],
        { a: "x=3", b: "y=2", c: "4" },
      ],
      // b renamed to d in place (its duplicate stays), c changed, e added.
      [
        [
          { key: "d", value: "y=2" },
          { key: "b", value: "y=2" },
          { key: "a", value: "x=3" },
          { key: "c", value: "5" },
          { key: "e", value: "6" },
        ],
        { a: "x=3", b: "y=2", c: "5", d: "y=2", e: "6" },
      ],
      // Every b gone, a duplicate of a before the other.
      [
        [
          { key: "d", value: "y=2" },
          { key: "a", value: "x=0" },
          { key: "a", value: "x=3" },
          { key: "c", value: "5" },
          { key: "e", value: "6" },
        ],
        { a: "x=0", c: "5", d: "y=2", e: "6" },
      ],
      [[], {}],
    ];
    const runs = () => readFileSync(s.hookOut, "utf8").split("\n").filter(Boolean);
    await waitFor(() => runs().length === 1, "the first harvest's hook run");
    for (const [i, [records, expected]] of steps.entries()) {
      writeFileSync(file, encodePool(records));
      await waitFor(
        () => JSON.stringify(host()) !== undefined && sameEntries(host()!, expected),
        JSON.stringify(expected),
      );
      // Each step's run starts before the next step, which would otherwise merge into it.
      await waitFor(() => runs().length === i + 2, `the hook run of step ${i + 1}`);
    }
    // Events in change order: a full read would give them in pool order, removals last.
    const run = (last: string, ...changes: [string, string][]) =>
      `${JSON.stringify(changes.map(([event, key]) => ({ event, key, pool: 0 })))} ${last}`;
    expect(runs()).toEqual([
      run("c=4", ["added", "a"], ["added", "b"], ["added", "c"]),
      run("a=x=3", ["changed", "a"]),
      run("e=6", ["added", "d"], ["changed", "c"], ["added", "e"]),
      run("b=", ["changed", "a"], ["removed", "b"]),
      run("e=", ["removed", "d"], ["removed", "a"], ["removed", "c"], ["removed", "e"]),
    ]);
  });
});

describe("changes applied key by key, many duplicated keys", () => {
  it("fall back to a full read with the same result", async () => {
    const s = setup();
    const file = join(s.pools, poolFileName(0));
    const host = () => readJson(join(s.state, "host.json")) as Record<string, string> | undefined;
    const pool = (tag: string) =>
      Array.from({ length: 40 }, (_, i) => [
        { key: `k${i}`, value: `${tag}${i}` },
        { key: `k${i}`, value: `dup${i}` },
      ]).flat();
    writePools(s.pools, { 0: pool("a"), 3: [] });
    await s.start();
    writeFileSync(file, encodePool(pool("b")));
    const expected = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, `b${i}`]));
    await waitFor(() => host() !== undefined && sameEntries(host()!, expected), "second content");
  });
});

/** Same keys and values, in any order. */
function sameEntries(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

describe("whole-pool files are written in pieces", () => {
  it("writeJsonMap and writeEnvFile write what mapToJson and renderEnvFile make", () => {
    const { dir, cleanup } = tempDir("pieces");
    cleanups.push(cleanup);
    const map = new Map<string, string>([
      ["__proto__", "p"],
      ['é\n"q"', "it's $(x)\u2028"],
      ["not a name", "v"],
      ["10", "ten"],
      ["5", "five"],
      ...Array.from({ length: 3000 }, (_, i) => [`k${i}`, "v".repeat(i % 700)] as [string, string]),
    ]);
    const json = join(dir, "m.json");
    writeJsonMap(json, map, 0o600);
    expect(readFileSync(json, "utf8")).toBe(mapToJson(map));
    expect(writeJsonMap(join(dir, "empty.json"), new Map(), 0o600)).toBeGreaterThan(0);
    expect(readFileSync(join(dir, "empty.json"), "utf8")).toBe(mapToJson(new Map()));
    const env = join(dir, "m.env");
    const { skipped, bytes } = writeEnvFile(env, map, "kvp_", 0o600);
    expect(bytes).toBe(statSync(env).size);
    const expected = renderEnvFile(map, "kvp_");
    expect(readFileSync(env, "utf8")).toBe(expected.text);
    expect(skipped).toEqual(expected.skipped);
    expect(statSync(env).mode & 0o777).toBe(0o600);
  });
});
