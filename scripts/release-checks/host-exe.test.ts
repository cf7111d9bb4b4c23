// The kvp-host single executables of the release, as administrators run them, against
// `hyperv-sim serve` (a simulated Hyper-V host in front of the REAL hv_kvp_daemon):
// - kvp-host-<v>-win-x64.exe under Wine (no Windows machine exists here; Wine runs the
//   Windows build of Node, so the win32 code paths run for real: Windows paths, Windows
//   child processes, the Windows default transport), in a throwaway Wine prefix;
// - kvp-host-<v>-linux-x64 natively, the same commands.
// Both over sealed HTTP with NTLM (a default WinRM listener, the simulator's default) and over
// HTTPS (`--https`, its CA passed with --ca): vms, list, get, set (the value lands in the
// guest's pool 0), remove, watch (a change the guest makes meanwhile, then Ctrl-C), exit
// codes of failures. Then the PowerShell transport: Wine's powershell.exe is a stub, so the
// default transport must fail clearly; and a stand-in (powershell-stand-in.cjs, a Windows
// program under Wine) shows the bridge script the executable hands over is byte for byte
// apps/host-cli/powershell/kvp-host-bridge.ps1: it travels inside the executable.
//
// Under Wine, standard output and error go to FILES: a pipe makes Node under Wine fail at its
// first write. A Windows process under Wine receives SIGINT as a console Ctrl-C event (Node's
// SIGINT listeners run); SIGTERM ends it without running them.
//
// Needs: wine64 (Debian: `apt-get install -y --no-install-recommends wine64`), hyperv-daemons,
// and the workspace built (hyperv-sim's and kvp-pool's bundles). scripts/setup.sh --for-tests
// installs and builds all of it.
import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEA_NODE_VERSION } from "../lib/node-builds.mjs";
import { buildSea } from "../lib/sea.mjs";
import { type Platform, WINESERVER, cleanEnv, linuxPlatform, run, start, until, winePlatform } from "./platforms.js";
import { REPO_ROOT, artifact, releaseVersion } from "./support.js";

const HYPERV_SIM = join(REPO_ROOT, "packages/hyperv-sim/dist/hyperv-sim.mjs");
const KVP_POOL = join(REPO_ROOT, "apps/pool-tools/dist/kvp-pool.cjs");
const BRIDGE_SCRIPT = join(REPO_ROOT, "apps/host-cli/powershell/kvp-host-bridge.ps1");
const STAND_IN = join(import.meta.dirname, "powershell-stand-in.cjs");

let work: string;

/** What `hyperv-sim serve` prints on its one line (packages/hyperv-sim/README.md). */
interface Served {
  readonly endpoint: string;
  readonly user: string;
  readonly password: string;
  readonly caFile: string | null;
  readonly vms: readonly {
    readonly name: string;
    readonly guid: string;
    readonly poolDir: string;
    readonly daemon: string;
  }[];
}

