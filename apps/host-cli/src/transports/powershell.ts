/**
 * {@link HyperVTransport} through local PowerShell, the default on Windows: one persistent
 * `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File
 * kvp-host-bridge.ps1` (or `pwsh` on request) that runs CIM cmdlets against the local
 * WMI, speaking the JSON-lines protocol of `powershell-protocol.ts` (process handling in
 * `powershell-bridge.ts`). No credentials, no WinRM: it runs as the user who runs kvp-host,
 * who must be an administrator of the Hyper-V host.
 *
 * It sends the same WQL as the WS-Management transport (`wsman.ts`), so the two read the same
 * instances, and counts calls with the same labels; the bridge reports the WMI calls it makes
 * on top of each request (the service lookup, the Get of the VM or the job), which are counted
 * too. UNVERIFIED on a real host: tested against a stand-in process that speaks the protocol
 * on top of the simulator; the script itself is only parse-checked.
 */
import {
  type CimInstance,
  type CimProperty,
  type WmiError,
  type WmiJob,
  decodeWmiErrors,
  errorFromInstance,
  jobFromInstance,
} from "@hyperv-kvp/kvp-core/cim";
import {
  CallCounter,
  type HyperVTransport,
  type KvpComponentInfo,
  type KvpMethod,
  type KvpSettingDataInfo,
  type MethodResult,
  type VmInfo,
} from "../transport.js";
import { type BridgeScript, type SeaAssetSource, prepareBridgeScript } from "./bridge-script.js";
import { BridgeProcess, type BridgeProcessOptions } from "./powershell-bridge.js";
import {
  type BridgeFailure,
  type BridgeHello,
  type BridgeRequestBody,
  PowerShellBridgeError,
  type ReadInstance,
  type ReadValue,
  booleanOf,
  integerOf,
  integersOf,
  propertyOf,
  readInstance,
  readInstances,
  readInvokeKvpResult,
  readJobErrorsResult,
  stringsOf,
  textOf,
} from "./powershell-protocol.js";
import {
  type HyperVNamespace,
  V2_NAMESPACE,
  componentQuery,
  kvpSettingDataQuery,
  realizedSettingsQuery,
} from "./wsman.js";

export { type BridgeScript, type SeaAssetSource, bridgeScriptPath, prepareBridgeScript } from "./bridge-script.js";
export {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_START_TIMEOUT_MS,
} from "./powershell-bridge.js";
export {
  type BridgeHello,
  PowerShellBridgeError,
  type PowerShellBridgeErrorCode,
  isPowerShellBridgeError,
} from "./powershell-protocol.js";

/** The job class kvp-host reads when the method named none. */
const DEFAULT_JOB_CLASS = "Msvm_ConcreteJob";

/** Options of {@link openPowerShellTransport}. */
export interface PowerShellTransportOptions {
  /** Start `pwsh` (PowerShell 7) instead of Windows PowerShell's `powershell.exe`. Default false. */
  readonly pwsh?: boolean;
  /** The executable; default `pwsh` with {@link pwsh}, else `powershell.exe` (found on PATH). */
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
  /** WMI namespace of every request; default `root/virtualization/v2` (`root/HyperVCluster/v2` for a cluster). */
  readonly namespace?: HyperVNamespace;
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
 * The bridge's environment: `env` without PSModulePath, so a Windows PowerShell started from
 * a pwsh 7 session does not look for its modules (CimCmdlets) among pwsh's, and each edition
 * computes its own default.
 */
export function bridgeEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (name.toLowerCase() !== "psmodulepath") out[name] = value;
  return out;
}

export { type TransportKind, defaultTransportKind } from "../transport.js";

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

function hostError(label: string, failure: BridgeFailure): PowerShellBridgeError {
  const details = [
    failure.nativeErrorCode,
    failure.hresult === undefined ? undefined : `HRESULT ${hex32(failure.hresult)}`,
  ].filter((d) => d !== undefined);
  const message = failure.message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  const hint = failure.kind === "access-denied" ? "; run kvp-host as an administrator of the Hyper-V host" : "";
  return new PowerShellBridgeError(
    "host-error",
    `${label} failed on the host: ${message}${details.length > 0 ? ` (${details.join(", ")})` : ""}${hint}`,
    failure,
  );
}

