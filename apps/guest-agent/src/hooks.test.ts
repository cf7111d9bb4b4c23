// Unit tests of the hook runner: real child processes (sh and node) in a temporary directory,
// a logger that keeps its lines. Every process a hook starts is killed in afterEach if a
// test left it alive.
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterEach, describe, expect, it } from "vitest";
import type { HookSpec } from "./config.js";
import { processContext } from "./context.js";
import {
  type HookEvent,
  HookDir,
  HookQueue,
  type HookResult,
  hookMatches,
  listHookDir,
  MAX_CHANGES_ENV_BYTES,
  MAX_HOOK_OUTPUT_BYTES,
  type RunHookOptions,
  runHook,
} from "./hooks.js";
import { createLogger } from "./logger.js";
import { tempDir } from "./test-support.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Kills the process groups of every hook started in `dir` (each script notes its pid in `.pids`), for a test that failed half-way. */
function killLeftovers(dir: string): void {
  let text = "";
  try {
    text = readFileSync(join(dir, ".pids"), "utf8");
  } catch {
    return;
  }
  for (const pid of text.split("\n").filter(Boolean).map(Number)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function setup() {
  const { dir, cleanup } = tempDir("hooks");
  cleanups.push(() => {
    killLeftovers(dir);
    cleanup();
  });
  const lines: string[] = [];
  const log = createLogger({
    stream: { write: (s: string) => lines.push(s) },
    level: "debug",
    logValues: true,
    journald: false,
  });
  return { dir, lines, log };
}

/** An executable sh script in `dir` (it notes its pid in the test directory's `.pids`). */
function script(dir: string, name: string, body: string, mode = 0o755, pidDir = dir): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho $$ >> "${pidDir}/.pids"\n${body}\n`, { mode });
  chmodSync(path, mode);
  return path;
}

function hook(name: string, command: string[], extra: Partial<HookSpec> = {}): HookSpec {
  return {
    name,
    command,
    keys: ["*"],
    events: ["added", "changed", "removed"],
    pools: [0],
    timeoutMs: 10_000,
    source: "config",
    ...extra,
  };
}

function options(log: RunHookOptions["log"], extra: Partial<RunHookOptions> = {}): RunHookOptions {
  return {
    spawn: processContext().spawn,
    env: { PATH: process.env["PATH"] },
    stateDir: "/state",
    poolDir: "/pools",
    now: () => new Date("2030-01-01T00:00:00Z"),
    log,
    ...extra,
  };
}

const added: HookEvent = { pool: 0, type: "added", key: "k", value: "v" };

/** True while `pid` runs (a zombie, dead but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // state is the field after "(comm)"; comm may hold spaces, so cut at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** A node program that writes its argv, KVP_* environment, other variables' names, stdin and cwd as JSON to argv[2]. */
function dumper(dir: string): string[] {
  const path = join(dir, "dump.cjs");
  writeFileSync(
    path,
    `const fs = require("node:fs");
     const env = {}; for (const [k, v] of Object.entries(process.env)) if (k.startsWith("KVP_") || k === "OTHER") env[k] = v;
     const stdin = fs.readFileSync(0, "utf8");
     fs.writeFileSync(process.argv[2], JSON.stringify({ args: process.argv.slice(3), env, stdin, cwd: process.cwd() }));`,
  );
  return [process.execPath, path];
}

describe("runHook", () => {
  it("runs the program without a shell: metacharacters in arguments arrive literally", async () => {
    const { dir, log } = setup();
    const out = join(dir, "out.json");
    const pwned = join(dir, "pwned");
    const args = ["; rm -rf /", `$(touch ${pwned})`, `\`touch ${pwned}\``, "a b", "*", "'\"", "&& echo hi", "|cat", ""];
    const result = await runHook(hook("dump", [...dumper(dir), out, ...args]), added, options(log));
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
    expect(result.error).toBeUndefined();
    expect((JSON.parse(readFileSync(out, "utf8")) as { args: string[] }).args).toEqual(args);
    expect(() => readFileSync(pwned)).toThrow();
  });

  const events: { name: string; event: HookEvent; stdin: string; env: Record<string, string> }[] = [
    {
      name: "added",
      event: { pool: 0, type: "added", key: "user-data", value: "a=1;b='2'\nline two ünï" },
      stdin: "a=1;b='2'\nline two ünï",
      env: {
        KVP_EVENT: "added",
        KVP_KEY: "user-data",
        KVP_VALUE: "a=1;b='2'\nline two ünï",
        KVP_OLD_VALUE: "",
        KVP_POOL: "0",
      },
    },
    {
      name: "changed, pool 3",
      event: { pool: 3, type: "changed", key: "HostName", value: "new", previous: "old" },
      stdin: "new",
      env: { KVP_EVENT: "changed", KVP_KEY: "HostName", KVP_VALUE: "new", KVP_OLD_VALUE: "old", KVP_POOL: "3" },
    },
    {
      name: "removed",
      event: { pool: 0, type: "removed", key: "gone", previous: "was" },
      stdin: "",
      env: { KVP_EVENT: "removed", KVP_KEY: "gone", KVP_VALUE: "", KVP_OLD_VALUE: "was", KVP_POOL: "0" },
    },
  ];
  it.each(events)(
    "passes the value on stdin and the event in KVP_* variables, inherited KVP_* stripped ($name)",
    async ({ event, stdin, env }) => {
      const { dir, log } = setup();
      const out = join(dir, "out.json");
      const inherited = {
        PATH: process.env["PATH"],
        OTHER: "kept",
        KVP_INHERITED: "leak",
        KVP_VALUE: "stale",
        KVP_POOL_DIR: "/wrong",
      };
      const result = await runHook(
        hook("dump-hook", [...dumper(dir), out]),
        event,
        options(log, { env: inherited, stateDir: "/run/st", poolDir: "/pools/x" }),
      );
      expect(result).toMatchObject({
        exitCode: 0,
        hook: "dump-hook",
        event: event.type,
        key: event.key,
        pool: event.pool,
      });
      expect(JSON.parse(readFileSync(out, "utf8"))).toEqual({
        args: [],
        stdin,
        cwd: "/",
        env: {
          ...env,
          OTHER: "kept",
          KVP_HOOK: "dump-hook",
          KVP_STATE_DIR: "/run/st",
          KVP_POOL_DIR: "/pools/x",
          // A run for one event lists just it.
          KVP_CHANGES: JSON.stringify([{ event: event.type, key: event.key, pool: event.pool }]),
          KVP_CHANGE_COUNT: "1",
        },
      });
    },
  );

  it("sets KVP_DECODED_ENV to the key's decoded env file when there is one, never an inherited value", async () => {
    const { dir, log } = setup();
    const out = join(dir, "out.json");
    const asked: HookEvent[] = [];
    const env = { PATH: process.env["PATH"], KVP_DECODED_ENV: "/inherited" };
    const decodedEnvFile = (event: HookEvent) => {
      asked.push(event);
      return event.key === "k" ? "/state/decoded/k.env" : undefined;
    };
    await runHook(hook("h", [...dumper(dir), out]), added, options(log, { env, decodedEnvFile }));
    expect((JSON.parse(readFileSync(out, "utf8")) as { env: Record<string, string> }).env["KVP_DECODED_ENV"]).toBe(
      "/state/decoded/k.env",
    );
    expect(asked).toEqual([added]);
    await runHook(hook("h", [...dumper(dir), out]), { ...added, key: "other" }, options(log, { env, decodedEnvFile }));
    expect((JSON.parse(readFileSync(out, "utf8")) as { env: Record<string, string> }).env).not.toHaveProperty(
      "KVP_DECODED_ENV",
    );
  });

  it("sets no KVP_POOL_DIR without a pool directory, even an inherited one", async () => {
    const { dir, log } = setup();
    const out = join(dir, "out.json");
    const { poolDir: _, ...noPoolDir } = options(log, {
      env: { PATH: process.env["PATH"], KVP_POOL_DIR: "/inherited" },
    });
    await runHook(hook("h", [...dumper(dir), out]), added, noPoolDir);
    expect((JSON.parse(readFileSync(out, "utf8")) as { env: Record<string, string> }).env).not.toHaveProperty(
      "KVP_POOL_DIR",
    );
  });

  const outcomes: { name: string; body: string; timeoutMs?: number; want: Partial<HookResult> }[] = [
    { name: "exit 0", body: "exit 0", want: { exitCode: 0, signal: null, timedOut: false } },
    { name: "exit 7", body: "exit 7", want: { exitCode: 7, signal: null, timedOut: false } },
    {
      name: "killed by a signal",
      body: "kill -USR1 $$; sleep 5",
      want: { exitCode: null, signal: "SIGUSR1", timedOut: false },
    },
    { name: "timeout", body: "sleep 30", timeoutMs: 200, want: { exitCode: null, signal: "SIGTERM", timedOut: true } },
    {
      name: "timeout, hook exits on SIGTERM",
      body: "trap 'exit 5' TERM; while :; do sleep 0.05; done",
      timeoutMs: 200,
      want: { exitCode: 5, signal: null, timedOut: true },
    },
  ];
  it.each(outcomes)("reports exit code, signal and timeout ($name)", async ({ body, timeoutMs, want }) => {
    const { dir, log } = setup();
    const path = script(dir, "h", body);
    const result = await runHook(hook("h", [path], timeoutMs === undefined ? {} : { timeoutMs }), added, options(log));
    expect(result).toMatchObject(want);
    expect(result.error).toBeUndefined();
    expect(result.startedAt).toBe("2030-01-01T00:00:00.000Z");
  });

  it("a timeout kills the hook's whole process group, children with their own output included", async () => {
    const { dir, log } = setup();
    // The child's output goes elsewhere, so the hook's pipes do not wait for it: only a group kill ends it.
    const path = script(
      dir,
      "h",
      `sleep 30 >/dev/null 2>&1 </dev/null & echo $! > "${dir}/child"; echo $$ > "${dir}/hook"; sleep 30`,
    );
    const started: string[] = [];
    const result = await runHook(
      hook("h", [path], { timeoutMs: 300 }),
      added,
      options(log, { onStart: (h) => started.push(h.name) }),
    );
    expect(started).toEqual(["h"]);
    expect(result).toMatchObject({ timedOut: true, signal: "SIGTERM" });
    const hookPid = Number(readFileSync(join(dir, "hook"), "utf8"));
    const childPid = Number(readFileSync(join(dir, "child"), "utf8"));
    // The hook is reaped by the time the result exists; its orphaned child is reaped by init.
    expect(alive(hookPid)).toBe(false);
    await waitFor(() => !alive(childPid), `hook child ${childPid} to die`, 3000);
  });

  it("a hook that ignores SIGTERM gets SIGKILL after the grace", async () => {
    const { dir, log } = setup();
    const path = script(dir, "h", `trap '' TERM; echo $$ > "${dir}/hook"; while :; do sleep 0.05; done`);
    const result = await runHook(hook("h", [path], { timeoutMs: 100 }), added, options(log));
    expect(result).toMatchObject({ timedOut: true, signal: "SIGKILL", exitCode: null });
  });

  it("aborting the signal stops the hook", async () => {
    const { dir, log } = setup();
    const path = script(dir, "h", "sleep 30");
    const abort = new AbortController();
    const result = runHook(
      hook("h", [path]),
      added,
      options(log, { signal: abort.signal, onStart: () => abort.abort() }),
    );
    expect(await result).toMatchObject({ timedOut: false, signal: "SIGTERM", exitCode: null });
  });

  const unstartable: { name: string; make: (dir: string) => string; error: string }[] = [
    { name: "missing program", make: (dir) => join(dir, "nope"), error: "ENOENT" },
    { name: "file without execute permission", make: (dir) => script(dir, "h", "exit 0", 0o644), error: "EACCES" },
    { name: "directory", make: (dir) => dir, error: "EACCES" },
  ];
  it.each(unstartable)(
    "a hook that cannot start is a result with error, not a throw ($name)",
    async ({ make, error }) => {
      const { dir, log } = setup();
      const started: string[] = [];
      const result = await runHook(
        hook("h", [make(dir), "arg"]),
        added,
        options(log, { onStart: (h) => started.push(h.name) }),
      );
      expect(result).toMatchObject({
        hook: "h",
        error,
        exitCode: null,
        signal: null,
        timedOut: false,
        outputDropped: 0,
      });
      expect(started).toEqual([]);
    },
  );

  it("logs stdout and stderr line by line", async () => {
    const { dir, lines, log } = setup();
    const path = script(dir, "h", "echo out-1; echo err-1 >&2; printf 'out-2\\n\\nlast-no-newline'");
    const result = await runHook(hook("talk", [path]), added, options(log));
    expect(result.outputDropped).toBe(0);
    const hookLines = lines.filter((l) => l.startsWith("kvp-agent: info: hook talk: "));
    expect(hookLines.map((l) => l.slice("kvp-agent: info: hook talk: ".length).trimEnd()).sort()).toEqual([
      "err-1",
      "last-no-newline",
      "out-1",
      "out-2",
    ]);
  });

  it("keeps at most MAX_HOOK_OUTPUT_BYTES of huge output and counts the rest", async () => {
    const { dir, lines, log } = setup();
    const each = 600_000;
    const path = script(dir, "h", `head -c ${each} /dev/zero | tr '\\0' x; head -c ${each} /dev/zero | tr '\\0' y >&2`);
    const result = await runHook(hook("big", [path]), added, options(log));
    expect(result).toMatchObject({ exitCode: 0, outputDropped: 2 * each - MAX_HOOK_OUTPUT_BYTES });
    const kept = lines.filter((l) => l.startsWith("kvp-agent: info: hook big: ") && !l.includes("dropped")).join("");
    expect(kept.replace(/kvp-agent: info: hook big: |\n/g, "")).toMatch(new RegExp(`^[xy]{${MAX_HOOK_OUTPUT_BYTES}}$`));
    expect(lines).toContain(
      `kvp-agent: info: hook big: (${2 * each - MAX_HOOK_OUTPUT_BYTES} more bytes of output dropped)\n`,
    );
  });

  it("a hook that never stops writing is bounded in memory and stopped by its timeout", async () => {
    const { dir, lines, log } = setup();
    const path = script(dir, "h", "exec yes flood");
    const result = await runHook(hook("flood", [path], { timeoutMs: 300 }), added, options(log));
    expect(result).toMatchObject({ timedOut: true, signal: "SIGTERM" });
    expect(result.outputDropped).toBeGreaterThan(0);
    const logged = lines.filter((l) => l.startsWith("kvp-agent: info: hook flood: flood")).length;
    expect(logged).toBeLessThanOrEqual(MAX_HOOK_OUTPUT_BYTES / "flood\n".length + 1);
  });

  it("relays output with terminal controls escaped, one log line per output line", async () => {
    const { dir, lines, log } = setup();
    const path = script(dir, "h", "printf 'red \\033[31mtext\\r\\033]0;title\\007\\n'");
    await runHook(hook("esc", [path]), added, options(log));
    expect(lines).toContain("kvp-agent: info: hook esc: red \\u001b[31mtext\\r\\u001b]0;title\\u0007\n");
  });

  it("keeps a character whose UTF-8 bytes arrive in two writes whole", async () => {
    const { dir, lines, log } = setup();
    // "é" is C3 A9: the pause makes the pipe deliver the two bytes in separate chunks.
    const path = script(dir, "h", "printf 'caf\\303'; sleep 0.2; printf '\\251\\n'");
    await runHook(hook("utf8", [path]), added, options(log));
    expect(lines).toContain("kvp-agent: info: hook utf8: café\n");
  });
});

