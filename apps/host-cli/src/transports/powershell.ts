/**
 * {@link CimClient} through local PowerShell, the default on Windows: one persistent
 * `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File
 * kvp-host-bridge.ps1` (or `pwsh` on request) that runs one CIM cmdlet per request against
 * the local WMI, speaking the JSON-lines protocol of `powershell-protocol.ts` (process
 * handling in `powershell-bridge.ts`). No credentials, no WinRM: it runs as the user who runs
 * kvp-host, who must be an administrator of the Hyper-V host. The bridge knows nothing of
 * Hyper-V beyond its allow-list (`bridge-allow-list.ts`).
 *
 * UNVERIFIED on a real host: tested against a stand-in process that speaks the protocol on
 * top of the simulator; the script itself is only parse-checked.
 */
import { statSync } from "node:fs";
import type { CimInstance, CimInstancePath } from "@hyperv-kvp/kvp-core/cim";
import { TransportError } from "../transport-error.js";
import {
  type CimArgument,
  type CimClient,
  type CimEnumeration,
  type CimMethodResult,
  classOfEnumeration,
} from "../transport.js";
import { type BridgeScript, type SeaAssetSource, prepareBridgeScript } from "./bridge-script.js";
import { BridgeProcess, type BridgeProcessOptions } from "./powershell-bridge.js";
import { powershellExecutable } from "./powershell-executable.js";
import {
  type BridgeFailure,
  type BridgeHello,
  type BridgeRequestBody,
  HOST_ERROR_KINDS,
  enumerateRequest,
  invokeRequest,
  readInstance,
  readInstances,
  readMethodResult,
  toBridgePath,
} from "./powershell-protocol.js";

export { type BridgeScript, type SeaAssetSource, bridgeScriptPath, prepareBridgeScript } from "./bridge-script.js";
export {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
} from "./powershell-bridge.js";
export type { BridgeHello } from "./powershell-protocol.js";

/** Options of {@link openPowerShellClient}. */
export interface PowerShellClientOptions {
  /** Start `pwsh` (PowerShell 7) instead of Windows PowerShell's `powershell.exe`. Default false. */
  readonly pwsh?: boolean;
  /**
   * The executable, used as given; default {@link powershellExecutable}'s: on Windows
   * `%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe`, `pwsh` from an absolute
   * directory of PATH (looked up by us, never the current directory).
   */
  readonly command?: string;
  /**
   * Its whole argument list, or a function of the bridge script's path that makes it; default
   * {@link bridgeArguments}. Tests start a stand-in with it. A list alone needs no script, so
   * none is prepared.
   */
  readonly args?: readonly string[] | ((scriptPath: string) => readonly string[]);
  /** The bridge script; default {@link prepareBridgeScript}'s (the package's file, or a single executable's asset written out). */
  readonly scriptPath?: string;
  /** Where a single executable's assets come from; default `node:sea`. Tests pass their own. */
  readonly sea?: SeaAssetSource | undefined;
  /** Where a single executable writes its temporary copy of the script; default `os.tmpdir()`. */
  readonly tempDir?: string;
  /** Environment of the bridge; default {@link bridgeEnvironment} of this process's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Longest wait for one answer, milliseconds; default 60,000. The bridge is stopped after it. */
  readonly requestTimeoutMs?: number;
  /** Longest wait for the bridge's hello, milliseconds; default 30,000. */
  readonly startTimeoutMs?: number;
  /** Longest line the bridge may write, bytes; default 8 MiB. */
  readonly maxLineBytes?: number;
  /** Told each line the bridge writes on standard error (they are also named in errors). */
  readonly onStderr?: (line: string) => void;
}

/** The PowerShell arguments that run `scriptPath`: no logo, no profile, never a prompt, this process's execution policy Bypass. */
export function bridgeArguments(scriptPath: string): string[] {
  return ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", scriptPath];
}

/**
 * What the bridge's environment may hold (names compared ignoring case): what Windows
 * PowerShell and pwsh need to start and to run the CIM cmdlets — the Windows directory
 * (SystemRoot, windir, SystemDrive: without SystemRoot, .NET and Winsock fail), the temporary
 * directory, the user's profile folders (PowerShell's caches and CIM's session state), the
 * program folders, PATH and PATHEXT (pwsh finds its own parts), the computer, user and
 * processor names .NET reads; on Linux and macOS (pwsh) HOME, TMPDIR, USER, LOGNAME and the
 * locale. Nothing else: not KVP_HOST_PASSWORD (the bridge runs as the user, it needs no
 * password), not other programs' secrets, not NODE_OPTIONS or the like. PSModulePath is
 * left out on purpose, so a Windows PowerShell started from a pwsh 7 session does not look
 * for its modules (CimCmdlets) among pwsh's: each edition computes its own default.
 */
