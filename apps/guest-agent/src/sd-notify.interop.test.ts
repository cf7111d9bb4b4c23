// Readiness as systemd sees it: the BUILT agent (dist/kvp-agent.cjs) runs with NOTIFY_SOCKET
// naming a unix datagram socket that python3 binds (an independent receiver: Node cannot bind
// one), and each datagram is recorded with whether the state files existed when it arrived.
// Needs python3; without it the tests fail, unless KVP_ALLOW_NO_PYTHON3=1 outside CI.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { lockFile } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { type Tool, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { afterEach, expect, it } from "vitest";

const BUNDLE = fileURLToPath(new URL("../dist/kvp-agent.cjs", import.meta.url));

const PYTHON3: Tool = {
  name: "python3",
  allowMissingEnv: "KVP_ALLOW_NO_PYTHON3",
  missing: () =>
    spawnSync("python3", ["-c", "import socket; socket.AF_UNIX"]).status === 0
      ? undefined
      : "python3 is missing (apt-get install python3)",
};

// Binds the socket (a leading @ is the abstract name space), says so, then prints one JSON
// line per datagram: its text, and whether host.json was in the state directory on arrival.
const RECEIVER = `
import json, os, socket, sys
name, state = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + name[1:] if name.startswith("@") else name)
print(json.dumps({"bound": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"message": data.decode(), "hostJson": os.path.exists(os.path.join(state, "host.json"))}), flush=True)
`;

interface Datagram {
  readonly message: string;
  readonly hostJson: boolean;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

async function receiver(socketName: string, state: string): Promise<() => Datagram[]> {
  const child = spawn("python3", ["-c", RECEIVER, socketName, state], { stdio: ["ignore", "pipe", "inherit"] });
  cleanups.push(() => kill(child));
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  const lines = () =>
    out
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Datagram & { bound?: true });
  await waitFor(() => lines().length > 0, "python3 to bind the notify socket");
  return () => lines().filter((l) => l.bound === undefined);
}

function setup() {
  const work = mkdtempSync(join(tmpdir(), "kvp-agent-notify-"));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const pools = join(work, "pools");
  const state = join(work, "state");
  mkdirSync(pools);
  writeFileSync(
    join(pools, poolFileName(0)),
    encodePool([{ key: "cloudstack-vm-userdata", value: " type=router name=r-1-VM" }]),
  );
  for (const pool of [1, 2, 3, 4] as const) writeFileSync(join(pools, poolFileName(pool)), new Uint8Array(0));
  // A hook that records whether it inherited NOTIFY_SOCKET (it must not: it is not the agent).
  const hookEnv = join(work, "hook-env");
  writeFileSync(
    join(work, "config.json"),
    JSON.stringify({
      decoders: { "cloudstack-vm-userdata": "cmdline" },
      hooks: [{ name: "env", command: ["/bin/sh", "-c", 'printf %s "${NOTIFY_SOCKET-unset}" > "$0"', hookEnv] }],
      hooksDir: join(work, "hooks.d"),
    }),
  );
  return {
    work,
    pools,
    state,
    hookEnv,
    args: ["--config", join(work, "config.json"), "--dir", pools, "--state-dir", state],
  };
}

function startAgent(args: readonly string[], notifySocket: string) {
  const child = spawn(process.execPath, [BUNDLE, ...args, "run"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", NOTIFY_SOCKET: notifySocket },
  });
  cleanups.push(() => kill(child));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

function poolOneStatus(pools: string): string | undefined {
  try {
    const records = decodePool(new Uint8Array(readFileSync(join(pools, poolFileName(1))))).records;
    return records.find((r) => r.key === "kvp-agent/status")?.value;
  } catch {
    return undefined; // read while the agent rewrites it: ask again
  }
}

describeNeeding("kvp-agent run tells systemd it is ready (sd_notify protocol)", [PYTHON3], () => {
  it("sends READY=1 only once the first harvest has written the state files, with a STATUS line; STOPPING=1 at SIGTERM", {
    timeout: 30_000,
  }, async () => {
    const s = setup();
    const socketPath = join(s.work, "notify.sock");
    const received = await receiver(socketPath, s.state);
    // Pool 0 locked: the harvest waits for it, so a READY=1 sent before the harvest would arrive now.
    const fd = openSync(join(s.pools, poolFileName(0)), "r+");
    const lock = await lockFile(fd, "write", { timeoutMs: 1000 });
    const agent = startAgent(s.args, socketPath);
    await waitFor(() => poolOneStatus(s.pools) === "starting", "the agent to report starting");
    expect(received()).toEqual([]);
    lock.release();
    closeSync(fd);

    await waitFor(() => received().some((d) => d.message.includes("READY=1")), "READY=1");
    const ready = received().find((d) => d.message.includes("READY=1"))!;
    expect(ready.hostJson).toBe(true);
    expect(ready.message).toMatch(/^READY=1\nSTATUS=.*1 host item.*\n$/);
    expect(received().filter((d) => d.message.includes("READY=1"))).toHaveLength(1);

    await waitFor(() => existsSync(s.hookEnv), "the hook's run");
    expect(readFileSync(s.hookEnv, "utf8")).toBe("unset");

    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    await waitFor(() => received().some((d) => d.message.startsWith("STOPPING=1")), "STOPPING=1");
    expect(agent.stderr()).not.toMatch(/cannot notify/);
  });

  it("speaks to an abstract socket (@NAME), as systemd's own NOTIFY_SOCKET may be", { timeout: 30_000 }, async () => {
    const s = setup();
    const name = `@kvp-agent-test-${process.pid}-${Date.now()}`;
    const received = await receiver(name, s.state);
    const agent = startAgent(s.args, name);
    await waitFor(() => received().some((d) => d.message.includes("READY=1")), "READY=1");
    expect(received()[0]).toMatchObject({ hostJson: true });
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });

  it("runs as before when NOTIFY_SOCKET names nothing usable, saying so once in the log", {
    timeout: 30_000,
  }, async () => {
    const s = setup();
    const agent = startAgent(s.args, join(s.work, "no-such.sock"));
    await waitFor(() => poolOneStatus(s.pools) === "ready", "the agent to report ready");
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect(agent.stderr().match(/cannot notify systemd/g)).toHaveLength(1);
  });
});
