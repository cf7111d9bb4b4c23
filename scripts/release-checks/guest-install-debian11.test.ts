// Debian 11, the base of many system-VM templates, ships nodejs 12: the release's kvp-agent
// .deb (Depends: nodejs (>= 18)) must refuse to install there, clearly, and leave nothing
// half-installed, with dpkg and with apt alike (and the .rpm's %pre refuses node 12 too, the
// one place a node 12 is at hand); the Node-free kvp-agent-standalone .deb must
// install and run there without any Node of the system (nodejs is purged from the root before
// its programs run). A real Debian 11 root (mmdebstrap) with Debian 11's nodejs 12.22 and
// hyperv-daemons, the root's own dpkg and apt through chroot, the root's hv_kvp_daemon with a
// simulated host (guest-daemon.ts).
//
// hyperv-daemons comes from the bullseye suite itself (`hyperv-daemons/bullseye`): the
// security suite's newer version answered 404 from the archive when this was written.
//
// Needs root, mmdebstrap and network access to Debian's archive; without them every check
// here fails, naming what is missing (CI has them).
import { rmSync } from "node:fs";
import type { SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debianVersion } from "../lib/versions.mjs";
import { assertRootPrerequisites, describeResult } from "./chroot-root.js";
import {
  dpkgInstall,
  expectConsistentDpkg,
  expectInstalledAsOnTemplate,
  expectNotInstalled,
  expectPurgeCleans,
  expectRemoveForgets,
  expectSingleExecutable,
} from "./deb-lifecycle.js";
import { DebianRoot } from "./debian-root.js";
import { startGuestDaemon } from "./guest-daemon.js";
import { exerciseInstalledPrograms, inRoot, measureInRoot, reportFigure } from "./guest-programs.js";
import { RPM_DB_PATH, installedTag, rpmInRoot, rpmInRootOk } from "./rpm-root.js";
import { artifact, expectedArtifacts, releaseVersion } from "./support.js";

const VERSION = releaseVersion();
const DEB_VERSION = debianVersion(VERSION);
const artifacts = expectedArtifacts(VERSION);
const RELEASE_DEB = artifacts.guestDeb.find((name) => name.endsWith("_amd64.deb"))!;
const STANDALONE_DEB = artifacts.standaloneDeb.find((name) => name.endsWith("_amd64.deb"))!;
const RELEASE_RPM = artifacts.guestRpm.find((name) => name.endsWith(".x86_64.rpm"))!;

const fileStarted = performance.now();
let root: DebianRoot | undefined;
let host: SimulatedHost | undefined;

function theRoot(): DebianRoot {
  if (!root) throw new Error("no Debian 11 root: see the error of beforeAll");
  return root;
}

function theHost(): SimulatedHost {
  if (!host) throw new Error("no simulated host: see the error of beforeAll");
  return host;
}

beforeAll(async () => {
  await assertRootPrerequisites({ mmdebstrap: "mmdebstrap", rpm: "rpm" });
  root = await DebianRoot.build({ suite: "bullseye", include: ["nodejs", "hyperv-daemons/bullseye"] });
  reportFigure(
    `Debian 11 root (mmdebstrap --variant=apt --include=nodejs,hyperv-daemons/bullseye bullseye) built in ${root.buildSeconds.toFixed(1)} s`,
  );
  host = await startGuestDaemon(root);
});

afterAll(async () => {
  await host?.close();
  if (root) {
    const leaks = await root.destroy();
    expect(leaks.killed, "processes left running in the root").toEqual([]);
    expect(leaks.unmounted, "mounts left in the root").toEqual([]);
  }
  reportFigure(`guest-install-debian11.test.ts took ${((performance.now() - fileStarted) / 1000).toFixed(1)} s`);
});

describe("a Debian 11 root as templates have it", () => {
  it("has Debian 11's nodejs 12 as /usr/bin/node and hyperv-daemons", async () => {
    expect(theRoot().read("/etc/debian_version")).toMatch(/^11\./);
    expect((await inRoot(theRoot(), ["/usr/bin/node", "--version"])).stdout).toMatch(/^v12\./);
    expect((await theRoot().packageState("hyperv-daemons")).status).toBe("install ok installed");
  });
});

