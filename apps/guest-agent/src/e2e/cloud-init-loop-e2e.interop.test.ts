// End to end, the whole loop in one run, every part a real process: the BUILT kvp-host bundle
// (`cloud-init … --wait`) sends a seed's documents over HTTPS to packages/hyperv-sim's WMI host,
// whose VM is backed by Debian's REAL hv_kvp_daemon; the BUILT agent's boot step
// (`kvp-agent cloud-init-seed`, started first, as at first boot) writes the NoCloud seed;
// Debian's REAL cloud-init 22.4 (`init --local`, `init`, isolated from this machine by
// src/test-support/isolated-cloud-init.ts) reads it and applies the user-data; the guest answers
// with the built `kvp-agent report`, as the user-data's runcmd would; and only then does the
// waiting kvp-host return. Prints how long each step took (not asserted: 2 shared cores).
// Needs hv_kvp_daemon, cc, openssl, cloud-init, unshare and root: missing one fails the test
// (KVP_ALLOW_NO_… skips it knowingly outside CI), and so does an unbuilt kvp-host bundle.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { makeSelfSignedCertificate, startWmiHost } from "@hyperv-kvp/hyperv-sim";
import { CLOUD_INIT_KEYS, splitValue } from "@hyperv-kvp/kvp-core";
import {
  C_COMPILER,
  CLOUD_INIT,
  OPENSSL,
  REAL_DAEMON,
  standInForMissingTools,
  toolPolicy,
} from "@hyperv-kvp/test-support/tools";
import { afterEach, describe, expect, it } from "vitest";
import { bootIsolatedCloudInit, isolatedRoot } from "../test-support/isolated-cloud-init.js";
import { KVP_AGENT, KVP_HOST, startBundle } from "./support.js";

