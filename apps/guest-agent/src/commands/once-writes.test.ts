// What `kvp-agent once` writes, and when: pool 1 and agent-status.json only for states someone
// could see (not the `starting`, `ready` and `stopping` a run without hooks passes through in
// milliseconds), and no state file whose bytes would not change. The pool-1 writes and the
// status file's writes are counted through spies on the modules the agent writes with.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REPORT_KEYS } from "../reporter.js";
import { readJson, tempDir, testContext, writePools } from "../test-support.js";
import { once } from "./once.js";

/** Each pool-1 write: the values written. */
const poolOneWrites: Map<string, string>[] = [];
/** Each agent-status.json write: its `status`. */
const statusWrites: string[] = [];

vi.mock("../guest-pool.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../guest-pool.js")>();
  return {
    ...real,
    writeLogicalValues: (...args: Parameters<typeof real.writeLogicalValues>) => {
      poolOneWrites.push(new Map(args[1]));
      return real.writeLogicalValues(...args);
    },
  };
});

vi.mock("../state-files.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../state-files.js")>();
  return {
    ...real,
    writeFileAtomic: (...args: Parameters<typeof real.writeFileAtomic>) => {
      if (args[0].endsWith(real.STATE_FILES.status))
        statusWrites.push((JSON.parse(args[1]) as { status: string }).status);
      return real.writeFileAtomic(...args);
    },
  };
});

const cleanups: (() => void)[] = [];
beforeEach(() => {
  poolOneWrites.length = 0;
  statusWrites.length = 0;
});
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(hooks: unknown[] = []) {
  const { dir, cleanup } = tempDir("once-writes");
  cleanups.push(cleanup);
  const pools = join(dir, "pools");
  const state = join(dir, "state");
  const configPath = join(dir, "config.json");
  mkdirSync(pools);
  writeFileSync(configPath, JSON.stringify({ decoders: { userdata: "pairs" }, hooks, hooksDir: join(dir, "hooks.d") }));
  writePools(pools, {
    0: [
      { key: "userdata", value: "role=web;zone=eu" },
      { key: "role", value: "web" },
    ],
    3: [{ key: "HostName", value: "hv01" }],
  });
  return { dir, pools, state, options: { configPath, poolDir: pools, stateDir: state } };
}

/** Pool 1's records as a map. */
function poolOne(pools: string, file = join(pools, poolFileName(1))): Map<string, string> {
  return new Map(decodePool(new Uint8Array(readFileSync(file))).records.map((r) => [r.key, r.value]));
}

/** Inode and mtime: what tells a file left alone from one replaced by temp file + rename. */
function identity(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.ino}/${st.mtimeNs}`;
}

describe("once writes", () => {
  it("without a hook to run: pool 1 once and agent-status.json once, both with the final status", async () => {
    const s = setup();
    const state = await once({ ...s.options, ctx: testContext("boot-A") });
    expect(state.status).toBe("stopped");
    expect(poolOneWrites).toHaveLength(1);
    expect(poolOneWrites[0]!.get(REPORT_KEYS.status)).toBe("stopped");
    expect(poolOneWrites[0]!.get(REPORT_KEYS.bootId)).toBe("boot-A");
    expect(statusWrites).toEqual(["stopped"]);
    const reported = poolOne(s.pools);
    expect(reported.get(REPORT_KEYS.status)).toBe("stopped");
    expect(reported.get(REPORT_KEYS.version)).toBeDefined();
    expect(reported.get(REPORT_KEYS.harvestedAt)).toBe(state.harvestedAt);
    expect((readJson(join(s.state, "agent-status.json")) as { status: string }).status).toBe("stopped");
  });

  it("with a hook to run: this run's status in pool 1 and agent-status.json before the hook starts, `stopping` never", async () => {
    const s = setup([
      {
        name: "look",
        // What a hook sees when it starts: the status file and pool 1.
        command: [
          "/bin/sh",
          "-c",
          'cp "$KVP_STATE_DIR/agent-status.json" "$KVP_STATE_DIR/../status-seen" && cp "$KVP_POOL_DIR/.kvp_pool_1" "$KVP_STATE_DIR/../pool1-seen"',
        ],
        keys: ["role"],
      },
    ]);
    await once({ ...s.options, ctx: testContext("boot-H") });
    // The hook may start before pool 3 is read (`starting`) or after (`ready`).
    const seen = readJson(join(s.dir, "status-seen")) as { status: string; bootId: string };
    expect(["starting", "ready"]).toContain(seen.status);
    expect(seen.bootId).toBe("boot-H");
    const poolOneSeen = poolOne(s.pools, join(s.dir, "pool1-seen"));
    expect(["starting", "ready"]).toContain(poolOneSeen.get(REPORT_KEYS.status));
    expect(poolOneSeen.get(REPORT_KEYS.bootId)).toBe("boot-H");
    expect(statusWrites).not.toContain("stopping");
    expect(statusWrites.at(-1)).toBe("stopped");
    const statuses = poolOneWrites.map((w) => w.get(REPORT_KEYS.status)).filter((v) => v !== undefined);
    expect(statuses).not.toContain("stopping");
    expect(statuses.at(-1)).toBe("stopped");
    expect(poolOne(s.pools).get("kvp-agent/hook/look")).toMatch(/"exit":0/);
  });

  it("a second run on unchanged pools leaves every state file but agent-status.json as it was", async () => {
    const s = setup();
    await once({ ...s.options, ctx: testContext() });
    const files = ["host.json", "host.env", "host-decoded.json", "host-facts.json", "decoded/userdata.env"];
    const before = new Map(files.map((f) => [f, identity(join(s.state, f))]));
    const status = identity(join(s.state, "agent-status.json"));
    await once({ ...s.options, ctx: testContext() });
    for (const f of files) expect(identity(join(s.state, f)), f).toBe(before.get(f));
    // The status file is written (its times change): the identities above can differ.
    expect(identity(join(s.state, "agent-status.json"))).not.toBe(status);
    // A change still reaches the files.
    writePools(s.pools, { 0: [{ key: "userdata", value: "role=db" }], 3: [{ key: "HostName", value: "hv01" }] });
    await once({ ...s.options, ctx: testContext() });
    expect(readJson(join(s.state, "host.json"))).toEqual({ userdata: "role=db" });
    expect(readFileSync(join(s.state, "decoded/userdata.env"), "utf8")).toContain("role='db'");
    expect(identity(join(s.state, "host-facts.json"))).toBe(before.get("host-facts.json"));
  });
});
