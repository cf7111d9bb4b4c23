import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { type KvpRecord, isKvpError } from "@hyperv-kvp/kvp-core";
import { EXIT, HostCliError, exitCodeOf } from "./cli-error.js";
import { get } from "./commands/get.js";
import { list } from "./commands/list.js";
import { parsePairArgs, parsePairsText } from "./commands/parse-pairs.js";
import { status } from "./commands/status.js";
import { vms } from "./commands/vms.js";
import { DEFAULT_WATCH_INTERVAL_MS, watchItems } from "./commands/watch.js";
import { removeItems, writeItems } from "./commands/write.js";
import { type ConnectionArgs, PASSWORD_ENV, clientOptionsOf, timeoutMsOf } from "./connection.js";
import { type CliContext, type ConnectRequest, processContext } from "./context.js";
import { HYPERV_NAMESPACES, type HyperVWmi } from "./hyperv-wmi.js";
import type { SourceFilter } from "./items.js";
import { DEFAULT_JOB_TIMEOUT_MS, type JobWaitOptions } from "./jobs.js";
import {
  formatList,
  formatRemove,
  formatStatus,
  formatTable,
  formatVms,
  formatWatchEvent,
  formatWrite,
  printable,
} from "./print.js";
import { chooseTransportKind } from "./transport.js";
import { isTransientTransportError, isTransportError } from "./transport-error.js";
import { VERSION } from "./version.js";

const TOOL = "kvp-host";

/** The environment variable that names the PowerShell executable, when not the one on PATH. */
export const POWERSHELL_ENV = "KVP_HOST_POWERSHELL";

const SOURCES = ["host", "guest", "intrinsic", "host-only", "all"] as const;

/** Examples for sh (Linux, macOS, WSL): quoting and `$(…)` as sh has them. */
const EXAMPLES_SH = `
Examples:
  export KVP_HOST_PASSWORD=…            (or type it at the prompt)
  kvp-host --host hv01 --user 'CORP\\admin' vms
  kvp-host --host hv01 --user admin list web01 --source guest
  kvp-host --host hv01 --user admin get web01 FullyQualifiedDomainName
  kvp-host --host hv01 --user admin set web01 role=web tier=1
  kvp-host --host hv01 --user admin set web01 --from-file facts.env --json
  kvp-host --host hv01 --user admin set web01 --chunk cloud-config="$(cat user-data)"
  kvp-host --host hv01 --user admin remove web01 role tier
  kvp-host --host hv01 --user admin status web01
  kvp-host --host hvclu01 --user 'CORP\\admin' --cluster set web01 role=web   (VM on any node)
  kvp-host --host hv01 --user admin watch web01 --json   (NDJSON, Ctrl-C stops)
`;

/**
 * Examples for Windows. Every `kvp-host` line runs as written in PowerShell and in cmd, the
 * whole line: no quotes, no variables, no trailing notes, only characters neither shell
 * treats specially (main.test.ts checks it); where the two must differ (setting a variable),
 * each shell gets its own line.
 */
const EXAMPLES_WINDOWS = `
Examples (each kvp-host line runs as written in PowerShell and in cmd):
On the Hyper-V host, as an administrator (local PowerShell, no password):
  kvp-host vms
  kvp-host list web01 --source guest
  kvp-host set web01 role=web tier=1
  kvp-host watch web01 --json
From any machine, over WS-Management (--host or --endpoint). The password, unless typed at the prompt:
  PowerShell:  $env:KVP_HOST_PASSWORD = '…'
  cmd:         set "KVP_HOST_PASSWORD=…"
  kvp-host --host hv01 --user CORP\\admin vms
  kvp-host --host hv01 --user admin list web01 --source guest
  kvp-host --host hv01 --user admin get web01 FullyQualifiedDomainName
  kvp-host --host hv01 --user admin set web01 role=web tier=1
  kvp-host --host hv01 --user admin set web01 --from-file facts.env --json
  kvp-host --host hv01 --user admin set web01 --chunk --from-file user-data.json
  kvp-host --host hv01 --user admin remove web01 role tier
  kvp-host --host hv01 --user admin status web01
  kvp-host --host hvclu01 --user CORP\\admin --cluster set web01 role=web
  kvp-host --host hv01 --user admin watch web01 --json
--from-file reads KEY=VALUE lines or a JSON object of strings ({"cloud-config": "…"}); --chunk
stores long values as parts; --cluster finds the VM on any node; watch --json prints NDJSON
until Ctrl-C.
`;

