// The guest .rpms of the release (kvp-agent for the system's nodejs, and the Node-free
// kvp-agent-standalone), installed, upgraded and erased with `rpm --root` in a throwaway root
// with its own rpm database, as image builders install into a template; their scriptlets
// run (rpm chroots into the root for them) and the installed programs run against the root's
// real hv_kvp_daemon with a simulated host (guest-daemon.ts).
//
// Only Debian's archive is reachable here: the root is a Debian 12 root (mmdebstrap), whose
// /bin/sh runs the scriptlets and whose nodejs 18 runs the installed kvp-agent, with an empty
// rpm database. No Requires is bypassed: each is checked against the root and declared by a
// stand-in package (rpm-root.ts), then rpm resolves them itself. Not verified here: a RHEL,
// Alma or Rocky root (their /bin/sh, glibc, nodejs package and systemd), hypervkvpd.
//
// Needs root, mmdebstrap, rpm and rpmbuild, and network access to Debian's archive; without
// them every check here fails, naming what is missing (CI has them).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpmVersion } from "../lib/versions.mjs";
import { assertRootPrerequisites, describeResult, runHere } from "./chroot-root.js";
import { DebianRoot } from "./debian-root.js";
import { guestItems, startGuestDaemon } from "./guest-daemon.js";
import {
  STATE_DIR,
  WANTS_LINK,
  agentKeysSeenByHost,
  exerciseInstalledPrograms,
  inRoot,
  reportFigure,
  writeAdminConfig,
} from "./guest-programs.js";
import { buildOlder, olderVersion } from "./older-build.js";
import {
  RPM_DB_PATH,
  STAND_IN,
  buildStandIn,
  checkRequiresAgainstRoot,
  installedTag,
  packageCapabilities,
  rhelProvides,
  rpmInRoot,
  rpmInRootOk,
} from "./rpm-root.js";
import { artifact, expectedArtifacts, releaseVersion } from "./support.js";

const VERSION = releaseVersion();
const RPM_VERSION = rpmVersion(VERSION);
/** The older builds' version (semver, what the builders take) and its rpm spelling. */
const OLDER = olderVersion(VERSION);
const OLDER_VERSION = rpmVersion(OLDER);
const artifacts = expectedArtifacts(VERSION);
const RELEASE_RPM = artifacts.guestRpm.find((name) => name.endsWith(".x86_64.rpm"))!;
const STANDALONE_RPM = artifacts.standaloneRpm.find((name) => name.endsWith(".x86_64.rpm"))!;
/** RHEL 9's default nodejs (the nodejs:16 stream's package is nodejs-1:16.20.2). */
const RHEL9_NODEJS = "16.20.2";

const fileStarted = performance.now();
let root: DebianRoot | undefined;
let host: SimulatedHost | undefined;
let olderRpm = "";
let olderStandaloneRpm = "";
let olderDir: string | undefined;

function theRoot(): DebianRoot {
  if (!root) throw new Error("no root: see the error of beforeAll");
  return root;
}

function theHost(): SimulatedHost {
  if (!host) throw new Error("no simulated host: see the error of beforeAll");
  return host;
}

/** `rpm --root ROOT ARGS PACKAGE` on a package file of this machine (rpm reads it from here). */
function rpmWithPackage(args: readonly string[], file: string) {
  return rpmInRoot(theRoot(), [...args, file]);
}