describe("kvp-agent (system nodejs) on Debian 11", () => {
  it("dpkg -i refuses before unpacking, saying why (nodejs 12 < 18) and what to install instead", async () => {
    const refused = await dpkgInstall(theRoot(), artifact(RELEASE_DEB));
    expect(refused.status, describeResult("dpkg -i kvp-agent on Debian 11", refused)).not.toBe(0);
    const said = refused.stderr + refused.stdout;
    // The reason: the nodejs found and the one needed; the way out: the Node-free package.
    expect(said).toMatch(/nodejs/);
    expect(said).toMatch(/\b12\.22/);
    expect(said).toMatch(/\b18\b/);
    expect(said).toContain("kvp-agent-standalone");
    // Refused in preinst, before unpacking: no package files, nothing half-installed.
    expect(said).not.toMatch(/Unpacking kvp-agent/);
    await expectNotInstalled(theRoot(), "kvp-agent");
    expect(theRoot().exists("/usr/lib/kvp-agent")).toBe(false);
    expect(theRoot().exists("/usr/bin/kvp-agent")).toBe(false);
    await expectConsistentDpkg(theRoot());
  });

  it("apt-get install ./kvp-agent….deb refuses too (nodejs (>= 18) cannot be met) and leaves the root as it was", async () => {
    const deb = theRoot().copyIn(artifact(RELEASE_DEB));
    const refused = await theRoot().aptInstall([deb]);
    expect(refused.status, describeResult("apt-get install ./kvp-agent.deb", refused)).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/kvp-agent : Depends: nodejs \(>= 18\)/);
    await expectNotInstalled(theRoot(), "kvp-agent");
    expect((await theRoot().packageState("nodejs")).version).toMatch(/^12\./);
    const check = await theRoot().run(["apt-get", "check", "-q"]);
    expect(check.status, describeResult("apt-get check", check)).toBe(0);
    await expectConsistentDpkg(theRoot());
  });
});

describe("the kvp-agent rpm's %pre where node is 12", () => {
  it("refuses before installing a file, even when rpm's dependency check is bypassed (--nodeps)", async () => {
    // What `Requires: nodejs >= 1:18` cannot catch (a nodejs of another epoch, --nodeps):
    // %pre runs the root's /usr/bin/node and refuses 12. A database of its own in this root.
    await rpmInRootOk(theRoot(), ["--initdb"]);
    const refused = await rpmInRoot(theRoot(), ["--install", "--nodeps", artifact(RELEASE_RPM)]);
    expect(refused.status, describeResult("rpm -i --nodeps kvp-agent where node is 12", refused)).not.toBe(0);
    expect(refused.stderr).toMatch(/v12\.22/);
    expect(refused.stderr).toMatch(/\b18\b/);
    expect(refused.stderr).toContain("kvp-agent-standalone");
    expect(await installedTag(theRoot(), "kvp-agent", "VERSION")).toBeUndefined();
    expect(theRoot().exists("/usr/lib/kvp-agent")).toBe(false);
    // The rpm database was only for this check.
    rmSync(theRoot().file(RPM_DB_PATH), { recursive: true, force: true });
  });
});

describe("kvp-agent-standalone (Node inside) on Debian 11", () => {
  it("installs as on a template beside Debian 11's nodejs 12", async () => {
    const installed = await dpkgInstall(theRoot(), artifact(STANDALONE_DEB));
    expect(installed.status, describeResult("dpkg -i kvp-agent-standalone", installed)).toBe(0);
    await expectInstalledAsOnTemplate(theRoot(), "kvp-agent-standalone", DEB_VERSION);
    expect((await inRoot(theRoot(), ["dpkg", "--verify", "kvp-agent-standalone"])).stdout).toBe("");
    await expectSingleExecutable(theRoot());
  });

  it("stays installed when nodejs is purged: it needs no Node of the system", async () => {
    const purged = await theRoot().run(["apt-get", "purge", "-y", "-q", "--auto-remove", "nodejs"], {
      deadlineMs: 300_000,
    });
    expect(purged.status, describeResult("apt-get purge nodejs", purged)).toBe(0);
    expect((await theRoot().packageState("nodejs")).status).not.toMatch(/ installed$/);
    expect(
      (await theRoot().run(["sh", "-c", "command -v node || command -v nodejs"])).status,
      "a node left in the root",
    ).not.toBe(0);
    expect((await theRoot().packageState("kvp-agent-standalone")).status).toBe("install ok installed");
  });

  it("its installed kvp-pool and kvp-agent work against Debian 11's hv_kvp_daemon with no Node in the root", async () => {
    await exerciseInstalledPrograms(theRoot(), theHost(), "debian11-standalone", VERSION);
    const { medianMs, enterMedianMs } = await measureInRoot(theRoot(), ["kvp-agent", "once"]);
    reportFigure(
      `kvp-agent once, standalone (Debian 11 root, no nodejs, via chroot): median ${medianMs.toFixed(0)} ms; entering the root alone (/bin/true): ${enterMedianMs.toFixed(0)} ms`,
    );
  });

  it("dpkg -r forgets the agent's records, dpkg -P cleans up", async () => {
    await expectRemoveForgets(theRoot(), theHost(), "kvp-agent-standalone", "release-check/debian11-standalone/ready");
    await expectPurgeCleans(theRoot(), "kvp-agent-standalone");
  });
});
