// The guest side of a simulated VM for the guest install checks: the root's own
// hv_kvp_daemon (from the root's hyperv-daemons package) serving the root's /var/lib/hyperv,
// with hyperv-sim's simulated host on the other end of its /dev/vmbus/hv_kvp.
//
// The daemon runs OUTSIDE the chroot, on this machine's libc, under hyperv-sim's LD_PRELOAD
// shim, which turns the device into a Unix socket and the daemon's /var/lib/hyperv into the
// root's. Why not inside: the shim is compiled here against this machine's glibc (2.36; it
// needs GLIBC_2.34 symbols) and cannot load into Debian 11's glibc 2.31. Redirecting the pool
// directory needs no bind mount, so there is nothing to leak. What the installed programs
// see is what they see on a guest: the daemon's pool files in /var/lib/hyperv, its fcntl
// locks (kernel-wide, chroot or not) and its process in /proc/locks.
import { HvStatus, type SimulatedHost, startSimulatedHost } from "@hyperv-kvp/hyperv-sim";
import type { ChrootRoot } from "./chroot-root.js";

/** The daemon's path in a Debian root (hyperv-daemons). */
export const ROOT_DAEMON = "/usr/sbin/hv_kvp_daemon";

/** The pool directory the daemon keeps (and every guest program reads) inside the root. */
export const ROOT_POOL_DIR = "/var/lib/hyperv";

/** The VM name the simulated host sends in its facts (pool 3 VirtualMachineName). */
export const VM_NAME = "template-clone-01";

/**
 * Starts the root's hv_kvp_daemon and a simulated host in front of it, then sends the host's
 * facts (pool 3) as a host does when the guest's KVP service starts, VirtualMachineName
 * {@link VM_NAME}.
 * @throws Error when the root has no daemon, or the daemon does not start.
 */
export async function startGuestDaemon(root: ChrootRoot): Promise<SimulatedHost> {
  if (!root.exists(ROOT_DAEMON))
    throw new Error(`${root.path} has no ${ROOT_DAEMON}: install hyperv-daemons in the root first`);
  const host = await startSimulatedHost({
    daemon: "real",
    poolDir: root.file(ROOT_POOL_DIR),
    real: { daemonPath: root.file(ROOT_DAEMON) },
  });
  try {
    await host.sendHostFacts({ VirtualMachineName: VM_NAME });
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}

/**
 * Pool 1 as the host sees it (GuestExchangeItems): key → value, first record of a key.
 * @throws Error when the enumeration did not end normally (a record the kernel could not
 *   convert hides every later one).
 */
export async function guestItems(host: SimulatedHost): Promise<Map<string, string>> {
  const result = await host.enumerate(1);
  if (!result.complete)
    throw new Error(
      `the host's enumeration of pool 1 ended with status 0x${result.status.toString(16)} after ${result.records.length} records`,
    );
  const items = new Map<string, string>();
  for (const record of result.records) if (!items.has(record.key)) items.set(record.key, record.value);
  return items;
}

/**
 * Sets a host item (pool 0), as AddKvpItems/ModifyKvpItems do.
 * @throws Error when the daemon refuses it.
 */
export async function setHostItem(host: SimulatedHost, key: string, value: string): Promise<void> {
  const status = await host.set(0, key, value);
  if (status !== HvStatus.OK) throw new Error(`the daemon refused host item ${key} (status 0x${status.toString(16)})`);
}