export const BRIDGE_ENVIRONMENT: readonly string[] = [
  "SystemRoot",
  "windir",
  "SystemDrive",
  "ComSpec",
  "TEMP",
  "TMP",
  "USERPROFILE",
  "HOMEDRIVE",
  "HOMEPATH",
  "APPDATA",
  "LOCALAPPDATA",
  "ProgramData",
  "ALLUSERSPROFILE",
  "PUBLIC",
  "ProgramFiles",
  "ProgramFiles(x86)",
  "ProgramW6432",
  "CommonProgramFiles",
  "CommonProgramFiles(x86)",
  "CommonProgramW6432",
  "PATH",
  "PATHEXT",
  "COMPUTERNAME",
  "USERNAME",
  "USERDOMAIN",
  "OS",
  "NUMBER_OF_PROCESSORS",
  "PROCESSOR_ARCHITECTURE",
  "HOME",
  "TMPDIR",
  "USER",
  "LOGNAME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
];

const BRIDGE_ENVIRONMENT_NAMES = new Set(BRIDGE_ENVIRONMENT.map((n) => n.toLowerCase()));

/** The bridge's environment: the names of {@link BRIDGE_ENVIRONMENT} that `env` has, nothing else. */
export function bridgeEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && BRIDGE_ENVIRONMENT_NAMES.has(name.toLowerCase())) out[name] = value;
  return out;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/** A failed answer as the seam's error: what the bridge said, on one line, naming the request. */
function hostError(label: string, failure: BridgeFailure): TransportError {
  const details = [
    failure.nativeErrorCode,
    failure.hresult === undefined ? undefined : `HRESULT ${hex32(failure.hresult)}`,
  ].filter((d) => d !== undefined);
  const message = failure.message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  const hint = failure.kind === "access-denied" ? "; run kvp-host as an administrator of the Hyper-V host" : "";
  return new TransportError(
    "host-error",
    `${label} failed on the host: ${message}${details.length > 0 ? ` (${details.join(", ")})` : ""}${hint}`,
    {
      hostError: {
        kind: HOST_ERROR_KINDS[failure.kind],
        ...(failure.nativeErrorCode === undefined ? {} : { code: failure.nativeErrorCode }),
      },
    },
  );
}

/**
 * {@link CimClient} over a local PowerShell bridge (see the module doc). A bridge that failed
 * (exited, stopped after a timeout or after writing something unreadable) fails the request
 * it was answering; the next request starts a new one, so a long `watch` or a job being
 * polled outlives a WMI call that hung. After {@link close} nothing starts again.
 */
export class PowerShellCimClient implements CimClient {
  private closed = false;
  private restarting: Promise<BridgeProcess> | undefined;
  private disposal: Promise<void> | undefined;

  private constructor(
    private bridge: BridgeProcess,
    private latestHello: BridgeHello,
    private readonly processOptions: BridgeProcessOptions,
    private readonly script: BridgeScript | undefined,
  ) {}

  /**
   * Prepares the bridge script (see {@link prepareBridgeScript}), starts the bridge and waits
   * for its hello. A temporary copy of the script lives until {@link close} (restarted bridges
   * run it too); a failed start removes it.
   * @throws {TransportError} `unavailable` when the executable is missing or cannot start,
   *   the script cannot be written out, or the bridge speaks another protocol version; `lost`
   *   when it ends before its hello (with its last stderr lines); `timeout`; `unreadable`.
   */
  static async start(options: PowerShellClientOptions = {}): Promise<PowerShellCimClient> {
    const wanted = options.pwsh ? "pwsh" : "powershell.exe";
    const command =
      options.command ??
      powershellExecutable({
        platform: process.platform,
        env: process.env,
        pwsh: options.pwsh === true,
        exists: isFile,
      });
    if (command === undefined) {
      throw new TransportError(
        "unavailable",
        `PowerShell not found: no ${wanted} in an absolute directory of PATH; install it, name it in $KVP_HOST_POWERSHELL, or reach the host over WS-Management (--host or --endpoint)`,
      );
    }
    const fixedArgs = Array.isArray(options.args) ? (options.args as readonly string[]) : undefined;
    const script =
      fixedArgs !== undefined
        ? undefined
        : options.scriptPath !== undefined
          ? { path: options.scriptPath, temporary: false, dispose: async () => undefined }
          : await prepareBridgeScript({
              ...("sea" in options ? { sea: options.sea } : {}),
              ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
            });
    const args =
      fixedArgs ?? (typeof options.args === "function" ? options.args(script!.path) : bridgeArguments(script!.path));
    const processOptions: BridgeProcessOptions = {
      command,
      args,
      env: options.env ?? bridgeEnvironment(process.env),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
      ...(options.onStderr === undefined ? {} : { onStderr: options.onStderr }),
    };
    try {
      const { bridge, hello } = await BridgeProcess.start(processOptions);
      return new PowerShellCimClient(bridge, hello, processOptions, script);
    } catch (error) {
      await script?.dispose().catch(() => undefined);
      throw error;
    }
  }

