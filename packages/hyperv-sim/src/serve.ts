/**
 * `hyperv-sim serve`: starts a simulated Hyper-V host with WMI over WS-Management on
 * 127.0.0.1, prints one JSON line describing it, and serves until stopped. By default it
 * listens as a Windows host does out of the box: plain HTTP, NTLM only, every message sealed
 * (WinRM's AllowUnencrypted=false). The command is a function over options and injectable
 * streams; the command line (src/cli/) owns the process (options, signals, exit codes).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import type { DaemonKind } from "./device/daemon-channel.js";
import { makeSelfSignedCertificate } from "./self-signed-certificate.js";
import type { WsmanServerEvent } from "@hyperv-kvp/wsman";
import { type WmiCluster, startWmiCluster } from "./wmi/cluster.js";
import { CLUSTER_NAMESPACE } from "./wmi/cluster-model.js";
import { type WmiHost, startWmiHost } from "./wmi/wmi-server.js";

/**
 * Options of {@link serve} (the command line's `serve` options). With neither `https` nor
 * `allowUnencrypted` the host serves plain HTTP like a default WinRM: NTLM only, every
 * message sealed.
 */
export interface ServeOptions {
  /** TCP port on 127.0.0.1; default 0 (the OS picks). */
  readonly port: number;
  /** Serve HTTPS (Basic and NTLM) with a fresh self-signed certificate. */
  readonly https: boolean;
  /** Serve plain HTTP that accepts unsealed messages and Basic (only without --https). */
  readonly allowUnencrypted: boolean;
  /** User name; default `Administrator`. */
  readonly user: string;
  /** Password; generated when absent. */
  readonly password?: string;
  /** VM names; default one VM `web01`. Names may repeat. */
  readonly vms: readonly string[];
  /** Which daemon backs each VM; default `auto`. */
  readonly daemon: DaemonKind | "auto";
  /**
   * Serve a failover cluster instead of one host: its name and nodes (each with its VMs).
   * Every node answers root/virtualization/v2 for its own VMs and root/HyperVCluster/v2 for
   * all; `endpoint` is the first node's (where the cluster name leads).
   */
  readonly cluster?: {
    readonly name: string;
    readonly nodes: readonly { readonly name: string; readonly vms: readonly string[] }[];
  };
}

/** One VM in the JSON line. */
export interface ServeVmInfo {
  readonly name: string;
  readonly guid: string;
  readonly poolDir: string;
  readonly daemon: DaemonKind;
  /** With --cluster: the node that runs it at start. */
  readonly node?: string;
}

/** The JSON line `serve` prints. */
export interface ServeInfo {
  readonly endpoint: string;
  readonly user: string;
  readonly password: string;
  readonly auth: readonly ("basic" | "ntlm")[];
  readonly https: boolean;
  /**
   * True when every SOAP message must be sealed with the NTLM session (the default: plain
   * HTTP like a default WinRM); false with --https (TLS protects) and --allow-unencrypted.
   */
  readonly sealed: boolean;
  /** The self-signed certificate to trust (PEM), with --https; null otherwise. */
  readonly caFile: string | null;
  readonly vms: readonly ServeVmInfo[];
  /** With --cluster: its name, the namespace to use (`kvp-host --cluster`) and each node's endpoint. */
  readonly cluster?: {
    readonly name: string;
    readonly namespace: string;
    readonly nodes: readonly { readonly name: string; readonly endpoint: string }[];
  };
  readonly pid: number;
}

/** A running `serve`: what it printed, and how to stop it. */
export interface ServeHandle {
  readonly info: ServeInfo;
  /** The host (with --cluster, the first node's). */
  readonly host: WmiHost;
  /** With --cluster: the cluster, for migrating VMs. */
  readonly cluster?: WmiCluster;
  /** Stops the server and daemons and removes the temporary directories. */
  close(): Promise<void>;
}

/**
 * One line for the operator about a refusal: the client of a failed NTLM login only ever
 * sees a 401, so this is where a wrong password and an unknown user are told apart.
 */
