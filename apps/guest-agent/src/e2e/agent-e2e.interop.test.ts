// End to end: the BUILT agent (dist/kvp-agent.cjs, built by the project's globalSetup) as a
// child process, against pool files that Debian's REAL /usr/sbin/hv_kvp_daemon serves to a
// simulated Hyper-V host (@hyperv-kvp/hyperv-sim, under its LD_PRELOAD shim). Every step
// asserts what the guest sees (state files, hook runs) and what the host sees (ENUMERATE of
// pool 1). Needs hv_kvp_daemon (apt-get install hyperv-daemons) and cc; without them the
// tests fail, unless KVP_ALLOW_NO_DAEMON=1 is set outside CI (then they skip loudly).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poolFileName, splitValue } from "@hyperv-kvp/kvp-core";
import { type SimulatedHost, startSimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { lockFile, poolTarget, setRecords } from "@hyperv-kvp/pool-file";
import { afterEach, describe, expect, it } from "vitest";
import { KVP_AGENT, type Run, startBundle } from "./support.js";

const USERDATA = "cloudstack-vm-userdata";

interface Agent {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startAgent(args: readonly string[]): Agent {
  const child = spawn(process.execPath, [KVP_AGENT, ...args, "run"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  return { child, stderr: () => stderr, exited };
}

/** Runs the bundle to completion (asynchronously: the simulated host lives in this process). */
function runBundle(args: readonly string[]): Promise<Run> {
  const agent = startBundle(KVP_AGENT, args);
  cleanups.push(agent.stop);
  return agent.done;
}

async function until<T>(
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  deadlineMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Pool 1 as the host's ENUMERATE sees it, as a map. */
async function hostView(host: SimulatedHost): Promise<Map<string, string>> {
  const result = await host.enumerate(1);
  expect(result.complete, "the host's enumeration of pool 1 must not be cut short").toBe(true);
  return new Map(result.records.map((r) => [r.key, r.value]));
}

describe("kvp-agent end to end (real hv_kvp_daemon)", () => {
  const policy = realDaemonPolicy();
  if (standInForMissingTools(policy)) return;

  it("host SET → files, decoded fields, hook; status and hook result back to the host; survives restarts, garbage and locks", {
    timeout: 60_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), "kvp-agent-e2e-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const poolDir = join(work, "pools");
    const state = join(work, "state");
    const hookOut = join(work, "hook.out");
    const config = join(work, "config.json");
    const script = 'printf "%s|%s|%s|%s|%s\\n" "$KVP_EVENT" "$KVP_KEY" "$KVP_OLD_VALUE" "$(cat)" "$KVP_VALUE" >> "$0"';
    writeFileSync(
      config,
      JSON.stringify({
        decoders: { [USERDATA]: "pairs" },
        hooks: [{ name: "userdata", command: ["/bin/sh", "-c", script, hookOut], keys: [USERDATA] }],
        hooksDir: join(work, "hooks.d"),
      }),
    );
    const args = ["--config", config, "--dir", poolDir, "--state-dir", state];
    let host = await startSimulatedHost({ daemon: "real", poolDir });
    cleanups.push(() => host.close());
    expect(host.daemon).toBe("real");
    await host.sendHostFacts({ VirtualMachineName: "e2e-vm" });
    const hookLines = () => {
      try {
        return readFileSync(hookOut, "utf8")
          .split("\n")
          .filter((l) => l !== "");
      } catch {
        return [];
      }
    };
    const hostJson = () => readJson(join(state, "host.json"));

    // 1. Start: the host sees the agent ready, with version and boot id; facts are materialised.
    let agent = startAgent(args);
    let view = await until(
      () => hostView(host),
      (m) => m.get("kvp-agent/status") === "ready",
      "status ready in pool 1",
    );
    expect(view.get("kvp-agent/version")).toMatch(/^\d+\.\d+\.\d+/);
    expect(view.get("kvp-agent/boot-id")).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    expect(readJson(join(state, "host-facts.json"))?.["VirtualMachineName"]).toBe("e2e-vm");

    // 2. Host SETs user data: JSON, decoded and env files; the hook gets the right environment and stdin.
    await host.set(0, USERDATA, "role=web;zone=eu-1");
    await until(hostJson, (j) => j?.[USERDATA] === "role=web;zone=eu-1", "host.json");
    expect(readJson(join(state, "host-decoded.json"))?.[USERDATA]).toEqual({
      decoder: "pairs",
      ok: true,
      value: { role: "web", zone: "eu-1" },
    });
    const decodedEnv = join(state, "decoded", `${USERDATA}.env`);
    expect(readFileSync(decodedEnv, "utf8").split("\n").slice(1)).toEqual(["role='web'", "zone='eu-1'", ""]);
    await until(hookLines, (l) => l.length === 1, "hook run");
    expect(hookLines()).toEqual([`added|${USERDATA}||role=web;zone=eu-1|role=web;zone=eu-1`]);
    view = await until(
      () => hostView(host),
      (m) => m.has("kvp-agent/hook/userdata"),
      "hook result in pool 1",
    );
    expect(JSON.parse(view.get("kvp-agent/hook/userdata")!)).toMatchObject({ event: "added", key: USERDATA, exit: 0 });
    expect(view.get("kvp-agent/harvested-at")).toMatch(/^\d{4}-/);

    // 3. The host changes, then deletes the key.
    await host.set(0, USERDATA, "role=db");
    await until(hookLines, (l) => l.length === 2, "changed hook");
    expect(hookLines()[1]).toBe(`changed|${USERDATA}|role=web;zone=eu-1|role=db|role=db`);
    expect(await host.delete(0, USERDATA)).toBe(0);
    await until(hookLines, (l) => l.length === 3, "removed hook");
    expect(hookLines()[2]).toBe(`removed|${USERDATA}|role=db||`);
    expect(hostJson()).toEqual({});
    expect(existsSync(decodedEnv), "a removed key leaves no decoded env file").toBe(false);
    await until(
      () => hostView(host),
      (m) => JSON.parse(m.get("kvp-agent/hook/userdata") ?? "{}").event === "removed",
      "removed result in pool 1",
    );

    // 4. The daemon restarts: the agent keeps running; pool 1 survives; new SETs are harvested.
    await host.close();
    host = await startSimulatedHost({ daemon: "real", poolDir });
    await host.sendHostFacts({ VirtualMachineName: "e2e-vm" });
    expect((await hostView(host)).get("kvp-agent/status")).toBe("ready");
    await host.set(0, USERDATA, "role=cache");
    await until(hookLines, (l) => l.length === 4, "hook after daemon restart");
    expect(agent.child.exitCode).toBeNull();

    // 5. The agent restarts: SIGTERM → "stopped" and exit 0; a new agent is ready and does not re-run hooks for unchanged keys.
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect((await hostView(host)).get("kvp-agent/status")).toBe("stopped");
    agent = startAgent(args);
    await until(
      () => hostView(host),
      (m) => m.get("kvp-agent/status") === "ready",
      "ready after agent restart",
    );
    expect(hookLines()).toHaveLength(4);

    // 6. Pool 1 truncated: the agent writes its records again. Pool 0 cut mid-record: the fragment is ignored.
    truncateSync(join(poolDir, poolFileName(1)), 0);
    await until(
      () => hostView(host),
      (m) => m.get("kvp-agent/status") === "ready",
      "records restored after truncation",
    );
    const p0 = join(poolDir, poolFileName(0));
    truncateSync(p0, readFileSync(p0).length + 1000);
    await host.set(0, "after-fragment", "1");
    await until(
      hostJson,
      (j) => j?.["after-fragment"] === "1" && j?.[USERDATA] === "role=cache",
      "harvest past a fragment",
    );

    // 7. Garbage in pool 0 (written in place, as a broken writer would): the agent neither crashes nor floods.
    const garbage = new Uint8Array(2560 * 3);
    let seed = 42;
    for (let i = 0; i < garbage.length; i++) {
      // A fixed LCG: the same garbage on every run.
      seed = (seed * 1103515245 + 12345) >>> 0;
      garbage[i] = seed >>> 24;
    }
    writeFileSync(p0, garbage);
    await host.set(0, "after-garbage", "ok");
    await until(hostJson, (j) => j?.["after-garbage"] === "ok", "harvest after garbage");
    expect(agent.child.exitCode).toBeNull();
    // The garbage replaced the host's items, and the daemon serves that file from now on: the
    // guest truly lost the key, so hooks hear "removed" (malformed records are ignored, not materialised).
    await until(hookLines, (l) => l.length === 5, "removed by garbage");
    expect(hookLines()[4]).toBe(`removed|${USERDATA}|role=cache||`);
    expect(Object.keys(hostJson() ?? {})).toEqual(["after-garbage"]);

    // 8. Pool 1's lock held for 2.5 s: harvest goes on (pool 0 is free); the report waits and then arrives.
    const fd = openSync(join(poolDir, poolFileName(1)), "r+");
    const lock = await lockFile(fd, "write", { timeoutMs: 1000 });
    await host.set(0, USERDATA, "role=locked");
    await until(hostJson, (j) => j?.[USERDATA] === "role=locked", "harvest while pool 1 is locked");
    await until(hookLines, (l) => l.at(-1) === `added|${USERDATA}||role=locked|role=locked`, "hook while locked");
    await new Promise((r) => setTimeout(r, 2500));
    lock.release();
    closeSync(fd);
    await until(
      () => hostView(host),
      (m) =>
        JSON.parse(m.get("kvp-agent/hook/userdata") ?? "{}").event === "added" && m.get("kvp-agent/status") === "ready",
      "report after the lock",
    );
    const hookReport = JSON.parse((await hostView(host)).get("kvp-agent/hook/userdata")!);
    expect(hookReport).toMatchObject({ event: "added", exit: 0 });

    // Stop; the log said nothing twice about the same problem and held no stack trace.
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(agent.stderr()).not.toMatch(/^\s{4}at /m);
    expect(agent.stderr()).not.toMatch(/internal error/);
    expect(agent.stderr()).not.toContain("role=locked"); // values redacted

    // 9. The agent is removed: forget clears its records (chunked parts too) under the lock the
    // daemon honours; the host's next enumeration shows only the other writer's record.
    expect(await runBundle([...args, "report", "big", "é".repeat(1500)])).toMatchObject({ code: 0 });
    await setRecords(poolTarget(1, poolDir), [{ key: "other-writer", value: "kept" }]);
    view = await hostView(host);
    expect([...view.keys()]).toEqual(
      expect.arrayContaining([
        "kvp-agent/status",
        "kvp-agent/report/big#1/2",
        "kvp-agent/report/big#2/2",
        "other-writer",
      ]),
    );
    const forgot = await runBundle([...args, "forget", "--json"]);
    expect(forgot, forgot.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(forgot.stdout)).toMatchObject({
      removed: [...view.keys()].length - 1,
      keys: expect.arrayContaining(["kvp-agent/status", "kvp-agent/report/big"]),
    });
    expect([...(await hostView(host)).entries()]).toEqual([["other-writer", "kept"]]);
  });

  it("a value the host sends in parts, one SET each, is one key when whole: one hook run, decoded, never a part", {
    timeout: 60_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), "kvp-agent-e2e-chunks-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const poolDir = join(work, "pools");
    const state = join(work, "state");
    const hookOut = join(work, "hook.out");
    const config = join(work, "config.json");
    const script = 'v="$(cat)"; printf "%s|%s|%s\\n" "$KVP_EVENT" "$KVP_KEY" "${#v}" >> "$0"';
    writeFileSync(
      config,
      JSON.stringify({
        decoders: { [USERDATA]: "pairs" },
        hooks: [{ name: "userdata", command: ["/bin/sh", "-c", script, hookOut], keys: [`${USERDATA}*`] }],
        hooksDir: join(work, "hooks.d"),
      }),
    );
    const host = await startSimulatedHost({ daemon: "real", poolDir });
    cleanups.push(() => host.close());
    await host.sendHostFacts({ VirtualMachineName: "e2e-vm" });
    const agent = startAgent(["--config", config, "--dir", poolDir, "--state-dir", state]);
    await until(
      () => hostView(host),
      (m) => m.get("kvp-agent/status") === "ready",
      "status ready in pool 1",
    );
    // Longer than one item: parts KEY#1/N … KEY#N/N, as `kvp-host set --chunk` sends them.
    const value = Array.from({ length: 80 }, (_, i) => `field${i}=${"v".repeat(30)}${i}`).join(";");
    const parts = splitValue(USERDATA, value);
    expect(parts.length).toBeGreaterThan(1);
    const status = () => readJson(join(state, "agent-status.json")) as { chunks?: { key: string }[] } | undefined;
    for (const [i, part] of parts.entries()) {
      await host.set(0, part.key, part.value);
      if (i < parts.length - 1)
        await until(status, (st) => JSON.stringify(st?.chunks ?? []).includes(`part(s) ${i + 2}`), `part ${i + 1}`);
    }
    await until(
      () => readJson(join(state, "host.json")),
      (j) => j?.[USERDATA] === value,
      "whole value in host.json",
    );
    expect(Object.keys(readJson(join(state, "host.json")) ?? {})).toEqual([USERDATA]);
    expect(readJson(join(state, "host-decoded.json"))?.[USERDATA]).toMatchObject({ ok: true });
    expect(readFileSync(join(state, "decoded", `${USERDATA}.env`), "utf8")).toContain("field79=");
    await until(
      () => (existsSync(hookOut) ? readFileSync(hookOut, "utf8") : ""),
      (t) => t !== "",
      "hook",
    );
    agent.child.kill("SIGTERM");
    await agent.exited;
    expect(readFileSync(hookOut, "utf8")).toBe(`added|${USERDATA}|${value.length}\n`);
  });
});

describe("kvp-agent --version (built bundle)", () => {
  it("prints the version in package.json, the one it reports to the host as kvp-agent/version", () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-V"]) {
      expect(spawnSync(process.execPath, [KVP_AGENT, flag], { encoding: "utf8" })).toMatchObject({
        status: 0,
        stdout: `${version}\n`,
        stderr: "",
      });
    }
  });
});