/** Starts `hyperv-sim serve` with the real daemon, on the Linux side; resolves with its line. */
async function serve(args: readonly string[]): Promise<{ served: Served; stop: () => Promise<void> }> {
  if (!existsSync(HYPERV_SIM))
    throw new Error(`${HYPERV_SIM} is missing: build the workspace first (pnpm exec turbo run build)`);
  const child = spawn(process.execPath, [HYPERV_SIM, "serve", "--daemon", "real", "--vms", "web01,db01", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv(),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const failed = exited.then((code) => {
    throw new Error(
      `hyperv-sim serve exited with ${code} before serving (it needs the real hv_kvp_daemon: apt-get install -y hyperv-daemons): ${stderr.trim()}`,
    );
  });
  await Promise.race([until(() => stdout.includes("\n"), "hyperv-sim serve to print its line"), failed]);
  failed.catch(() => undefined);
  const served = JSON.parse(stdout.slice(0, stdout.indexOf("\n"))) as Served;
  return {
    served,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The guest's pool `pool` as key → value, read on the Linux side with kvp-pool. */
async function guestPool(poolDir: string, pool: 0 | 1): Promise<Map<string, string>> {
  const result = await run(linuxPlatform(work), process.execPath, [
    KVP_POOL,
    "--dir",
    poolDir,
    "list",
    "--pool",
    String(pool),
    "--json",
  ]);
  if (result.code !== 0) throw new Error(`kvp-pool list failed (${result.code}): ${result.stderr}`);
  return new Map((JSON.parse(result.stdout) as { key: string; value: string }[]).map((r) => [r.key, r.value]));
}

const version = releaseVersion();
const TARGETS = [
  {
    name: "kvp-host.exe under Wine",
    file: `kvp-host-${version}-win-x64.exe`,
    windows: true,
    platform: () => winePlatform(work),
  },
  {
    name: "the Linux kvp-host executable, natively",
    file: `kvp-host-${version}-linux-x64`,
    windows: false,
    platform: async () => linuxPlatform(work),
  },
] as const;

const LISTENERS = [
  { name: "sealed HTTP with NTLM (a default WinRM listener)", serveArgs: [] },
  { name: "HTTPS, its CA given with --ca", serveArgs: ["--https"] },
] as const;

describe("the notices beside the executables", () => {
  it("carry Node's licence for the embedded release and every package the bundle inlines", () => {
    const text = readFileSync(artifact(`kvp-host-${releaseVersion()}-THIRD-PARTY-NOTICES.txt`), "utf8");
    expect(text).toMatch(new RegExp(`^node ${SEA_NODE_VERSION.replaceAll(".", "\\.")} \\(`, "m"));
    expect(text).toContain("Node.js is licensed for use as follows:");
    expect(text).toMatch(/^commander \d+\.\d+\.\d+ \(MIT\)$/m);
    expect(text).toMatch(/^fast-xml-parser \d+\.\d+\.\d+ \(MIT\)$/m);
  });
});

describe.each(TARGETS)("$name", (target) => {
  let platform: Platform;
  let exe: string;

  beforeAll(async () => {
    if (!existsSync(KVP_POOL))
      throw new Error(`${KVP_POOL} is missing: build the workspace first (pnpm exec turbo run build)`);
    exe = artifact(target.file);
    work = mkdtempSync(join(tmpdir(), "kvp-host-exe-check-"));
    platform = await target.platform();
  });

  afterAll(async () => {
    if (platform?.windows) await run(platform, WINESERVER, ["-k"]).catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("--help runs and shows the examples for its platform's shells", async () => {
    const help = await run(platform, exe, ["--help"]);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kvp-host \[options\] \[command\]/);
    if (platform.windows) {
      expect(help.stdout).toContain("each kvp-host line runs as written in PowerShell and in cmd");
      expect(help.stdout).toContain("kvp-host --host hv01 --user CORP\\admin vms");
      expect(help.stdout).not.toContain("export KVP_HOST_PASSWORD");
    } else {
      expect(help.stdout).toContain("export KVP_HOST_PASSWORD=…");
    }
  });

  it("starts from the compile cache its first run left in the user's own place (Windows: %LOCALAPPDATA%)", async () => {
    // Linux: a home of the check's own, so ~/.cache is the default place and not the tester's.
    const home = join(platform.workDir, "home");
    const env: Record<string, string> = platform.windows ? {} : { HOME: home, XDG_CACHE_HOME: "" };
    const cacheDir = () => {
      if (!platform.windows) return join(home, ".cache", "hyperv-kvp", "compile-cache");
      const users = join(platform.workDir, "wine-prefix", "drive_c", "users");
      const found = readdirSync(users)
        .map((user) => join(users, user, "AppData", "Local", "hyperv-kvp", "compile-cache"))
        .filter((dir) => existsSync(dir));
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    const first = await run(platform, exe, ["--version"], env);
    expect(first.code).toBe(0);
    const dir = cacheDir();
    const caches = readdirSync(dir).filter((name) => /^kvp-host-[0-9a-f]{8}\.[0-9a-f]{8}\.none\.v8$/.test(name));
    expect(caches).toHaveLength(1);
    const before = statSync(join(dir, caches[0]!));
    expect(before.size).toBeGreaterThan(10_000);
    const second = await run(platform, exe, ["--version"], env);
    expect(second.stdout).toBe(first.stdout);
    // Read and accepted: a refused or unreadable cache would be written again.
    const after = statSync(join(dir, caches[0]!));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  describe.each(LISTENERS)("against hyperv-sim serve (real hv_kvp_daemon), $name", (listener) => {
    let sim: Awaited<ReturnType<typeof serve>>;
    let connection: string[];
    let env: Record<string, string>;
    const web01 = () => sim.served.vms.find((vm) => vm.name === "web01")!;

    beforeAll(async () => {
      sim = await serve(listener.serveArgs);
      expect(sim.served.vms.every((vm) => vm.daemon === "real")).toBe(true);
      // No --transport: on Windows --endpoint alone must choose WS-Management.
      connection = ["--endpoint", sim.served.endpoint, "--user", sim.served.user];
      if (sim.served.caFile !== null) connection.push("--ca", platform.pathFor(sim.served.caFile));
      env = { KVP_HOST_PASSWORD: sim.served.password };
    });

    afterAll(async () => {
      await sim?.stop();
    });

    it("vms lists the simulated VMs", async () => {
      const r = await run(platform, exe, [...connection, "vms", "--json"], env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const listed = JSON.parse(r.stdout) as { id: string; name: string; enabledState: number }[];
      expect(listed.map((vm) => [vm.name, vm.id, vm.enabledState]).sort()).toEqual(
        sim.served.vms.map((vm) => [vm.name, vm.guid, 2]).sort(),
      );
    });

    it("set puts the value into the guest's pool 0; list and get read it back; remove takes it out", async () => {
      const value = `web ${target.file} ${listener.serveArgs.join("")} é☃`;
      const set = await run(platform, exe, [...connection, "set", "web01", `role=${value}`, "tier=1"], env);
      expect(set.stderr).toBe("");
      expect(set.code).toBe(0);
      expect(set.stdout).toBe('host items of "web01": 2 added (1 call)\n');
      const pool0 = await guestPool(web01().poolDir, 0);
      expect(pool0.get("role")).toBe(value);
      expect(pool0.get("tier")).toBe("1");

      const list = await run(platform, exe, [...connection, "list", "web01", "--source", "host", "--json"], env);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout).items).toEqual([
        { source: "host", key: "role", value },
        { source: "host", key: "tier", value: "1" },
      ]);
      const get = await run(platform, exe, [...connection, "get", "web01", "role"], env);
      expect(get.code).toBe(0);
      // Text mode writes UTF-8 whatever the Windows console's code page: the bytes are the value's.
      expect(get.stdout).toBe(`${value}\n`);
      // What the real daemon reports about the guest (its pool 2, synthesised).
      const intrinsic = await run(
        platform,
        exe,
        [...connection, "get", "web01", "OSName", "--source", "intrinsic"],
        env,
      );
      expect(intrinsic.code).toBe(0);
      expect(intrinsic.stdout.trim()).not.toBe("");

      const remove = await run(platform, exe, [...connection, "remove", "web01", "role", "tier"], env);
      expect(remove.stderr).toBe("");
      expect(remove.code).toBe(0);
      const after = await guestPool(web01().poolDir, 0);
      expect(after.has("role")).toBe(false);
      expect(after.has("tier")).toBe(false);
    });

    it("watch sees what the guest writes meanwhile, and Ctrl-C (SIGINT) stops it cleanly", async () => {
      const watch = start(platform, exe, [...connection, "watch", "web01", "--json", "--interval", "200ms"], env);
      try {
        await until(() => watch.stderr().includes("kvp-host: watching guest items"), "the watch to start");
        const key = `watched-${listener.serveArgs.length}`;
        const write = await run(linuxPlatform(work), process.execPath, [
          KVP_POOL,
          "--dir",
          web01().poolDir,
          "set",
          key,
          "up",
        ]);
        expect(write.code).toBe(0);
        await until(() => watch.stdout().includes(key), "the watch to report the guest's write");
        const event = JSON.parse(watch.stdout().trim().split("\n").at(-1)!);
        expect(event).toMatchObject({ type: "added", source: "guest", key, value: "up" });
      } finally {
        watch.interrupt();
      }
      const ended = await watch.ended;
      // The line is written after the watch loop ended on the signal: the handler ran.
      expect(ended.stderr.trim().split("\n").at(-1)).toBe("kvp-host: stopped watching");
      expect(ended.code).toBe(0);
    });

    it("exit codes: a missing VM 1, a wrong password 3, each with a one-line message", async () => {
      const missing = await run(platform, exe, [...connection, "list", "no-such-vm"], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('kvp-host: no VM named "no-such-vm" (kvp-host vms lists them)\n');
      const wrong = await run(platform, exe, [...connection, "vms"], { KVP_HOST_PASSWORD: "wrong-password" });
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toMatch(
        /^kvp-host: .* refused the NTLM credentials of Administrator: wrong password or unknown user .*\n$/,
      );
      expect(wrong.stderr.split("\n")).toHaveLength(2);
    });
  });

  it("--host means WS-Management on every platform: port 5985 of a closed address is a connection failure (3), not a usage error", async () => {
    const r = await run(
      platform,
      exe,
      ["--host", "127.0.0.9", "--http", "--user", "admin", "--timeout", "20s", "vms"],
      {
        KVP_HOST_PASSWORD: "x",
      },
    );
    expect(r.stderr).toMatch(/^kvp-host: .*127\.0\.0\.9/);
    expect(r.code).toBe(3);
  });

  it("the PowerShell bridge script it hands over is byte for byte the repository's kvp-host-bridge.ps1, removed afterwards", async () => {
    // kvp-host hands PowerShell only an allow-list of variables, so the stand-in learns where
    // to write its report from its own place (the Windows program) or from its wrapper.
    let standIn: string;
    let report: string;
    if (platform.windows) {
      // A Windows program, so the executable starts it the Windows way under Wine.
      standIn = join(work, "powershell-stand-in.exe");
      report = `${standIn}.report.json`;
      await buildSea({ bundle: STAND_IN, target: "win-x64", out: standIn });
    } else {
      standIn = join(work, "powershell-stand-in");
      report = join(work, "stand-in-report.json");
      writeFileSync(
        standIn,
        `#!/bin/sh\nKVP_STAND_IN_REPORT='${report}' exec '${process.execPath}' '${STAND_IN}' "$@"\n`,
      );
      chmodSync(standIn, 0o755);
    }
    const temp = join(work, "tmp");
    mkdirSync(temp);
    // Windows' default transport is PowerShell; elsewhere it is asked for.
    const args = platform.windows ? ["vms"] : ["--transport", "powershell", "vms"];
    const r = await run(platform, exe, args, {
      KVP_HOST_POWERSHELL: platform.pathFor(standIn),
      KVP_HOST_PASSWORD: "not for the bridge",
      TMPDIR: temp,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("(no VMs)\n");
    expect(r.code).toBe(0);
    const seen = JSON.parse(readFileSync(report, "utf8")) as {
      args: string[];
      path: string;
      script: string;
      env: string[];
    };
    // The password (and anything else not on the bridge's allow-list) stays with kvp-host.
    expect(seen.env.map((name) => name.toUpperCase())).not.toContain("KVP_HOST_PASSWORD");
    expect(seen.args).toEqual([
      "-NoLogo",
      "-NoProfile",
      "-NonInteractive",
      "-ExecutionPolicy",
      "Bypass",
      "-File",
      seen.path,
    ]);
    expect(seen.path).toMatch(
      platform.windows
        ? /^[A-Z]:\\.*\\kvp-host-bridge-[^\\]+\\kvp-host-bridge\.ps1$/
        : /\/kvp-host-bridge-[^/]+\/kvp-host-bridge\.ps1$/,
    );
    expect(Buffer.from(seen.script, "base64").equals(readFileSync(BRIDGE_SCRIPT))).toBe(true);
    // The temporary copy and its directory are gone.
    expect(existsSync(platform.unixPath(seen.path))).toBe(false);
    expect(existsSync(join(platform.unixPath(seen.path), ".."))).toBe(false);
  });

  // Only Windows has PowerShell as its default transport.
  if (target.windows) {
    it("without --host or --endpoint it uses PowerShell, and Wine's stub powershell.exe fails clearly (3)", async () => {
      const r = await run(platform, exe, ["vms"]);
      expect(r.code).toBe(3);
      // Windows PowerShell is named by its full path in the system directory, never looked up.
      expect(r.stderr).toBe(
        "kvp-host: C:\\windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe exited with code 0 before the bridge's hello, with nothing on stderr: it did not run the bridge script (Wine's stub powershell.exe does that); " +
          "kvp-host needs Windows PowerShell 5.1 or PowerShell 7 (--pwsh), or another executable in $KVP_HOST_POWERSHELL, or reach the host over WS-Management (--host or --endpoint)\n",
      );
    });
  }
});
