// A value the host sends as parts `KEY#1/N` … `KEY#N/N` (kvp-core's chunking convention,
// `kvp-host set --chunk`) is ONE logical key everywhere in the agent: state files, decoders,
// decoded env files, hooks, `wait`, `status`. Parts not yet whole are never a value.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodePool, poolFileName, splitValue } from "@hyperv-kvp/kvp-core";
import { poolTarget, setRecords } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { isAgentError } from "./agent-error.js";
import { once } from "./commands/once.js";
import { run } from "./commands/run.js";
import { formatStatus, status } from "./commands/status.js";
import { wait } from "./commands/wait.js";
import { readJson, tempDir, testContext, writePools } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A `pairs` payload longer than one item: `n` fields of 40 characters. */
function longPairs(n: number, tag: string): string {
  return Array.from({ length: n }, (_, i) => `f${i}=${tag}${"x".repeat(36)}`).join(";");
}

function setup() {
  const { dir, cleanup } = tempDir("chunks");
  cleanups.push(cleanup);
  const pools = join(dir, "pools");
  const state = join(dir, "state");
  const hookOut = join(dir, "hook.out");
  const configPath = join(dir, "config.json");
  // One line per hook run: event, key, length of the value on stdin, and of KVP_OLD_VALUE.
  const hookScript = 'v="$(cat)"; printf "%s|%s|%s|%s\\n" "$KVP_EVENT" "$KVP_KEY" "${#v}" "${#KVP_OLD_VALUE}" >> "$0"';
  writeFileSync(
    configPath,
    JSON.stringify({
      decoders: { userdata: "pairs" },
      hooks: [{ name: "record", command: ["/bin/sh", "-c", hookScript, hookOut], keys: ["*"] }],
      hooksDir: join(dir, "hooks.d"),
    }),
  );
  writeFileSync(hookOut, "");
  mkdirSync(pools, { recursive: true });
  return { dir, pools, state, hookOut, options: { configPath, poolDir: pools, stateDir: state } };
}

const hookLines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);

