/**
 * The guest side of simulated VMs: one {@link SimulatedHost} (so one hv_kvp_daemon) per VM,
 * reached by GUID with every VM's tasks run one after another. A host owns one registry;
 * the nodes of a simulated cluster share one, so a VM that live-migrates between nodes keeps
 * its running guest (and its queue of pending pool-0 writes) while only its configuration
 * moves from one node's model to another's.
 */
import type { DaemonKind } from "../device/daemon-channel.js";
import { SimError } from "../errors.js";
import type { SimulatedHost } from "../device/simulated-host.js";

/** One running VM: its guest side. */
export interface WmiHostVm {
  readonly name: string;
  readonly guid: string;
  /** The daemon's pool directory (the guest's /var/lib/hyperv). */
  readonly poolDir: string;
  readonly daemon: DaemonKind;
  readonly host: SimulatedHost;
}

/** What a VM's guest side offers the WMI handler: serialized access to its simulated host. */
export interface GuestAccess {
  /** Runs `task` after every earlier task of this VM; undefined when the VM is stopped. */
  run<T>(guid: string, task: (host: SimulatedHost) => Promise<T>): Promise<T | undefined>;
}

interface GuestEntry {
  readonly vm: WmiHostVm;
  /** Settles when the VM's last queued task has (never rejects). */
  queue: Promise<unknown>;
  stopped: boolean;
  stopping?: Promise<void>;
}

/** Running guests by GUID, with serialized access (see the module doc). */
export class GuestRegistry implements GuestAccess {
  private readonly guests = new Map<string, GuestEntry>();

  /**
   * Adds a started guest.
   * @throws {SimError} `invalid-argument` when a guest with this GUID is already registered.
   */
  add(vm: WmiHostVm): void {
    const key = vm.guid.toUpperCase();
    if (this.guests.has(key)) throw new SimError("invalid-argument", `invalid VM GUID: ${vm.guid} already has a guest`);
    this.guests.set(key, { vm, queue: Promise.resolve(), stopped: false });
  }

  /** The guest with this GUID (ignoring case), stopped or not. */
  get(guid: string): WmiHostVm | undefined {
    return this.guests.get(guid.toUpperCase())?.vm;
  }

  /** Whether the guest's daemon was stopped with {@link stop}. */
  isStopped(guid: string): boolean {
    return this.guests.get(guid.toUpperCase())?.stopped ?? false;
  }

  run<T>(guid: string, task: (host: SimulatedHost) => Promise<T>): Promise<T | undefined> {
    const entry = this.guests.get(guid.toUpperCase());
    if (entry === undefined) return Promise.resolve(undefined);
    const next = entry.queue.then(() => (entry.stopped ? undefined : task(entry.vm.host)));
    entry.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Stops a guest's daemon after its queued tasks: later tasks get undefined. Its temporary
   * pool directory is removed. Unknown GUIDs are ignored.
   */
  stop(guid: string): Promise<void> {
    const entry = this.guests.get(guid.toUpperCase());
    if (entry === undefined) return Promise.resolve();
    entry.stopping ??= this.run(guid, async () => undefined).then(async () => {
      entry.stopped = true;
      await entry.vm.host.close();
    });
    return entry.stopping;
  }
}
