// The guest .debs of the release, installed as a template build installs them: inside a real
// Debian 12 root (mmdebstrap, Debian's own nodejs 18.20 and hyperv-daemons) with the root's
// own dpkg through chroot, maintainer scripts and all, and no systemd running. An older
// build of the same tree goes in first, so installing the release is an upgrade. Then the
// INSTALLED kvp-pool and kvp-agent run in the root, under the root's node 18, against the
// root's real hv_kvp_daemon with a simulated host on the other side (guest-daemon.ts); then
// remove (prerm's `kvp-agent forget` takes the agent's records out of pool 1, other records
// stay) and purge. The Node-free form goes through the same in the same root, and replaces
// kvp-agent (and is replaced by it) when switching forms.
//
// Needs root, mmdebstrap and network access to Debian's archive; without them every check
// here fails, naming what is missing (CI has them).
import type { SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debianVersion } from "../lib/versions.mjs";
import { assertRootPrerequisites, describeResult } from "./chroot-root.js";
import { DebianRoot } from "./debian-root.js";
import {
  dpkgInstall,
  expectConsistentDpkg,
  expectInstalledAsOnTemplate,
  expectNotInstalled,
  expectPurgeCleans,
  expectRemoveForgets,
  expectSingleExecutable,
} from "./deb-lifecycle.js";
import { startGuestDaemon } from "./guest-daemon.js";
import { exerciseInstalledPrograms, inRoot, measureInRoot, reportFigure, writeAdminConfig } from "./guest-programs.js";
import { buildOlder, olderVersion } from "./older-build.js";
import { artifact, expectedArtifacts, releaseVersion } from "./support.js";

const VERSION = releaseVersion();
const DEB_VERSION = debianVersion(VERSION);
/** The older build's version (semver, what the builder takes) and its Debian spelling. */
const OLDER = olderVersion(VERSION);
const OLDER_VERSION = debianVersion(OLDER);
const artifacts = expectedArtifacts(VERSION);
const RELEASE_DEB = artifacts.guestDeb.find((name) => name.endsWith("_amd64.deb"))!;
const STANDALONE_DEB = artifacts.standaloneDeb.find((name) => name.endsWith("_amd64.deb"))!;

const fileStarted = performance.now();
let root: DebianRoot | undefined;
let host: SimulatedHost | undefined;

/** The root, once beforeAll made it. */
function theRoot(): DebianRoot {
  if (!root) throw new Error("no Debian 12 root: see the error of beforeAll");
  return root;
}

/** The simulated host, once beforeAll started it. */
function theHost(): SimulatedHost {
  if (!host) throw new Error("no simulated host: see the error of beforeAll");
  return host;
}

