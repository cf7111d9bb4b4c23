// End to end, the CloudStack recipe (packaging/examples/cloudstack) as a system VM runs it:
// the BUILT agent (dist/kvp-agent.cjs) as a child process with the recipe's config and hook,
// against pool files that Debian's REAL /usr/sbin/hv_kvp_daemon serves to a simulated Hyper-V
// host (@hyperv-kvp/hyperv-sim). The host sends a router's real-shaped boot arguments, longer
// than one KVP item, as `kvp-host set --chunk` stores them (kvp-core's splitValue: parts
// `KEY#i/N`), one part at a time; the VM ends with /var/cache/cloud/cmdline (under a scratch
// root) holding exactly the arguments, written once, when the value is whole. The boot
// script's path (`kvp-agent wait … | kvp-cloudstack-hook`) gives the same file. Needs
// hv_kvp_daemon (apt-get install hyperv-daemons) and cc: without them the tests fail, unless
// KVP_ALLOW_NO_DAEMON=1 is set outside CI.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HOST_MAX_VALUE_UNITS, splitValue } from "@hyperv-kvp/kvp-core";
import { type SimulatedHost, startSimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { waitFor } from "@hyperv-kvp/test-support";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { afterEach, describe, expect, it } from "vitest";

const BUNDLE = fileURLToPath(new URL("../../dist/kvp-agent.cjs", import.meta.url));
const RECIPE = fileURLToPath(new URL("../../packaging/examples/cloudstack/", import.meta.url));
const USERDATA = "cloudstack-vm-userdata";

/** A router's boot arguments as CloudStack's management server sends them: a leading space, then one line. */
function routerBootArgs(): { args: string; sshKey: string } {
  // The size of a 4096-bit RSA public key's blob.
  const sshKey = `ssh-rsa ${randomBytes(535).toString("base64")} root@cloud-mgmt`;
  const args = [
    "",
    "template=domP",
    "name=r-4-VM",
    "eth2ip=192.168.10.91",
    "eth2mask=255.255.0.0",
    "gateway=192.168.0.176",
    "public.network.device=eth2",
    "eth0ip=10.1.1.1",
    "eth0mask=255.255.255.0",
    "domain=cs2cloud.internal",
    "cidrsize=24",
    "dhcprange=10.1.1.1",
    "eth1ip=169.254.3.41",
    "eth1mask=255.255.0.0",
    "type=router",
    "disable_rp_filter=true",
    "dns1=8.8.8.8",
    "dns2=8.8.4.4",
    "privatevmip=169.254.3.41",
    "redundant_router=0",
    "useextdns=false",
    "extra_pubnics=3",
    "ntpserverlist=0.pool.ntp.org,1.pool.ntp.org",
    `authorized_key=${Buffer.from(sshKey).toString("base64")}`,
    "baremetalnotificationsecuritykey=7bT3kS2wq9ZbXo1Lr4Ce",
    "baremetalnotificationapikey=Xq0yF5n3VbT8rW2pZ6aH1jKd",
    "host=192.168.10.123",
    "port=8080",
  ].join(" ");
  return { args, sshKey };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Runs the bundle to completion, asynchronously (the simulated host lives in this process). */
function runAsync(
  command: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the CloudStack recipe end to end (real hv_kvp_daemon)", () => {
  if (standInForMissingTools(realDaemonPolicy())) return;

  it("chunked boot arguments from the host become /var/cache/cloud/cmdline, once, when whole", {
    timeout: 60_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), "kvp-agent-cloudstack-e2e-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const poolDir = join(work, "pools");
    const state = join(work, "state");
    const vmRoot = join(work, "vm");
    // The recipe as the README installs it, the hook pointed at a scratch root.
    mkdirSync(join(work, "sbin"));
    const hook = join(work, "sbin", "kvp-cloudstack-hook");
    copyFileSync(join(RECIPE, "kvp-cloudstack-hook"), hook);
    const config = JSON.parse(readFileSync(join(RECIPE, "config.json"), "utf8")) as {
      hooks: { command: string[] }[];
      hooksDir?: string;
    };
    config.hooks[0]!.command = [hook, vmRoot];
    config.hooksDir = join(work, "hooks.d");
    writeFileSync(join(work, "config.json"), JSON.stringify(config));
    const agentArgs = ["--config", join(work, "config.json"), "--dir", poolDir, "--state-dir", state];

    const host: SimulatedHost = await startSimulatedHost({ daemon: "real", poolDir });
    cleanups.push(() => host.close());
    expect(host.daemon).toBe("real");
    await host.sendHostFacts({ VirtualMachineName: "r-4-VM" });

    const agent = spawn(process.execPath, [BUNDLE, ...agentArgs, "run"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
    });
    cleanups.push(() => kill(agent));
    let stderr = "";
    agent.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => agent.once("close", (code) => resolve(code)));
    const status = () => readJson(join(state, "agent-status.json"));
    await waitFor(() => status()?.["status"] === "ready", "the agent to be ready");

    const { args, sshKey } = routerBootArgs();
    // A 4096-bit RSA key alone takes most of an item: the arguments need two.
    expect(args.length).toBeGreaterThan(HOST_MAX_VALUE_UNITS);
    const parts = splitValue(USERDATA, args);
    expect(parts.map((p) => p.key)).toEqual([`${USERDATA}#1/2`, `${USERDATA}#2/2`]);

    // The first part alone: the agent notes it, no value exists, the hook does not run.
    const cmdline = join(vmRoot, "var/cache/cloud/cmdline");
    await host.set(0, parts[0]!.key, parts[0]!.value);
    await waitFor(
      () => JSON.stringify(status()?.["chunks"] ?? []).includes(USERDATA),
      "the agent to note the incomplete value",
    );
    expect(readJson(join(state, "host.json"))).toEqual({});
    expect(existsSync(cmdline)).toBe(false);

    // The last part: the value is whole, the hook writes the file.
    await host.set(0, parts[1]!.key, parts[1]!.value);
    await waitFor(() => existsSync(cmdline), "the hook to write /var/cache/cloud/cmdline");
    expect(readFileSync(cmdline, "utf8")).toBe(`${args.slice(1)}\n`);
    expect(readJson(join(state, "host.json"))).toEqual({ [USERDATA]: args });
    const decoded = readJson(join(state, "host-decoded.json"))?.[USERDATA] as {
      decoder: string;
      value: Record<string, string>;
    };
    expect(decoded).toMatchObject({ decoder: "cmdline", ok: true, value: { type: "router", name: "r-4-VM" } });
    expect(Buffer.from(decoded.value["authorized_key"]!, "base64").toString()).toBe(sshKey);

    // What the system VM's scripts then do with the file.
    expect(spawnSync("grep", ["-Po", "type=\\K[a-zA-Z]*", cmdline], { encoding: "utf8" }).stdout).toBe("router\n");
    // Word-split, as their parse_cmd_line does, and the key base64-decoded.
    const splitKey =
      'for i in $(cat "$0"); do case $i in authorized_key=*) printf %s "$i" | cut -d= -f2 | base64 -d;; esac; done';
    const sourced = spawnSync("/bin/sh", ["-c", splitKey, cmdline], { encoding: "utf8" });
    expect(sourced.stdout).toBe(sshKey);

    // The hook ran once, for the whole value, and the host sees its result.
    await waitFor(async () => {
      const records = (await host.enumerate(1)).records;
      return records.some((r) => r.key === "kvp-agent/hook/cloudstack");
    }, "the hook's result in pool 1");
    const report = (await host.enumerate(1)).records.find((r) => r.key === "kvp-agent/hook/cloudstack")!;
    expect(JSON.parse(report.value)).toMatchObject({ event: "added", key: USERDATA, exit: 0 });
    const hooks = (status()?.["hooks"] ?? {}) as Record<string, { key: string }>;
    expect(Object.values(hooks).map((h) => h.key)).toEqual([USERDATA]);

    // The boot script's path: wait for the whole value and pipe it to the same script.
    const bootRoot = join(work, "boot-root");
    const wait = await runAsync("/bin/sh", [
      "-c",
      '"$0" "$1" --config "$2" --dir "$3" --state-dir "$4" wait cloudstack-vm-userdata --timeout 10s | "$5" "$6"',
      process.execPath,
      BUNDLE,
      join(work, "config.json"),
      poolDir,
      join(work, "wait-state"),
      hook,
      bootRoot,
    ]);
    expect(wait.stderr).toBe("");
    expect(wait.code).toBe(0);
    expect(readFileSync(join(bootRoot, "var/cache/cloud/cmdline"), "utf8")).toBe(`${args.slice(1)}\n`);

    agent.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
    expect(stderr).not.toMatch(/kvp-cloudstack-hook:/);
  });
});
