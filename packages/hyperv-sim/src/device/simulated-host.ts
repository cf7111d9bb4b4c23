import type { KvpRecord, PoolNumber } from "@hyperv-kvp/kvp-core";
import { isCompilerAvailable } from "./build-shim.js";
import type { DaemonChannel, DaemonKind } from "./daemon-channel.js";
import { HvStatus } from "./device-message.js";
import { SimError } from "../errors.js";
import { hostFacts } from "./host-facts.js";
import { type HostReply, type HostRequest, toDaemonRequest, toHostReply } from "./kernel-relay.js";
import { ModelDaemon, type ModelDaemonOptions } from "./model-daemon.js";
import { RealDaemon, type RealDaemonOptions, isDaemonInstalled } from "./real-daemon.js";

/** Pools a host writes: 0 (its Add/Modify/Remove items) and 3 (its facts at start). */
export type HostWritablePool = 0 | 3;

/** Most ENUMERATE requests one {@link SimulatedHost.enumerate} sends unless told otherwise. */
export const DEFAULT_ENUMERATE_LIMIT = 100_000;

/** A record as the host received it. */
export interface HostRecord {
  readonly key: string;
  readonly value: string;
  /** True when the kernel cut key or value short (254 / 1022 UTF-16 units). */
  readonly truncated: boolean;
}

/** The outcome of enumerating one pool, as the host sees it. */
export interface EnumerateResult {
  /** Records received, by index from 0. */
  readonly records: HostRecord[];
  /**
   * The status that ended the enumeration: HV_S_CONT at a normal end, HV_E_FAIL when the
   * kernel could not convert a record (invalid UTF-8), which hides every later record.
   */
  readonly status: number;
  /** True when the enumeration ended normally (status HV_S_CONT). */
  readonly complete: boolean;
}

/** Options of {@link startSimulatedHost}. */
export interface SimulatedHostOptions {
  /**
   * Which daemon serves the device: `real` (hv_kvp_daemon under the shim), `model` (the
   * TypeScript model), or `auto` (default): real when the daemon is installed and a C
   * compiler is available, else model. {@link SimulatedHost.daemon} tells which ran.
   */
  readonly daemon?: DaemonKind | "auto";
  /** Directory standing in for `/var/lib/hyperv`; default a temporary one removed on close. */
  readonly poolDir?: string;
  /** Options for the real daemon (its pool directory is `poolDir`). */
  readonly real?: Omit<RealDaemonOptions, "poolDir">;
  /** Options for the model (its pool directory is `poolDir`). */
  readonly model?: Omit<ModelDaemonOptions, "poolDir">;
}

/**
 * Starts a daemon of the chosen kind and a host in front of it.
 * @throws {SimError} from {@link RealDaemon.start} when `daemon` is `real` and it cannot run
 *   (`daemon-missing` says to `apt-get install hyperv-daemons`).
 */
export async function startSimulatedHost(options: SimulatedHostOptions = {}): Promise<SimulatedHost> {
  const choice = options.daemon ?? "auto";
  const useReal =
    choice === "real" ||
    (choice === "auto" &&
      isDaemonInstalled(options.real?.daemonPath) &&
      (await isCompilerAvailable(options.real?.shim?.compiler)));
  const dir = options.poolDir === undefined ? {} : { poolDir: options.poolDir };
  const channel = useReal
    ? await RealDaemon.start({ ...options.real, ...dir })
    : await ModelDaemon.start({ ...options.model, ...dir });
  return new SimulatedHost(channel);
}

/**
 * A simulated Hyper-V host: makes the requests a real host makes over VMBus and passes them
 * through an emulation of the guest kernel (kernel-relay.ts) to a daemon, so results are
 * what a host would see — UTF-16 text, truncation at 254/1022 units, HV_E_FAIL on invalid
 * UTF-8. One request at a time, like the kernel.
 */
export class SimulatedHost {
  constructor(readonly channel: DaemonChannel) {}

  /** Which daemon serves this host. */
  get daemon(): DaemonKind {
    return this.channel.kind;
  }

  /** The daemon's pool directory (its `/var/lib/hyperv`). */
  get poolDir(): string {
    return this.channel.poolDir;
  }

  /**
   * Sends one request through the kernel emulation and returns what the host receives.
   * @throws {SimError} `invalid-argument` for requests a host cannot make, and the
   *   channel's errors.
   */
  async send(request: HostRequest): Promise<HostReply> {
    const reply = await this.channel.request(toDaemonRequest(request));
    return toHostReply(request, reply);
  }

  /**
   * Adds or modifies an item, as the host's AddKvpItems/ModifyKvpItems (pool 0) or its
   * start-up facts (pool 3) do. The kernel converts the text to UTF-8 and silently cuts it at
   * 511 key / 2047 value bytes.
   * @returns the daemon's status: HV_S_OK, or HV_S_CONT when it refused.
   */
  async set(pool: HostWritablePool, key: string, value: string): Promise<number> {
    return (await this.send({ operation: "set", pool, key, value })).status;
  }

  /**
   * Removes an item, as RemoveKvpItems does.
   * @returns HV_S_OK, or HV_S_CONT when no item has that key.
   */
  async delete(pool: 0, key: string): Promise<number> {
    return (await this.send({ operation: "delete", pool, key })).status;
  }

  /**
   * Asks for one item by key (KVP_OP_GET). Through a real Linux kernel the value comes back
   * empty even when found: the kernel asks the daemon for 0 value bytes (see kernel-relay.ts).
   */
  async get(pool: PoolNumber, key: string): Promise<HostReply> {
    return this.send({ operation: "get", pool, key });
  }

  /**
   * Reads a pool the way a host fills GuestExchangeItems (pool 1) or
   * GuestIntrinsicExchangeItems (pool 2): ENUMERATE index 0, 1, 2… until a status other
   * than HV_S_OK.
   * @param limit most requests to send (default {@link DEFAULT_ENUMERATE_LIMIT}); reaching it
   *   ends the result with status HV_S_OK and `complete` false.
   */
  async enumerate(pool: PoolNumber, limit = DEFAULT_ENUMERATE_LIMIT): Promise<EnumerateResult> {
    const records: HostRecord[] = [];
    for (let index = 0; index < limit; index++) {
      const reply = await this.send({ operation: "enumerate", pool, index });
      if (reply.status !== HvStatus.OK) {
        return { records, status: reply.status, complete: reply.status === HvStatus.CONT };
      }
      records.push({ key: reply.key ?? "", value: reply.value ?? "", truncated: reply.truncated ?? false });
    }
    return { records, status: HvStatus.OK, complete: false };
  }

  /**
   * Sends the host's facts to pool 3, as a host does when the guest's KVP service starts:
   * {@link DEFAULT_HOST_FACTS} with `overrides` applied (see {@link hostFacts}).
   * @returns the records sent, in order.
   * @throws {SimError} `request-failed` naming the first item the daemon refused.
   */
  async sendHostFacts(overrides: Readonly<Record<string, string>> = {}): Promise<KvpRecord[]> {
    const facts = hostFacts(overrides);
    for (const fact of facts) {
      const status = await this.set(3, fact.key, fact.value);
      if (status !== HvStatus.OK) {
        throw new SimError(
          "request-failed",
          `host fact ${JSON.stringify(fact.key)} refused with status 0x${status.toString(16).padStart(8, "0")}`,
        );
      }
    }
    return facts;
  }

  /** Stops the daemon; see {@link DaemonChannel.close}. */
  close(): Promise<void> {
    return this.channel.close();
  }
}
