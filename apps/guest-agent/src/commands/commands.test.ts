// Command tests: each command function runs in process against temporary pool and state
// directories (pool files written here, no daemon), with a fixed boot id and clock.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { poolTarget, setRecords } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { isAgentError } from "../agent-error.js";
import { REPORT_KEYS } from "../reporter.js";
import { readJson, tempDir, testContext, writePools } from "../test-support.js";
import { main } from "../main.js";
import { configCheck } from "./config-check.js";
import { once } from "./once.js";
import { report } from "./report.js";
import { run } from "./run.js";
import { formatStatus, status } from "./status.js";
import { wait } from "./wait.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(config: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir("cmd");
  cleanups.push(cleanup);
  const pools = join(dir, "pools");
  const state = join(dir, "state");
  const hookOut = join(dir, "hook.out");
  const configPath = join(dir, "config.json");
  // The hook appends "event|key|old|stdin|pool|changes" per run: no shell in the agent, but sh is the program here.
  const hookScript =
    'printf "%s|%s|%s|%s|%s|%s\\n" "$KVP_EVENT" "$KVP_KEY" "$KVP_OLD_VALUE" "$(cat)" "$KVP_POOL" "$KVP_CHANGES" >> "$0"';
  writeFileSync(
    configPath,
    JSON.stringify({
      decoders: { userdata: "pairs", broken: "json" },
      hooks: [{ name: "record", command: ["/bin/sh", "-c", hookScript, hookOut], keys: ["user*", "role"] }],
      hooksDir: join(dir, "hooks.d"),
      ...config,
    }),
  );
  mkdirSync(pools, { recursive: true });
  return { dir, pools, state, hookOut, options: { configPath, poolDir: pools, stateDir: state } };
}

function pool1(pools: string) {
  return decodePool(new Uint8Array(readFileSync(join(pools, poolFileName(1))))).records.map((r) => [r.key, r.value]);
}

describe("once", () => {
  it("materialises pools 0 and 3, decodes, runs hooks, reports, clears a stale boot's records only", async () => {
    const s = setup();
    writePools(s.pools, {
      0: [
        { key: "userdata", value: "role=web;zone=eu" },
        { key: "broken", value: "{" },
        { key: "role", value: "it's $x" },
        { key: "user-name", value: "n" },
      ],
      1: [
        { key: "other-writer", value: "keep me" },
        { key: REPORT_KEYS.bootId, value: "old-boot" },
        { key: "kvp-agent/report/old", value: "stale" },
      ],
      3: [{ key: "HostName", value: "hv01" }],
    });
    const ctx = testContext("boot-B");
    const state = await once({ ...s.options, ctx });
    expect(state).toMatchObject({
      status: "stopped",
      items: 4,
      facts: 1,
      problems: [],
      decodeErrors: { broken: expect.stringMatching(/JSON/) },
    });
    expect(readJson(join(s.state, "host.json"))).toEqual({
      userdata: "role=web;zone=eu",
      broken: "{",
      role: "it's $x",
      "user-name": "n",
    });
    expect(readJson(join(s.state, "host-facts.json"))).toEqual({ HostName: "hv01" });
    expect(readJson(join(s.state, "host-decoded.json"))).toEqual({
      userdata: { decoder: "pairs", ok: true, value: { role: "web", zone: "eu" } },
      broken: { decoder: "json", ok: false, error: expect.stringMatching(/JSON/) },
    });
    expect(readFileSync(join(s.state, "host.env"), "utf8")).toContain("kvp_role='it'\\''s $x'\n");
    expect(readFileSync(join(s.state, "host.env"), "utf8")).not.toContain("user-name");
    for (const f of ["host.json", "host.env", "host-decoded.json", "host-facts.json", "agent-status.json"]) {
      expect(statSync(join(s.state, f)).mode & 0o777, f).toBe(0o600);
    }
    // One run for the keys the hook wants, in pool order; KVP_KEY and stdin are the last one's.
    const listed = ["userdata", "role", "user-name"].map((key) => ({ event: "added", key, pool: 0 }));
    expect(readFileSync(s.hookOut, "utf8")).toBe(`added|user-name||n|0|${JSON.stringify(listed)}\n`);
    const reported = new Map(pool1(s.pools) as [string, string][]);
    expect(reported.get("other-writer")).toBe("keep me");
    expect(reported.has("kvp-agent/report/old")).toBe(false);
    expect(reported.get(REPORT_KEYS.bootId)).toBe("boot-B");
    expect(reported.get(REPORT_KEYS.status)).toBe("stopped");
    expect(JSON.parse(reported.get("kvp-agent/hook/record")!)).toMatchObject({
      event: "added",
      key: "user-name",
      exit: 0,
    });
    expect(ctx.err()).not.toContain("role=web"); // values are redacted in the log
  });

  it("host keys such as __proto__ are plain data in the decode errors", async () => {
    const s = setup({ decoders: { "*": "json" } });
    writePools(s.pools, {
      0: [
        { key: "__proto__", value: "{" },
        { key: "constructor", value: "[" },
        { key: "ok", value: "1" },
      ],
    });
    const state = await once({ ...s.options, ctx: testContext() });
    expect(Object.keys(state.decodeErrors).sort()).toEqual(["__proto__", "constructor"]);
    const written = readJson(join(s.state, "agent-status.json")) as { decodeErrors: Record<string, string> };
    expect(Object.keys(written.decodeErrors).sort()).toEqual(["__proto__", "constructor"]);
  });

  it("without any pools says so and returns problems; nothing crashes", async () => {
    const s = setup();
    const state = await once({ ...s.options, poolDir: join(s.dir, "absent"), ctx: testContext() });
    expect(state.problems.length).toBeGreaterThan(0);
    expect(state.problems.join()).toMatch(/missing|does not exist/);
  });
});

