// Unit tests of the agent's reporting through pool 1: the Reporter against real pool files
// seeded with other writers' records, then the Agent's status as the host sees it, from
// `starting` to `stopped`.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodePool, MAX_CHUNK_UNITS, type PoolNumber, poolFileName } from "@hyperv-kvp/kvp-core";
import {
  lockFile,
  type PoolFileError,
  type PoolTarget,
  poolTarget,
  removeLogicalKeys,
  setRecords,
} from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "./agent.js";
import { validateConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { hookReportKey, isAgentKey, REPORT_KEYS, Reporter, userReportKey } from "./reporter.js";
import {
  agentRecords,
  FOREIGN_RECORDS,
  hexRecords,
  interleave,
  readPool1,
  seedPool1,
} from "./test-support/foreign-records.js";
import { tempDir, testContext } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function logger() {
  const lines: string[] = [];
  const log = createLogger({
    stream: { write: (s: string) => lines.push(s) },
    level: "debug",
    logValues: true,
    journald: false,
  });
  return { lines, log };
}

function setup(records: readonly Uint8Array[]) {
  const { dir, cleanup } = tempDir("reporter");
  cleanups.push(cleanup);
  seedPool1(dir, records);
  return dir;
}

function reporter(
  target: PoolTarget,
  extra: { maxRetryMs?: number; onHealth?: (e: PoolFileError | undefined) => void } = {},
) {
  const { lines, log } = logger();
  const r = new Reporter(target, {
    lockTimeoutMs: 2000,
    log,
    maxRetryMs: extra.maxRetryMs ?? 30_000,
    ...(extra.onHealth ? { onHealth: extra.onHealth } : {}),
  });
  cleanups.push(() => r.close());
  return { r, lines };
}

/** The agent's records in pool 1 as logical key → value (parts joined). */
function ourValues(dir: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const { key, value } of readPool1(dir).ours) {
    const part = /^(.*)#(\d+)\/(\d+)$/.exec(key);
    const k = part ? part[1]! : key;
    map.set(k, (map.get(k) ?? "") + value);
  }
  return map;
}

describe("isAgentKey and the key helpers", () => {
  it.each([
    ["kvp-agent/status", true],
    ["kvp-agent/", true],
    ["kvp-agent", false],
    ["kvp-agentX", false],
    ["kvp-agentX/status", false],
    ["Kvp-Agent/status", false],
    ["x/kvp-agent/status", false],
  ] as const)("%s → %s", (key, want) => {
    expect(isAgentKey(key)).toBe(want);
  });

  it("puts hook results and user reports in the agent's namespace", () => {
    expect(hookReportKey("apply")).toBe("kvp-agent/hook/apply");
    expect(userReportKey("done")).toBe("kvp-agent/report/done");
    for (const key of [...Object.values(REPORT_KEYS), hookReportKey("h"), userReportKey("k")])
      expect(isAgentKey(key)).toBe(true);
  });
});

describe("Reporter.removeStale", () => {
  const cases = [
    {
      name: "another boot's records are removed, parts included",
      stored: agentRecords("boot-OLD"),
      bootId: "boot-NEW",
      removed: 5,
      kept: [] as string[],
    },
    {
      name: "this boot's records stay",
      stored: agentRecords("boot-NEW"),
      bootId: "boot-NEW",
      removed: 0,
      kept: [
        "kvp-agent/boot-id",
        "kvp-agent/status",
        "kvp-agent/report/long#1/2",
        "kvp-agent/report/long#2/2",
        "kvp-agent/hook/h",
      ],
    },
    {
      name: "records without a boot id are another boot's",
      stored: agentRecords("x").slice(1),
      bootId: "boot-NEW",
      removed: 4,
      kept: [] as string[],
    },
    { name: "no records of ours: nothing to do", stored: [], bootId: "boot-NEW", removed: 0, kept: [] as string[] },
  ];
  it.each(cases)(
    "$name; other writers' records survive byte for byte, in order",
    async ({ stored, bootId, removed, kept }) => {
      const dir = setup(interleave(FOREIGN_RECORDS, stored));
      const { r } = reporter(poolTarget(1, dir));
      expect(await r.removeStale(bootId)).toBe(removed);
      expect(readPool1(dir).ours.map((x) => x.key)).toEqual(kept);
      expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
    },
  );

  it("says undefined when pool 1 cannot be read", async () => {
    const { dir, cleanup } = tempDir("reporter");
    cleanups.push(cleanup);
    const { r } = reporter(poolTarget(1, join(dir, "absent")));
    expect(await r.removeStale("b")).toBeUndefined();
  });
});

