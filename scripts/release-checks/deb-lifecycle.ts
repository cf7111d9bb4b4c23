// The steps of a guest .deb's life in a Debian root that every Debian check asserts the same
// way: installed as a template installs it, removed (prerm's `kvp-agent forget`), purged.
import type { SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { expect } from "vitest";
import { type CommandResult, describeResult } from "./chroot-root.js";
import type { DebianRoot } from "./debian-root.js";
import { guestItems } from "./guest-daemon.js";
import { STATE_DIR, WANTS_LINK, agentKeysSeenByHost, inRoot } from "./guest-programs.js";

/** Where the unit file is installed (the target of {@link WANTS_LINK}). */
export const UNIT_PATH = "/lib/systemd/system/kvp-agent.service";

/** `dpkg --install` in the root of a package file of this machine (copied in first). */
export function dpkgInstall(root: DebianRoot, file: string): Promise<CommandResult> {
  return root.run(["dpkg", "--install", root.copyIn(file)]);
}

/** The root's dpkg sees no broken or half-installed package (`dpkg --audit` says nothing). */
export async function expectConsistentDpkg(root: DebianRoot): Promise<void> {
  const audit = await root.run(["dpkg", "--audit"]);
  expect(audit.stdout + audit.stderr, "dpkg --audit").toBe("");
  expect(audit.status).toBe(0);
}

/**
 * dpkg says the package is not installed: it has no record of it, or its record's state is
 * `not-installed` (after a refused install dpkg keeps the selection, `install ok
 * not-installed`, with no version and no files).
 */
export async function expectNotInstalled(root: DebianRoot, name: string): Promise<void> {
  const state = await root.packageState(name);
  expect(
    state.status === "unknown" || / ok not-installed$/.test(state.status),
    `dpkg's status of ${name}: ${state.status}`,
  ).toBe(true);
  expect(state.version, `dpkg's version of ${name}`).toBe("");
}

/**
 * After an install with dpkg in a root without systemd, as on a template: the package is
 * installed at `version`, the unit is enabled (its wants symlink), nothing was started (no
 * process runs in the root, no state directory exists), and dpkg is consistent.
 */
export async function expectInstalledAsOnTemplate(root: DebianRoot, name: string, version: string): Promise<void> {
  expect(await root.packageState(name)).toMatchObject({ status: "install ok installed", version });
  expect((await inRoot(root, ["readlink", WANTS_LINK])).stdout.trim()).toBe(UNIT_PATH);
  expect(root.processesInside()).toEqual([]);
  expect(root.exists(STATE_DIR), `${STATE_DIR} (only a started agent makes it)`).toBe(false);
  await expectConsistentDpkg(root);
}

/**
 * `dpkg --remove NAME`: prerm's `kvp-agent forget` takes every kvp-agent/* record out of
 * pool 1 (the host sees none), another writer's record (`otherKey`) stays, the programs and
 * the unit go, the conffile stays (dpkg: "config-files").
 */
export async function expectRemoveForgets(
  root: DebianRoot,
  host: SimulatedHost,
  name: string,
  otherKey: string,
): Promise<void> {
  expect(await agentKeysSeenByHost(host), "the agent's records before removal").not.toEqual([]);
  const removed = await root.run(["dpkg", "--remove", name]);
  expect(removed.status, describeResult(`dpkg -r ${name}`, removed)).toBe(0);
  expect(await agentKeysSeenByHost(host)).toEqual([]);
  expect((await guestItems(host)).has(otherKey), `${otherKey} (another writer's record) after removal`).toBe(true);
  expect((await root.packageState(name)).status).toBe("deinstall ok config-files");
  for (const gone of ["/usr/bin/kvp-agent", "/usr/bin/kvp-pool", "/usr/lib/kvp-agent", UNIT_PATH])
    expect(root.exists(gone), gone).toBe(false);
  expect(root.exists("/etc/kvp-agent/config.example.json"), "the conffile after removal").toBe(true);
  await expectConsistentDpkg(root);
}

/** `dpkg --purge NAME`: /etc/kvp-agent, the state directory and the unit's enablement go. */
export async function expectPurgeCleans(root: DebianRoot, name: string): Promise<void> {
  const purged = await root.run(["dpkg", "--purge", name]);
  expect(purged.status, describeResult(`dpkg -P ${name}`, purged)).toBe(0);
  await expectNotInstalled(root, name);
  expect(root.exists("/etc/kvp-agent")).toBe(false);
  expect(root.exists(STATE_DIR)).toBe(false);
  expect((await root.run(["test", "-L", WANTS_LINK])).status, `${WANTS_LINK} after purge`).not.toBe(0);
  await expectConsistentDpkg(root);
}

/**
 * The installed /usr/bin/kvp-agent and /usr/bin/kvp-pool of the Node-free form: both resolve
 * to one ELF executable under /usr/lib/kvp-agent (Node inside, no system node involved).
 * @returns that executable's path in the root.
 */
export async function expectSingleExecutable(root: DebianRoot): Promise<string> {
  const agent = (await inRoot(root, ["readlink", "-f", "/usr/bin/kvp-agent"])).stdout.trim();
  const pool = (await inRoot(root, ["readlink", "-f", "/usr/bin/kvp-pool"])).stdout.trim();
  expect(pool).toBe(agent);
  expect(agent.startsWith("/usr/lib/kvp-agent/"), agent).toBe(true);
  const magic = (await inRoot(root, ["head", "-c", "4", agent])).stdout;
  expect(magic).toBe("\x7fELF");
  return agent;
}