describe("decoded env files", () => {
  const USERDATA = "type=router;name=r-1;eth0ip=10.1.1.1;eth-1ip=x;PATH=/tmp/evil;note=it's $(touch pwned)";

  it("once: decoded/KEY.env per pairs/json key, 0600 in a 0700 directory, left-out fields logged by key and in the status", async () => {
    // The hook sources the file it is given and writes what a boot script would see.
    const s = setup({
      decoders: { userdata: "pairs", "vm-config": "json", "vm/odd": "json", token: "base64" },
      hooks: [
        {
          name: "source",
          command: [
            "/bin/sh",
            "-c",
            '. "$KVP_DECODED_ENV" && printf "%s|%s|%s|%s" "$KVP_DECODED_ENV" "$type" "$eth0ip" "$note" > "$KVP_STATE_DIR/../seen"',
          ],
          keys: ["userdata"],
        },
      ],
    });
    const seen = join(s.dir, "seen");
    writePools(s.pools, {
      0: [
        { key: "userdata", value: USERDATA },
        { key: "vm-config", value: '{"role":"db","replicas":3,"tls":true,"nested":{"a":1}}' },
        { key: "vm/odd", value: '{"a":"1"}' },
        { key: "token", value: "aGk=" },
      ],
    });
    const ctx = testContext();
    const state = await once({ ...s.options, ctx });
    const decoded = join(s.state, "decoded");
    expect(readdirSync(decoded).sort()).toEqual(["userdata.env", "vm-config.env"]);
    expect(statSync(decoded).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(decoded)) expect(statSync(join(decoded, f)).mode & 0o777, f).toBe(0o600);
    expect(readFileSync(join(decoded, "userdata.env"), "utf8").split("\n").slice(1)).toEqual([
      "type='router'",
      "name='r-1'",
      "eth0ip='10.1.1.1'",
      "note='it'\\''s $(touch pwned)'",
      "",
    ]);
    expect(readFileSync(join(decoded, "vm-config.env"), "utf8").split("\n").slice(1)).toEqual([
      "role='db'",
      "replicas='3'",
      "tls='true'",
      "",
    ]);
    expect(readFileSync(seen, "utf8")).toBe(`${join(decoded, "userdata.env")}|router|10.1.1.1|it's $(touch pwned)`);
    expect(existsSync("/pwned") || readdirSync(s.dir).includes("pwned")).toBe(false);

    expect(state.decodedEnv).toEqual([
      {
        key: "userdata",
        file: join(decoded, "userdata.env"),
        variables: ["type", "name", "eth0ip", "note"],
        skipped: [
          { field: "eth-1ip", reason: "not a shell variable name" },
          { field: "PATH", reason: expect.stringMatching(/^no lower-case letter/) },
        ],
      },
      {
        key: "vm-config",
        file: join(decoded, "vm-config.env"),
        variables: ["role", "replicas", "tls"],
        skipped: [{ field: "nested", reason: expect.stringMatching(/an object/) }],
      },
      { key: "vm/odd", file: null, reason: expect.stringMatching(/not a plain file name/), variables: [], skipped: [] },
    ]);
    const log = ctx.err();
    expect(log).toContain(
      'warning: pool 0 key userdata: decoded/userdata.env leaves out field "eth-1ip": not a shell variable name; field "PATH": no lower-case letter',
    );
    expect(log).toContain("warning: pool 0 key vm/odd: no decoded env file: not a plain file name");
    expect(log).not.toContain("10.1.1.1"); // values stay redacted
    const shown = formatStatus(await status({ ...s.options, ctx }));
    expect(shown).toContain(
      `decoded env: ${join(decoded, "userdata.env")}: 4 variable(s) (type, name, eth0ip, note)\n  left out: "eth-1ip": not a shell variable name\n`,
    );
    expect(shown).toContain("decoded env: vm/odd: no file (not a plain file name");
  });

  it("run: a changed payload rewrites the file, a removed key or a failed decode deletes it; hooks see KVP_DECODED_ENV only while it exists", async () => {
    const s = setup({
      decoders: { userdata: "pairs", "vm-config": "json" },
      env: { decodedPrefix: "cs_" },
      hooks: [
        {
          name: "env",
          command: [
            "/bin/sh",
            "-c",
            'printf "%s %s|%s\\n" "$KVP_EVENT" "$KVP_KEY" "${KVP_DECODED_ENV-unset}" >> "$KVP_STATE_DIR/../hook-env"',
          ],
        },
      ],
    });
    const hookEnv = join(s.dir, "hook-env");
    // Each step waits for its hook runs, so a hook always starts before the next change.
    const hookRuns = (n: number) =>
      waitFor(
        () => existsSync(hookEnv) && readFileSync(hookEnv, "utf8").split("\n").length === n + 1,
        `${n} hook runs`,
      );
    writePools(s.pools, {
      0: [
        { key: "userdata", value: "a=1" },
        { key: "vm-config", value: '{"x":"1"}' },
      ],
      3: [],
    });
    const controller = new AbortController();
    const ctx = testContext();
    let ready = false;
    const running = run({ ...s.options, ctx, signal: controller.signal, onReady: () => (ready = true) });
    await waitFor(() => ready, "first harvest");
    // The first harvest's two keys are one run; KVP_DECODED_ENV is its last key's file.
    await hookRuns(1);
    const file = (k: string) => join(s.state, "decoded", `${k}.env`);
    const lines = (k: string) =>
      existsSync(file(k)) ? readFileSync(file(k), "utf8").split("\n").slice(1, -1) : undefined;
    expect(lines("userdata")).toEqual(["cs_a='1'"]);
    expect(lines("vm-config")).toEqual(["cs_x='1'"]);

    await setRecords(poolTarget(0, s.pools), [{ key: "userdata", value: "a=2;PATH=x" }], { force: true });
    await waitFor(() => lines("userdata")?.[0] === "cs_a='2'", "changed payload rewritten");
    expect(lines("userdata")).toEqual(["cs_a='2'", "cs_PATH='x'"]);
    await hookRuns(2);

    // A payload that no longer decodes leaves no stale file that still looks current.
    await setRecords(poolTarget(0, s.pools), [{ key: "vm-config", value: "{broken" }], { force: true });
    await waitFor(() => lines("vm-config") === undefined, "undecodable payload's file removed");
    await hookRuns(3);

    // The host removes the key (the daemon rewrites the pool without it).
    writeFileSync(join(s.pools, poolFileName(0)), encodePool([{ key: "vm-config", value: "{broken" }]));
    await waitFor(() => lines("userdata") === undefined, "removed key's file deleted");
    expect(readdirSync(join(s.state, "decoded"))).toEqual([]);
    await hookRuns(4);
    controller.abort();
    await running;
    expect(readFileSync(hookEnv, "utf8")).toBe(
      [
        `added vm-config|${file("vm-config")}`,
        `changed userdata|${file("userdata")}`,
        "changed vm-config|unset",
        "removed userdata|unset",
        "",
      ].join("\n"),
    );
  });
});

