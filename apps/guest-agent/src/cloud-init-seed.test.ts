// The NoCloud seed from pool 0's cloud-init/* items: the seed writer against temporary
// directories, `kvp-agent cloud-init-seed` and the running agent against pool files written
// here (no daemon; the real daemon and the real cloud-init are src/e2e/cloud-init-e2e.interop.test.ts).
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { CLOUD_INIT_KEYS, MAX_CLOUD_INIT_DOCUMENT_BYTES, splitValue } from "@hyperv-kvp/kvp-core";
import { thrown } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { AgentError } from "./agent-error.js";
import { NoCloudSeed, SEED_FILE_MODE, ensureSeedDir, planSeed } from "./cloud-init-seed.js";
import { cloudInitSeed } from "./commands/cloud-init-seed.js";
import { once } from "./commands/once.js";
import { validateConfig } from "./config.js";
import { tempDir, testContext, writePools } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function work(): string {
  const { dir, cleanup } = tempDir("seed");
  cleanups.push(cleanup);
  return dir;
}

const META = "instance-id: iid-kvp-1\nlocal-hostname: kvp-vm\n";
const USER = "#cloud-config\nwrite_files:\n  - path: /tmp/x\n    content: hi\n";
const NET = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";
const items = (docs: Record<string, string>) =>
  new Map(Object.entries(docs).map(([doc, text]) => [CLOUD_INIT_KEYS[doc as keyof typeof CLOUD_INIT_KEYS], text]));
const modeOf = (path: string) => lstatSync(path).mode & 0o7777;

describe("planSeed", () => {
  it("nothing without meta-data, whatever else the host sent", () => {
    expect(planSeed(items({ "user-data": USER }))).toEqual({ kind: "absent" });
  });
  it("every document the host sent, meta-data last", () => {
    const plan = planSeed(items({ "meta-data": META, "user-data": USER, "network-config": NET }));
    expect(plan.kind === "seed" && [...plan.documents.keys()]).toEqual(["user-data", "network-config", "meta-data"]);
  });
  it("refuses the whole seed when one document cannot be written", () => {
    const big = "x".repeat(MAX_CLOUD_INIT_DOCUMENT_BYTES + 1);
    expect(planSeed(items({ "meta-data": META, "user-data": big }))).toEqual({
      kind: "refused",
      refused: [{ document: "user-data", problem: `larger than 65536 bytes (65537)` }],
    });
    expect(planSeed(items({ "meta-data": "local-hostname: h\n" }))).toEqual({
      kind: "refused",
      refused: [{ document: "meta-data", problem: "has no instance-id" }],
    });
  });
});