describe("hookMatches", () => {
  const spec = hook("m", ["/bin/true"], {
    keys: ["cloudstack-*", "exact", "a*b*c"],
    events: ["added", "changed"],
    pools: [0],
  });
  const cases: { event: HookEvent; want: boolean }[] = [
    { event: { pool: 0, type: "added", key: "cloudstack-vm-userdata", value: "" }, want: true },
    { event: { pool: 0, type: "added", key: "cloudstack-", value: "" }, want: true },
    { event: { pool: 0, type: "added", key: "Cloudstack-x", value: "" }, want: false },
    { event: { pool: 0, type: "changed", key: "exact", value: "", previous: "" }, want: true },
    { event: { pool: 0, type: "added", key: "exactly", value: "" }, want: false },
    { event: { pool: 0, type: "added", key: "a-b-c", value: "" }, want: true },
    { event: { pool: 0, type: "added", key: "a-c-b", value: "" }, want: false },
    { event: { pool: 0, type: "removed", key: "exact", previous: "" }, want: false },
    { event: { pool: 3, type: "added", key: "exact", value: "" }, want: false },
  ];
  it.each(cases)("$event.type $event.key in pool $event.pool → $want", ({ event, want }) => {
    expect(hookMatches(spec, event)).toBe(want);
  });
});