describe("Reporter.flush and verify", () => {
  it("writes only kvp-agent/ keys, long values in parts, and never touches other writers' records", async () => {
    const dir = setup(interleave(FOREIGN_RECORDS, agentRecords("boot-OLD")));
    const { r } = reporter(poolTarget(1, dir));
    await r.removeStale("boot-NEW");
    const long = "ü".repeat(MAX_CHUNK_UNITS * 2 + 5);
    r.set({ [REPORT_KEYS.status]: "starting", [REPORT_KEYS.bootId]: "boot-NEW", [userReportKey("big")]: long });
    expect(await r.flush()).toBe(true);
    r.set({ [REPORT_KEYS.status]: "ready", [userReportKey("big")]: "small now" });
    expect(await r.flush()).toBe(true);
    r.set({ [userReportKey("big")]: long });
    expect(await r.flush()).toBe(true);
    const { ours, others } = readPool1(dir);
    expect(ours.map((x) => x.key)).toEqual([
      "kvp-agent/status",
      "kvp-agent/boot-id",
      "kvp-agent/report/big#1/3",
      "kvp-agent/report/big#2/3",
      "kvp-agent/report/big#3/3",
    ]);
    expect(ourValues(dir)).toEqual(
      new Map([
        [REPORT_KEYS.status, "ready"],
        [REPORT_KEYS.bootId, "boot-NEW"],
        [userReportKey("big"), long],
      ]),
    );
    expect(hexRecords(others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });

  it("concurrent flushes all settle with every wished value written", async () => {
    const dir = setup(FOREIGN_RECORDS);
    const { r } = reporter(poolTarget(1, dir));
    const flushes: Promise<boolean>[] = [];
    for (let i = 0; i < 10; i++) {
      r.set({ [hookReportKey(`h${i}`)]: String(i), [REPORT_KEYS.status]: `s${i}` });
      flushes.push(r.flush());
    }
    expect(await Promise.all(flushes)).toEqual(Array(10).fill(true));
    const values = ourValues(dir);
    expect(values.get(REPORT_KEYS.status)).toBe("s9");
    for (let i = 0; i < 10; i++) expect(values.get(hookReportKey(`h${i}`))).toBe(String(i));
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });

  it("flush writes only what it has not written; verify re-reads pool 1 and restores what others changed or removed", async () => {
    const dir = setup(FOREIGN_RECORDS);
    const target = poolTarget(1, dir);
    const { r } = reporter(target);
    r.set({ [REPORT_KEYS.status]: "ready", [REPORT_KEYS.version]: "1.2.3" });
    await r.flush();
    // Someone else rewrites our status and deletes our version.
    await setRecords(target, [{ key: REPORT_KEYS.status, value: "tampered" }]);
    await removeLogicalKeys(target, [REPORT_KEYS.version]);
    await r.flush();
    expect(ourValues(dir)).toEqual(new Map([[REPORT_KEYS.status, "tampered"]]));
    await r.verify();
    expect(ourValues(dir)).toEqual(
      new Map([
        [REPORT_KEYS.status, "ready"],
        [REPORT_KEYS.version, "1.2.3"],
      ]),
    );
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });

  it("a failing pool 1 is said once, retried quietly, and recovery is said once", async () => {
    const dir = setup(FOREIGN_RECORDS);
    rmSync(join(dir, poolFileName(1)));
    const real = poolTarget(1, dir);
    // Every attempt to open pool 1 asks for its path: that counts the retries.
    let attempts = 0;
    const target: PoolTarget = {
      pool: real.pool,
      dir: real.dir,
      get path() {
        attempts++;
        return real.path;
      },
    };
    const health: (string | undefined)[] = [];
    const { r, lines } = reporter(target, { maxRetryMs: 20, onHealth: (e) => health.push(e?.code) });
    r.set({ [REPORT_KEYS.status]: "ready" });
    expect(await r.flush()).toBe(false);
    const first = attempts;
    await waitFor(() => attempts >= first + 5, "several retries", 5000);
    expect(health).toEqual(["daemon-absent"]);
    expect(lines.filter((l) => l.includes("cannot report to the host"))).toHaveLength(1);
    seedPool1(dir, FOREIGN_RECORDS);
    await waitFor(() => ourValues(dir).get(REPORT_KEYS.status) === "ready", "the retry to write the status", 5000);
    await waitFor(() => health.length === 2, "the recovery to be said", 5000);
    expect(health).toEqual(["daemon-absent", undefined]);
    expect(lines.filter((l) => l.includes("reporting to the host through pool 1 again"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("cannot report to the host"))).toHaveLength(1);
    expect(hexRecords(readPool1(dir).others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });
});

describe("the agent's status in pool 1", () => {
  it("goes starting → ready → degraded → ready → stopping → stopped, writing only kvp-agent/ keys", async () => {
    const dir = setup(interleave(FOREIGN_RECORDS, agentRecords("boot-OLD")));
    const pools = dir;
    const state = join(dir, "state");
    // Where the hook copies pool 1 to, under the same file name, so readPool1 reads the copy.
    const snapshot = join(dir, "at-sigterm");
    mkdirSync(snapshot);
    const writePool = (pool: PoolNumber, records: { key: string; value: string }[]) =>
      writeFileSync(join(pools, poolFileName(pool)), encodePool(records));
    writePool(0, [{ key: "slow", value: "1" }]);
    writePool(3, [{ key: "HostName", value: "hv01" }]);
    // A hook still running at stop: on SIGTERM it copies pool 1, which shows what the host saw then.
    const hook = join(dir, "slow-hook");
    writeFileSync(
      hook,
      `#!/bin/sh\ntrap 'cp "$KVP_POOL_DIR/${poolFileName(1)}" "${snapshot}/"; exit 0' TERM\nwhile :; do sleep 0.05; done\n`,
      { mode: 0o755 },
    );
    const config = validateConfig(
      {
        hooks: [{ name: "slow", command: [hook], keys: ["slow"] }],
        hooksDir: join(dir, "hooks.d"),
        lockTimeoutSeconds: 5,
        safetyNetSeconds: 600,
      },
      "test",
      { poolDir: pools, stateDir: state },
    );
    const { lines, log } = logger();
    let hookStarted = false;
    const agent = new Agent({ config, ctx: testContext("boot-NEW"), log, onHookStart: () => (hookStarted = true) });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await agent.stop();
    });
    const status = () => ourValues(dir).get(REPORT_KEYS.status);

    // Pool 0 locked by "the daemon": the first harvest waits, and the host sees `starting`.
    const fd = openSync(join(pools, poolFileName(0)), "r+");
    const lock = await lockFile(fd, "write");
    agent.start();
    const harvest = agent.harvest();
    await waitFor(() => status() === "starting", "status starting in pool 1", 5000);
    expect(ourValues(dir).get(REPORT_KEYS.bootId)).toBe("boot-NEW");
    lock.release();
    closeSync(fd);
    expect((await harvest).status).toBe("ready");
    expect(status()).toBe("ready");
    expect(ourValues(dir).get(REPORT_KEYS.detail)).toBe("");

    rmSync(join(pools, poolFileName(3)));
    await waitFor(() => status() === "degraded", "status degraded after pool 3 went away", 5000);
    expect(ourValues(dir).get(REPORT_KEYS.detail)).toMatch(/pool 3 .* is missing/);
    expect(agent.state()).toMatchObject({ status: "degraded", problems: [expect.stringMatching(/pool 3/)] });

    writePool(3, [{ key: "HostName", value: "hv02" }]);
    await waitFor(() => status() === "ready", "status ready once pool 3 is back", 5000);
    expect(ourValues(dir).get(REPORT_KEYS.detail)).toBe("");

    await waitFor(() => hookStarted, "the slow hook to start", 5000);
    const final = await agent.stop();
    stopped = true;
    expect(final.status).toBe("stopped");
    expect(status()).toBe("stopped");
    expect(ourValues(snapshot).get(REPORT_KEYS.status)).toBe("stopping");
    // The hook handled SIGTERM and exited 0; it was stopped, not timed out.
    expect(JSON.parse(ourValues(dir).get(hookReportKey("slow"))!)).toEqual({
      event: "added",
      key: "slow",
      exit: 0,
      at: expect.any(String),
      ms: expect.any(Number),
    });

    expect(lines.filter((l) => / info: status /.test(l)).map((l) => l.trim().split(" ").at(-1))).toEqual([
      "ready",
      "degraded",
      "ready",
      "stopping",
      "stopped",
    ]);
    expect(lines.filter((l) => l.includes("pool 3") && l.includes("is missing"))).toHaveLength(1);
    const { ours, others } = readPool1(dir);
    expect(ours.every((x) => isAgentKey(x.key))).toBe(true);
    expect(ourValues(dir).get("kvp-agent/report/long")).toBeUndefined();
    expect(hexRecords(others)).toEqual(hexRecords(FOREIGN_RECORDS));
  });
});
