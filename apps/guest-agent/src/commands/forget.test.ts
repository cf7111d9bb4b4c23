// `kvp-agent forget` against temporary pool directories (no daemon): what it removes, what it
// keeps, the lock it waits for, a missing pool, another root.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type KvpRecord, decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { isPoolFileError, lockFile } from "@hyperv-kvp/pool-file";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../main.js";
import { REPORT_KEYS } from "../reporter.js";
import { statePath } from "../state-files.js";
import { tempDir, testContext, writePools } from "../test-support.js";
import { forget, formatForget } from "./forget.js";
import { once } from "./once.js";
import { report } from "./report.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup() {
  const { dir, cleanup } = tempDir("forget");
  cleanups.push(cleanup);
  const pools = join(dir, "pools");
  const state = join(dir, "state");
  mkdirSync(pools);
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify({ lockTimeoutSeconds: 0.2 }));
  return { dir, pools, state, options: { configPath, poolDir: pools, stateDir: state } };
}

function pool1(pools: string): [string, string][] {
  return decodePool(new Uint8Array(readFileSync(join(pools, poolFileName(1))))).records.map((r) => [r.key, r.value]);
}

const FOREIGN: KvpRecord[] = [
  { key: "cloud-init/provisioning", value: "done" },
  { key: "kvp-agentX", value: "not ours: no slash" },
  { key: "KVP-AGENT/status", value: "not ours: keys are case-sensitive" },
];