describe("HookQueue", () => {
  /** A hook appending "start NAME EVENT KEY CHANGES" and, after a pause, "end NAME" to `seq`; exits `code`. */
  function seqHook(dir: string, name: string, code: number, extra: Partial<HookSpec> = {}): HookSpec {
    const path = script(
      dir,
      name,
      `echo "start ${name} $KVP_EVENT $KVP_KEY $KVP_CHANGES" >> "${dir}/seq"; sleep 0.03; echo "end ${name}" >> "${dir}/seq"; exit ${code}`,
    );
    return hook(name, [path], extra);
  }

  /** KVP_CHANGES as the hook receives it. */
  const changes = (...list: [string, string, number?][]) =>
    JSON.stringify(list.map(([event, key, pool]) => ({ event, key, pool: pool ?? 0 })));

  it("runs hooks one at a time, each once for the keys it wants; a failing hook does not stop later ones", async () => {
    const { dir, lines, log } = setup();
    const hooks = [
      seqHook(dir, "fails", 3, { keys: ["user*"] }),
      seqHook(dir, "users", 0, { keys: ["user*"], events: ["added", "changed"] }),
      seqHook(dir, "removals", 0, { events: ["removed"] }),
      seqHook(dir, "facts", 0, { pools: [3] }),
    ];
    const results: HookResult[] = [];
    const queue = new HookQueue({ ...options(log), hooks: () => hooks, onResult: (r) => results.push(r) });
    queue.push([
      { pool: 0, type: "added", key: "user1", value: "1" },
      { pool: 0, type: "changed", key: "role", value: "r", previous: "q" },
      { pool: 3, type: "added", key: "HostName", value: "h" },
      { pool: 0, type: "removed", key: "user2", previous: "2" },
    ]);
    // Pushed while "fails" runs: a new pending run for it, merged into the pending one of "users".
    queue.push([{ pool: 0, type: "changed", key: "user3", value: "3", previous: "x" }]);
    await queue.idle();
    const expected: [string, string, string, string][] = [
      ["fails", "removed", "user2", changes(["added", "user1"], ["removed", "user2"])],
      ["users", "changed", "user3", changes(["added", "user1"], ["changed", "user3"])],
      ["removals", "removed", "user2", changes(["removed", "user2"])],
      ["facts", "added", "HostName", changes(["added", "HostName", 3])],
      ["fails", "changed", "user3", changes(["changed", "user3"])],
    ];
    expect(readFileSync(join(dir, "seq"), "utf8")).toBe(
      expected.map(([n, e, k, c]) => `start ${n} ${e} ${k} ${c}\nend ${n}\n`).join(""),
    );
    expect(results.map((r) => [r.hook, r.event, r.key, r.changes, r.exitCode])).toEqual(
      expected.map(([n, e, k, c]) => [n, e, k, JSON.parse(c).length, n === "fails" ? 3 : 0]),
    );
    expect(lines.filter((l) => l.includes("warning: hook fails"))).toHaveLength(2);
    expect(lines).toContain("kvp-agent: warning: hook fails (removed user2 and 1 more) exited with 3\n");
    expect(lines).toContain("kvp-agent: warning: hook fails (changed user3) exited with 3\n");
  });

  /** A hook that writes its KVP_* environment and stdin as JSON lines to `runs`, then waits for `gate` to exist. */
  function gatedHook(dir: string, extra: Partial<HookSpec> = {}): HookSpec {
    const path = join(dir, "gated.cjs");
    writeFileSync(
      path,
      `const fs = require("node:fs");
       const env = {}; for (const [k, v] of Object.entries(process.env)) if (k.startsWith("KVP_")) env[k] = v;
       fs.appendFileSync(process.argv[2], JSON.stringify({ env, stdin: fs.readFileSync(0, "utf8") }) + "\\n");
       const wait = () => (fs.existsSync(process.argv[3]) ? process.exit(0) : setTimeout(wait, 5));
       wait();`,
    );
    return hook("gated", [process.execPath, path, join(dir, "runs"), join(dir, "gate")], extra);
  }
  const runsOf = (dir: string) =>
    readFileSync(join(dir, "runs"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { env: Record<string, string>; stdin: string });

  it("a busy hook has one pending run, whatever the host's rate: events merge per key, the run sees the latest", async () => {
    const { dir, log } = setup();
    let started = 0;
    const results: HookResult[] = [];
    const gated = gatedHook(dir);
    const queue = new HookQueue({
      ...options(log),
      hooks: () => [gated],
      onResult: (r) => results.push(r),
      onStart: () => started++,
    });
    queue.push([{ pool: 0, type: "added", key: "k0", value: "a" }]);
    await waitFor(() => started === 1, "the first run to start");
    // 50 keys changing 2,000 times each while the hook is busy.
    for (let round = 1; round <= 2000; round++) {
      queue.push(
        Array.from(
          { length: 50 },
          (_, i): HookEvent => ({
            pool: 0,
            type: "changed",
            key: `k${i}`,
            value: `v${round}`,
            previous: round === 1 ? "a" : `v${round - 1}`,
          }),
        ),
      );
      expect(queue.size).toBeLessThanOrEqual(50);
    }
    queue.push([{ pool: 0, type: "added", key: "new", value: "n" }]);
    expect(queue.size).toBe(51);
    writeFileSync(join(dir, "gate"), "");
    await queue.idle();
    expect(started).toBe(2);
    const [, second] = runsOf(dir);
    const list = JSON.parse(second!.env["KVP_CHANGES"]!) as { event: string; key: string; pool: number }[];
    expect(list).toEqual([
      ...Array.from({ length: 50 }, (_, i) => ({ event: "changed", key: `k${i}`, pool: 0 })),
      { event: "added", key: "new", pool: 0 },
    ]);
    expect(second!.env).toMatchObject({ KVP_CHANGE_COUNT: "51", KVP_EVENT: "added", KVP_KEY: "new", KVP_VALUE: "n" });
    expect(results.map((r) => r.changes)).toEqual([1, 51]);
  });

  it("a pending key's old value is the one at the hook's last run; a key that came back or came and went is no change", async () => {
    const { dir, log } = setup();
    let started = 0;
    const gated = gatedHook(dir);
    const queue = new HookQueue({
      ...options(log),
      hooks: () => [gated],
      onResult: () => undefined,
      onStart: () => started++,
    });
    queue.push([{ pool: 0, type: "added", key: "first", value: "1" }]);
    await waitFor(() => started === 1, "the first run to start");
    queue.push([
      { pool: 0, type: "changed", key: "k", value: "b", previous: "a" },
      { pool: 0, type: "added", key: "brief", value: "x" },
      { pool: 0, type: "changed", key: "same", value: "2", previous: "1" },
    ]);
    queue.push([
      { pool: 0, type: "changed", key: "k", value: "c", previous: "b" },
      { pool: 0, type: "removed", key: "brief", previous: "x" },
      { pool: 0, type: "changed", key: "same", value: "1", previous: "2" },
    ]);
    writeFileSync(join(dir, "gate"), "");
    await queue.idle();
    const [, second] = runsOf(dir);
    expect(second).toEqual({
      env: expect.objectContaining({
        KVP_CHANGES: changes(["changed", "k"]),
        KVP_EVENT: "changed",
        KVP_KEY: "k",
        KVP_VALUE: "c",
        KVP_OLD_VALUE: "a",
      }),
      stdin: "c",
    });
    // Only no-changes pending: no run at all.
    queue.push([{ pool: 0, type: "added", key: "x", value: "1" }]);
    await waitFor(() => started === 3, "the third run to start");
    queue.push([{ pool: 0, type: "changed", key: "x", value: "2", previous: "1" }]);
    queue.push([{ pool: 0, type: "changed", key: "x", value: "1", previous: "2" }]);
    await queue.idle();
    expect(started).toBe(3);
  });

  it("the hook's events apply to the net change: added then changed is an added with the latest value", async () => {
    const { dir, log } = setup();
    let started = 0;
    const gated = gatedHook(dir, { events: ["added"] });
    const queue = new HookQueue({
      ...options(log),
      hooks: () => [gated],
      onResult: () => undefined,
      onStart: () => started++,
    });
    queue.push([{ pool: 0, type: "added", key: "a", value: "1" }]);
    await waitFor(() => started === 1, "the first run to start");
    queue.push([
      { pool: 0, type: "added", key: "b", value: "1" },
      { pool: 0, type: "changed", key: "a", value: "2", previous: "1" },
    ]);
    queue.push([{ pool: 0, type: "changed", key: "b", value: "2", previous: "1" }]);
    writeFileSync(join(dir, "gate"), "");
    await queue.idle();
    const [, second] = runsOf(dir);
    expect(second!.env).toMatchObject({ KVP_CHANGES: changes(["added", "b"]), KVP_KEY: "b", KVP_VALUE: "2" });
  });

  it("asks for the hooks at every push (the hooks directory may change)", async () => {
    const { dir, log } = setup();
    let hooks: HookSpec[] = [seqHook(dir, "first", 0)];
    const results: string[] = [];
    const queue = new HookQueue({
      ...options(log),
      hooks: () => hooks,
      onResult: (r) => results.push(`${r.hook} ${r.key}`),
    });
    queue.push([{ pool: 0, type: "added", key: "a", value: "" }]);
    hooks = [seqHook(dir, "second", 0)];
    queue.push([{ pool: 0, type: "added", key: "b", value: "" }]);
    await queue.idle();
    expect(results).toEqual(["first a", "second b"]);
  });

  it("stop drops the pending run, stops the running hook and ignores later pushes", async () => {
    const { dir, log } = setup();
    const path = script(dir, "slow", `echo "$KVP_KEY" >> "${dir}/seq"; sleep 30`);
    const results: HookResult[] = [];
    let started = 0;
    const queue = new HookQueue({
      ...options(log),
      hooks: () => [hook("slow", [path])],
      onResult: (r) => results.push(r),
      onStart: () => started++,
    });
    queue.push([{ pool: 0, type: "added", key: "a", value: "" }]);
    await waitFor(() => started === 1, "the first hook to start");
    queue.push([{ pool: 0, type: "added", key: "b", value: "" }]);
    await queue.stop();
    queue.push([{ pool: 0, type: "added", key: "c", value: "" }]);
    await queue.idle();
    expect(results.map((r) => [r.key, r.signal, r.timedOut])).toEqual([["a", "SIGTERM", false]]);
    expect(started).toBe(1);
    expect(queue.size).toBe(0);
  });
});

describe("runHook's KVP_CHANGES", () => {
  it("lists every change, oldest first; past MAX_CHANGES_ENV_BYTES the newest that fit, with the full count", async () => {
    const { dir, log } = setup();
    const out = join(dir, "out.json");
    const many: HookEvent[] = Array.from({ length: 5000 }, (_, i) => ({
      pool: 0,
      type: "added",
      key: `key-${String(i).padStart(5, "0")}-${"x".repeat(20)}`,
      value: "v",
    }));
    const last = many[many.length - 1]!;
    const result = await runHook(hook("many", [...dumper(dir), out]), last, options(log), many);
    expect(result).toMatchObject({ exitCode: 0, changes: 5000, key: last.key });
    const env = (JSON.parse(readFileSync(out, "utf8")) as { env: Record<string, string> }).env;
    expect(env["KVP_CHANGE_COUNT"]).toBe("5000");
    expect(Buffer.byteLength(env["KVP_CHANGES"]!)).toBeLessThanOrEqual(MAX_CHANGES_ENV_BYTES);
    const listed = JSON.parse(env["KVP_CHANGES"]!) as { key: string }[];
    expect(listed.map((c) => c.key)).toEqual(many.slice(-listed.length).map((e) => e.key));
    // As many as fit: one more would not.
    const oneMore = many.slice(-(listed.length + 1)).map((e) => ({ event: e.type, key: e.key, pool: e.pool }));
    expect(Buffer.byteLength(JSON.stringify(oneMore))).toBeGreaterThan(MAX_CHANGES_ENV_BYTES);
  });
});

describe("listHookDir", () => {
  it("picks executable regular files with run-parts names, in name order", () => {
    const { dir } = setup();
    const hooks = join(dir, "hooks.d");
    mkdirSync(hooks);
    chmodSync(hooks, 0o755);
    for (const name of [
      "20-second",
      "10-first",
      "under_score",
      "UPPER",
      "-dash",
      "99",
      "n".repeat(65),
      "n".repeat(64),
    ]) {
      script(hooks, name, "exit 0", 0o755, dir);
    }
    script(hooks, "not-exec", "exit 0", 0o644, dir);
    mkdirSync(join(hooks, "subdir"), { mode: 0o755 });
    symlinkSync(join(hooks, "10-first"), join(hooks, "link"));
    symlinkSync(join(hooks, "missing"), join(hooks, "dangling"));
    const found = listHookDir(hooks, 1234);
    // ASCII order, as run-parts sorts in the C locale.
    expect(found.map((h) => h.name)).toEqual([
      "-dash",
      "10-first",
      "20-second",
      "99",
      "UPPER",
      "link",
      "n".repeat(64),
      "under_score",
    ]);
    expect(found[1]).toEqual({
      name: "10-first",
      command: [join(hooks, "10-first")],
      keys: ["*"],
      events: ["added", "changed", "removed"],
      pools: [0],
      timeoutMs: 1234,
      source: "dir",
    });
  });

  // run-parts' default rule (no --lsbsysinit, no --regex): names made only of ASCII letters,
  // digits, '_' and '-'. Anything with a dot is a leftover or a disabled script, never a hook.
  it.each([
    "a.sh",
    "x.disabled",
    "y.bak",
    "z.orig",
    "w.ucf-dist",
    "v.ucf-old",
    "u.dpkg-old",
    "t.dpkg-dist",
    "s.rpmsave",
    "r.rpmnew",
    "q.swp",
    "backup~",
    "#autosave#",
    ".hidden",
    "bad name",
    "tab\tname",
    "ünï",
    "new\nline",
  ])("skips %j, as run-parts does", (name) => {
    const { dir } = setup();
    const hooks = join(dir, "hooks.d");
    mkdirSync(hooks);
    chmodSync(hooks, 0o755);
    script(hooks, name, "exit 0", 0o755, dir);
    script(hooks, "10-kept", "exit 0", 0o755, dir);
    expect(listHookDir(hooks, 1000).map((h) => h.name)).toEqual(["10-kept"]);
  });

  /**
   * A hook file owned by another user: as root, chowned to one; otherwise the agent is told
   * it runs as another uid than the test, so the test's files are someone else's.
   */
  function othersFile(path: string): number {
    const uid = process.getuid!();
    if (uid !== 0) return uid + 1;
    chownSync(path, 12345, 12345);
    return 0;
  }

  it("skips, and says why, hook files another user could change: writable by group or others, or owned by another user", () => {
    const { dir } = setup();
    const hooks = join(dir, "hooks.d");
    mkdirSync(hooks, { mode: 0o755 });
    chmodSync(hooks, 0o755);
    script(hooks, "10-ok", "exit 0", 0o755, dir);
    script(hooks, "20-group-writable", "exit 0", 0o775, dir);
    script(hooks, "30-world-writable", "exit 0", 0o757, dir);
    const uid = othersFile(script(hooks, "40-others", "exit 0", 0o755, dir));
    // A link is judged by the file it leads to.
    symlinkSync(join(hooks, "30-world-writable"), join(hooks, "50-link"));
    const said: string[] = [];
    expect(listHookDir(hooks, 1000, { uid, onSkip: (m) => said.push(m) }).map((h) => h.name)).toEqual(["10-ok"]);
    expect(said).toEqual([
      `hooks directory ${hooks}: 20-group-writable is writable by its group: not run (another user could choose what it runs)`,
      `hooks directory ${hooks}: 30-world-writable is writable by others: not run (another user could choose what it runs)`,
      expect.stringMatching(
        /^hooks directory .*: 40-others is owned by uid \d+: not run \(another user could choose what it runs\)$/,
      ),
      `hooks directory ${hooks}: 50-link is writable by others: not run (another user could choose what it runs)`,
    ]);
  });

  it("runs nothing from a hooks directory another user could change", () => {
    const { dir } = setup();
    const hooks = join(dir, "hooks.d");
    mkdirSync(hooks);
    script(hooks, "10-ok", "exit 0", 0o755, dir);
    chmodSync(hooks, 0o777);
    const said: string[] = [];
    expect(listHookDir(hooks, 1000, { onSkip: (m) => said.push(m) })).toEqual([]);
    expect(said).toEqual([
      `hooks directory ${hooks} is writable by others: none of its hooks run (another user could add one)`,
    ]);
  });

  it("HookDir says each reason once while it lasts", () => {
    const { dir, lines, log } = setup();
    const hooks = join(dir, "hooks.d");
    mkdirSync(hooks, { mode: 0o755 });
    chmodSync(hooks, 0o755);
    const path = script(hooks, "10-loose", "exit 0", 0o777, dir);
    const hookDir = new HookDir(hooks, 1000, log);
    expect(hookDir.list()).toEqual([]);
    expect(hookDir.list()).toEqual([]);
    const warned = () => lines.filter((l) => l.includes("10-loose is writable"));
    expect(warned()).toHaveLength(1);
    chmodSync(path, 0o755);
    expect(hookDir.list().map((h) => h.name)).toEqual(["10-loose"]);
    chmodSync(path, 0o777);
    hookDir.list();
    expect(warned()).toHaveLength(2);
  });

  it("a missing directory means no hooks", () => {
    const { dir } = setup();
    expect(listHookDir(join(dir, "absent"), 1000)).toEqual([]);
  });
});