describe("run", () => {
  it("re-harvests on changes, runs hooks for added/changed/removed in order, stops cleanly", async () => {
    const s = setup();
    writePools(s.pools, { 0: [{ key: "userdata", value: "a=1" }], 3: [{ key: "HostName", value: "hv01" }] });
    const controller = new AbortController();
    const ctx = testContext();
    let ready = false;
    const running = run({ ...s.options, ctx, signal: controller.signal, onReady: () => (ready = true) });
    await waitFor(() => ready, "first harvest");
    // The start line names the node that runs it and its options (a launcher's, a single executable's).
    expect(ctx.err()).toContain(
      `config ${s.options.configPath}, node ${[process.version, ...process.execArgv].join(" ")}\n`,
    );
    // Each change waits for the hook's run: one arriving while it runs would merge into the next.
    const hookRuns = (n: number) =>
      waitFor(
        () => existsSync(s.hookOut) && readFileSync(s.hookOut, "utf8").split("\n").length === n + 1,
        `${n} hook runs`,
      );
    await hookRuns(1);
    const target = poolTarget(0, s.pools);
    await setRecords(target, [{ key: "userdata", value: "a=2" }], { force: true });
    await waitFor(
      () =>
        (readJson(join(s.state, "host-decoded.json")) as { userdata?: { value: unknown } })?.userdata?.value !==
          undefined && JSON.stringify(readJson(join(s.state, "host-decoded.json"))).includes('"2"'),
      "changed value decoded",
    );
    await hookRuns(2);
    // A rewrite by truncate + write, as the daemon does it.
    writeFileSync(join(s.pools, poolFileName(0)), new Uint8Array(0));
    await waitFor(() => JSON.stringify(readJson(join(s.state, "host.json"))) === "{}", "removal harvested");
    await hookRuns(3);
    const one = (event: string) => JSON.stringify([{ event, key: "userdata", pool: 0 }]);
    expect(readFileSync(s.hookOut, "utf8")).toBe(
      `added|userdata||a=1|0|${one("added")}\nchanged|userdata|a=1|a=2|0|${one("changed")}\nremoved|userdata|a=2||0|${one("removed")}\n`,
    );
    await waitFor(
      () => new Map(pool1(s.pools) as [string, string][]).get(REPORT_KEYS.status) === "ready",
      "ready reported",
    );
    // Someone truncates pool 1: the agent writes its records again.
    writeFileSync(join(s.pools, poolFileName(1)), new Uint8Array(0));
    await waitFor(
      () => new Map(pool1(s.pools) as [string, string][]).get(REPORT_KEYS.status) === "ready",
      "records restored",
    );
    controller.abort();
    const final = await running;
    expect(final.status).toBe("stopped");
    expect(new Map(pool1(s.pools) as [string, string][]).get(REPORT_KEYS.status)).toBe("stopped");
    const st = await status({ ...s.options, ctx });
    expect(st).toMatchObject({
      running: false,
      agent: { status: "stopped" },
      reported: { [REPORT_KEYS.status]: "stopped" },
    });
  });

  it("starts without Hyper-V, says so once, and recovers when the pools appear", async () => {
    const s = setup({ safetyNetSeconds: 3600 });
    const absent = join(s.dir, "later");
    const controller = new AbortController();
    const ctx = testContext();
    let ready = false;
    const running = run({
      ...s.options,
      poolDir: absent,
      ctx,
      signal: controller.signal,
      onReady: () => (ready = true),
    });
    await waitFor(() => ready, "first harvest");
    mkdirSync(absent, { recursive: true });
    writePools(absent, { 0: [{ key: "role", value: "db" }] });
    await waitFor(
      () => (readJson(join(s.state, "host.json")) as Record<string, string> | undefined)?.["role"] === "db",
      "late pools harvested",
    );
    await waitFor(
      () => (readJson(join(s.state, "agent-status.json")) as { status?: string } | undefined)?.status === "ready",
      "ready",
    );
    controller.abort();
    await running;
    const missing = ctx
      .err()
      .split("\n")
      .filter((l) => /pool 0 .* missing/.test(l));
    expect(missing).toHaveLength(1);
  });
});

