import { EventEmitter } from "node:events";
import { WsmanError, type WsmanClientOptions } from "@hyperv-kvp/wsman";
import { describe, expect, it } from "vitest";
import type { CliContext, ConnectRequest } from "./context.js";
import { sendCloudInit } from "./commands/cloud-init.js";
import { main } from "./main.js";
import { TransportError } from "./transport-error.js";
import { fromWsmanError } from "./transports/wsman.js";
import { type SimHost, WEB01, startSimHost } from "./test-support/sim-host.js";

/** Runs kvp-host in process against a fresh sample host (or `options.host`), closed afterwards. */
async function run(
  args: string[],
  options: {
    host?: SimHost;
    env?: Record<string, string>;
    files?: Record<string, string | Uint8Array>;
    prompt?: boolean;
    watch?: Pick<CliContext, "signals" | "watchSleep" | "now">;
    connectError?: Error;
    /** Replaces the default `--host hv01 --user CORP\admin`. */
    connection?: string[];
    /** stderr is a terminal (progress lines are drawn). */
    stderrIsTTY?: boolean;
    /** What differs on a platform: the transport without --host, the help's shells. */
    platform?: Pick<CliContext, "platform" | "defaultTransport">;
  } = {},
) {
  let stdout = "";
  let stderr = "";
  const connected: WsmanClientOptions[] = [];
  const requests: ConnectRequest[] = [];
  const host = options.host ?? (await startSimHost());
  const ctx: CliContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), ...(options.stderrIsTTY ? { isTTY: true } : {}) },
    env: options.env ?? { KVP_HOST_PASSWORD: "pw" },
    readStdin: async () => "",
    readFile: async (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw Object.assign(new Error("missing"), { code: "ENOENT" });
      return text;
    },
    promptPassword: options.prompt ? async () => "typed" : undefined,
    connect: async (request) => {
      if (options.connectError) throw options.connectError;
      if (request.kind === "wsman") connected.push(request.options);
      requests.push(request);
      return host.wmi;
    },
    sleep: async () => {},
    ...options.watch,
    ...options.platform,
  };
  try {
    const code = await main(
      ["node", "kvp-host", ...(options.connection ?? ["--host", "hv01", "--user", "CORP\\admin"]), ...args],
      ctx,
    );
    return { code, stdout, stderr, connected, requests, host };
  } finally {
    await host.close();
  }
}