  /** The bridge to send to: the running one, or a new one when it failed (see the class doc). */
  private async usableBridge(): Promise<BridgeProcess> {
    if (this.closed || this.bridge.usable) return this.bridge;
    this.restarting ??= BridgeProcess.start(this.processOptions)
      .then(({ bridge, hello }) => {
        // close() came while it started: it must not outlive the client.
        if (this.closed) bridge.close();
        else {
          this.bridge = bridge;
          this.latestHello = hello;
        }
        return bridge;
      })
      .finally(() => {
        this.restarting = undefined;
      });
    return this.restarting;
  }

  /** What the bridge said about itself (PowerShell version and edition); the latest bridge's. */
  get hello(): BridgeHello {
    return this.latestHello;
  }

  /** Resolves when the bridge process has ended (after {@link close}, or a failure). */
  get exited(): Promise<void> {
    return this.bridge.exited;
  }

  /** The last lines the bridge wrote on standard error. */
  get stderrLines(): readonly string[] {
    return this.bridge.stderrLines;
  }

  /** One request, named `label` in errors; a failed answer thrown. */
  private async call(label: string, body: BridgeRequestBody): Promise<unknown> {
    const answer = await (await this.usableBridge()).request(body, label);
    if (!answer.ok) throw hostError(label, answer.failure);
    return answer.result;
  }

  async query(namespace: string, wql: string): Promise<CimInstance[]> {
    const from = /^SELECT \* FROM ([A-Za-z_][A-Za-z0-9_]*)/i.exec(wql)?.[1] ?? "WQL";
    return readInstances(await this.call(`query ${from}`, { op: "query", namespace, wql }));
  }

  async enumerate(what: CimEnumeration): Promise<CimInstance[]> {
    return readInstances(await this.call(`enumerate ${classOfEnumeration(what)}`, enumerateRequest(what)));
  }

  async get(path: CimInstancePath): Promise<CimInstance> {
    return readInstance(await this.call(`get ${path.className}`, { op: "get", path: toBridgePath(path) }));
  }

  async invoke(
    path: CimInstancePath,
    method: string,
    args: ReadonlyMap<string, CimArgument>,
  ): Promise<CimMethodResult> {
    return readMethodResult(await this.call(`invoke ${method}`, invokeRequest(path, method, args)));
  }

  /**
   * Ends the bridge: its standard input closes, and it is stopped if it lingers. A temporary
   * copy of the script is removed once the bridge (and one that was starting) has ended;
   * {@link disposed} says when.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bridge.close();
    const starting = this.restarting?.then(
      (bridge) => bridge.exited,
      () => undefined,
    );
    this.disposal = Promise.all([this.bridge.exited, starting]).then(async () => {
      await this.script?.dispose();
    });
    // Nobody need wait for it; a failure to remove a temporary file must not crash kvp-host.
    this.disposal.catch(() => undefined);
  }

  /** Resolves once {@link close} has removed the temporary copy of the script (at once when there is none, or before close). */
  get disposed(): Promise<void> {
    return this.disposal ?? Promise.resolve();
  }
}

/**
 * Starts the local PowerShell bridge and returns the CIM client over it: what kvp-host's
 * `--transport powershell` (`--pwsh` sets `pwsh: true`) connects with.
 * @throws {TransportError} see {@link PowerShellCimClient.start}.
 */
export function openPowerShellClient(options: PowerShellClientOptions = {}): Promise<PowerShellCimClient> {
  return PowerShellCimClient.start(options);
}