describe("chunked values in the agent", () => {
  it("once: a complete group is one key in host.json, host.env, the decoder, decoded env and hooks; an incomplete one is no value, noted in status", async () => {
    const s = setup();
    const userdata = longPairs(60, "a");
    const parts = splitValue("userdata", userdata);
    expect(parts.length).toBeGreaterThan(1);
    const partial = splitValue("partial", "p".repeat(1500));
    writePools(s.pools, {
      0: [{ key: "before", value: "1" }, ...parts, partial[0]!, { key: "after", value: "2" }],
    });
    const ctx = testContext();
    const state = await once({ ...s.options, ctx });
    expect(state.items).toBe(3);
    expect(readJson(join(s.state, "host.json"))).toEqual({ before: "1", userdata, after: "2" });
    const env = readFileSync(join(s.state, "host.env"), "utf8");
    expect(env).toContain(`kvp_userdata='${userdata}'`);
    expect(env).not.toMatch(/userdata#/);
    expect(env).not.toContain("partial");
    const decoded = readJson(join(s.state, "host-decoded.json")) as Record<string, { ok: boolean; value: unknown }>;
    expect(Object.keys(decoded)).toEqual(["userdata"]);
    expect(decoded["userdata"]).toMatchObject({ ok: true });
    expect(Object.keys(decoded["userdata"]!.value as object)).toHaveLength(60);
    expect(readdirSync(join(s.state, "decoded"))).toEqual(["userdata.env"]);
    expect(readFileSync(join(s.state, "decoded", "userdata.env"), "utf8")).toContain(`f59='a${"x".repeat(36)}'`);
    // One run for the harvest's three logical keys (parts are no keys; the partial one is no
    // value yet); KVP_KEY and stdin are the last key's.
    expect(hookLines(s.hookOut)).toEqual(["added|after|1|0"]);
    expect(state.hooks["record"]).toMatchObject({ changes: 3, key: "after" });
    expect(state.chunks).toEqual([
      { pool: 0, key: "partial", reason: "incomplete", message: expect.stringMatching(/part\(s\) 2 are missing/) },
    ]);
    const shown = formatStatus(await status({ ...s.options, ctx }));
    expect(shown).toMatch(/chunked value partial: not whole, so no value yet: .*part\(s\) 2 are missing/);
    expect(ctx.err()).toMatch(/pool 0 key partial: .*part\(s\) 2 are missing/);
  });

  it("run: parts sent one SET at a time fire the hook once, when whole; a re-split keeps the last value until whole", async () => {
    const s = setup();
    writePools(s.pools, { 0: [{ key: "other", value: "o" }], 3: [{ key: "HostName", value: "hv01" }] });
    const controller = new AbortController();
    const ctx = testContext();
    let ready = false;
    const running = run({ ...s.options, ctx, signal: controller.signal, onReady: () => (ready = true) });
    cleanups.unshift(() => controller.abort());
    await waitFor(() => ready, "first harvest");
    const target = poolTarget(0, s.pools);
    const chunksShown = (): string =>
      String(JSON.stringify((readJson(join(s.state, "agent-status.json")) as { chunks?: unknown })?.chunks));
    const hostJson = () => readJson(join(s.state, "host.json")) as Record<string, string> | undefined;

    // One SET per part, as the host's enumeration arrives; the agent sees each in between.
    const first = longPairs(60, "a");
    const firstParts = splitValue("userdata", first);
    for (const [i, part] of firstParts.entries()) {
      await setRecords(target, [part], { force: true });
      if (i < firstParts.length - 1) {
        await waitFor(
          () => chunksShown().includes(`part(s) ${i + 2}`),
          `part ${i + 1} of ${firstParts.length} harvested`,
        );
        expect(Object.keys(hostJson() ?? {})).toEqual(["other"]);
      }
    }
    await waitFor(() => hostJson()?.["userdata"] === first, "whole value harvested");
    // Its run starts before the next change, which would otherwise merge into it.
    await waitFor(() => hookLines(s.hookOut).length >= 2, "the hook ran for the whole value");
    await waitFor(() => chunksShown() === "[]", "no chunk note once whole");

    // The host re-sends a longer value: new parts arrive next to the old ones (two splits mixed).
    const second = longPairs(90, "b");
    const secondParts = splitValue("userdata", second);
    expect(secondParts.length).not.toBe(firstParts.length);
    await setRecords(target, [secondParts[0]!], { force: true });
    await waitFor(() => chunksShown().includes("conflicting-totals"), "mixed splits harvested");
    expect(hostJson()?.["userdata"]).toBe(first);
    // The old parts go, the new ones but the last are there (the daemon rewrites the file).
    const poolFile = join(s.pools, poolFileName(0));
    writeFileSync(poolFile, encodePool([{ key: "other", value: "o" }, ...secondParts.slice(0, -1)]));
    await waitFor(() => chunksShown().includes("incomplete"), "incomplete harvested");
    expect(hostJson()?.["userdata"]).toBe(first);
    await setRecords(target, [secondParts.at(-1)!], { force: true });
    await waitFor(() => hostJson()?.["userdata"] === second, "second value harvested");
    await waitFor(() => hookLines(s.hookOut).length >= 3, "hooks ran");
    controller.abort();
    await running;
    expect(hookLines(s.hookOut)).toEqual([
      "added|other|1|0",
      `added|userdata|${first.length}|0`,
      `changed|userdata|${second.length}|${first.length}`,
    ]);
  });

  it("wait returns a chunked value whole, and never a part or an incomplete group", async () => {
    const s = setup();
    const value = "w".repeat(2500);
    const [p1, p2, p3] = splitValue("token", value);
    writePools(s.pools, { 0: [p1!, p2!] });
    const ctx = testContext();
    const early = await wait("token", { ...s.options, ctx, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isAgentError(early, "timeout")).toBe(true);
    const waiting = wait("token", { ...s.options, ctx, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    await setRecords(poolTarget(0, s.pools), [p3!], { force: true });
    expect(await waiting).toMatchObject({ key: "token", value, pool: 0 });
  });
});
