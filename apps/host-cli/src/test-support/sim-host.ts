/**
 * The host the unit tests drive: hyperv-sim's WMI host in this process (its one model of
 * Hyper-V: VMs, KVP stores, method semantics, jobs, errors), reached the way kvp-host reaches
 * a real one — HyperVWmi over the WS-Management CIM client — with only HTTP left out (the
 * simulator's in-process client still writes and parses every SOAP message). Each VM's guest
 * side is the simulator's TypeScript model of hv_kvp_daemon, so these tests need neither the
 * real daemon nor a network; the e2e and interop suites run the real daemon.
 *
 * What the simulator cannot do on its own, tests add at the seam ({@link Interceptor}): a
 * connection that fails, a call that must be seen before it is made.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type InProcessWmiHost, startInProcessWmiHost } from "@hyperv-kvp/hyperv-sim";
import { type KvpRecord, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { type CimInstance, type CimInstancePath } from "@hyperv-kvp/kvp-core/cim";
import { HyperVWmi, type HyperVNamespace } from "../hyperv-wmi.js";
import type { CimArgument, CimClient, CimEnumeration, CimMethodResult } from "../transport.js";
import { WsmanCimClient } from "../transports/wsman.js";

export const WEB01 = "11111111-2222-3333-4444-555555555555";
export const DUP_A = "AAAAAAAA-0000-0000-0000-000000000001";
export const DUP_B = "AAAAAAAA-0000-0000-0000-000000000002";
export const OFF = "BBBBBBBB-0000-0000-0000-000000000003";

/** What web01's guest reports about itself (pool 2), for every VM. */
export const INTRINSIC: readonly KvpRecord[] = [
  { key: "FullyQualifiedDomainName", value: "web01.example.test" },
  { key: "OSName", value: "Debian GNU/Linux" },
];

/** One CIM operation about to be made: the operation and the class (or method) it is about. */
export interface InterceptedCall {
  readonly op: "query" | "enumerate" | "get" | "invoke";
  /** The class queried, enumerated or read, or the method invoked. */
  readonly subject: string;
  readonly args?: ReadonlyMap<string, CimArgument>;
}

/** Called before each operation reaches the host; it may throw (a failed connection) or wait. */
export type Interceptor = (call: InterceptedCall) => void | Promise<void>;

/** A {@link CimClient} that shows every call to an {@link Interceptor} first. */
export class InterceptingCimClient implements CimClient {
  intercept: Interceptor | undefined;
  closed = false;

  constructor(private readonly inner: CimClient) {}

  async query(namespace: string, wql: string): Promise<CimInstance[]> {
    await this.intercept?.({ op: "query", subject: /FROM (\w+)/.exec(wql)?.[1] ?? wql });
    return this.inner.query(namespace, wql);
  }

  async enumerate(what: CimEnumeration): Promise<CimInstance[]> {
    await this.intercept?.({ op: "enumerate", subject: "className" in what ? what.className : what.resultClass });
    return this.inner.enumerate(what);
  }

  async get(path: CimInstancePath): Promise<CimInstance> {
    await this.intercept?.({ op: "get", subject: path.className });
    return this.inner.get(path);
  }

  async invoke(
    path: CimInstancePath,
    method: string,
    args: ReadonlyMap<string, CimArgument>,
  ): Promise<CimMethodResult> {
    await this.intercept?.({ op: "invoke", subject: method, args });
    return this.inner.invoke(path, method, args);
  }

  close(): void {
    this.closed = true;
    this.inner.close();
  }
}

/** A running sample host and kvp-host's view of it. */
export interface SimHost {
  readonly sim: InProcessWmiHost;
  /** kvp-host's Hyper-V logic over it; closing it closes only this view. */
  readonly wmi: HyperVWmi;
  /** The client under {@link wmi}: set `intercept` to fail or watch calls. */
  readonly client: InterceptingCimClient;
  /** Another view of the same host (a second kvp-host run), with its own calls and caches. */
  connect(namespace?: HyperVNamespace): { wmi: HyperVWmi; client: InterceptingCimClient };
  /** The VM's host items (HostExchangeItems) as the simulator stores them. */
  hostItems(vmId: string): Map<string, string>;
  /** The VM's host-only items. */
  hostOnlyItems(vmId: string): Map<string, string>;
  /** Replaces what the VM's guest wrote to pool 1, as a guest tool would (the daemon reads it at the next query). */
  setGuestItems(vmId: string, records: readonly KvpRecord[]): void;
  /** Holds jobs Running until {@link resumeJobs}. */
  pauseJobs(): void;
  resumeJobs(): void;
  close(): Promise<void>;
}

/**
 * Starts web01 (guest items ReadyState and a report in two parts, host item role=web), two
 * VMs named "dup", and "off" (stopped, without a KVP exchange component).
 */
export async function startSimHost(): Promise<SimHost> {
  const sim = await startInProcessWmiHost({
    vms: [
      { name: "web01", guid: WEB01 },
      { name: "dup", guid: DUP_A },
      { name: "dup", guid: DUP_B },
      { name: "off", guid: OFF },
    ],
    daemon: "model",
    simulatedHost: { model: { autoPool: () => INTRINSIC } },
    sendHostFacts: false,
  });
  let paused = false;
  // Every job started earlier has finished before the next request (unless held): job
  // timing is then the same on every run, so tests can count polls.
  const settle = () => (paused ? Promise.resolve() : sim.settle());
  const connect = (namespace?: HyperVNamespace) => {
    const client = new InterceptingCimClient(new WsmanCimClient(sim.client({ beforeRequest: settle })));
    return { client, wmi: new HyperVWmi(client, namespace === undefined ? {} : { namespace }) };
  };
  const vm = (id: string) => {
    const found = sim.model.findVm(id);
    if (found === undefined) throw new Error(`sim host: no VM ${id}`);
    return found;
  };
  const setGuestItems = (vmId: string, records: readonly KvpRecord[]) => {
    const dir = sim.vms.find((v) => v.guid === vmId.toUpperCase())!.poolDir;
    writeFileSync(join(dir, poolFileName(1)), encodePool(records));
  };
  setGuestItems(WEB01, [
    { key: "ReadyState", value: "ready" },
    { key: "report#1/2", value: "first-" },
    { key: "report#2/2", value: "second" },
  ]);
  // A host item as AddKvpItems leaves it: in the VM's configuration and in the guest's pool 0.
  vm(WEB01).hostItems.set("role", "web");
  await sim.guests.run(WEB01, (guest) => guest.set(0, "role", "web"));
  await sim.stopVm(OFF);
  vm(OFF).kvpComponent = false;
  const first = connect();
  return {
    sim,
    ...first,
    connect,
    hostItems: (id) => vm(id).hostItems,
    hostOnlyItems: (id) => vm(id).hostOnlyItems,
    setGuestItems,
    pauseJobs() {
      paused = true;
      sim.pauseJobs();
    },
    resumeJobs() {
      paused = false;
      sim.resumeJobs();
    },
    close: () => sim.close(),
  };
}