function unreadable(message: string): PowerShellBridgeError {
  return new PowerShellBridgeError("invalid-answer", `invalid answer from the PowerShell bridge: ${message}`);
}

/**
 * A bridge instance as a CIM instance of string-typed properties (as the WS-Management
 * transport makes them), so kvp-core's tolerant readers (jobFromInstance, errorFromInstance)
 * parse the numbers. Embedded instances are left out: neither reader needs one.
 */
export function toCimInstance(instance: ReadInstance): CimInstance {
  const properties: CimProperty[] = [];
  for (const [name, value] of instance.properties) {
    if (value === null) properties.push({ name, type: "string", value: null });
    else if (Array.isArray(value)) {
      const texts = (value as readonly ReadValue[]).map(textOf);
      if (texts.every((t) => t !== undefined))
        properties.push({ name, type: "string", array: true, value: texts as string[] });
    } else {
      const text = textOf(value as ReadValue);
      if (text !== undefined) properties.push({ name, type: "string", value: text });
    }
  }
  return { className: instance.className, properties };
}

/**
 * {@link HyperVTransport} over a local PowerShell bridge (see the module doc). A bridge that
 * failed (exited, stopped after a timeout or after writing something unreadable) fails the
 * request it was answering; the next request starts a new one, so a long `watch` or a job
 * being polled outlives a WMI call that hung. After {@link close} nothing starts again.
 */
export class PowerShellTransport implements HyperVTransport {
  readonly calls = new CallCounter();
  private readonly settingsIds = new Map<string, string>();
  private readonly jobClasses = new Map<string, string>();
  private closed = false;
  private restarting: Promise<BridgeProcess> | undefined;
  private disposal: Promise<void> | undefined;

  private constructor(
    private bridge: BridgeProcess,
    private latestHello: BridgeHello,
    /** The WMI namespace of every request. */
    readonly namespace: HyperVNamespace,
    private readonly processOptions: BridgeProcessOptions,
    private readonly script: BridgeScript | undefined,
  ) {}