beforeAll(async () => {
  await assertRootPrerequisites({ mmdebstrap: "mmdebstrap" });
  root = await DebianRoot.build({ suite: "bookworm", include: ["nodejs", "hyperv-daemons"] });
  reportFigure(
    `Debian 12 root (mmdebstrap --variant=apt --include=nodejs,hyperv-daemons bookworm) built in ${root.buildSeconds.toFixed(1)} s`,
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
  reportFigure(`guest-install-debian12.test.ts took ${((performance.now() - fileStarted) / 1000).toFixed(1)} s`);
});

describe("a Debian 12 root as templates have it", () => {
  it("has Debian's own nodejs 18 as /usr/bin/node and hyperv-daemons", async () => {
    expect(theRoot().read("/etc/debian_version")).toMatch(/^12\./);
    expect((await theRoot().packageState("nodejs")).version).toMatch(/^18\./);
    expect((await inRoot(theRoot(), ["/usr/bin/node", "--version"])).stdout).toMatch(/^v18\./);
    expect((await theRoot().packageState("hyperv-daemons")).status).toBe("install ok installed");
  });
});

describe("kvp-agent (system nodejs): older build, upgrade to the release, run, remove, purge", () => {
  let adminConfig = "";

  it("installs an older build as on a template: the unit is enabled, nothing is started", async () => {
    const [olderDeb] = await buildOlder(
      "apps/guest-agent/packaging/build-deb.mjs",
      ["--arch", "amd64", "--version", OLDER],
      `${theRoot().workDir}/older`,
    );
    expect(olderDeb).toMatch(/_amd64\.deb$/);
    const installed = await dpkgInstall(theRoot(), olderDeb!);
    expect(installed.status, describeResult("dpkg -i (older build)", installed)).toBe(0);
    await expectInstalledAsOnTemplate(theRoot(), "kvp-agent", OLDER_VERSION);
  });

  it("upgrades to the release's .deb: every file is the release's, the admin's config and the enablement stay", async () => {
    adminConfig = await writeAdminConfig(theRoot());
    const upgraded = await dpkgInstall(theRoot(), artifact(RELEASE_DEB));
    expect(upgraded.status, describeResult("dpkg -i (release)", upgraded)).toBe(0);
    expect(upgraded.stdout).toContain(`Unpacking kvp-agent (${DEB_VERSION}) over (${OLDER_VERSION})`);
    await expectInstalledAsOnTemplate(theRoot(), "kvp-agent", DEB_VERSION);
    reportFigure(
      `kvp-agent ${DEB_VERSION} (system nodejs) Installed-Size ${(await theRoot().packageState("kvp-agent")).installedSizeKiB} KiB`,
    );
    // dpkg --verify: every installed file has the checksum the release's .deb lists.
    expect((await inRoot(theRoot(), ["dpkg", "--verify", "kvp-agent"])).stdout).toBe("");
    // The example config is a conffile (dpkg keeps an admin's edits across upgrades).
    expect(
      (await inRoot(theRoot(), ["dpkg-query", "--show", `--showformat=\${Conffiles}`, "kvp-agent"])).stdout,
    ).toMatch(/^ \/etc\/kvp-agent\/config\.example\.json [0-9a-f]{32}$/m);
    expect(theRoot().read("/etc/kvp-agent/config.json")).toBe(adminConfig);
  });

  it("its launchers run the bundles with the root's /usr/bin/node (Debian's 18)", () => {
    for (const program of ["kvp-agent", "kvp-pool"]) {
      const launcher = theRoot().read(`/usr/bin/${program}`);
      expect(launcher.startsWith("#!/bin/sh\n"), `/usr/bin/${program} is a shell launcher`).toBe(true);
      expect(launcher).toContain("/usr/bin/node");
    }
  });

  it("kvp-pool and kvp-agent, installed, work against the root's hv_kvp_daemon under node 18", async () => {
    await exerciseInstalledPrograms(theRoot(), theHost(), "debian12-nodejs", VERSION);
    const { medianMs, enterMedianMs } = await measureInRoot(theRoot(), ["kvp-agent", "once"]);
    reportFigure(
      `kvp-agent once, system nodejs 18 (Debian 12 root, via chroot): median ${medianMs.toFixed(0)} ms; entering the root alone (/bin/true): ${enterMedianMs.toFixed(0)} ms`,
    );
  });

  it("dpkg -r: prerm's forget takes the agent's records out of pool 1; other records and the config stay", async () => {
    await expectRemoveForgets(theRoot(), theHost(), "kvp-agent", "release-check/debian12-nodejs/ready");
    expect(theRoot().read("/etc/kvp-agent/config.json")).toBe(adminConfig);
  });

  it("dpkg -P: the config, the state and the enablement go", async () => {
    await expectPurgeCleans(theRoot(), "kvp-agent");
  });
});

describe("kvp-agent-standalone (Node inside) in the same root, beside Debian's nodejs 18", () => {
  it("replaces an installed kvp-agent, and kvp-agent replaces it back (Conflicts/Replaces both ways)", async () => {
    const adminConfig = await writeAdminConfig(theRoot());
    const nodeForm = await dpkgInstall(theRoot(), artifact(RELEASE_DEB));
    expect(nodeForm.status, describeResult("dpkg -i kvp-agent", nodeForm)).toBe(0);

    const toStandalone = await dpkgInstall(theRoot(), artifact(STANDALONE_DEB));
    expect(toStandalone.status, describeResult("dpkg -i kvp-agent-standalone over kvp-agent", toStandalone)).toBe(0);
    expect((await theRoot().packageState("kvp-agent-standalone")).status).toBe("install ok installed");
    expect((await theRoot().packageState("kvp-agent")).status).not.toMatch(/ installed$/);
    await expectSingleExecutable(theRoot());
    expect(theRoot().read("/etc/kvp-agent/config.json")).toBe(adminConfig);
    await expectConsistentDpkg(theRoot());

    const back = await dpkgInstall(theRoot(), artifact(RELEASE_DEB));
    expect(back.status, describeResult("dpkg -i kvp-agent over kvp-agent-standalone", back)).toBe(0);
    expect((await theRoot().packageState("kvp-agent")).status).toBe("install ok installed");
    expect((await theRoot().packageState("kvp-agent-standalone")).status).not.toMatch(/ installed$/);
    expect(theRoot().read("/usr/bin/kvp-agent").startsWith("#!/bin/sh\n")).toBe(true);
    expect((await inRoot(theRoot(), ["dpkg", "--verify", "kvp-agent"])).stdout).toBe("");
    await expectConsistentDpkg(theRoot());

    await expectPurgeCleans(theRoot(), "kvp-agent");
    // What the switches left of the standalone (its conffile record) goes too.
    await inRoot(theRoot(), ["dpkg", "--purge", "kvp-agent-standalone"]);
    await expectNotInstalled(theRoot(), "kvp-agent-standalone");
  });

  it("installs as on a template where nodejs 18 is installed", async () => {
    const installed = await dpkgInstall(theRoot(), artifact(STANDALONE_DEB));
    expect(installed.status, describeResult("dpkg -i kvp-agent-standalone", installed)).toBe(0);
    await expectInstalledAsOnTemplate(theRoot(), "kvp-agent-standalone", DEB_VERSION);
    reportFigure(
      `kvp-agent-standalone ${DEB_VERSION} Installed-Size ${(await theRoot().packageState("kvp-agent-standalone")).installedSizeKiB} KiB`,
    );
    expect((await inRoot(theRoot(), ["dpkg", "--verify", "kvp-agent-standalone"])).stdout).toBe("");
    await expectSingleExecutable(theRoot());
  });

  it("its installed kvp-pool and kvp-agent work against the root's hv_kvp_daemon", async () => {
    await exerciseInstalledPrograms(theRoot(), theHost(), "debian12-standalone", VERSION);
    const { medianMs, enterMedianMs } = await measureInRoot(theRoot(), ["kvp-agent", "once"]);
    reportFigure(
      `kvp-agent once, standalone (Debian 12 root, via chroot): median ${medianMs.toFixed(0)} ms; entering the root alone (/bin/true): ${enterMedianMs.toFixed(0)} ms`,
    );
  });

  it("dpkg -r forgets the agent's records, dpkg -P cleans up", async () => {
    await expectRemoveForgets(theRoot(), theHost(), "kvp-agent-standalone", "release-check/debian12-standalone/ready");
    await expectPurgeCleans(theRoot(), "kvp-agent-standalone");
  });
});
