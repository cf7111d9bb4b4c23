/**
 * `cloud-init`: sends cloud-init's NoCloud documents (the files of a `cidata` seed ISO:
 * meta-data, user-data, network-config) to a VM as host items, so the guest agent can write
 * them as a NoCloud seed and no ISO is needed. The keys and the size limit are kvp-core's
 * (`CLOUD_INIT_KEYS`, `MAX_CLOUD_INIT_DOCUMENT_BYTES`), which the agent reads with.
 *
 * One command sends the whole seed: a document not given is removed from the VM's host items,
 * so the guest never pairs a new meta-data with an older user-data.
 */
import type { CliCommand } from "@hyperv-kvp/cli-kit";
import {
  CLOUD_INIT_DOCUMENTS,
  CLOUD_INIT_KEYS,
  type CloudInitDocumentName,
  type KvpRecord,
  MAX_CLOUD_INIT_DOCUMENT_BYTES,
  checkCloudInitDocument,
  decodeCloudInitDocument,
  isKvpError,
} from "@hyperv-kvp/kvp-core";
import { HostCliError } from "../host-error.js";
import type { HostCli } from "../host-session.js";
import type { HyperVWmi } from "../hyperv-wmi.js";
import type { JobWaitOptions } from "../jobs.js";
import { formatWaited, formatWrite } from "../print.js";
import { WAIT_INTERVAL_HELP, WAIT_TIMEOUT_HELP } from "./wait.js";
import { WAIT_HELP, type WriteReport, collect, waitOptionsOf, writeItems, writeThenWait } from "./write.js";

/** The documents of one seed, as text; meta-data is required. */
export type CloudInitSeed = Partial<Record<CloudInitDocumentName, string>> & { readonly "meta-data": string };

/** What {@link sendCloudInit} did: the write, and which documents were sent and removed. */
export interface CloudInitReport extends WriteReport {
  /** Documents sent, in the order written (meta-data last). */
  readonly documents: CloudInitDocumentName[];
}

const HINT = "kvp-host cloud-init --help";

function usage(message: string): HostCliError {
  return new HostCliError("usage", message, HINT);
}

/**
 * The host items of a seed: each document under its key in `CLOUD_INIT_KEYS` (to be chunked),
 * meta-data last, since the instance it names is what the guest acts on.
 * @throws {HostCliError} `usage` for a document kvp-core's checks refuse (size, NUL, no instance-id).
 */
export function cloudInitRecords(seed: CloudInitSeed): KvpRecord[] {
  const records: KvpRecord[] = [];
  for (const name of CLOUD_INIT_DOCUMENTS) {
    const text = seed[name];
    if (text === undefined) continue;
    try {
      checkCloudInitDocument(name, text);
    } catch (error) {
      if (isKvpError(error)) throw usage(error.message);
      throw error;
    }
    records.push({ key: CLOUD_INIT_KEYS[name], value: text });
  }
  return records;
}

/**
 * Sends `seed` to the VM `vmRef` names, chunked, in as few calls as Hyper-V allows, and
 * removes the documents the seed does not have.
 * @throws {HostCliError} `usage` for a refused document; the errors of {@link writeItems}.
 */
export async function sendCloudInit(
  wmi: HyperVWmi,
  vmRef: string,
  seed: CloudInitSeed,
  options: JobWaitOptions = {},
): Promise<CloudInitReport> {
  const records = cloudInitRecords(seed);
  const documents = CLOUD_INIT_DOCUMENTS.filter((name) => seed[name] !== undefined);
  const absent = CLOUD_INIT_DOCUMENTS.filter((name) => seed[name] === undefined).map((name) => CLOUD_INIT_KEYS[name]);
  const report = await writeItems(wmi, vmRef, records, { ...options, mode: "upsert", chunk: true, remove: absent });
  return { ...report, documents };
}

/**
 * meta-data from `--instance-id` and `--hostname`: YAML whose values are JSON strings (a JSON
 * string is a YAML double-quoted scalar), so any text stays one value.
 */
export function metaDataOf(instanceId: string, hostname: string | undefined): string {
  if (instanceId.trim() === "") throw usage("invalid --instance-id: empty");
  if (hostname !== undefined && hostname.trim() === "") throw usage("invalid --hostname: empty");
  return `instance-id: ${JSON.stringify(instanceId)}\n${hostname === undefined ? "" : `local-hostname: ${JSON.stringify(hostname)}\n`}`;
}