describe("kvp-host main", () => {
  it("vms prints an aligned table and connects over HTTPS with NTLM", async () => {
    const r = await run(["vms"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("NAME   GUID                                  STATE");
    expect(r.stdout).toContain(`web01  ${WEB01}  Running`);
    expect(r.connected[0]).toMatchObject({
      endpoint: "https://hv01:5986/wsman",
      auth: { kind: "ntlm", user: "admin", domain: "CORP", password: "pw" },
      timeoutMs: 60_000,
    });
    expect(r.host.client.closed).toBe(true);
  });

  it("get prints the value; an absent key exits 1 with a message", async () => {
    expect(await run(["get", "web01", "report"])).toMatchObject({ code: 0, stdout: "first-second\n" });
    const absent = await run(["get", "web01", "nope"]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe('kvp-host: VM "web01" has no item "nope"\n');
  });

  it("list --json gives the items with their source", async () => {
    const r = await run(["list", "web01", "--source", "guest", "--json"]);
    expect(JSON.parse(r.stdout).items).toEqual([
      { source: "guest", key: "ReadyState", value: "ready" },
      { source: "guest", key: "report", value: "first-second", parts: 2 },
    ]);
  });

  it("set with pairs and --from-file, --json report", async () => {
    const r = await run(["set", "web01", "a=1", "b=x=y", "--from-file", "f.env", "--json"], {
      files: { "f.env": "# facts\nc=3\r\n\n" },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: ["a", "b", "c"], methodCalls: 1 });
    expect(r.host.hostItems(WEB01).get("b")).toBe("x=y");
  });

  it("exit codes: ambiguous 2, unknown VM 1, add conflict 4, refused call 4, long value 2", async () => {
    expect((await run(["list", "dup"])).code).toBe(2);
    expect((await run(["list", "ghost"])).code).toBe(1);
    expect((await run(["add", "web01", "role=x"])).code).toBe(4);
    const long = await run(["set", "web01", `k=${"x".repeat(1100)}`]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("--chunk");
  });

  it("a failed job prints the partial report and, with --json, the details", async () => {
    const host = await startSimHost();
    host.sim.model.interceptKvpMethod = () => ({
      kind: "fail",
      failure: { errorCode: 32768, description: "Nope.", cimStatusCode: 1 },
    });
    const r = await run(["set", "web01", "a=1", "--json"], { host });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('kvp-host: cannot add the item "a" of VM "web01"');
    expect(r.stderr).toContain("not applied: 1");
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "job-failed", notApplied: ["a"] });
  });

  it("the password comes from the environment or a prompt, never the command line", async () => {
    const none = await run(["vms"], { env: {} });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("KVP_HOST_PASSWORD");
    const prompted = await run(["vms"], { env: {}, prompt: true });
    expect(prompted.connected[0]?.auth.password).toBe("typed");
  });

  it("plain HTTP: NTLM is sealed without asking; Basic needs --allow-unencrypted", async () => {
    const sealed = await run(["--http", "vms"]);
    expect(sealed.code).toBe(0);
    expect(sealed.connected[0]).toMatchObject({ endpoint: "http://hv01:5985/wsman", auth: { kind: "ntlm" } });
    expect(sealed.connected[0]?.allowUnencrypted).toBeUndefined();
    expect((await run(["--http", "--auth", "basic", "vms"])).code).toBe(2);
    const r = await run(["--http", "--allow-unencrypted", "--auth", "basic", "--timeout", "5", "vms"]);
    expect(r.connected[0]).toMatchObject({
      endpoint: "http://hv01:5985/wsman",
      allowUnencrypted: true,
      auth: { kind: "basic" },
      timeoutMs: 5000,
    });
    // A bare number keeps its old meaning, seconds, for now, and says how to write it.
    expect(r.stderr).toMatch(/^kvp-host: note: --timeout 5 without a unit is read as seconds; write 5s /);
  });

  it("delete is remove's other name (kvp-pool's word)", async () => {
    const r = await run(["delete", "web01", "role", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ removed: ["role"] });
    expect(r.host.hostItems(WEB01).has("role")).toBe(false);
  });

  it("with --json every failure prints an error object: a missing password, a dead host, a missing key", async () => {
    const none = await run(["vms", "--json"], { env: {} });
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout).error).toMatchObject({ code: "usage", exitCode: 2 });
    const dead = await run(["vms", "--json"], {
      connectError: new TransportError("unreachable", "cannot connect to hv01:5986: ECONNREFUSED"),
    });
    expect(dead.code).toBe(3);
    expect(JSON.parse(dead.stdout)).toEqual({
      error: { code: "unreachable", message: "cannot connect to hv01:5986: ECONNREFUSED", exitCode: 3 },
    });
    const absent = await run(["get", "web01", "nope", "--json"]);
    expect(JSON.parse(absent.stdout).error).toMatchObject({ code: "not-found", exitCode: 1 });
  });

  it("says it is starting PowerShell while the bridge starts, on a terminal only, and erases the line", async () => {
    const tty = await run(["--transport", "powershell", "vms"], { connection: [], stderrIsTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toBe("\r\u001b[2Kkvp-host: starting PowerShell…\r\u001b[2K");
    expect((await run(["--transport", "powershell", "vms"], { connection: [] })).stderr).toBe("");
  });

  it("status prints the service health", async () => {
    const r = await run(["status", "web01"]);
    expect(r.stdout).toMatch(/^KVP service +OK \(2\)$/m);
  });

  it("watch prints NDJSON changes and ends with exit 0 on SIGINT", async () => {
    const host = await startSimHost();
    const signals = new EventEmitter();
    let reads = 0;
    const r = await run(["watch", "web01", "--json", "--interval", "500ms"], {
      host,
      watch: {
        signals,
        watchSleep: async (ms) => {
          expect(ms).toBe(500);
          if (reads++ === 0)
            host.setGuestItems(WEB01, [
              { key: "ReadyState", value: "ready" },
              { key: "report#1/2", value: "first-" },
              { key: "report#2/2", value: "second" },
              { key: "state", value: "up" },
            ]);
          else signals.emit("SIGINT");
        },
      },
    });
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([{ time: expect.any(String), type: "added", source: "guest", key: "state", value: "up" }]);
    expect(r.stderr).toContain('kvp-host: watching guest items of VM "web01"');
    expect(signals.listenerCount("SIGINT")).toBe(0);
    expect(r.host.client.closed).toBe(true);
    expect((await run(["watch", "web01", "--interval", "0"])).code).toBe(2);
    expect((await run(["watch", "web01", "--interval", "50ms"])).code).toBe(2);
  });

  it("--cluster talks to root/HyperVCluster/v2; without it, root/virtualization/v2", async () => {
    expect((await run(["vms"])).requests).toMatchObject([{ kind: "wsman", namespace: "root/virtualization/v2" }]);
    const r = await run(["--cluster", "list", "web01"]);
    expect(r.code).toBe(0);
    expect(r.requests).toMatchObject([{ kind: "wsman", namespace: "root/HyperVCluster/v2" }]);
  });

  it("--transport powershell needs no host, user or password; --pwsh and $KVP_HOST_POWERSHELL choose the executable", async () => {
    const r = await run(["--transport", "powershell", "--pwsh", "--cluster", "--timeout", "7s", "vms"], {
      connection: [],
      env: { KVP_HOST_POWERSHELL: "/opt/pwsh/pwsh" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.requests).toEqual([
      {
        kind: "powershell",
        namespace: "root/HyperVCluster/v2",
        pwsh: true,
        timeoutMs: 7000,
        command: "/opt/pwsh/pwsh",
      },
    ]);
    const remote = await run(["--transport", "powershell", "vms"]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain("drop --host, --user, or use --transport wsman");
    expect((await run(["--pwsh", "vms"])).code).toBe(2);
  });

  it("a PowerShell bridge failure exits 3 with its one-line message", async () => {
    const r = await run(["--transport", "powershell", "vms"], {
      connection: [],
      connectError: new TransportError(
        "unavailable",
        "PowerShell not found: powershell.exe (spawn powershell.exe ENOENT); install it, or reach the host over WS-Management (--host or --endpoint)",
      ),
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      "kvp-host: PowerShell not found: powershell.exe (spawn powershell.exe ENOENT); install it, or reach the host over WS-Management (--host or --endpoint)\n",
    );
  });

  it.each([
    ["config", 2],
    ["unreachable", 3],
    ["tls", 3],
    ["unauthorized", 3],
    ["timeout", 3],
    ["lost", 3],
    ["unreadable", 3],
    ["host-error", 3],
    ["closed", 3],
  ] as const)(
    "a transport failure is its message and an exit code by its code alone: %s exits %i",
    async (code, exit) => {
      const r = await run(["vms"], { connectError: new TransportError(code, `the ${code} message`) });
      expect(r.code).toBe(exit);
      expect(r.stderr).toBe(`kvp-host: the ${code} message\n`);
      expect(r.stdout).toBe("");
    },
  );

  it("a transport failure in the middle of a command is reported the same way", async () => {
    const host = await startSimHost();
    host.client.intercept = (call) => {
      if (call.op === "enumerate") throw new TransportError("unreachable", "connect ECONNREFUSED 127.0.0.1:5986");
    };
    const r = await run(["list", "web01", "--source", "host"], { host });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("kvp-host: connect ECONNREFUSED 127.0.0.1:5986\n");
  });

  it("text the host sent is escaped and cut short on stderr, whichever transport carried it", async () => {
    const raw = `\u001b]0;owned\u0007\u001b[2J\u009b31m\u202e${"y".repeat(3_000_000)}`;
    const viaWsman = fromWsmanError(
      new WsmanError("http-error", "https://hv01:5986/wsman answered HTTP 500", { serverText: raw }),
    );
    const fault = fromWsmanError(
      new WsmanError("fault", "WS-Management fault", {
        fault: { code: "s:Receiver", subcode: "w:InternalError", reason: raw, detail: "" },
        serverText: raw,
      }),
    );
    for (const error of [viaWsman, fault, new TransportError("host-error", `the bridge said: ${raw}`)]) {
      const r = await run(["vms"], { connectError: error as Error });
      expect(r.code).toBe(3);
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(r.stderr).toContain("\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u202e");
      expect(r.stderr.length).toBeLessThan(1_500);
      expect(r.stderr).toMatch(/… \(\d+ more\)/);
    }
  });

  it("watch says it stopped when a signal ended it", async () => {
    const signals = new EventEmitter();
    const r = await run(["watch", "web01"], {
      watch: { signals, watchSleep: async () => void signals.emit("SIGINT") },
    });
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("kvp-host: stopped watching");
  });
});

const WINDOWS = { platform: "win32", defaultTransport: "powershell" } as const;

describe("kvp-host on Windows", () => {
  it("--host or --endpoint means WS-Management; without them the PowerShell transport is the default", async () => {
    const byHost = await run(["vms"], { platform: WINDOWS });
    expect(byHost.code).toBe(0);
    expect(byHost.requests).toMatchObject([{ kind: "wsman", options: { endpoint: "https://hv01:5986/wsman" } }]);
    const byEndpoint = await run(["vms"], {
      platform: WINDOWS,
      connection: ["--endpoint", "http://hv01:5985/wsman", "--user", "admin"],
    });
    expect(byEndpoint.code).toBe(0);
    expect(byEndpoint.requests).toMatchObject([{ kind: "wsman", options: { endpoint: "http://hv01:5985/wsman" } }]);
    const local = await run(["vms"], { platform: WINDOWS, connection: [], env: {} });
    expect(local.code).toBe(0);
    expect(local.requests).toEqual([
      { kind: "powershell", namespace: "root/virtualization/v2", pwsh: false, timeoutMs: 60_000 },
    ]);
    const pwsh = await run(["--pwsh", "vms"], { platform: WINDOWS, connection: [] });
    expect(pwsh.requests).toMatchObject([{ kind: "powershell", pwsh: true }]);
  });

  it("an explicit --transport still wins, and --transport powershell with --host is still refused", async () => {
    const refused = await run(["--transport", "powershell", "vms"], { platform: WINDOWS });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("drop --host, --user, or use --transport wsman");
    expect(refused.requests).toEqual([]);
    const wsman = await run(["--transport", "wsman", "vms"], { platform: WINDOWS });
    expect(wsman.requests).toMatchObject([{ kind: "wsman" }]);
    // Elsewhere, --transport powershell is the only way to the bridge.
    const linux = await run(["--transport", "powershell", "vms"], {
      platform: { platform: "linux", defaultTransport: "wsman" },
      connection: [],
    });
    expect(linux.requests).toMatchObject([{ kind: "powershell" }]);
  });

  it("--user without --host or --endpoint is a usage error that says what --user goes with", async () => {
    const r = await run(["vms"], { platform: WINDOWS, connection: ["--user", "admin"] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("kvp-host: --user goes with --host or --endpoint (WS-Management)");
    expect(r.requests).toEqual([]);
    expect((await run(["--pwsh", "vms"], { platform: WINDOWS })).stderr).toContain(
      "--pwsh goes with the PowerShell transport",
    );
  });
});

/** The example command lines of `help`: its lines starting with `kvp-host `, whole. */
function exampleLines(help: string): string[] {
  return help
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("kvp-host "));
}

describe("kvp-host --help examples", () => {
  const help = async (platform: Pick<CliContext, "platform" | "defaultTransport">) => {
    const r = await run(["--help"], { platform, connection: [] });
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it("on Windows: no sh-only constructs, and every argument is plain in both PowerShell and cmd", async () => {
    const text = await help(WINDOWS);
    const examples = text.slice(text.indexOf("Examples"));
    for (const shOnly of ["export ", "$(", "`", "'CORP", "\\\\", "cat "]) expect(examples).not.toContain(shOnly);
    // The variable is set per shell, each line labelled with its shell.
    expect(examples).toMatch(/^ +PowerShell: +\$env:KVP_HOST_PASSWORD = '…'$/m);
    expect(examples).toMatch(/^ +cmd: +set "KVP_HOST_PASSWORD=…"$/m);
    const lines = exampleLines(examples);
    expect(lines.length).toBeGreaterThanOrEqual(12);
    for (const line of lines) {
      // Characters neither shell gives a meaning to, so both pass each word as written:
      // no quotes, $ % ^ & | < > ( ) ; , @ # { } or backtick; so no trailing notes either.
      for (const word of line.split(" ")) expect(word, `${line}: ${word}`).toMatch(/^[A-Za-z0-9._=\\/:-]+$/);
    }
    expect(lines).toContain("kvp-host --host hv01 --user CORP\\admin vms");
    expect(lines).toContain("kvp-host vms");
  });

  it("on Windows: each example's arguments parse (a fake host answers; no usage error)", async () => {
    for (const line of exampleLines(await help(WINDOWS))) {
      const signals = new EventEmitter();
      const r = await run(line.split(" ").slice(1), {
        platform: WINDOWS,
        connection: [],
        files: {
          "facts.env": "site=lab\n",
          "user-data.json": '{"cloud-config": "#cloud-config"}',
          "meta-data": "instance-id: web01-1\n",
          "user-data": "#cloud-config\n",
        },
        watch: { signals, watchSleep: async () => void signals.emit("SIGINT") },
      });
      expect(r.code, `${line}\n${r.stderr}`).not.toBe(2);
      expect(r.requests, line).toHaveLength(1);
      expect(r.requests[0]!.kind, line).toBe(line.includes("--host ") ? "wsman" : "powershell");
    }
  });

  it("elsewhere: the sh examples", async () => {
    const text = await help({ platform: "linux", defaultTransport: "wsman" });
    expect(text).toContain("export KVP_HOST_PASSWORD=…");
    expect(text).toContain("kvp-host --host hv01 --user 'CORP\\admin' vms");
    expect(text).not.toContain("$env:");
    expect(await help({})).toBe(text);
  });
});

/**
 * A clock that only `watchSleep` moves, and what the guest writes during each pause: the
 * `watch` option of {@link run} for `wait` and `--wait`.
 */
function guestSteps(steps: (() => void)[]) {
  let clock = 0;
  let step = 0;
  const pauses: number[] = [];
  return {
    pauses,
    watch: {
      now: () => clock,
      watchSleep: async (ms: number) => {
        pauses.push(ms);
        clock += ms;
        steps[step++]?.();
      },
    },
  };
}

const READY = [
  { key: "ReadyState", value: "ready" },
  { key: "kvp-agent/status", value: "ready" },
];

describe("kvp-host wait and --wait", () => {
  it("wait prints the values once the guest shows them; exit 0", async () => {
    const r = await run(["wait", "web01", "ReadyState=ready", "report"]);
    expect(r).toMatchObject({ code: 0, stdout: "ready\nfirst-second\n", stderr: "" });
    const json = await run(["wait", "web01", "report", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      vm: { id: WEB01 },
      items: [{ source: "guest", key: "report", value: "first-second", parts: 2 }],
      reads: 1,
    });
  });

  it("wait reads every --interval until the guest writes the value", async () => {
    const host = await startSimHost();
    const g = guestSteps([() => {}, () => host.setGuestItems(WEB01, READY)]);
    const r = await run(["wait", "web01", "kvp-agent/status=ready", "--interval", "500ms"], { host, watch: g.watch });
    expect(r).toMatchObject({ code: 0, stdout: "ready\n" });
    expect(g.pauses).toEqual([500, 500]);
  });

  it("wait exits 1 at --wait-timeout saying what the guest shows; --json prints the error object", async () => {
    const host = await startSimHost();
    const g = guestSteps([]);
    const r = await run(["wait", "web01", "ReadyState=configured", "--wait-timeout", "5s", "--json"], {
      host,
      watch: g.watch,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'kvp-host: VM "web01" did not show "ReadyState"="configured" (after 5s; guest shows "ReadyState"="ready")\n',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: "not-ready", exitCode: 1 } });
    expect(g.pauses).toEqual([2000, 2000, 1000]);
  });

  it("wait: usage errors exit 2 before connecting", async () => {
    for (const args of [
      ["wait", "web01"],
      ["wait", "web01", "=x"],
      ["wait", "web01", "k", "--wait-timeout", "soon"],
      ["wait", "web01", "k", "--interval", "10ms"],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.requests, args.join(" ")).toEqual([]);
    }
  });

  it("set --wait writes, prints the report, then waits for the guest's answer", async () => {
    const host = await startSimHost();
    const g = guestSteps([() => host.setGuestItems(WEB01, READY)]);
    const r = await run(["set", "web01", "role=db", "--wait", "kvp-agent/status=ready", "--wait", "ReadyState"], {
      host,
      watch: g.watch,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'host items of "web01": 1 modified (1 call)\nguest of "web01": "kvp-agent/status"="ready", "ReadyState"="ready" (2 reads)\n',
    );
    expect(r.host.hostItems(WEB01).get("role")).toBe("db");
  });

  it("set --wait --json: the write's report with what the guest showed under waited", async () => {
    const host = await startSimHost();
    host.setGuestItems(WEB01, READY);
    const r = await run(["set", "web01", "a=1", "--wait", "kvp-agent/status=ready", "--json"], { host });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      added: ["a"],
      waited: { items: [{ key: "kvp-agent/status", value: "ready" }], reads: 1 },
    });
  });

  it("set --wait that times out exits 1 and says the set itself succeeded", async () => {
    const host = await startSimHost();
    const g = guestSteps([]);
    const r = await run(["set", "web01", "a=1", "--wait", "done", "--wait-timeout", "3s", "--json"], {
      host,
      watch: g.watch,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'kvp-host: the set succeeded, but VM "web01" did not show "done" (after 3s; guest shows "done" absent)\n',
    );
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "not-ready",
      write: { added: ["a"] },
      missing: [{ key: "done" }],
    });
    expect(r.host.hostItems(WEB01).get("a")).toBe("1");
  });

  it("--wait-timeout or --interval without --wait, or --wait with --host-only, is a usage error; nothing is written", async () => {
    for (const extra of [
      ["--wait-timeout", "1m"],
      ["--interval", "1s"],
      ["--wait", "k", "--host-only"],
    ]) {
      const r = await run(["set", "web01", "a=1", ...extra]);
      expect(r.code, extra.join(" ")).toBe(2);
      expect(r.host.hostItems(WEB01).has("a"), extra.join(" ")).toBe(false);
    }
  });
});

describe("kvp-host cloud-init", () => {
  const META = "instance-id: web01-0001\nlocal-hostname: web01\n";
  const USER = `#cloud-config\nruncmd:\n${Array.from({ length: 200 }, (_, i) => `  - echo line ${i}\n`).join("")}`;
  const NET = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";

  it("sends the documents as chunked host items, meta-data last, in one call", async () => {
    const host = await startSimHost();
    const sizes: string[][] = [];
    host.sim.model.interceptKvpMethod = ({ method, items }) => {
      sizes.push([method, ...items.map((i) => i.name)]);
      return undefined;
    };
    const r = await run(
      ["cloud-init", "web01", "--meta-data", "m", "--user-data", "u", "--network-config", "n", "--json"],
      { host, files: { m: META, u: USER, n: NET } },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const parts = Math.ceil(USER.length / 1022);
    expect(parts).toBeGreaterThan(1);
    const userKeys = Array.from({ length: parts }, (_, i) => `cloud-init/user-data#${i + 1}/${parts}`);
    expect(sizes).toEqual([["AddKvpItems", ...userKeys, "cloud-init/network-config", "cloud-init/meta-data"]]);
    expect(JSON.parse(r.stdout)).toMatchObject({
      documents: ["user-data", "network-config", "meta-data"],
      methodCalls: 1,
    });
    const items = host.hostItems(WEB01);
    expect(items.get("cloud-init/meta-data")).toBe(META);
    expect(userKeys.map((k) => items.get(k)).join("")).toBe(USER);
  });

  it("a second seed replaces the first whole: a document not given is removed, parts and all", async () => {
    const host = await startSimHost();
    // The first seed, sent by an earlier run.
    await sendCloudInit(
      host.connect().wmi,
      "web01",
      { "meta-data": META, "user-data": USER },
      { sleep: async () => {} },
    );
    expect([...host.hostItems(WEB01).keys()].filter((k) => k.startsWith("cloud-init/user-data#"))).toHaveLength(
      Math.ceil(USER.length / 1022),
    );
    const r = await run(["cloud-init", "web01", "--instance-id", "web01-0002", "--hostname", "web01"], { host });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^host items of "web01": 1 modified, \d+ stale parts removed \(2 calls\)\n$/);
    const keys = [...host.hostItems(WEB01).keys()].filter((k) => k.startsWith("cloud-init/"));
    expect(keys).toEqual(["cloud-init/meta-data"]);
    expect(host.hostItems(WEB01).get("cloud-init/meta-data")).toBe(
      'instance-id: "web01-0002"\nlocal-hostname: "web01"\n',
    );
  });

  it("cloud-init --wait returns once the guest reports", async () => {
    const host = await startSimHost();
    const g = guestSteps([() => host.setGuestItems(WEB01, READY)]);
    const r = await run(["cloud-init", "web01", "--instance-id", "i-1", "--wait", "kvp-agent/status=ready"], {
      host,
      watch: g.watch,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[1]).toBe('guest of "web01": "kvp-agent/status"="ready" (2 reads)');
  });

  it.each([
    [["--user-data", "u"], "meta-data is required"],
    [["--meta-data", "nometa"], "no instance-id"],
    [["--meta-data", "m", "--instance-id", "x"], "not both"],
    [["--hostname", "h", "--meta-data", "m"], "--hostname goes with --instance-id"],
    [["--instance-id", " "], "invalid --instance-id: empty"],
    [["--meta-data", "missing"], 'cannot read --meta-data "missing": ENOENT'],
    [["--meta-data", "m", "--user-data", "big"], '"big": user-data too large: 65537 bytes (at most 65536)'],
    [
      ["--meta-data", "m", "--user-data", "latin1"],
      '"latin1": invalid user-data: not UTF-8 (invalid byte at offset 14)',
    ],
    [["--meta-data", "m", "--user-data", "utf16"], "UTF-16"],
    [["--meta-data", "m", "--network-config", "nul"], "holds a NUL character"],
  ])("refuses %j: exit 2, nothing sent", async (args, message) => {
    const r = await run(["cloud-init", "web01", ...args], {
      files: {
        m: META,
        u: USER,
        nometa: "local-hostname: web01\n",
        big: "a".repeat(65_537),
        latin1: new Uint8Array([...new TextEncoder().encode("#cloud-config\n"), 0xe9, 0x0a]),
        utf16: new Uint8Array([0xff, 0xfe, 0x23, 0x00]),
        nul: "version: 2\0",
      },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.requests).toEqual([]);
  });

  it("a byte-order mark is dropped (cloud-init would not see #cloud-config behind it)", async () => {
    const r = await run(["cloud-init", "web01", "--instance-id", "i-1", "--user-data", "u"], {
      files: { u: new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("#cloud-config\n")]) },
    });
    expect(r.code).toBe(0);
    expect(r.host.hostItems(WEB01).get("cloud-init/user-data")).toBe("#cloud-config\n");
  });
});