describe("report, wait, status, config check", () => {
  it("report writes kvp-agent/report/KEY, chunked when long, and removes it", async () => {
    const s = setup();
    writePools(s.pools, { 1: [{ key: "other", value: "x" }] });
    const ctx = testContext();
    expect(await report("phase", "done", { ...s.options, ctx })).toEqual({
      key: "kvp-agent/report/phase",
      action: "set",
    });
    await report("big", "é".repeat(1500), { ...s.options, ctx });
    expect(pool1(s.pools)).toEqual([
      ["other", "x"],
      ["kvp-agent/report/phase", "done"],
      ["kvp-agent/report/big#1/2", "é".repeat(1022)],
      ["kvp-agent/report/big#2/2", "é".repeat(478)],
    ]);
    expect((await status({ ...s.options, ctx })).reported).toEqual({
      "kvp-agent/report/phase": "done",
      "kvp-agent/report/big": "é".repeat(1500),
    });
    await report("big", "short", { ...s.options, ctx });
    expect(pool1(s.pools).map(([k]) => k)).toEqual(["other", "kvp-agent/report/phase", "kvp-agent/report/big"]);
    expect(await report("big", undefined, { ...s.options, ctx })).toMatchObject({ action: "removed", removed: 1 });
  });

  it("wait resolves when the host sends the key and times out otherwise", async () => {
    const s = setup();
    writePools(s.pools, {});
    const ctx = testContext();
    const waiting = wait("token", { ...s.options, ctx, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    await setRecords(poolTarget(0, s.pools), [{ key: "token", value: "t1" }], { force: true });
    expect(await waiting).toMatchObject({ key: "token", value: "t1", pool: 0 });
    const error = await wait("absent", { ...s.options, ctx, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isAgentError(error, "timeout")).toBe(true);
  });

  it("status for people escapes host text (keys, values, errors, hook keys)", () => {
    const evil = "k\u001b[2J\r\nfake: line\u202e";
    const shown = "k\\u001b[2J\\r\\nfake: line\\u202e";
    const hookResult = {
      hook: "h",
      event: "added" as const,
      key: evil,
      pool: 0 as const,
      changes: 1,
      exitCode: 0,
      signal: null,
      timedOut: false,
      startedAt: "2030-01-01T00:00:00.000Z",
      durationMs: 5,
      outputDropped: 0,
    };
    const result = {
      agent: {
        status: "degraded" as const,
        problems: [`problem with ${evil}`],
        pid: 1,
        version: "1",
        bootId: "b",
        startedAt: "s",
        updatedAt: "u",
        harvestedAt: null,
        items: 1,
        facts: 0,
        decodeErrors: { [evil]: `bad ${evil}` },
        envSkipped: [evil],
        decodedEnv: [
          { key: evil, file: null, reason: "not a plain file name", variables: [], skipped: [] },
          {
            key: "ok",
            file: "/run/kvp-agent/decoded/ok.env",
            variables: ["a"],
            skipped: [{ field: evil, reason: "not a shell variable name" }],
          },
        ],
        hostFilesOff: null,
        hooks: { h: hookResult, many: { ...hookResult, hook: "many", key: "last", changes: 3 } },
        chunks: [{ pool: 0 as const, key: evil, reason: "incomplete" as const, message: `part 1 of ${evil}` }],
        cloudInit: null,
      },
      running: false,
      reported: { [`kvp-agent/report/${evil}`]: evil },
    };
    const text = formatStatus(result);
    // Only the line ends are real control characters.
    expect(text.replace(/\n/g, "")).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain(`decode error: ${shown}: bad ${shown}\n`);
    expect(text).toContain(`not in host.env (not variable names): ${shown}\n`);
    expect(text).toContain(`decoded env: ${shown}: no file`);
    expect(text).toContain(`problem: problem with ${shown}\n`);
    expect(text).toContain(`hook h: added ${shown}: exit 0`);
    expect(text).toContain("hook many: added last and 2 more key(s): exit 0");
    expect(text).toContain(`part 1 of ${shown}`);
    expect(text).toContain(`  kvp-agent/report/${shown} = ${shown}\n`);
    expect(text).not.toContain("\nfake: line");
  });

  it("config check reports the effective settings", () => {
    const s = setup();
    const result = configCheck({ ...s.options, ctx: testContext() });
    expect(result).toMatchObject({
      found: true,
      config: { stateDir: s.state, poolDir: s.pools, decodedEnvPrefix: "" },
      decodedEnvDir: join(s.state, "decoded"),
      warnings: [],
    });
  });

  it("the agent removes a killed agent's temp files at start and says so", async () => {
    const s = setup();
    writePools(s.pools, { 0: [], 3: [] });
    mkdirSync(s.state, { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", ""]).pid ?? 0;
    writeFileSync(join(s.state, `host.json.tmp-${dead}`), "secret");
    const ctx = testContext();
    await once({ ...s.options, ctx });
    expect(readdirSync(s.state).filter((n) => n.includes(".tmp-"))).toEqual([]);
    expect(ctx.err()).toContain(`removed 1 temporary file(s) a stopped agent left in ${s.state}`);
  });

  it("config check and the agent's start warn about a group-writable fileMode", async () => {
    const s = setup({ fileMode: "0660" });
    const result = configCheck({ ...s.options, ctx: testContext() });
    expect(result.warnings).toEqual([expect.stringMatching(/^fileMode 0660 is group-writable: /)]);
    writePools(s.pools, { 0: [], 3: [] });
    const ctx = testContext();
    await once({ ...s.options, ctx });
    expect(ctx.err()).toContain(`kvp-agent: warning: ${result.warnings[0]}\n`);
  });

  it("config check warns about decoded env files that cannot be as the config reads", async () => {
    const s = setup({
      decoders: { "vm/config": "pairs", "vm/cmdline": "cmdline", "vm/*": "json", "vm/raw": "raw", ok: "json" },
      env: { decodedPrefix: "CS_" },
    });
    const result = configCheck({ ...s.options, ctx: testContext() });
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^decoders\["vm\/config"\]: the key is not a plain file name .* gets no decoded\/KEY\.env file$/,
      ),
      expect.stringMatching(
        /^decoders\["vm\/cmdline"\]: the key is not a plain file name .* gets no decoded\/KEY\.env file$/,
      ),
      expect.stringMatching(/^env\.decodedPrefix "CS_" has no lower-case letter/),
    ]);
    // Warnings go to stderr; the config is still valid (exit 0).
    const ctx = testContext();
    expect(
      await main(["node", "kvp-agent", "--config", s.options.configPath, "--state-dir", s.state, "config", "check"], {
        ctx,
      }),
    ).toBe(0);
    expect(ctx.out()).toContain(`decoded env files: ${join(s.state, "decoded")}/KEY.env\n`);
    expect(ctx.err()).toBe(result.warnings.map((w) => `kvp-agent: warning: ${w}\n`).join(""));
  });
  it("config check and the agent refuse an env.prefix that lets the host name the toolkit's or the system's variables", async () => {
    for (const prefix of ["", "KVP_", "LD_"]) {
      const s = setup({ env: { prefix } });
      for (const command of [["config", "check"], ["once"]]) {
        const ctx = testContext();
        const argv = ["node", "kvp-agent", "--config", s.options.configPath, "--state-dir", s.state, ...command];
        expect(await main(argv, { ctx }), `${JSON.stringify(prefix)} ${command.join(" ")}`).toBe(2);
        expect(ctx.err()).toMatch(/^kvp-agent: .*env\.prefix: /);
      }
      expect(existsSync(join(s.state, "host.env"))).toBe(false);
    }
  });
});