  /**
   * Prepares the bridge script (see {@link prepareBridgeScript}), starts the bridge and waits
   * for its hello. A temporary copy of the script lives until {@link close} (restarted bridges
   * run it too); a failed start removes it.
   * @throws {PowerShellBridgeError} `powershell-missing` when the executable is not found,
   *   `spawn-failed` (also when the script cannot be written out), `exited` (with its last
   *   stderr lines), `timeout`, `garbled`, `oversize`, `invalid-answer`, `version-mismatch`.
   */
  static async start(options: PowerShellTransportOptions = {}): Promise<PowerShellTransport> {
    const command = options.command ?? (options.pwsh ? "pwsh" : "powershell.exe");
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
      return new PowerShellTransport(bridge, hello, options.namespace ?? V2_NAMESPACE, processOptions, script);
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
        // close() came while it started: it must not outlive the transport.
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

  /** One request: counted under `label` (and the bridge's extra calls), a failed answer thrown. */
  private async call(label: string, body: BridgeRequestBody): Promise<unknown> {
    this.calls.count(label);
    const answer = await (await this.usableBridge()).request(body, label);
    for (const extra of answer.extraCalls) this.calls.count(extra);
    if (!answer.ok) throw hostError(label, answer.failure);
    return answer.result;
  }

  private async query(className: string, wql: string): Promise<ReadInstance[]> {
    return readInstances(await this.call(`query ${className}`, { op: "query", namespace: this.namespace, wql }));
  }

  async queryVms(wql: string): Promise<VmInfo[]> {
    const found = await this.query("Msvm_ComputerSystem", wql);
    return found.map((instance) => {
      const id = textOf(propertyOf(instance, "Name"));
      if (id === undefined) throw unreadable("an Msvm_ComputerSystem instance has no Name");
      const state = integerOf(propertyOf(instance, "EnabledState"));
      return {
        id,
        name: textOf(propertyOf(instance, "ElementName")) ?? "",
        ...(state === undefined ? {} : { enabledState: state }),
      };
    });
  }

  async getKvpComponent(vmId: string): Promise<KvpComponentInfo | undefined> {
    const [component] = await this.query("Msvm_KvpExchangeComponent", componentQuery(vmId));
    if (component === undefined) return undefined;
    return {
      guestItems: stringsOf(propertyOf(component, "GuestExchangeItems"), "GuestExchangeItems"),
      intrinsicItems: stringsOf(propertyOf(component, "GuestIntrinsicExchangeItems"), "GuestIntrinsicExchangeItems"),
      operationalStatus: integersOf(propertyOf(component, "OperationalStatus")),
      statusDescriptions: stringsOf(propertyOf(component, "StatusDescriptions"), "StatusDescriptions"),
    };
  }

  async getKvpSettingData(vmId: string): Promise<KvpSettingDataInfo | undefined> {
    let settingsId = this.settingsIds.get(vmId);
    if (settingsId === undefined) {
      const [settings] = await this.query("Msvm_VirtualSystemSettingData", realizedSettingsQuery(vmId));
      if (settings === undefined) return undefined;
      settingsId = textOf(propertyOf(settings, "InstanceID"));
      if (settingsId === undefined) throw unreadable("the VM's Msvm_VirtualSystemSettingData has no InstanceID");
      this.settingsIds.set(vmId, settingsId);
    }
    const [data] = await this.query("Msvm_KvpExchangeComponentSettingData", kvpSettingDataQuery(settingsId));
    if (data === undefined) return undefined;
    const disable = booleanOf(propertyOf(data, "DisableHostKVPItems"));
    return {
      hostItems: stringsOf(propertyOf(data, "HostExchangeItems"), "HostExchangeItems"),
      hostOnlyItems: stringsOf(propertyOf(data, "HostOnlyItems"), "HostOnlyItems"),
      ...(disable === undefined ? {} : { disableHostKvpItems: disable }),
    };
  }

  async invokeKvpMethod(method: KvpMethod, vmId: string, dataItems: readonly string[]): Promise<MethodResult> {
    const result = readInvokeKvpResult(
      await this.call(`invoke ${method}`, {
        op: "invokeKvp",
        namespace: this.namespace,
        method,
        vmId,
        dataItems: [...dataItems],
      }),
    );
    if (result.job !== null) this.jobClasses.set(result.job.instanceId, result.job.className);
    return { returnValue: result.returnValue, ...(result.job === null ? {} : { jobId: result.job.instanceId }) };
  }

  async getJob(instanceId: string): Promise<WmiJob> {
    const className = this.jobClasses.get(instanceId) ?? DEFAULT_JOB_CLASS;
    const result = await this.call("get Msvm_ConcreteJob", {
      op: "get",
      namespace: this.namespace,
      className,
      keys: { InstanceID: instanceId },
    });
    return jobFromInstance(toCimInstance(readInstance(result)));
  }

  async getJobErrors(instanceId: string): Promise<WmiError[]> {
    const className = this.jobClasses.get(instanceId) ?? DEFAULT_JOB_CLASS;
    const result = readJobErrorsResult(
      await this.call("invoke GetErrorEx", { op: "jobErrors", namespace: this.namespace, className, instanceId }),
    );
    return result.errors.map((entry) =>
      typeof entry === "string" ? decodeWmiErrors([entry])[0]! : errorFromInstance(toCimInstance(entry)),
    );
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
 * Starts the local PowerShell bridge and returns the transport over it: what kvp-host's
 * `--transport powershell` (`--pwsh` sets `pwsh: true`) connects with.
 * @throws {PowerShellBridgeError} see {@link PowerShellTransport.start}.
 */
export function openPowerShellTransport(options: PowerShellTransportOptions = {}): Promise<PowerShellTransport> {
  return PowerShellTransport.start(options);
}
