// The CloudStack recipe (packaging/examples/cloudstack): the hook that writes
// /var/cache/cloud/cmdline from the host's boot arguments, run with /bin/sh as the agent and
// the boot script run it (value on stdin), against a scratch root; and its config snippet.
import { spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "./config.js";

const RECIPE = fileURLToPath(new URL("../packaging/examples/cloudstack/", import.meta.url));
const HOOK = join(RECIPE, "kvp-cloudstack-hook");
const work = mkdtempSync(join(tmpdir(), "kvp-agent-cloudstack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Real-shaped boot arguments of a console proxy, with the leading space CloudStack sends. */
const CONSOLE_PROXY_ARGS =
  " template=domP type=consoleproxy host=192.168.10.123 port=8250 name=v-2-VM zone=1 pod=1 guid=Proxy.2 proxy_vm=2 disable_rp_filter=true eth2ip=192.168.10.81 eth2mask=255.255.0.0 gateway=192.168.0.176 eth0ip=169.254.2.238 eth0mask=255.255.0.0 eth1ip=192.168.10.80 eth1mask=255.255.0.0 mgmtcidr=192.168.0.0/16 localgw=192.168.0.176 internaldns1=192.168.0.1 dns1=8.8.8.8 nfs";

let roots = 0;
function runHook(stdin: string, env: Record<string, string> = { KVP_EVENT: "added" }, root?: string) {
  const dir = root ?? join(work, `root-${++roots}`);
  mkdirSync(dir, { recursive: true });
  const result = spawnSync("/bin/sh", [HOOK, dir], {
    input: stdin,
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
  });
  const cmdline = join(dir, "var/cache/cloud/cmdline");
  const read = () => {
    try {
      return readFileSync(cmdline, "utf8");
    } catch {
      return undefined;
    }
  };
  return { ...result, root: dir, cmdline, content: read() };
}

describe("kvp-cloudstack-hook", () => {
  it("writes the boot arguments as one line, as the system VM's scripts read /var/cache/cloud/cmdline", () => {
    const run = runHook(CONSOLE_PROXY_ARGS);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.content).toBe(`${CONSOLE_PROXY_ARGS.trim()}\n`);
    // What the system VM's boot script does with it next.
    const type = spawnSync("grep", ["-Po", "type=\\K[a-zA-Z]*", run.cmdline], { encoding: "utf8" });
    expect(type.stdout).toBe("consoleproxy\n");
    // No temporary file left beside it.
    expect(readdirSync(join(run.root, "var/cache/cloud"))).toEqual(["cmdline"]);
  });

  it("takes what `kvp-agent wait` prints (the value and a newline) the same way", () => {
    expect(runHook(`${CONSOLE_PROXY_ARGS}\n`, {}).content).toBe(`${CONSOLE_PROXY_ARGS.trim()}\n`);
  });

  it("keeps quoted values and every byte between the first and last argument as the host sent them", () => {
    const args = ' type=router name=r-1-VM motd="hello  world" authorized_key=c3NoLXJzYSBBQUFB== é';
    expect(runHook(args).content).toBe(`${args.trim()}\n`);
  });

  it("replaces the file atomically, never writing through a planted link", () => {
    const root = join(work, "link-root");
    mkdirSync(join(root, "var/cache/cloud"), { recursive: true });
    const victim = join(work, "victim");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(root, "var/cache/cloud/cmdline"));
    const run = runHook(" type=router name=r-1-VM", { KVP_EVENT: "changed" }, root);
    expect(run.status).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(lstatSync(run.cmdline).isFile()).toBe(true);
    expect(run.content).toBe("type=router name=r-1-VM\n");
  });

  it("refuses a cmdline that is a directory or a link to one (mv would move the file into it)", () => {
    const root = join(work, "dir-link-root");
    mkdirSync(join(root, "var/cache/cloud"), { recursive: true });
    const elsewhere = join(work, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(root, "var/cache/cloud/cmdline"));
    const run = runHook(" type=router name=r-1-VM", { KVP_EVENT: "added" }, root);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/directory/);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readdirSync(join(root, "var/cache/cloud"))).toEqual(["cmdline"]);
  });

  it.each([
    ["nothing", "", /empty/],
    ["white space only", "  \n", /empty/],
    ["no type= argument", " name=r-1-VM host=10.0.0.1", /type=/],
    ["a newline inside", " type=router\nname=evil", /control character/],
    ["a carriage return", " type=router name=r\r-1", /control character/],
    ["a tab", " type=router\tname=r-1", /control character/],
  ])("refuses %s, leaving any earlier file as it was", (_, value, message) => {
    const root = join(work, `refused-${++roots}`);
    mkdirSync(join(root, "var/cache/cloud"), { recursive: true });
    writeFileSync(join(root, "var/cache/cloud/cmdline"), "type=router name=before\n");
    const run = runHook(value, { KVP_EVENT: "changed" }, root);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^kvp-cloudstack-hook: /);
    expect(run.content).toBe("type=router name=before\n");
    expect(readdirSync(join(root, "var/cache/cloud"))).toEqual(["cmdline"]);
  });

  it("leaves the file when the host removes the key (the VM keeps the arguments it booted with)", () => {
    const root = join(work, "removed");
    mkdirSync(join(root, "var/cache/cloud"), { recursive: true });
    writeFileSync(join(root, "var/cache/cloud/cmdline"), "type=router name=before\n");
    const run = runHook("", { KVP_EVENT: "removed" }, root);
    expect(run.status).toBe(0);
    expect(run.content).toBe("type=router name=before\n");
  });
});

describe("the recipe's config", () => {
  it("decodes the user data as a kernel command line and runs the hook when it arrives or changes", () => {
    const config = validateConfig(JSON.parse(readFileSync(join(RECIPE, "config.json"), "utf8")), "config.json");
    expect(config.decoders).toEqual([{ pattern: "cloudstack-vm-userdata", decoder: "cmdline" }]);
    expect(config.hooks).toEqual([
      expect.objectContaining({
        name: "cloudstack",
        command: ["/usr/local/sbin/kvp-cloudstack-hook"],
        keys: ["cloudstack-vm-userdata"],
        events: ["added", "changed"],
      }),
    ]);
  });
});