beforeAll(async () => {
  await assertRootPrerequisites({
    mmdebstrap: "mmdebstrap",
    rpm: "rpm",
    rpmbuild: "rpm",
    "/usr/lib/rpm/elfdeps": "rpm",
  });
  olderDir = mkdtempSync(join(tmpdir(), "kvp-release-older-rpm-"));
  // The older builds (the standalone's is minutes: a single executable, compressed three
  // ways) and the root (mostly downloads) at once.
  const [builtRoot, rpm, standalone] = await Promise.allSettled([
    // systemd installed but not running, as in a RHEL-family image's build root: %post's
    // `systemctl preset` and %preun's `systemctl disable` work offline there.
    DebianRoot.build({ suite: "bookworm", include: ["nodejs", "hyperv-daemons", "systemd"] }),
    buildOlder("apps/guest-agent/packaging/build-rpm.mjs", ["--arch", "x86_64", "--version", OLDER], olderDir),
    buildOlder("apps/guest-agent/packaging/build-standalone.mjs", ["--arch", "x64", "--version", OLDER], olderDir),
  ]);
  // Keep the root even when a build failed, so afterAll removes it.
  if (builtRoot.status === "fulfilled") root = builtRoot.value;
  for (const result of [builtRoot, rpm, standalone]) if (result.status === "rejected") throw result.reason;
  reportFigure(
    `Debian 12 root for rpm (mmdebstrap --variant=apt --include=nodejs,hyperv-daemons,systemd bookworm) built in ${theRoot().buildSeconds.toFixed(1)} s (beside the older builds)`,
  );
  olderRpm = (rpm.status === "fulfilled" && rpm.value[0]) || "";
  olderStandaloneRpm =
    (standalone.status === "fulfilled" && standalone.value.find((path) => path.endsWith(".x86_64.rpm"))) || "";
  expect(olderRpm).toMatch(/\.x86_64\.rpm$/);
  expect(olderStandaloneRpm).toMatch(/\.x86_64\.rpm$/);
  await rpmInRootOk(theRoot(), ["--initdb"]);
  host = await startGuestDaemon(theRoot());
});

afterAll(async () => {
  await host?.close();
  if (olderDir) rmSync(olderDir, { recursive: true, force: true });
  if (root) {
    const leaks = await root.destroy();
    expect(leaks.killed, "processes left running in the root").toEqual([]);
    expect(leaks.unmounted, "mounts left in the root").toEqual([]);
  }
  reportFigure(`guest-install-rpm.test.ts took ${((performance.now() - fileStarted) / 1000).toFixed(1)} s`);
});