describe("NoCloudSeed", () => {
  it("writes the documents 0600 in a 0700 directory it creates, rewrites only what changed, removes a document the host removed, keeps the seed when the host removes all", () => {
    const seedDir = join(work(), "var/lib/cloud/seed/nocloud");
    const seed = new NoCloudSeed(seedDir);
    const first = seed.sync(items({ "meta-data": META, "user-data": USER, "network-config": NET }));
    expect(first).toMatchObject({
      state: "written",
      written: ["user-data", "network-config", "meta-data"],
      removed: [],
    });
    expect(modeOf(seedDir)).toBe(0o700);
    expect(modeOf(join(seedDir, ".."))).toBe(0o755);
    for (const [doc, text] of [
      ["meta-data", META],
      ["user-data", USER],
      ["network-config", NET],
    ] as const) {
      expect(readFileSync(join(seedDir, doc), "utf8")).toBe(text);
      expect(modeOf(join(seedDir, doc))).toBe(SEED_FILE_MODE);
    }
    const inode = lstatSync(join(seedDir, "meta-data")).ino;
    expect(seed.sync(items({ "meta-data": META, "user-data": USER, "network-config": NET }))).toMatchObject({
      written: [],
      removed: [],
    });
    expect(lstatSync(join(seedDir, "meta-data")).ino).toBe(inode);
    // A file someone widened is written again with the seed's mode.
    chmodSync(join(seedDir, "user-data"), 0o644);
    const next = seed.sync(items({ "meta-data": META, "user-data": `${USER}# 2\n` }));
    expect(next).toMatchObject({ state: "written", written: ["user-data"], removed: ["network-config"] });
    expect(modeOf(join(seedDir, "user-data"))).toBe(0o600);
    expect(readdirSync(seedDir).sort()).toEqual(["meta-data", "user-data"]);
    // The host removed its items (the VM is provisioned): the last seed stays, so cloud-init
    // keeps its instance at the next boot.
    expect(seed.sync(new Map())).toMatchObject({ state: "absent", written: [], removed: [] });
    expect(readdirSync(seedDir).sort()).toEqual(["meta-data", "user-data"]);
  });

  it("leaves a seed it did not write alone when the host sends none", () => {
    const seedDir = join(work(), "nocloud");
    mkdirSync(seedDir, { mode: 0o700 });
    writeFileSync(join(seedDir, "meta-data"), "instance-id: image\n");
    expect(new NoCloudSeed(seedDir).sync(new Map([["other", "x"]]))).toMatchObject({ state: "absent", removed: [] });
    expect(readFileSync(join(seedDir, "meta-data"), "utf8")).toBe("instance-id: image\n");
  });

  it("writes nothing for a refused seed", () => {
    const seedDir = join(work(), "nocloud");
    const outcome = new NoCloudSeed(seedDir).sync(items({ "meta-data": "hostname: h\n", "user-data": USER }));
    expect(outcome).toMatchObject({ state: "refused", written: [] });
    expect(existsSync(seedDir)).toBe(false);
  });

  it("replaces a symlink planted as a seed file instead of writing through it", () => {
    const dir = work();
    const seedDir = join(dir, "nocloud");
    mkdirSync(seedDir, { mode: 0o700 });
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(seedDir, "user-data"));
    new NoCloudSeed(seedDir).sync(items({ "meta-data": META, "user-data": USER }));
    expect(readFileSync(victim, "utf8")).toBe("precious");
    expect(lstatSync(join(seedDir, "user-data")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(seedDir, "user-data"), "utf8")).toBe(USER);
  });

  it("refuses a seed directory that is a symlink or that others can write", () => {
    const dir = work();
    mkdirSync(join(dir, "real"), { mode: 0o700 });
    symlinkSync(join(dir, "real"), join(dir, "link"));
    const link = thrown(() => ensureSeedDir(join(dir, "link")), AgentError);
    expect(link.code).toBe("io");
    expect(link.message).toBe(
      `refusing the cloud-init seed directory ${join(dir, "link")}: it is a symbolic link; nothing written there`,
    );
    mkdirSync(join(dir, "open"));
    chmodSync(join(dir, "open"), 0o777);
    expect(
      thrown(() => new NoCloudSeed(join(dir, "open")).sync(items({ "meta-data": META })), AgentError).message,
    ).toMatch(/it is group- or world-writable \(mode 0777\)/);
    expect(readdirSync(join(dir, "open"))).toEqual([]);
    expect(readdirSync(join(dir, "real"))).toEqual([]);
  });
});

describe("config cloudInit", () => {
  it("is off unless enabled; one setting turns it on with its defaults", () => {
    expect(validateConfig({}, "c").cloudInit).toBeNull();
    expect(validateConfig({ cloudInit: { enabled: false } }, "c").cloudInit).toBeNull();
    expect(validateConfig({ cloudInit: { enabled: true } }, "c").cloudInit).toEqual({
      seedDir: "/var/lib/cloud/seed/nocloud",
      firstBootWaitMs: 30_000,
    });
  });
  it.each([
    [{ firstBootWaitSeconds: 81 }, "c: cloudInit.firstBootWaitSeconds: must be ≤ 80"],
    [{ firstBootWaitSeconds: -1 }, "c: cloudInit.firstBootWaitSeconds: must be ≥ 0"],
    [{ seedDir: "seed" }, "c: cloudInit.seedDir: must be an absolute path"],
    [{ seedDir: "/var/lib/../etc" }, "c: cloudInit.seedDir: must not hold .."],
    [{ enable: true }, "c: cloudInit.enable: unknown field (check its spelling)"],
  ])("refuses %j", (cloudInit, message) => {
    expect(thrown(() => validateConfig({ cloudInit }, "c"), AgentError).message).toBe(message);
  });
});