describe("forget", () => {
  it("removes every kvp-agent/* record, chunked parts included, and keeps everyone else's in order", async () => {
    const s = setup();
    writePools(s.pools, {
      1: [FOREIGN[0]!, { key: "kvp-agent/report/old-boot", value: "x" }, FOREIGN[1]!],
      0: [{ key: "role", value: "web" }],
    });
    const ctx = testContext();
    await once({ ...s.options, ctx });
    await report("big", "é".repeat(1500), { ...s.options, ctx });
    writeFileSync(
      join(s.pools, poolFileName(1)),
      encodePool([...decodePool(new Uint8Array(readFileSync(join(s.pools, poolFileName(1))))).records, FOREIGN[2]!]),
    );
    const before = pool1(s.pools);
    expect(before.map(([k]) => k)).toEqual(
      expect.arrayContaining([REPORT_KEYS.status, "kvp-agent/report/big#1/2", "kvp-agent/report/big#2/2"]),
    );

    const result = await forget({ ...s.options, ctx });
    expect(pool1(s.pools)).toEqual(FOREIGN.map((r) => [r.key, r.value]));
    const ours = before.filter(([k]) => k.startsWith("kvp-agent/"));
    expect(result).toEqual({
      pool: join(s.pools, poolFileName(1)),
      removed: ours.length,
      // Logical keys: the two parts of the chunked report are one key.
      keys: [...new Set(ours.map(([k]) => k.replace(/#\d+\/\d+$/, "")))],
    });
    expect(result.keys).toContain("kvp-agent/report/big");
    expect(formatForget(result)).toBe(
      `removed ${ours.length} record(s) from ${result.pool}: ${result.keys.join(", ")}\n`,
    );

    // Again: nothing left, still success.
    const again = await forget({ ...s.options, ctx });
    expect(again).toEqual({ pool: result.pool, removed: 0, keys: [] });
    expect(formatForget(again)).toBe(`no kvp-agent/* records in ${result.pool}\n`);
  });

  it("waits for the daemon-compatible lock, and fails with `locked` when it is held too long", async () => {
    const s = setup();
    writePools(s.pools, { 1: [{ key: REPORT_KEYS.status, value: "stopped" }] });
    const fd = openSync(join(s.pools, poolFileName(1)), "r+");
    const lock = await lockFile(fd, "write", { timeoutMs: 1000 });
    try {
      const error = await forget({ ...s.options, ctx: testContext() }).catch((e: unknown) => e);
      expect(isPoolFileError(error, "locked")).toBe(true);
      expect(pool1(s.pools)).toEqual([[REPORT_KEYS.status, "stopped"]]);
      // Through main: one line on stderr, exit 3 (pools unusable).
      const ctx = testContext();
      expect(
        await main(["node", "kvp-agent", "--config", s.options.configPath, "--dir", s.pools, "forget"], { ctx }),
      ).toBe(3);
      expect(ctx.err()).toMatch(/^kvp-agent: .*pool 1.*\n$/);
      // A wait that outlasts the holder succeeds once the lock is released.
      const waiting = forget({
        ...s.options,
        configPath: writeConfig(s.dir, { lockTimeoutSeconds: 30 }),
        ctx: testContext(),
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(pool1(s.pools)).toEqual([[REPORT_KEYS.status, "stopped"]]);
      lock.release();
      expect(await waiting).toMatchObject({ removed: 1, keys: [REPORT_KEYS.status] });
    } finally {
      lock.release();
      closeSync(fd);
    }
    expect(pool1(s.pools)).toEqual([]);
  });

  it("a missing pool directory or file is nothing to forget: a note, exit 0", async () => {
    const s = setup();
    const absent = join(s.dir, "no-daemon");
    const result = await forget({ ...s.options, poolDir: absent, ctx: testContext() });
    expect(result).toEqual({
      pool: join(absent, poolFileName(1)),
      removed: 0,
      keys: [],
      note: expect.stringMatching(/^nothing to forget: .*no-daemon does not exist: hv_kvp_daemon seems absent/),
    });
    expect(formatForget(result)).toBe("");

    const ctx = testContext();
    expect(
      await main(["node", "kvp-agent", "--config", s.options.configPath, "--dir", absent, "forget"], { ctx }),
    ).toBe(0);
    expect(ctx.out()).toBe("");
    expect(ctx.err()).toMatch(/^kvp-agent: note: nothing to forget: .*no-daemon does not exist.*\n$/);

    // The directory without pool 1 (a daemon that never started completely).
    mkdirSync(absent);
    const json = testContext();
    expect(
      await main(["node", "kvp-agent", "--config", s.options.configPath, "--dir", absent, "forget", "--json"], {
        ctx: json,
      }),
    ).toBe(0);
    expect(JSON.parse(json.out())).toMatchObject({
      removed: 0,
      keys: [],
      note: expect.stringContaining(".kvp_pool_1 does not exist"),
    });
  });

  it("prints removed keys escaped: any local root writer can name a kvp-agent/ key", () => {
    expect(formatForget({ pool: "/p", removed: 1, keys: ["kvp-agent/x\u001b[2J\ny"] })).toBe(
      "removed 1 record(s) from /p: kvp-agent/x\\u001b[2J\\ny\n",
    );
  });

  it("warns when a running agent would write its records again", async () => {
    const s = setup();
    writePools(s.pools, { 1: [{ key: REPORT_KEYS.status, value: "ready" }] });
    mkdirSync(s.state);
    // A live process that is not this one: the test runner's parent.
    writeFileSync(statePath(s.state, "status"), JSON.stringify({ status: "ready", pid: process.ppid }));
    const ctx = testContext();
    expect(
      await main(
        ["node", "kvp-agent", "--config", s.options.configPath, "--dir", s.pools, "--state-dir", s.state, "forget"],
        { ctx },
      ),
    ).toBe(0);
    expect(ctx.err()).toBe(
      `kvp-agent: warning: the agent (pid ${process.ppid}) is running and writes its records again; stop it first (systemctl stop kvp-agent)\n`,
    );
    expect(ctx.out()).toBe(`removed 1 record(s) from ${join(s.pools, poolFileName(1))}: ${REPORT_KEYS.status}\n`);
    // A stopped agent's state file is no warning.
    writeFileSync(statePath(s.state, "status"), JSON.stringify({ status: "stopped", pid: process.ppid }));
    expect((await forget({ ...s.options, ctx: testContext() })).runningAgentPid).toBeUndefined();
  });

  describe("--root (the .deb's prerm under $DPKG_ROOT)", () => {
    it("acts on the root's config and pool directory, never on $KVP_POOL_DIR or the machine's", async () => {
      const s = setup();
      const root = join(s.dir, "root");
      const rootPools = join(root, "srv/hyperv");
      mkdirSync(rootPools, { recursive: true });
      mkdirSync(join(root, "etc/kvp-agent"), { recursive: true });
      writeFileSync(join(root, "etc/kvp-agent/config.json"), JSON.stringify({ poolDir: "/srv/hyperv" }));
      writePools(rootPools, { 1: [{ key: REPORT_KEYS.status, value: "stopped" }, FOREIGN[0]!] });
      writePools(s.pools, { 1: [{ key: REPORT_KEYS.status, value: "machine's" }] });
      const saved = process.env["KVP_POOL_DIR"];
      process.env["KVP_POOL_DIR"] = s.pools;
      try {
        const result = await forget({ root, ctx: testContext() });
        expect(result).toEqual({ pool: join(rootPools, poolFileName(1)), removed: 1, keys: [REPORT_KEYS.status] });
      } finally {
        if (saved === undefined) delete process.env["KVP_POOL_DIR"];
        else process.env["KVP_POOL_DIR"] = saved;
      }
      expect(pool1(rootPools)).toEqual([[FOREIGN[0]!.key, FOREIGN[0]!.value]]);
      expect(pool1(s.pools)).toEqual([[REPORT_KEYS.status, "machine's"]]);
    });

    /** A root whose config names `poolDir`, and outside it a pool 1 with an agent record that must stay. */
    function rootAndOutside(poolDir?: string) {
      const s = setup();
      const root = join(s.dir, "root");
      mkdirSync(join(root, "etc/kvp-agent"), { recursive: true });
      if (poolDir !== undefined) writeFileSync(join(root, "etc/kvp-agent/config.json"), JSON.stringify({ poolDir }));
      writePools(s.pools, { 1: [{ key: REPORT_KEYS.status, value: "outside" }] });
      const outsideKept = () => expect(pool1(s.pools)).toEqual([[REPORT_KEYS.status, "outside"]]);
      return { s, root, outsideKept };
    }

    it.each(["/var/../../pools", "../pools", "/../pools"])(
      "a configured poolDir whose .. leads out of the root (%s) is a config error; nothing outside is touched",
      async (poolDir) => {
        const { root, outsideKept } = rootAndOutside(poolDir);
        const ctx = testContext();
        expect(await main(["node", "kvp-agent", "forget", "--root", root], { ctx })).toBe(2);
        expect(ctx.err()).toMatch(/^kvp-agent: .*leads out of /);
        outsideKept();
      },
    );

    it("a link inside the root that leads out of it is refused (exit 3); nothing outside is touched", async () => {
      const { root, outsideKept } = rootAndOutside();
      mkdirSync(join(root, "var/lib"), { recursive: true });
      symlinkSync("../../../pools", join(root, "var/lib/hyperv"));
      const ctx = testContext();
      expect(await main(["node", "kvp-agent", "forget", "--root", root], { ctx })).toBe(3);
      expect(ctx.err()).toMatch(/^kvp-agent: .*var\/lib\/hyperv.* leads out of /);
      outsideKept();
    });

    it("an absolute link inside the root means a path of the root, as in a chroot", async () => {
      const { s, root, outsideKept } = rootAndOutside();
      mkdirSync(join(root, "var/lib"), { recursive: true });
      mkdirSync(join(root, "srv/kvp"), { recursive: true });
      writePools(join(root, "srv/kvp"), { 1: [{ key: REPORT_KEYS.status, value: "root's" }] });
      symlinkSync("/srv/kvp", join(root, "var/lib/hyperv"));
      const result = await forget({ root, ctx: testContext() });
      expect(result).toMatchObject({ pool: join(root, "srv/kvp", poolFileName(1)), removed: 1 });
      // An absolute link to this machine's pools is the root's path of that name, absent here.
      symlinkSync(s.pools, join(root, "var/lib/other"));
      writeFileSync(join(root, "etc/kvp-agent/config.json"), JSON.stringify({ poolDir: "/var/lib/other" }));
      expect((await forget({ root, ctx: testContext() })).note).toMatch(/nothing to forget/);
      outsideKept();
    });

    it("reads the root's config through links the same way, never a config outside the root", async () => {
      const { s, root, outsideKept } = rootAndOutside();
      const outsideEtc = join(s.dir, "outside-etc");
      mkdirSync(join(outsideEtc, "kvp-agent"), { recursive: true });
      writeFileSync(join(outsideEtc, "kvp-agent/config.json"), JSON.stringify({ poolDir: "/../pools" }));
      mkdirSync(join(root, "var/lib/hyperv"), { recursive: true });
      writePools(join(root, "var/lib/hyperv"), { 1: [{ key: REPORT_KEYS.status, value: "root's" }] });
      const etc = join(root, "etc");
      rmSync(etc, { recursive: true });
      symlinkSync(outsideEtc, etc);
      const result = await forget({ root, ctx: testContext() });
      expect(result).toMatchObject({ pool: join(root, "var/lib/hyperv", poolFileName(1)), removed: 1 });
      outsideKept();
    });

    it("without a config in the root uses the defaults under the root; a bad one is a config error", async () => {
      const s = setup();
      const root = join(s.dir, "root");
      const rootPools = join(root, "var/lib/hyperv");
      mkdirSync(rootPools, { recursive: true });
      writePools(rootPools, { 1: [{ key: REPORT_KEYS.bootId, value: "b" }] });
      const ctx = testContext();
      expect(await main(["node", "kvp-agent", "forget", "--root", root], { ctx })).toBe(0);
      expect(ctx.out()).toBe(`removed 1 record(s) from ${join(rootPools, poolFileName(1))}: ${REPORT_KEYS.bootId}\n`);
      expect(pool1(rootPools)).toEqual([]);

      const empty = join(s.dir, "empty-root");
      const none = testContext();
      expect(await main(["node", "kvp-agent", "forget", "--root", empty], { ctx: none })).toBe(0);
      expect(none.err()).toContain(`note: nothing to forget: ${join(empty, "var/lib/hyperv")} does not exist`);

      mkdirSync(join(root, "etc/kvp-agent"), { recursive: true });
      writeFileSync(join(root, "etc/kvp-agent/config.json"), "{ not json");
      const bad = testContext();
      expect(await main(["node", "kvp-agent", "forget", "--root", root], { ctx: bad })).toBe(2);
      expect(bad.err()).toMatch(/^kvp-agent: .*config\.json: not JSON/);
    });
  });
});

function writeConfig(dir: string, config: Record<string, unknown>): string {
  const path = join(dir, `config-${Object.keys(config).join("-")}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}