describe("the rpms' Requires, checked against the root instead of bypassed", () => {
  it("are each met by the Debian 12 root, and a stand-in package declaring just those goes in first", async () => {
    const packages = [artifact(RELEASE_RPM), artifact(STANDALONE_RPM), olderRpm, olderStandaloneRpm];
    const found = await checkRequiresAgainstRoot(theRoot(), packages);
    expect(found.unmet, "Requires the root does not meet").toEqual([]);
    reportFigure(`rpm Requires met by the Debian 12 root:\n  ${found.evidence.join("\n  ")}`);
    const standIn = await buildStandIn(found.provides, theRoot().workDir);
    await rpmInRootOk(theRoot(), ["--install", standIn]);
    expect(await installedTag(theRoot(), STAND_IN, "VERSION")).toBe("1");
  });

  it("kvp-agent's nodejs requirement is not met by RHEL 9's nodejs 16 (Epoch 1 outranks a plain >= 18)", async () => {
    const requires = await packageCapabilities(artifact(RELEASE_RPM), "requires");
    const nodeRequires = requires.filter((line) => /^nodejs\b/.test(line));
    expect(nodeRequires, "kvp-agent's Requires on nodejs").not.toEqual([]);
    // A database holding only a stand-in for RHEL 9's nodejs 16 and the rest of the root.
    const dir = mkdtempSync(join(tmpdir(), "kvp-release-rhel9-node16-"));
    try {
      const found = await checkRequiresAgainstRoot(theRoot(), [artifact(RELEASE_RPM)]);
      const provides = found.provides.map((line) => {
        const name = line.split(" ")[0]!;
        return name === "nodejs" || name === "nodejs(engine)" ? rhelProvides(name, RHEL9_NODEJS) : line;
      });
      const standIn = await buildStandIn(provides, dir);
      const db = ["--root", join(dir, "root"), "--dbpath", RPM_DB_PATH];
      expect((await runHere("rpm", [...db, "--initdb"])).status).toBe(0);
      const installed = await runHere("rpm", [...db, "--install", "--justdb", standIn]);
      expect(installed.status, describeResult("rpm -i stand-in", installed)).toBe(0);
      const refused = await runHere("rpm", [...db, "--install", "--test", artifact(RELEASE_RPM)]);
      expect(refused.status, describeResult("rpm -i --test kvp-agent with RHEL 9's nodejs 16", refused)).not.toBe(0);
      expect(refused.stderr).toMatch(/nodejs.* is needed by kvp-agent/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("kvp-agent rpm (system nodejs): older build, upgrade, run, erase", () => {
  let adminConfig = "";

  it("installs an older build: %pre passes node 18, %post enables the unit by its preset, nothing is started", async () => {
    const installed = await rpmWithPackage(["--install"], olderRpm);
    expect(installed.status, describeResult("rpm -i (older build)", installed)).toBe(0);
    expect(await installedTag(theRoot(), "kvp-agent", "VERSION")).toBe(OLDER_VERSION);
    await expectEnabledNotStarted();
  });

  it("rpm -U to the release: every file is the release's, the admin's config and the enablement stay", async () => {
    adminConfig = await writeAdminConfig(theRoot());
    const upgraded = await rpmWithPackage(["--upgrade"], artifact(RELEASE_RPM));
    expect(upgraded.status, describeResult("rpm -U (release)", upgraded)).toBe(0);
    expect((await rpmInRootOk(theRoot(), ["--query", "kvp-agent"])).stdout).toBe(`kvp-agent-${RPM_VERSION}-1.x86_64\n`);
    const verify = await rpmInRoot(theRoot(), ["--verify", "kvp-agent"]);
    expect(verify.stdout, describeResult("rpm -V kvp-agent", verify)).toBe("");
    // The example config is %config (rpm keeps an admin's edits across upgrades).
    expect((await rpmInRootOk(theRoot(), ["--query", "--configfiles", "kvp-agent"])).stdout).toBe(
      "/etc/kvp-agent/config.example.json\n",
    );
    expect(theRoot().read("/etc/kvp-agent/config.json")).toBe(adminConfig);
    await expectEnabledNotStarted();
    reportFigure(
      `kvp-agent ${RPM_VERSION} rpm: installed size ${await installedTag(theRoot(), "kvp-agent", "SIZE")} bytes`,
    );
  });

  it("a config this version refuses is named by %post; the install still succeeds and the file stays", async () => {
    const refused = '{ "env": { "prefix": "KVP_" } }\n';
    await inRoot(theRoot(), ["sh", "-c", 'printf "%s" "$1" > /etc/kvp-agent/config.json', "sh", refused]);
    try {
      const again = await rpmWithPackage(["--upgrade", "--replacepkgs"], artifact(RELEASE_RPM));
      expect(again.status, describeResult("rpm -U --replacepkgs (release)", again)).toBe(0);
      expect(again.stderr).toContain('env.prefix: "KVP_" has no lower-case letter');
      expect(again.stderr).toContain(
        "kvp-agent: the agent will not start until /etc/kvp-agent/config.json is fixed (kvp-agent config check)\n",
      );
      expect(theRoot().read("/etc/kvp-agent/config.json")).toBe(refused);
    } finally {
      await inRoot(theRoot(), ["sh", "-c", 'printf "%s" "$1" > /etc/kvp-agent/config.json', "sh", adminConfig]);
    }
  });

  it("its installed programs work against the root's hv_kvp_daemon under the root's node 18", async () => {
    await exerciseInstalledPrograms(theRoot(), theHost(), "rpm-nodejs", VERSION);
  });

  it("conflicts with kvp-agent-standalone: rpm -i of the other form is refused while it is installed", async () => {
    const refused = await rpmWithPackage(["--install"], artifact(STANDALONE_RPM));
    expect(refused.status, describeResult("rpm -i kvp-agent-standalone beside kvp-agent", refused)).not.toBe(0);
    expect(refused.stderr).toMatch(/conflicts with kvp-agent/);
    expect(await installedTag(theRoot(), "kvp-agent-standalone", "VERSION")).toBeUndefined();
  });

  it("rpm -e: %preun disables the unit and forgets the agent's records; other records and the admin's config stay", async () => {
    await expectEraseForgets("kvp-agent", "release-check/rpm-nodejs/ready");
    expect(theRoot().read("/etc/kvp-agent/config.json")).toBe(adminConfig);
  });
});

describe("kvp-agent-standalone rpm (Node inside): older build, upgrade, run, erase", () => {
  it("installs an older build and upgrades to the release", async () => {
    // rpm -e leaves the state directory of the agent run above (rpm has no purge); /run is a
    // tmpfs, so a reboot clears it: do that here, so "nothing is started" is checked again.
    rmSync(theRoot().file(STATE_DIR), { recursive: true, force: true });
    const installed = await rpmWithPackage(["--install"], olderStandaloneRpm);
    expect(installed.status, describeResult("rpm -i (older standalone)", installed)).toBe(0);
    expect(await installedTag(theRoot(), "kvp-agent-standalone", "VERSION")).toBe(OLDER_VERSION);
    await expectEnabledNotStarted();
    const upgraded = await rpmWithPackage(["--upgrade"], artifact(STANDALONE_RPM));
    expect(upgraded.status, describeResult("rpm -U (release standalone)", upgraded)).toBe(0);
    expect((await rpmInRootOk(theRoot(), ["--query", "kvp-agent-standalone"])).stdout).toBe(
      `kvp-agent-standalone-${RPM_VERSION}-1.x86_64\n`,
    );
    const verify = await rpmInRoot(theRoot(), ["--verify", "kvp-agent-standalone"]);
    expect(verify.stdout, describeResult("rpm -V kvp-agent-standalone", verify)).toBe("");
    await expectEnabledNotStarted();
    reportFigure(
      `kvp-agent-standalone ${RPM_VERSION} rpm: installed size ${await installedTag(theRoot(), "kvp-agent-standalone", "SIZE")} bytes`,
    );
  });

  it("its installed programs (one executable, no system node) work against the root's hv_kvp_daemon", async () => {
    const agent = (await inRoot(theRoot(), ["readlink", "-f", "/usr/bin/kvp-agent"])).stdout.trim();
    expect((await inRoot(theRoot(), ["readlink", "-f", "/usr/bin/kvp-pool"])).stdout.trim()).toBe(agent);
    expect((await inRoot(theRoot(), ["head", "-c", "4", agent])).stdout).toBe("\x7fELF");
    await exerciseInstalledPrograms(theRoot(), theHost(), "rpm-standalone", VERSION);
  });

  it("conflicts with kvp-agent: rpm -i of the other form is refused while it is installed", async () => {
    const refused = await rpmWithPackage(["--install"], artifact(RELEASE_RPM));
    expect(refused.status, describeResult("rpm -i kvp-agent beside kvp-agent-standalone", refused)).not.toBe(0);
    expect(refused.stderr).toMatch(/conflicts with kvp-agent-standalone|kvp-agent-standalone conflicts with kvp-agent/);
    expect((await rpmInRootOk(theRoot(), ["--query", "kvp-agent-standalone"])).stdout).toMatch(
      /^kvp-agent-standalone-/,
    );
  });

  it("rpm -e: %preun disables the unit and forgets the agent's records; other records stay", async () => {
    await expectEraseForgets("kvp-agent-standalone", "release-check/rpm-standalone/ready");
  });
});

/** After an install or upgrade in the root without a running systemd: the unit is enabled (its preset), nothing runs, no state directory. */
async function expectEnabledNotStarted(): Promise<void> {
  expect((await inRoot(theRoot(), ["readlink", WANTS_LINK])).stdout.trim()).toMatch(
    /^(\/usr)?\/lib\/systemd\/system\/kvp-agent\.service$/,
  );
  expect(theRoot().processesInside()).toEqual([]);
  expect(theRoot().exists(STATE_DIR), `${STATE_DIR} (only a started agent makes it)`).toBe(false);
}

/** `rpm -e NAME`: %preun disables the unit and runs forget (no kvp-agent/* record left for the host), `otherKey` stays, the files go. */
async function expectEraseForgets(name: string, otherKey: string): Promise<void> {
  expect(await agentKeysSeenByHost(theHost()), "the agent's records before erase").not.toEqual([]);
  const erased = await rpmInRoot(theRoot(), ["--erase", name]);
  expect(erased.status, describeResult(`rpm -e ${name}`, erased)).toBe(0);
  expect(await agentKeysSeenByHost(theHost())).toEqual([]);
  expect((await guestItems(theHost())).has(otherKey), `${otherKey} (another writer's record) after erase`).toBe(true);
  expect(await installedTag(theRoot(), name, "VERSION")).toBeUndefined();
  for (const gone of [
    "/usr/bin/kvp-agent",
    "/usr/bin/kvp-pool",
    "/usr/lib/kvp-agent",
    "/usr/lib/systemd/system/kvp-agent.service",
  ])
    expect(theRoot().exists(gone), gone).toBe(false);
  expect((await theRoot().run(["test", "-L", WANTS_LINK])).status, `${WANTS_LINK} after erase`).not.toBe(0);
}
