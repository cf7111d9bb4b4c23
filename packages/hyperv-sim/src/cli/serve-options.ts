/**
 * `hyperv-sim serve`'s options: declared on a commander command, read into the library's
 * {@link ServeOptions}, checked together (what one option alone cannot say).
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { type ServeOptions, SimError } from "../index.js";

/** The options as commander gives them, before they are checked. */
interface ServeArgs {
  readonly port?: string;
  readonly https?: true;
  readonly allowUnencrypted?: true;
  readonly user: string;
  readonly password?: string;
  readonly vms?: string;
  readonly daemon: "real" | "model" | "auto";
  readonly cluster?: string;
  readonly node: string[];
}

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

/** Declares serve's options on `command`. */
export function addServeOptions(command: Command): Command {
  return command
    .option("--port <n>", "TCP port on 127.0.0.1 (default: one the OS picks; with --cluster node i listens on N+i)")
    .option("--https", "HTTPS with Basic and NTLM and a fresh self-signed certificate (caFile in the JSON line)")
    .option(
      "--allow-unencrypted",
      "plain HTTP that also accepts unsealed messages and Basic (WinRM's AllowUnencrypted)",
    )
    .option("--user <user>", "the user to accept", "Administrator")
    .option("--password <password>", "its password (default: generated, in the JSON line)")
    .option("--vms <names>", "VM names, comma-separated (default web01); names may repeat")
    .addOption(
      new Option("--daemon <kind>", "what backs each VM: the real hv_kvp_daemon, its model, or real when installed")
        .choices(["real", "model", "auto"])
        .default("auto"),
    )
    .option("--cluster <name>", "serve a failover cluster (root/HyperVCluster/v2 on every node) of the --node given")
    .option(
      "--node <NODE:VM,...>",
      "a cluster node and its VMs; repeat per node",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    ) as unknown as Command;
}

/**
 * The library's options from the command line's.
 * @throws {SimError} `invalid-argument` with a one-line reason.
 */
export function serveOptionsOf(args: ServeArgs): ServeOptions {
  const bad = (reason: string) => new SimError("invalid-argument", reason);
  let port = 0;
  if (args.port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(args.port) || Number(args.port) > 65535) throw bad(`invalid port: ${args.port}`);
    port = Number(args.port);
  }
  if (args.user === "") throw bad("invalid user: empty");
  const vms = args.vms === undefined ? ["web01"] : args.vms.split(",").map((v) => v.trim());
  if (vms.some((v) => v === "")) throw bad("invalid --vms: empty VM name");
  const nodes = args.node.map((text) => {
    const colon = text.indexOf(":");
    const name = (colon < 0 ? text : text.slice(0, colon)).trim();
    const nodeVms =
      colon < 0
        ? []
        : text
            .slice(colon + 1)
            .split(",")
            .map((x) => x.trim());
    if (!NETWORK_NAME.test(name)) throw bad(`invalid --node: ${JSON.stringify(text)} (NODE:VM,VM...)`);
    if (nodeVms.some((x) => x === "")) throw bad(`invalid --node ${JSON.stringify(text)}: empty VM name`);
    return { name, vms: nodeVms };
  });
  const clusterName = args.cluster?.trim();
  if (clusterName !== undefined && !NETWORK_NAME.test(clusterName))
    throw bad(`invalid --cluster: ${JSON.stringify(clusterName)} (a network name: letters, digits, hyphens)`);
  if (args.https && args.allowUnencrypted) throw bad("--https and --allow-unencrypted exclude each other");
  if (nodes.length > 0 && clusterName === undefined) throw bad("--node needs --cluster NAME");
  if (clusterName !== undefined && nodes.length === 0) throw bad("--cluster needs at least one --node NODE:VM,...");
  if (clusterName !== undefined && args.vms !== undefined)
    throw bad("--vms and --cluster exclude each other: give each node's VMs with --node");
  if (clusterName !== undefined && port !== 0 && port + nodes.length - 1 > 65535)
    throw bad(`invalid port: ${port} leaves no room for ${nodes.length} nodes`);
  return {
    port,
    https: args.https === true,
    allowUnencrypted: args.allowUnencrypted === true,
    user: args.user,
    ...(args.password === undefined ? {} : { password: args.password }),
    vms,
    daemon: args.daemon,
    ...(clusterName === undefined ? {} : { cluster: { name: clusterName, nodes } }),
  };
}

/** The options of `command`, as commander parsed them. */
export function serveArgsOf(command: Command): ServeArgs {
  return command.opts() as unknown as ServeArgs;
}

/**
 * The arguments after `serve` as the library's options, for scripts and tests that start
 * what the command would.
 * @throws {SimError} `invalid-argument` with a one-line reason.
 */
export function parseServeArgs(args: readonly string[]): ServeOptions {
  const command = addServeOptions(new Command("serve"))
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    command.parse([...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new SimError("invalid-argument", error.message.replace(/^error: /, ""));
    throw error;
  }
  return serveOptionsOf(serveArgsOf(command));
}