const HELP_NOTES = `
VM is a name or a GUID; a name several VMs share is an error that lists their GUIDs.
Writes go in batches of at most 128 items per call; set adds new keys and modifies stored ones.
Exit codes: 0 ok, 1 VM or key not found, 2 usage (incl. ambiguous VM name, value too long),
3 connection/authentication/IO, 4 the host refused or a job failed or timed out.`;

/** The help's examples for `platform`'s shells (PowerShell and cmd on win32, sh elsewhere), and the notes. */
function helpText(platform: string | undefined): string {
  return `${platform === "win32" ? EXAMPLES_WINDOWS : EXAMPLES_SH}${HELP_NOTES}`;
}

/**
 * Runs kvp-host with `argv` (as `process.argv`: node, script, args…) and returns the exit
 * code. The one place that turns errors into `kvp-host: message` lines and exit codes.
 */
export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const state = { json: false };
  const program = buildProgram(ctx, state);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    return report(error, ctx, state.json);
  }
}

function report(error: unknown, ctx: CliContext, json: boolean): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    )
      return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof HostCliError) {
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    if (error.hint) ctx.stderr.write(`(see: ${error.hint})\n`);
    if (json)
      ctx.stdout.write(
        `${JSON.stringify({ error: { code: error.code, message: error.message, ...error.details } }, null, 2)}\n`,
      );
    return exitCodeOf(error.code);
  }
  if (isTransportError(error)) {
    // The host could not be reached, started, authenticated or read, whichever the transport;
    // only options that cannot work are the user's to fix.
    ctx.stderr.write(`${TOOL}: ${error.message}\n`);
    return error.code === "config" ? EXIT.usage : EXIT.io;
  }
  if (isKvpError(error)) {
    // Data from the host we cannot read (user input is validated before anything is sent).
    ctx.stderr.write(`${TOOL}: unreadable answer from the host: ${error.message}\n`);
    return EXIT.io;
  }
  ctx.stderr.write(
    `${TOOL}: internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
  );
  return EXIT.io;
}

function parseSource(text: string | undefined, command: string): SourceFilter {
  if (text === undefined) return "all";
  if ((SOURCES as readonly string[]).includes(text)) return text as SourceFilter;
  throw new HostCliError(
    "usage",
    `invalid --source ${JSON.stringify(text)}: ${SOURCES.join(", ")}`,
    `${TOOL} ${command} --help`,
  );
}

function parseJobTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_JOB_TIMEOUT_MS;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds <= 0)
    throw new HostCliError("usage", `invalid --job-timeout ${JSON.stringify(text)}: seconds, more than 0`);
  return Math.round(seconds * 1000);
}

function parseInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WATCH_INTERVAL_MS;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600) {
    throw new HostCliError(
      "usage",
      `invalid --interval ${JSON.stringify(text)}: seconds, from 0.1 to 3600`,
      `${TOOL} watch --help`,
    );
  }
  return Math.round(seconds * 1000);
}

function buildProgram(ctx: CliContext, state: { json: boolean }) {
  const program = new Command(TOOL)
    .description(
      "Read and write Hyper-V KVP items of VMs from the host: over WS-Management (WinRM), or on the Hyper-V host itself through PowerShell.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .option("--host <host>", "Hyper-V host name or address (https://HOST:5986/wsman)")
    .option("--endpoint <url>", "WS-Management endpoint URL instead of --host")
    .option(
      "--user <user>",
      "user name, DOMAIN\\user for a domain account; password from $KVP_HOST_PASSWORD or a prompt",
    )
    .addOption(new Option("--auth <kind>", "authentication").choices(["ntlm", "basic"]).default("ntlm"))
    .option("--ca <file>", "PEM CA certificate to trust for the host's TLS certificate")
    .option("--insecure", "do not verify the host's TLS certificate")
    .option(
      "--http",
      "plain HTTP on port 5985: with NTLM every message is sealed, as WinRM requires by default; --auth basic needs --allow-unencrypted",
    )
    .option(
      "--allow-unencrypted",
      "send SOAP unsealed over plain HTTP, for hosts with AllowUnencrypted=true (needed for --auth basic over HTTP): data, and with Basic the password, travel readable",
    )
    .option("--timeout <seconds>", "longest wait for one WS-Management answer (default 60)")
    .addOption(
      new Option(
        "--transport <kind>",
        "wsman: WS-Management to --host or --endpoint (the default when either is given, and off Windows); powershell: the host kvp-host runs on, through a PowerShell bridge (the default on Windows without --host or --endpoint)",
      ).choices(["wsman", "powershell"]),
    )
    .option(
      "--pwsh",
      `with the PowerShell transport: run pwsh (PowerShell 7) instead of powershell.exe ($${POWERSHELL_ENV} names another executable)`,
    )
    .option(
      "--cluster",
      "manage VMs of the whole failover cluster through root\\HyperVCluster\\v2 (--host: the cluster name or any node)",
    )
    .addHelpText("after", helpText(ctx.platform))
    .exitOverride()
    .showHelpAfterError(`(run ${TOOL} --help for usage)`)
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(s.startsWith("error:") ? `${TOOL}: ${s.slice(7)}` : s),
    });

  /** How to reach the host, from the connection options: validated, password obtained. */
  const connectRequest = async (): Promise<ConnectRequest> => {
    const args = program.opts() as ConnectionArgs & {
      cluster?: boolean;
      transport?: "wsman" | "powershell";
      pwsh?: boolean;
    };
    const namespace = args.cluster ? HYPERV_NAMESPACES.cluster : HYPERV_NAMESPACES.host;
    const namesHost = args.host !== undefined || args.endpoint !== undefined;
    if (chooseTransportKind(args.transport, namesHost, ctx.defaultTransport ?? "wsman") === "powershell") {
      const remote = (["host", "endpoint", "user"] as const).filter((o) => args[o] !== undefined);
      if (remote.length > 0 && args.transport === undefined) {
        // Only --user can get here (--host or --endpoint choose WS-Management).
        throw new HostCliError(
          "usage",
          "--user goes with --host or --endpoint (WS-Management); without them kvp-host talks to the Hyper-V host it runs on, through PowerShell, as the user running it",
          `${TOOL} --help`,
        );
      }
      if (remote.length > 0) {
        throw new HostCliError(
          "usage",
          `--transport powershell talks to the Hyper-V host kvp-host runs on, as the user running it: drop ${remote.map((o) => `--${o}`).join(", ")}, or use --transport wsman`,
          `${TOOL} --help`,
        );
      }
      const command = ctx.env[POWERSHELL_ENV];
      return {
        kind: "powershell",
        namespace,
        pwsh: args.pwsh === true,
        timeoutMs: timeoutMsOf(args.timeout),
        ...(command ? { command } : {}),
      };
    }
    if (args.pwsh)
      throw new HostCliError(
        "usage",
        "--pwsh goes with the PowerShell transport (--transport powershell; on Windows the default without --host or --endpoint)",
        `${TOOL} --help`,
      );
    let password = ctx.env[PASSWORD_ENV];
    if (password === undefined) {
      if (ctx.promptPassword === undefined) {
        throw new HostCliError(
          "usage",
          `no password: set ${PASSWORD_ENV}, or run on a terminal to be asked (it is never taken from the command line)`,
          `${TOOL} --help`,
        );
      }
      // Validate the rest first, so nobody types a password for a command that cannot run.
      clientOptionsOf(args, "", undefined);
      password = await ctx.promptPassword(`password for ${args.user ?? ""}: `);
    }
    let ca: string | undefined;
    if (args.ca !== undefined) {
      try {
        ca = await ctx.readFile(args.ca);
      } catch (error) {
        throw new HostCliError(
          "usage",
          `cannot read --ca ${JSON.stringify(args.ca)}: ${(error as { code?: string }).code ?? String(error)}`,
        );
      }
    }
    return { kind: "wsman", options: clientOptionsOf(args, password, ca), namespace };
  };

  /** Connects, runs `body`, closes. */
  const withHost = async <T>(body: (wmi: HyperVWmi) => Promise<T>): Promise<T> => {
    const wmi = await ctx.connect(await connectRequest());
    try {
      return await body(wmi);
    } finally {
      wmi.close();
    }
  };
  const json = (data: unknown) => ctx.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  const notes = (list: readonly string[]) => {
    for (const note of list) ctx.stderr.write(`${TOOL}: note: ${printable(note)}\n`);
  };
  let retryNoted = false;
  const jobOptions = (jobTimeout: string | undefined): JobWaitOptions => ({
    timeoutMs: parseJobTimeout(jobTimeout),
    // A job outlives a dropped connection or a restarting WinRM: keep polling to the deadline.
    // (A PowerShell bridge that timed out or died is restarted by the next call.)
    retryable: isTransientTransportError,
    onRetry: (error) => {
      if (retryNoted) return;
      retryNoted = true;
      ctx.stderr.write(
        `${TOOL}: note: lost contact while waiting for a job (${printable((error as Error).message)}); retrying until --job-timeout\n`,
      );
    },
    ...(ctx.now ? { now: ctx.now } : {}),
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
  });
  const readRecords = async (
    pairs: readonly string[],
    fromFile: string | undefined,
    command: string,
  ): Promise<KvpRecord[]> => {
    const records = parsePairArgs(pairs, command);
    if (fromFile !== undefined) {
      let text: string;
      try {
        text = fromFile === "-" ? await ctx.readStdin() : await ctx.readFile(fromFile);
      } catch (error) {
        throw new HostCliError(
          "usage",
          `cannot read --from-file ${JSON.stringify(fromFile)}: ${(error as { code?: string }).code ?? String(error)}`,
        );
      }
      records.push(...parsePairsText(text, fromFile === "-" ? "stdin" : fromFile));
    }
    if (records.length === 0)
      throw new HostCliError(
        "usage",
        "nothing to write: give KEY=VALUE arguments or --from-file",
        `${TOOL} ${command} --help`,
      );
    return records;
  };

  program
    .command("vms")
    .description("list the VMs of the host")
    .option("--json", "JSON array of {id, name, enabledState}")
    .action(async (opts) => {
      state.json = opts.json === true;
      const found = await withHost((t) => vms(t));
      if (opts.json) json(found);
      else ctx.stdout.write(formatVms(found));
    });

  program
    .command("list")
    .description("list the KVP items of VM; chunked values K#1/N … K#N/N reassembled")
    .argument("<vm>", "VM name or GUID")
    .option("--source <source>", `${SOURCES.join("|")} (default all)`)
    .option("--raw", "show parts K#i/N as stored")
    .option("--json", "JSON: {vm, items: [{source, key, value, parts?}], notes}")
    .action(async (vm, opts) => {
      state.json = opts.json === true;
      const source = parseSource(opts.source, "list");
      const result = await withHost((t) => list(t, vm, { source, ...(opts.raw ? { raw: true } : {}) }));
      if (opts.json) json(result);
      else ctx.stdout.write(formatList(result));
      notes(result.notes);
    });

  program
    .command("get")
    .description(
      "print the value of KEY (exit 1 if absent); searches guest, intrinsic, host, host-only unless --source",
    )
    .argument("<vm>", "VM name or GUID")
    .argument("<key>", "the key (exact case)")
    .option("--source <source>", `${SOURCES.join("|")} (default all)`)
    .option("--raw", "match stored keys exactly, e.g. one part K#2/3")
    .option("--json", "JSON: {vm, source, key, value, parts?}")
    .action(async (vm, key, opts) => {
      state.json = opts.json === true;
      const source = parseSource(opts.source, "get");
      const result = await withHost((t) => get(t, vm, key, { source, ...(opts.raw ? { raw: true } : {}) }));
      if (opts.json) json({ vm: result.vm, ...result.item });
      else ctx.stdout.write(`${result.item.value}\n`);
      notes(result.notes);
    });

  const writeCommand = (name: "set" | "add", description: string) =>
    program
      .command(name)
      .description(description)
      .argument("<vm>", "VM name or GUID")
      .argument("[pairs...]", "KEY=VALUE items")
      .option("--from-file <file>", "KEY=VALUE lines or a JSON object of strings ('-' reads stdin)")
      .option("--host-only", "write HostOnlyItems (kept in the VM configuration, never sent to the guest)")
      .option(
        "--chunk",
        "store values the guest cannot receive whole (over 1022 UTF-16 units) as parts KEY#1/N … KEY#N/N",
      )
      .option("--job-timeout <seconds>", "longest wait for each job (default 60)")
      .option("--json", "print what was done as JSON")
      .action(async (vm, pairs, opts) => {
        state.json = opts.json === true;
        const records = await readRecords(pairs, opts.fromFile, name);
        const result = await withHost((t) =>
          writeItems(t, vm, records, {
            mode: name === "set" ? "upsert" : "add",
            ...(opts.chunk ? { chunk: true } : {}),
            ...(opts.hostOnly ? { hostOnly: true } : {}),
            ...jobOptions(opts.jobTimeout),
          }),
        );
        if (opts.json) json(result);
        else ctx.stdout.write(formatWrite(result));
      });
  writeCommand("set", "add or modify host items of VM (upsert), at most 128 per call");
  writeCommand("add", "add host items to VM; fails if any key exists (nothing is written then)");

  program
    .command("remove")
    .description(
      "remove host items of VM, with every part KEY#i/N of a chunked KEY; exit 1 (nothing removed) if a key is absent",
    )
    .argument("<vm>", "VM name or GUID")
    .argument("<keys...>", "keys to remove")
    .option("--host-only", "remove HostOnlyItems")
    .option("--job-timeout <seconds>", "longest wait for each job (default 60)")
    .option("--json", "print what was removed as JSON")
    .action(async (vm, keys, opts) => {
      state.json = opts.json === true;
      const result = await withHost((t) =>
        removeItems(t, vm, keys, { ...(opts.hostOnly ? { hostOnly: true } : {}), ...jobOptions(opts.jobTimeout) }),
      );
      if (opts.json) json(result);
      else ctx.stdout.write(formatRemove(result));
    });

  program
    .command("status")
    .description("health of VM's KVP (Data Exchange) integration service")
    .argument("<vm>", "VM name or GUID")
    .option("--json", "print the status as JSON")
    .action(async (vm, opts) => {
      state.json = opts.json === true;
      const result = await withHost((t) => status(t, vm));
      if (opts.json) json(result);
      else ctx.stdout.write(formatStatus(result));
    });

  program
    .command("watch")
    .description(
      "print changes of VM's KVP items (added, changed, removed) as they happen, until interrupted; reads every --interval seconds",
    )
    .argument("<vm>", "VM name or GUID")
    .option("--source <source>", `${SOURCES.join("|")} (default guest: what the VM reports)`)
    .option("--interval <seconds>", `pause between reads (default ${DEFAULT_WATCH_INTERVAL_MS / 1000})`)
    .option("--initial", "first print the items present when watching starts")
    .option("--raw", "show parts K#i/N as stored")
    .option("--json", "one JSON object per line (NDJSON): {time, type, source, key, value?, previous?, parts?}")
    .action(async (vm, opts) => {
      state.json = opts.json === true;
      const source = opts.source === undefined ? "guest" : parseSource(opts.source, "watch");
      const intervalMs = parseInterval(opts.interval);
      const controller = new AbortController();
      const stop = () => controller.abort();
      const signals = ctx.signals ?? process;
      signals.once("SIGINT", stop);
      signals.once("SIGTERM", stop);
      try {
        await withHost((t) =>
          watchItems(t, vm, {
            source,
            intervalMs,
            signal: controller.signal,
            ...(opts.initial ? { initial: true } : {}),
            ...(opts.raw ? { raw: true } : {}),
            ...(ctx.watchSleep ? { sleep: ctx.watchSleep } : {}),
            onEvent: (event) => ctx.stdout.write(opts.json ? `${JSON.stringify(event)}\n` : formatWatchEvent(event)),
            onNote: (message) => ctx.stderr.write(`${TOOL}: note: ${printable(message)}\n`),
            onReady: (found, count) =>
              ctx.stderr.write(
                `${TOOL}: watching ${source} items of VM ${JSON.stringify(printable(found.name))} (${found.id}), ${count} now; Ctrl-C stops\n`,
              ),
          }),
        );
      } finally {
        signals.off("SIGINT", stop);
        signals.off("SIGTERM", stop);
      }
      // Said only when a signal ended it: proof for scripts (and the Wine check) that Ctrl-C
      // stopped the watch cleanly rather than killing the process.
      if (controller.signal.aborted) ctx.stderr.write(`${TOOL}: stopped watching\n`);
    });

  return program;
}

// For scripts embedding kvp-host and for tests.
export { formatTable };