/** Reads one document file as kvp-core reads it (UTF-8, BOM dropped, size and content checked). */
async function readDocument(cli: HostCli, name: CloudInitDocumentName, path: string): Promise<string> {
  let read: string | Uint8Array;
  try {
    read = await cli.ctx.readFile(path);
  } catch (error) {
    throw usage(`cannot read --${name} ${JSON.stringify(path)}: ${(error as { code?: string }).code ?? String(error)}`);
  }
  try {
    if (typeof read !== "string") return decodeCloudInitDocument(name, read);
    const text = read.startsWith("\uFEFF") ? read.slice(1) : read;
    checkCloudInitDocument(name, text);
    return text;
  } catch (error) {
    if (isKvpError(error)) throw usage(`${JSON.stringify(path)}: ${error.message}`);
    throw error;
  }
}

/** `kvp-host cloud-init`: exit 2 (nothing sent) for a refused document. */
export const cloudInitCommand: CliCommand<HostCli> = {
  name: "cloud-init",
  define: (command, cli) =>
    command
      .description(
        `send cloud-init's NoCloud documents to VM as host items (${CLOUD_INIT_KEYS["user-data"]} …, chunked; at most ${MAX_CLOUD_INIT_DOCUMENT_BYTES / 1024} KiB of UTF-8 each); documents not given are removed, so the VM gets this seed whole`,
      )
      .argument("<vm>", "VM name or GUID")
      .option("--meta-data <file>", "meta-data (YAML with instance-id), as in a cidata seed")
      .option("--instance-id <id>", "instead of --meta-data: meta-data with this instance-id")
      .option("--hostname <name>", "with --instance-id: the local-hostname of that meta-data")
      .option("--user-data <file>", "user-data (#cloud-config, a script, MIME multipart…)")
      .option("--network-config <file>", "network-config (version 1 or 2)")
      .option("--job-timeout <duration>", "longest wait for each job: 30s, 2m (default 60s)")
      .option("--wait <KEY[=VALUE]>", WAIT_HELP, collect)
      .option("--wait-timeout <duration>", WAIT_TIMEOUT_HELP)
      .option("--interval <duration>", WAIT_INTERVAL_HELP)
      .option("--json", "print what was done as JSON (with --wait: and what the guest showed, under waited)")
      .action(async (vm, opts) => {
        if (opts.metaData !== undefined && opts.instanceId !== undefined)
          throw usage("give --meta-data or --instance-id, not both");
        if (opts.hostname !== undefined && opts.instanceId === undefined)
          throw usage("--hostname goes with --instance-id (in a --meta-data file, write local-hostname)");
        let metaData: string;
        if (opts.metaData !== undefined) metaData = await readDocument(cli, "meta-data", opts.metaData);
        else if (opts.instanceId !== undefined) metaData = metaDataOf(opts.instanceId, opts.hostname);
        else
          throw usage("meta-data is required (cloud-init needs an instance-id): --meta-data FILE or --instance-id ID");
        const seed: Partial<Record<CloudInitDocumentName, string>> & { "meta-data": string } = {
          "meta-data": metaData,
        };
        if (opts.userData !== undefined) seed["user-data"] = await readDocument(cli, "user-data", opts.userData);
        if (opts.networkConfig !== undefined)
          seed["network-config"] = await readDocument(cli, "network-config", opts.networkConfig);
        // Refused documents are found before connecting: nothing is sent then.
        cloudInitRecords(seed);
        const wait = waitOptionsOf(cli, opts, "cloud-init");
        const result = await cli.withHost((wmi) =>
          writeThenWait(
            cli,
            wmi,
            () => sendCloudInit(wmi, vm, seed, cli.jobOptions(opts.jobTimeout)),
            wait,
            (report) => {
              if (!opts.json) cli.ctx.stdout.write(formatWrite(report));
            },
            "sending the cloud-init documents",
          ),
        );
        if (opts.json) cli.run.json(result);
        else if (result.waited === undefined) cli.ctx.stdout.write(formatWrite(result));
        else cli.ctx.stdout.write(formatWaited(result.waited));
      }),
};
