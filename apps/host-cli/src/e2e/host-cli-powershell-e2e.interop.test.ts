// End to end, the local PowerShell transport as users run it: the BUILT kvp-host bundle with
// `--transport powershell` starts "PowerShell" with the bridge script it ships
// (dist/powershell/kvp-host-bridge.ps1). No PowerShell runs here, so $KVP_HOST_POWERSHELL
// names a wrapper that checks it was given that script and then runs the TEST STAND-IN
// (src/test-support/powershell-stand-in.ts), which speaks the bridge's protocol on top of
// hyperv-sim's WMI host (real hv_kvp_daemon behind it). This proves kvp-host's side — the
// bundle finding its script, spawning, the protocol, errors, exit codes — not the script.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type SelfSignedCertificate,
  type WmiHost,
  makeSelfSignedCertificate,
  startWmiHost,
} from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KVP_HOST, type Run, poolOf, runNode } from "./support.js";
import { bundleStandIn } from "../test-support/bundle-stand-in.js";

const SHIPPED_SCRIPT = fileURLToPath(new URL("../../dist/powershell/kvp-host-bridge.ps1", import.meta.url));
const USER = "Administrator";
const PASSWORD = "Ps-E2e-Pa55!";
const policy = realDaemonPolicy();

describe("kvp-host --transport powershell (built bundle) through the bridge stand-in, against hyperv-sim with the real hv_kvp_daemon", () => {
  if (standInForMissingTools(policy)) return;

  let dir: string;
  let cert: SelfSignedCertificate;
  let host: WmiHost;
  let env: Record<string, string | undefined>;
  const kvpHost = (args: readonly string[], extra: Record<string, string> = {}): Promise<Run> =>
    runNode(KVP_HOST, ["--transport", "powershell", ...args], { ...env, ...extra });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kvp-host-ps-e2e-"));
    await bundleStandIn(join(dir, "stand-in.cjs"));
    const wrapper = join(dir, "fake-powershell");
    cert = makeSelfSignedCertificate();
    host = await startWmiHost({
      vms: ["web01"],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [USER]: PASSWORD },
    });
    // Stands where powershell.exe would: refuses to run unless handed the shipped script with
    // -File; records the environment kvp-host gave it. kvp-host passes the bridge only an
    // allow-list of variables, so the stand-in's own settings are written in here.
    writeFileSync(
      wrapper,
      [
        "#!/bin/sh",
        "for last; do :; done",
        '[ "$1" = "-NoLogo" ] && [ -f "$last" ] || { echo "fake-powershell: not the bridge invocation: $*" >&2; exit 9; }',
        `printf '%s\\n' "$*" > "${join(dir, "invocation")}"`,
        `env > "${join(dir, "environment")}"`,
        `export KVP_STAND_IN_ENDPOINT='${host.endpoint}' KVP_STAND_IN_USER='${USER}' KVP_STAND_IN_PASSWORD='${PASSWORD}' KVP_STAND_IN_CA='${cert.certPath}'`,
        `exec "${process.execPath}" "${join(dir, "stand-in.cjs")}"`,
        "",
      ].join("\n"),
    );
    chmodSync(wrapper, 0o755);
    // A password in the environment must not reach the bridge (it needs none: it runs as the user).
    env = { ...process.env, KVP_HOST_POWERSHELL: wrapper, KVP_HOST_PASSWORD: "Not-For-The-Bridge!" };
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("ships the bridge script beside the bundle and starts PowerShell with it", async () => {
    expect(existsSync(SHIPPED_SCRIPT)).toBe(true);
    const r = await kvpHost(["vms", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string; id: string }[]).map((v) => [v.name, v.id])).toEqual([
      ["web01", host.vms[0]!.guid],
    ]);
    expect(readFileSync(join(dir, "invocation"), "utf8").trim()).toBe(
      `-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File ${SHIPPED_SCRIPT}`,
    );
    const environment = readFileSync(join(dir, "environment"), "utf8");
    expect(environment).not.toContain("Not-For-The-Bridge!");
    expect(environment).not.toContain("KVP_HOST_POWERSHELL");
  });

  it("set and get go through the bridge into the guest's pool 0, values with quotes and non-ASCII intact", async () => {
    const value = `it's "quoted"; $(not-run) — Grüße 👋`;
    const r = await kvpHost(["set", "web01", `note=${value}`, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ added: ["note"], methodCalls: 1 });
    const pool = poolOf(host.vms[0]!.poolDir, 0);
    expect(pool.get("note")).toBe(value);
    const g = await kvpHost(["get", "web01", "note", "--source", "host"]);
    expect(g.stdout).toBe(`${value}\n`);
  });

  it("a host error through the bridge exits with kvp-host's codes: add over an existing key is 4", async () => {
    const r = await kvpHost(["add", "web01", "note=again"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('"note" already exists');
  });

  it("no PowerShell: exit 3 with what to do; --host with the PowerShell transport: exit 2", async () => {
    const missing = await kvpHost(["vms"], { KVP_HOST_POWERSHELL: join(dir, "no-such-powershell") });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(
      /^kvp-host: PowerShell not found: .*no-such-powershell.*reach the host over WS-Management \(--host or --endpoint\)\n$/,
    );
    const remote = await kvpHost(["--host", "hv01", "vms"]);
    expect(remote.code).toBe(2);
  });
});