describe("kvp-agent cloud-init-seed and the agent", () => {
  function setup(cloudInit: Record<string, unknown> | undefined) {
    const dir = work();
    const pools = join(dir, "pools");
    mkdirSync(pools);
    const seedDir = join(dir, "seed");
    const configPath = join(dir, "config.json");
    writeFileSync(configPath, JSON.stringify(cloudInit ? { cloudInit: { seedDir, ...cloudInit } } : {}));
    const ctx = testContext();
    return { pools, seedDir, ctx, options: { ctx, configPath, poolDir: pools, stateDir: join(dir, "state") } };
  }

  it("writes the seed from chunked documents once they are whole", async () => {
    const { pools, seedDir, options } = setup({ enabled: true });
    const userData = `#cloud-config\n${"# padding\n".repeat(400)}`;
    const parts = splitValue(CLOUD_INIT_KEYS["user-data"], userData);
    expect(parts.length).toBeGreaterThan(1);
    writePools(pools, { 0: [...parts, { key: CLOUD_INIT_KEYS["meta-data"], value: META }] });
    const result = await cloudInitSeed({ ...options, timeoutMs: 5000 });
    expect(result).toMatchObject({ state: "written", written: ["user-data", "meta-data"] });
    expect(readFileSync(join(seedDir, "user-data"), "utf8")).toBe(userData);
  });

  it("writes nothing while a document's parts are missing, and says which", async () => {
    const { pools, seedDir, options } = setup({ enabled: true });
    const parts = splitValue(CLOUD_INIT_KEYS["user-data"], "u".repeat(3000));
    writePools(pools, { 0: [parts[0]!, { key: CLOUD_INIT_KEYS["meta-data"], value: META }] });
    const result = await cloudInitSeed({ ...options, timeoutMs: 200 });
    expect(result).toMatchObject({ state: "incomplete", incomplete: ["cloud-init/user-data"] });
    expect(existsSync(seedDir)).toBe(false);
  });

  it("gives up after its bound when the host sends nothing, and when the pools are not there at all", async () => {
    const { pools, seedDir, options } = setup({ enabled: true, firstBootWaitSeconds: 0.3 });
    const missing = await cloudInitSeed(options);
    expect(missing).toMatchObject({ state: "absent" });
    expect(missing.waitedMs).toBeGreaterThanOrEqual(250);
    writePools(pools, { 0: [{ key: "other", value: "x" }] });
    expect(await cloudInitSeed(options)).toMatchObject({ state: "absent" });
    expect(existsSync(seedDir)).toBe(false);
  });

  it("does nothing when cloudInit is off", async () => {
    const { pools, seedDir, options } = setup(undefined);
    writePools(pools, { 0: [{ key: CLOUD_INIT_KEYS["meta-data"], value: META }] });
    expect(await cloudInitSeed(options)).toMatchObject({ state: "disabled", seedDir: null });
    expect(existsSync(seedDir)).toBe(false);
  });

  it("the agent keeps the seed current, and a refused document is a problem in its status", async () => {
    const { pools, seedDir, options } = setup({ enabled: true });
    writePools(pools, { 0: [{ key: CLOUD_INIT_KEYS["meta-data"], value: META }], 3: [] });
    const state = await once(options);
    expect(state.cloudInit).toMatchObject({ state: "written", written: ["meta-data"] });
    expect(readFileSync(join(seedDir, "meta-data"), "utf8")).toBe(META);
    writePools(pools, { 0: [{ key: CLOUD_INIT_KEYS["meta-data"], value: "hostname: x\n" }], 3: [] });
    const refused = await once(options);
    expect(refused.problems).toContain("cloud-init seed not written: meta-data has no instance-id");
    expect(readFileSync(join(seedDir, "meta-data"), "utf8")).toBe(META);
  });
});

describe("status", () => {
  it("shows the seed's last sync", async () => {
    const { formatStatus } = await import("./commands/status.js");
    const { dir, cleanup } = tempDir("seed-status");
    cleanups.push(cleanup);
    const pools = join(dir, "pools");
    mkdirSync(pools);
    writePools(pools, { 0: [{ key: CLOUD_INIT_KEYS["meta-data"], value: META }], 3: [] });
    const seedDir = join(dir, "seed");
    const configPath = join(dir, "config.json");
    writeFileSync(configPath, JSON.stringify({ cloudInit: { enabled: true, seedDir } }));
    const state = await once({ ctx: testContext(), configPath, poolDir: pools, stateDir: join(dir, "state") });
    const text = formatStatus({ agent: state, running: false, reported: {} });
    expect(text).toContain(`cloud-init seed ${seedDir}: written\n`);
  });
});
