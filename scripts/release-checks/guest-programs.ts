// What every guest install check does with the INSTALLED programs once a package is in a
// root: the host sends an item and reads back what the guest reports, through the root's real
// hv_kvp_daemon (guest-daemon.ts), with /usr/bin/kvp-pool and /usr/bin/kvp-agent run in the
// root by chroot exactly as a boot script or the unit would run them (default paths: pools in
// /var/lib/hyperv, state in /run/kvp-agent, config /etc/kvp-agent/config.json).
import type { SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { expect } from "vitest";
import { type ChrootRoot, type CommandResult, describeResult } from "./chroot-root.js";
import { VM_NAME, guestItems, setHostItem } from "./guest-daemon.js";

/** The state directory of the installed agent (its unit's RuntimeDirectory). */
export const STATE_DIR = "/run/kvp-agent";

/** The agent's own pool-1 keys all start with this (kvp-agent forget removes exactly those). */
export const AGENT_PREFIX = "kvp-agent/";

/** Where a template enables the unit (deb-systemd-helper / systemctl preset, offline). */
export const WANTS_LINK = "/etc/systemd/system/multi-user.target.wants/kvp-agent.service";

/** Runs a command in the root, which must succeed; its result. */
export async function inRoot(root: ChrootRoot, argv: readonly string[]): Promise<CommandResult> {
  const result = await root.run(argv);
  expect(result.status, describeResult(argv.join(" "), result)).toBe(0);
  return result;
}

/** The agent's keys in pool 1 as the host sees them. */
export async function agentKeysSeenByHost(host: SimulatedHost): Promise<string[]> {
  return [...(await guestItems(host)).keys()].filter((key) => key.startsWith(AGENT_PREFIX)).sort();
}

/** What {@link exerciseInstalledPrograms} saw, for the caller's further checks. */
export interface ExerciseResult {
  /** Pool 1 as the host saw it after the agent's report and kvp-pool's set. */
  readonly guestItems: Map<string, string>;
  /** The key kvp-pool set in pool 1 (another writer's record, which forget must keep). */
  readonly guestKey: string;
}

/**
 * The round trip every installed form must make, each step asserted:
 * 1. the host sets `release-check/<label>` (pool 0): `kvp-pool get KEY --pool external` in
 *    the root prints it;
 * 2. `kvp-agent once` in the root harvests it into /run/kvp-agent/host.json (and the host's
 *    facts into host-facts.json) and reports its kvp-agent/* records to pool 1: the host
 *    reads its status, its version (`version`) and the time of the harvest;
 * 3. `kvp-pool set release-check/<label>/ready yes` in the root: the host reads it.
 */
export async function exerciseInstalledPrograms(
  root: ChrootRoot,
  host: SimulatedHost,
  label: string,
  version: string,
): Promise<ExerciseResult> {
  const hostKey = `release-check/${label}`;
  const hostValue = `sent by the host to ${label} at ${new Date().toISOString()}`;
  await setHostItem(host, hostKey, hostValue);
  const got = await inRoot(root, ["kvp-pool", "get", hostKey, "--pool", "external"]);
  expect(got.stdout).toBe(`${hostValue}\n`);

  await inRoot(root, ["kvp-agent", "once"]);
  const hostJson = JSON.parse(root.read(`${STATE_DIR}/host.json`)) as Record<string, string>;
  expect(hostJson[hostKey]).toBe(hostValue);
  const facts = JSON.parse(root.read(`${STATE_DIR}/host-facts.json`)) as Record<string, string>;
  expect(facts["VirtualMachineName"]).toBe(VM_NAME);
  const reported = await guestItems(host);
  // `once` ends with status "stopped": no agent keeps watching after it.
  expect(reported.get(`${AGENT_PREFIX}status`)).toBe("stopped");
  expect(reported.get(`${AGENT_PREFIX}version`)).toBe(version);
  expect(Date.parse(reported.get(`${AGENT_PREFIX}harvested-at`) ?? "")).not.toBeNaN();

  const guestKey = `release-check/${label}/ready`;
  await inRoot(root, ["kvp-pool", "set", guestKey, "yes"]);
  const items = await guestItems(host);
  expect(items.get(guestKey)).toBe("yes");
  return { guestItems: items, guestKey };
}

/** Prints a figure for the closing note on stderr (never asserted: timings vary by machine). */
export function reportFigure(text: string): void {
  console.error(`release checks: figure: ${text}`);
}

/**
 * Wall time of `argv` run `runs` times in the root (each run must succeed), and of
 * `/bin/true` run the same way: what entering the root (unshare, mount /proc, chroot) costs
 * by itself. Medians, in ms. The root's environment has no NODE_EXTRA_CA_CERTS.
 */
export async function measureInRoot(
  root: ChrootRoot,
  argv: readonly string[],
  runs = 7,
): Promise<{ medianMs: number; enterMedianMs: number }> {
  const times: number[] = [];
  const enter: number[] = [];
  for (let i = 0; i < runs; i++) {
    enter.push((await inRoot(root, ["/bin/true"])).ms);
    times.push((await inRoot(root, argv)).ms);
  }
  return { medianMs: median(times), enterMedianMs: median(enter) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Writes the admin's /etc/kvp-agent/config.json (a valid config); returns its text. */
export async function writeAdminConfig(root: ChrootRoot): Promise<string> {
  const config = '{ "log": { "level": "info" } }\n';
  await inRoot(root, [
    "sh",
    "-c",
    'mkdir -p /etc/kvp-agent && printf "%s" "$1" > /etc/kvp-agent/config.json',
    "sh",
    config,
  ]);
  return config;
}
