/**
 * What every kvp-host command needs beside its own options: the host connection (from the
 * global options: validated, password obtained), job waiting, `--from-file`, notes. Built once
 * per run by main.ts and given to each command module.
 */
import {
  type CliRun,
  type DurationSpec,
  type Progress,
  parsePairArgs,
  printable,
  readPairsInput,
} from "@hyperv-kvp/cli-kit";
import type { Command } from "@commander-js/extra-typings";
import type { KvpRecord } from "@hyperv-kvp/kvp-core";
import {
  type ConnectionArgs,
  DEFAULT_TIMEOUT_SECONDS,
  PASSWORD_ENV,
  TIMEOUT_SPEC,
  clientOptionsOf,
} from "./connection.js";
import type { CliContext, ConnectRequest } from "./context.js";
import { HostCliError } from "./host-error.js";
import { HYPERV_NAMESPACES, type HyperVWmi } from "./hyperv-wmi.js";
import type { SourceFilter } from "./items.js";
import { DEFAULT_JOB_TIMEOUT_MS, type JobWaitOptions, STEADY_POLLING_MS } from "./jobs.js";
import { chooseTransportKind } from "./transport.js";
import { isTransientTransportError } from "./transport-error.js";

/** The environment variable that names the PowerShell executable, when not the one on PATH. */
export const POWERSHELL_ENV = "KVP_HOST_POWERSHELL";

/** `--source` values. */
export const SOURCES = ["host", "guest", "intrinsic", "host-only", "all"] as const;

/** How `--job-timeout` is read: a duration; a bare number is seconds (deprecated). */
const JOB_TIMEOUT_SPEC: DurationSpec = { option: "--job-timeout", bareUnit: "s", minMs: 1 };

/** What each command module gets. */
export interface HostCli {
  readonly run: CliRun;
  readonly ctx: CliContext;
  /** Connects with the global options, runs `body`, closes. */
  withHost<T>(body: (wmi: HyperVWmi) => Promise<T>): Promise<T>;
  /** Waiting for jobs: `--job-timeout`, retrying through lost contact, a progress line on a terminal. */
  jobOptions(jobTimeout: string | undefined): JobWaitOptions;
  /** KEY=VALUE arguments and `--from-file`, at least one. */
  readRecords(pairs: readonly string[], fromFile: string | undefined, command: string): Promise<KvpRecord[]>;
  /** Prints each as `kvp-host: note: …`, escaped. */
  notes(list: readonly string[]): void;
  /** `--source` (default `all`). @throws {HostCliError} `usage`. */
  parseSource(text: string | undefined, command: string): SourceFilter;
}

type GlobalArgs = Omit<ConnectionArgs, "timeoutMs"> & {
  timeout?: string;
  cluster?: boolean;
  transport?: "wsman" | "powershell";
  pwsh?: boolean;
};