const USER = "Administrator";
const PASSWORD = "E2e-Pa55w0rd!";
const AWAITED = "kvp-agent/report/cloud-init";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("the loop: kvp-host cloud-init --wait → real daemon → agent's seed → real cloud-init → report → kvp-host returns", () => {
  // openssl beside the cloud-init test's tools: the simulator serves HTTPS with a throwaway certificate.
  if (standInForMissingTools(toolPolicy([REAL_DAEMON, C_COMPILER, OPENSSL, CLOUD_INIT]))) return;

  it("one kvp-host command configures a first-booting VM through cloud-init and returns once the guest reports done", {
    timeout: 150_000,
  }, async () => {
    if (!existsSync(KVP_HOST)) {
      throw new Error(`the kvp-host bundle is not built (${KVP_HOST}): run \`pnpm exec turbo run build\` first`);
    }
    const work = mkdtempSync(join(tmpdir(), "kvp-agent-cloud-init-loop-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const cert = makeSelfSignedCertificate();
    cleanups.push(() => rmSync(cert.dir, { recursive: true, force: true }));
    const host = await startWmiHost({
      vms: ["vm1"],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [USER]: PASSWORD },
    });
    cleanups.push(() => host.close());
    const vm = host.vms[0]!;
    expect(vm.daemon).toBe("real");

    // The guest: its cloud-init root (isolated), and the agent's config as a template builder sets it.
    const root = isolatedRoot(join(work, "root"));
    const config = join(work, "config.json");
    writeFileSync(
      config,
      JSON.stringify({ cloudInit: { enabled: true, seedDir: root.seedDir, firstBootWaitSeconds: 60 } }),
    );
    const agentArgs = ["--config", config, "--dir", vm.poolDir, "--state-dir", join(work, "state")];

    // The host's inputs, as for cloud-localds: a meta-data and a user-data file.
    const applied = join(root.out, "applied-from-kvp-host.txt");
    const padding = Array.from({ length: 60 }, (_, i) => `# padding line ${i} so kvp-host sends it in parts`).join(
      "\n",
    );
    const userData = `#cloud-config\n${padding}\nwrite_files:\n  - path: ${applied}\n    content: "written by cloud-init from kvp-host's user-data\\n"\n    permissions: "0640"\nruncmd:\n  - [kvp-agent, report, cloud-init, done]\n`;
    const metaData = "instance-id: iid-kvp-loop-1\nlocal-hostname: kvp-loop-vm\n";
    expect(splitValue(CLOUD_INIT_KEYS["user-data"], userData).length).toBeGreaterThan(1);
    const inputs = join(work, "host");
    mkdirSync(inputs);
    writeFileSync(join(inputs, "user-data"), userData);
    writeFileSync(join(inputs, "meta-data"), metaData);

    // 1. First boot: the boot step starts before the host has sent anything, and waits.
    const seeding = startBundle(KVP_AGENT, [...agentArgs, "cloud-init-seed", "--json"]);
    cleanups.push(seeding.stop);

    // 2. The host's one command, in the background.
    const started = performance.now();
    const kvpHost = startBundle(
      KVP_HOST,
      [
        "--endpoint",
        host.endpoint,
        "--user",
        USER,
        "--ca",
        cert.certPath,
        "cloud-init",
        "vm1",
        "--meta-data",
        join(inputs, "meta-data"),
        "--user-data",
        join(inputs, "user-data"),
        "--wait",
        `${AWAITED}=done`,
        "--wait-timeout",
        "90s",
        "--interval",
        "200ms",
      ],
      { KVP_HOST_PASSWORD: PASSWORD },
    );
    cleanups.push(kvpHost.stop);

    // 3. The boot step writes the seed once the host's documents are whole.
    // kvp-host ending first (a refused argument, a failed send) would otherwise show as the boot step's long wait.
    const hostEndedFirst = kvpHost.done.then((run): never => {
      throw new Error(`kvp-host ended (exit ${run.code}) before the seed was written: ${run.stderr}${run.stdout}`);
    });
    const seeded = await Promise.race([seeding.done, hostEndedFirst]);
    const seedWritten = performance.now();
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({
      state: "written",
      seedDir: root.seedDir,
      written: ["user-data", "meta-data"],
    });
    expect(readFileSync(join(root.seedDir, "user-data"), "utf8")).toBe(userData);
    expect(readFileSync(join(root.seedDir, "meta-data"), "utf8")).toBe(metaData);
    expect(existsSync(join(root.seedDir, "network-config"))).toBe(false);

    // 4. The real consumer: both first-boot stages, then what it found.
    expect(existsSync(applied)).toBe(false);
    const { query, ...stages } = await bootIsolatedCloudInit(root);
    const cloudInitDone = performance.now();
    expect(stages.status, `${stages.stdout}\n${stages.stderr}`).toBe(0);
    expect(query("instance_id").trim()).toBe("iid-kvp-loop-1");
    expect(query("local_hostname").trim()).toBe("kvp-loop-vm");
    // query prints the document and a newline of its own.
    expect(query("userdata")).toBe(`${userData}\n`);
    expect(readFileSync(applied, "utf8")).toBe("written by cloud-init from kvp-host's user-data\n");
    expect(statSync(applied).mode & 0o777).toBe(0o640);

    // 5. The guest answers. Until now the host has had nothing to return on.
    expect(kvpHost.ended(), "kvp-host returned before the guest reported").toBe(false);
    const report = startBundle(KVP_AGENT, [...agentArgs, "report", "cloud-init", "done"]);
    cleanups.push(report.stop);
    const reported = await report.done;
    const reportDone = performance.now();
    expect(reported.code, reported.stderr).toBe(0);

    // 6. And the host's command returns, naming what it waited for.
    const r = await kvpHost.done;
    const returned = performance.now();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      expect.stringMatching(/^host items of "vm1": \d+ added \(\d+ calls?\)$/),
      expect.stringMatching(/^guest of "vm1": "kvp-agent\/report\/cloud-init"="done" \(\d+ reads?\)$/),
      "",
    ]);

    const ms = (t: number) => `${Math.round(t - started)} ms`;
    console.error(
      `cloud-init loop, from the host command's start: seed written ${ms(seedWritten)}, cloud-init done ${ms(cloudInitDone)}, reported ${ms(reportDone)}, kvp-host returned ${ms(returned)}`,
    );
  });
});