export function describeServerEvent(event: WsmanServerEvent): string {
  switch (event.kind) {
    case "auth-failure": {
      const { scheme, reason, user } = event.failure;
      const who = user === undefined ? "" : ` of ${JSON.stringify(user)}`;
      const why =
        reason === "unknown-user"
          ? "unknown user"
          : reason === "wrong-password"
            ? "wrong password"
            : reason === "basic-over-http"
              ? "Basic is refused over plain HTTP (it cannot be sealed; use NTLM, or serve with --https or --allow-unencrypted)"
              : reason === "no-sealing"
                ? "the client did not negotiate NTLM sealing"
                : reason;
      return `${scheme === "ntlm" ? "NTLM" : "Basic"} authentication${who} refused: ${why} (the client only sees HTTP 401)`;
    }
    case "integrity-failure":
      return `refused a sealed request of ${JSON.stringify(event.user)} and closed the connection: ${event.reason}`;
    case "unsealed-refused":
      return `refused an unsealed request of ${JSON.stringify(event.user)} (HTTP 500): this host requires sealed messages over HTTP`;
  }
}

/**
 * Starts the host and writes {@link ServeInfo} as one JSON line to `out`; refusals
 * (failed logins, altered or unsealed requests) go to `diagnostics`, one line each.
 * @throws {SimError} e.g. `daemon-missing`, `invalid-argument`.
 */
export async function serve(
  options: ServeOptions,
  out: { write(text: string): unknown } = process.stdout,
  diagnostics?: { write(text: string): unknown },
): Promise<ServeHandle> {
  const password = options.password ?? randomBytes(18).toString("base64url");
  const certificate = options.https ? makeSelfSignedCertificate() : undefined;
  const sealed = !options.https && !options.allowUnencrypted;
  const auth: ("basic" | "ntlm")[] = sealed ? ["ntlm"] : ["basic", "ntlm"];
  let host: WmiHost;
  let cluster: WmiCluster | undefined;
  const transport = {
    daemon: options.daemon,
    users: { [options.user]: password },
    auth,
    ...(certificate !== undefined
      ? { https: { key: certificate.key, cert: certificate.cert } }
      : sealed
        ? { sealedHttp: true }
        : { allowUnencrypted: true }),
  };
  try {
    if (options.cluster === undefined) {
      host = await startWmiHost({ ...transport, vms: options.vms, port: options.port });
    } else {
      const first = options.port;
      cluster = await startWmiCluster({
        ...transport,
        name: options.cluster.name,
        nodes: options.cluster.nodes.map((node, i) => ({
          name: node.name,
          vms: node.vms,
          ...(first === 0 ? {} : { port: first + i }),
        })),
      });
      host = cluster.nodes[0]!.host;
    }
  } catch (error) {
    if (certificate !== undefined) rmSync(certificate.dir, { recursive: true, force: true });
    throw error;
  }
  const info: ServeInfo = {
    endpoint: cluster?.clusterEndpoint ?? host.endpoint,
    user: options.user,
    password,
    auth,
    https: certificate !== undefined,
    sealed,
    caFile: certificate?.certPath ?? null,
    vms:
      cluster === undefined
        ? host.vms.map((vm) => ({ name: vm.name, guid: vm.guid, poolDir: vm.poolDir, daemon: vm.daemon }))
        : cluster.vms.map((vm) => ({
            name: vm.name,
            guid: vm.guid,
            poolDir: vm.poolDir,
            daemon: vm.daemon,
            node: vm.node,
          })),
    ...(cluster === undefined
      ? {}
      : {
          cluster: {
            name: cluster.name,
            namespace: CLUSTER_NAMESPACE,
            nodes: cluster.nodes.map((n) => ({ name: n.name, endpoint: n.endpoint })),
          },
        }),
    pid: process.pid,
  };
  if (diagnostics !== undefined) {
    for (const server of cluster === undefined ? [host.server] : cluster.nodes.map((n) => n.host.server)) {
      server.onEvent((event) => diagnostics.write(`hyperv-sim: ${describeServerEvent(event)}\n`));
    }
  }
  out.write(`${JSON.stringify(info)}\n`);
  return {
    info,
    host,
    ...(cluster === undefined ? {} : { cluster }),
    async close() {
      await (cluster ?? host).close();
      if (certificate !== undefined) rmSync(certificate.dir, { recursive: true, force: true });
    },
  };
}