/** The {@link HostCli} of one run. */
export function hostSession(run: CliRun, program: Command, ctx: CliContext): HostCli {
  const tool = run.tool;

  /** How to reach the host, from the connection options: validated, password obtained. */
  const connectRequest = async (): Promise<ConnectRequest> => {
    const { timeout, ...args } = program.opts() as GlobalArgs;
    const timeoutMs = timeout === undefined ? undefined : run.duration(timeout, TIMEOUT_SPEC);
    const namespace = args.cluster ? HYPERV_NAMESPACES.cluster : HYPERV_NAMESPACES.host;
    const namesHost = args.host !== undefined || args.endpoint !== undefined;
    if (chooseTransportKind(args.transport, namesHost, ctx.defaultTransport ?? "wsman") === "powershell") {
      const remote = (["host", "endpoint", "user"] as const).filter((o) => args[o] !== undefined);
      if (remote.length > 0 && args.transport === undefined) {
        // Only --user can get here (--host or --endpoint choose WS-Management).
        throw new HostCliError(
          "usage",
          "--user goes with --host or --endpoint (WS-Management); without them kvp-host talks to the Hyper-V host it runs on, through PowerShell, as the user running it",
          `${tool} --help`,
        );
      }
      if (remote.length > 0) {
        throw new HostCliError(
          "usage",
          `--transport powershell talks to the Hyper-V host kvp-host runs on, as the user running it: drop ${remote.map((o) => `--${o}`).join(", ")}, or use --transport wsman`,
          `${tool} --help`,
        );
      }
      const command = ctx.env[POWERSHELL_ENV];
      return {
        kind: "powershell",
        namespace,
        pwsh: args.pwsh === true,
        timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000,
        ...(command ? { command } : {}),
      };
    }
    if (args.pwsh)
      throw new HostCliError(
        "usage",
        "--pwsh goes with the PowerShell transport (--transport powershell; on Windows the default without --host or --endpoint)",
        `${tool} --help`,
      );
    const connection: ConnectionArgs = { ...args, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
    let password = ctx.env[PASSWORD_ENV];
    if (password === undefined) {
      if (ctx.promptPassword === undefined) {
        throw new HostCliError(
          "usage",
          `no password: set ${PASSWORD_ENV}, or run on a terminal to be asked (it is never taken from the command line)`,
          `${tool} --help`,
        );
      }
      // Validate the rest first, so nobody types a password for a command that cannot run.
      clientOptionsOf(connection, "", undefined);
      password = await ctx.promptPassword(`password for ${args.user ?? ""}: `);
    }
    let ca: string | undefined;
    if (args.ca !== undefined) {
      try {
        const read = await ctx.readFile(args.ca);
        ca = typeof read === "string" ? read : new TextDecoder().decode(read);
      } catch (error) {
        throw new HostCliError(
          "usage",
          `cannot read --ca ${JSON.stringify(args.ca)}: ${(error as { code?: string }).code ?? String(error)}`,
        );
      }
    }
    return { kind: "wsman", options: clientOptionsOf(connection, password, ca), namespace };
  };

  let retryNoted = false;
  return {
    run,
    ctx,
    async withHost(body) {
      const request = await connectRequest();
      // Starting PowerShell and its CIM module takes seconds: say what the wait is for.
      const starting =
        request.kind === "powershell" ? run.progress(`starting ${request.pwsh ? "pwsh" : "PowerShell"}…`) : undefined;
      let wmi: HyperVWmi;
      try {
        wmi = await ctx.connect(request);
      } finally {
        starting?.done();
      }
      try {
        return await body(wmi);
      } finally {
        wmi.close();
      }
    },
    jobOptions: (jobTimeout) => ({
      timeoutMs: jobTimeout === undefined ? DEFAULT_JOB_TIMEOUT_MS : run.duration(jobTimeout, JOB_TIMEOUT_SPEC),
      // A job outlives a dropped connection or a restarting WinRM: keep polling to the deadline.
      // (A PowerShell bridge that timed out or died is restarted by the next call.)
      retryable: isTransientTransportError,
      onRetry: (error) => {
        if (retryNoted) return;
        retryNoted = true;
        run.note(
          `lost contact while waiting for a job (${printable((error as Error).message)}); retrying until --job-timeout`,
        );
      },
      progress: jobProgress(run),
      ...(ctx.now ? { now: ctx.now } : {}),
      ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    }),
    async readRecords(pairs, fromFile, command) {
      const hint = `${tool} ${command} --help`;
      const records: KvpRecord[] = parsePairArgs(pairs, hint);
      if (fromFile !== undefined) records.push(...(await readPairsInput(fromFile, ctx, hint)));
      if (records.length === 0)
        throw new HostCliError("usage", "nothing to write: give KEY=VALUE arguments or --from-file", hint);
      return records;
    },
    notes(list) {
      for (const note of list) run.note(printable(note));
    },
    parseSource(text, command) {
      if (text === undefined) return "all";
      if ((SOURCES as readonly string[]).includes(text)) return text as SourceFilter;
      throw new HostCliError(
        "usage",
        `invalid --source ${JSON.stringify(text)}: ${SOURCES.join(", ")}`,
        `${tool} ${command} --help`,
      );
    },
  };
}

/**
 * A progress line for a job that runs long (past the steady polling, when a user starts to
 * wonder), on stderr when it is a terminal.
 */
function jobProgress(run: CliRun): NonNullable<JobWaitOptions["progress"]> {
  let line: Progress | undefined;
  return {
    tick(elapsedMs) {
      if (elapsedMs < STEADY_POLLING_MS) return;
      const text = `waiting for the host's job (${Math.round(elapsedMs / 1000)}s)`;
      if (line === undefined) line = run.progress(text);
      else line.update(text);
    },
    end() {
      line?.done();
      line = undefined;
    },
  };
}
