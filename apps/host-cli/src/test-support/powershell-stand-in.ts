/**
 * TEST STAND-IN for `powershell/kvp-host-bridge.ps1`: a separate Node process that speaks the
 * bridge's JSON-lines protocol (`src/transports/powershell-protocol.ts`) on standard input and
 * output, and does each request with the WS-Management calls the CIM cmdlets make over WinRM,
 * against a WS-Management endpoint (hyperv-sim's startWmiHost in the tests):
 * - `query` — Get-CimInstance -Query: Enumerate `…/<namespace>/*` with the WQL filter;
 * - `get` — Get-CimInstance -InputObject of a key-only instance: Get with the keys as selectors;
 * - `invokeKvp` — the service once per namespace (Get-CimInstance -ClassName, an Enumerate),
 *   the VM (a Get), then Invoke-CimMethod: Invoke with the service's keys as selectors,
 *   TargetSystem as the VM's endpoint reference and DataItems repeated;
 * - `jobErrors` — the job (a Get), then Invoke-CimMethod GetErrorEx.
 * It writes the JSON shapes the script writes: integers of the properties kvp-host reads as
 * numbers, booleans as booleans, every other value as text (WS-Management carries no types,
 * so the stand-in knows which properties are integers and booleans by name), embedded
 * instances in Errors as the CIM-XML strings WS-Management delivers.
 *
 * It cannot tell how the real CIM cmdlets, WMI or PowerShell behave: it tests kvp-host's side
 * of the protocol on the simulator, not the script.
 *
 * Environment: KVP_STAND_IN_ENDPOINT (the WS-Management URL), KVP_STAND_IN_USER,
 * KVP_STAND_IN_PASSWORD, KVP_STAND_IN_CA (a PEM file to trust). It imports workspace sources,
 * so tests bundle it with esbuild and run the bundle with node.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { WMI_RESOURCE_URI_PREFIX, type WsmanSelector, pathToEpr } from "@hyperv-kvp/kvp-core/cim";
import { type WsmanInstance, WsmanClient, type WsmanParameter, isWsmanError } from "@hyperv-kvp/wsman";
import {
  BRIDGE_NAME,
  BRIDGE_NAMESPACES,
  type BridgeAnswer,
  type BridgeFailure,
  type BridgeHello,
  type BridgeInstance,
  type BridgeValue,
  type InvokeKvpResult,
  type JobErrorsResult,
  PROTOCOL_VERSION,
} from "../transports/powershell-protocol.js";

/** Integer properties of the classes kvp-host reads (uint16/uint32 in the Msvm MOFs). */
const INTEGER_PROPERTIES = new Set([
  "EnabledState",
  "EnabledDefault",
  "RequestedState",
  "HealthState",
  "OperationalStatus",
  "JobState",
  "JobType",
  "ErrorCode",
  "PercentComplete",
  "Priority",
  "Source",
]);
/** Boolean properties of those classes. */
const BOOLEAN_PROPERTIES = new Set(["DisableHostKVPItems", "DeleteOnCompletion"]);
const KVP_METHODS = new Set(["AddKvpItems", "ModifyKvpItems", "RemoveKvpItems"]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;
const SERVICE_CLASS = "Msvm_VirtualSystemManagementService";
const SERVICE_KEYS = ["CreationClassName", "Name", "SystemCreationClassName", "SystemName"] as const;

class StandInFailure extends Error {
  constructor(
    readonly kind: BridgeFailure["kind"],
    message: string,
  ) {
    super(message);
  }
}

function typed(name: string, text: string): BridgeValue {
  if (INTEGER_PROPERTIES.has(name) && /^-?\d{1,15}$/.test(text)) return Number(text);
  if (BOOLEAN_PROPERTIES.has(name) && /^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  return text;
}

/** A WS-Management instance in the shape Get-CimInstance's objects take in the script's JSON. */
function toBridgeInstance(instance: WsmanInstance): BridgeInstance {
  const properties: Record<string, BridgeValue> = {};
  for (const [name, value] of instance.properties) {
    // Own data properties only, whatever the name (a "__proto__" stays a property).
    Object.defineProperty(properties, name, {
      value: value === null ? null : typeof value === "string" ? typed(name, value) : value.map((v) => typed(name, v)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { className: instance.className, properties };
}

function field(request: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(request, name) ? request[name] : undefined;
}

function stringField(request: Record<string, unknown>, name: string): string {
  const value = field(request, name);
  if (typeof value !== "string")
    throw new StandInFailure("invalid-request", `invalid request: '${name}' must be a string`);
  return value;
}

function identifierField(request: Record<string, unknown>, name: string): string {
  const value = stringField(request, name);
  if (!IDENTIFIER.test(value))
    throw new StandInFailure("invalid-request", `invalid request: '${name}' must be a CIM identifier`);
  return value;
}

function namespaceField(request: Record<string, unknown>): string {
  const value = stringField(request, "namespace").replaceAll("\\", "/");
  const found = BRIDGE_NAMESPACES.find((ns) => ns.toLowerCase() === value.toLowerCase());
  if (found === undefined)
    throw new StandInFailure("invalid-request", `invalid request: namespace '${value}' is not one kvp-host uses`);
  return found;
}

function uriOf(namespace: string, className: string): string {
  return `${WMI_RESOURCE_URI_PREFIX}${namespace}/${className}`;
}

/** One bridge: a WS-Management client and the service instances it looked up. */
class StandIn {
  private readonly services = new Map<string, WsmanSelector[]>();

  constructor(private readonly client: WsmanClient) {}

  async handle(line: string): Promise<BridgeAnswer> {
    let id: number | null = null;
    const extraCalls: string[] = [];
    try {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        throw new StandInFailure("invalid-request", "invalid request: not JSON");
      }
      if (typeof request !== "object" || request === null || Array.isArray(request))
        throw new StandInFailure("invalid-request", "invalid request: not a JSON object");
      const body = request as Record<string, unknown>;
      const candidate = field(body, "id");
      if (typeof candidate !== "number" || !Number.isSafeInteger(candidate) || candidate < 0) {
        throw new StandInFailure("invalid-request", "invalid request: 'id' must be a non-negative integer");
      }
      id = candidate;
      const result = await this.run(body, stringField(body, "op"), extraCalls);
      return { id, ok: true, result, ...(extraCalls.length > 0 ? { extraCalls } : {}) };
    } catch (error) {
      return { id, ok: false, error: failureOf(error), ...(extraCalls.length > 0 ? { extraCalls } : {}) };
    }
  }

  private async run(request: Record<string, unknown>, op: string, extraCalls: string[]): Promise<unknown> {
    switch (op) {
      case "query": {
        const namespace = namespaceField(request);
        const found = await this.client.enumerate(
          `${WMI_RESOURCE_URI_PREFIX}${namespace}/*`,
          stringField(request, "wql"),
        );
        return found.map(toBridgeInstance);
      }
      case "get": {
        const namespace = namespaceField(request);
        const className = identifierField(request, "className");
        const keys = field(request, "keys");
        if (typeof keys !== "object" || keys === null || Array.isArray(keys))
          throw new StandInFailure("invalid-request", "invalid request: 'keys' must be an object of strings");
        const selectors = Object.entries(keys as Record<string, unknown>).map(([name, value]) => {
          if (!IDENTIFIER.test(name) || typeof value !== "string")
            throw new StandInFailure("invalid-request", "invalid request: 'keys' must map CIM identifiers to strings");
          return { name, value };
        });
        if (selectors.length === 0) throw new StandInFailure("invalid-request", "invalid request: 'keys' is empty");
        return toBridgeInstance(await this.client.get(uriOf(namespace, className), selectors));
      }
      case "invokeKvp":
        return this.invokeKvp(request, extraCalls);
      case "jobErrors": {
        const namespace = namespaceField(request);
        const className = identifierField(request, "className");
        const instanceId = stringField(request, "instanceId");
        const selectors = [{ name: "InstanceID", value: instanceId }];
        extraCalls.push(`get ${className}`);
        await this.client.get(uriOf(namespace, className), selectors);
        const reply = await this.client.invoke(uriOf(namespace, className), "GetErrorEx", selectors, {});
        const errors = reply.outputs.get("Errors");
        const list = typeof errors === "string" ? [errors] : Array.isArray(errors) ? (errors as readonly string[]) : [];
        const result: JobErrorsResult = { returnValue: reply.returnValue, errors: [...list] };
        return result;
      }
      default:
        throw new StandInFailure("invalid-request", "invalid request: unknown op");
    }
  }

  private async invokeKvp(request: Record<string, unknown>, extraCalls: string[]): Promise<InvokeKvpResult> {
    const namespace = namespaceField(request);
    const method = stringField(request, "method");
    if (!KVP_METHODS.has(method))
      throw new StandInFailure(
        "invalid-request",
        "invalid request: method must be one of AddKvpItems, ModifyKvpItems, RemoveKvpItems",
      );
    const vmId = stringField(request, "vmId");
    const dataItems = field(request, "dataItems");
    if (!Array.isArray(dataItems) || !dataItems.every((item) => typeof item === "string"))
      throw new StandInFailure("invalid-request", "invalid request: 'dataItems' must be an array of strings");
    let service = this.services.get(namespace);
    if (service === undefined) {
      extraCalls.push(`query ${SERVICE_CLASS}`);
      const [found] = await this.client.enumerate(
        `${WMI_RESOURCE_URI_PREFIX}${namespace}/*`,
        `SELECT * FROM ${SERVICE_CLASS}`,
      );
      if (found === undefined)
        throw new StandInFailure(
          "not-found",
          `the host has no ${SERVICE_CLASS} in ${namespace} (is Hyper-V installed?)`,
        );
      service = SERVICE_KEYS.map((name) => {
        const value = found.properties.get(name);
        if (typeof value !== "string") throw new StandInFailure("internal", `${SERVICE_CLASS} has no ${name}`);
        return { name, value };
      });
      this.services.set(namespace, service);
    }
    const vmKeys = [
      { name: "CreationClassName", value: "Msvm_ComputerSystem" },
      { name: "Name", value: vmId },
    ];
    extraCalls.push("get Msvm_ComputerSystem");
    await this.client.get(uriOf(namespace, "Msvm_ComputerSystem"), vmKeys);
    const target = pathToEpr({
      namespace,
      className: "Msvm_ComputerSystem",
      keys: vmKeys.map((k) => ({ ...k, type: "string" as const })),
    });
    const parameters = new Map<string, WsmanParameter>([
      ["TargetSystem", target],
      ["DataItems", [...(dataItems as string[])]],
    ]);
    const reply = await this.client.invoke(uriOf(namespace, SERVICE_CLASS), method, service, parameters);
    const jobClass = reply.job?.resourceUri.split("/").pop() ?? "Msvm_ConcreteJob";
    return {
      returnValue: reply.returnValue,
      job: reply.jobInstanceId === undefined ? null : { className: jobClass, instanceId: reply.jobInstanceId },
    };
  }
}

/** What a WS-Management failure would have been as a CimException. */
function failureOf(error: unknown): BridgeFailure {
  if (error instanceof StandInFailure)
    return { kind: error.kind, message: error.message, exceptionType: "System.InvalidOperationException" };
  if (isWsmanError(error)) {
    const cim = "Microsoft.Management.Infrastructure.CimException";
    if (error.code === "unauthorized")
      return {
        kind: "access-denied",
        message: "Access denied",
        nativeErrorCode: "AccessDenied",
        hresult: -2147217405,
        exceptionType: cim,
      };
    if (error.code === "fault" && /InvalidSelectors/i.test(error.fault?.subcode ?? "")) {
      return {
        kind: "not-found",
        message: "Not found",
        nativeErrorCode: "NotFound",
        hresult: -2147217406,
        exceptionType: cim,
      };
    }
    return { kind: "cim", message: error.message, nativeErrorCode: "Failed", hresult: -2147217407, exceptionType: cim };
  }
  return { kind: "internal", message: error instanceof Error ? error.message : String(error) };
}

async function main(): Promise<void> {
  const env = process.env;
  const endpoint = env["KVP_STAND_IN_ENDPOINT"];
  if (endpoint === undefined) {
    process.stderr.write("powershell-stand-in: KVP_STAND_IN_ENDPOINT is not set\n");
    process.exit(2);
  }
  const caFile = env["KVP_STAND_IN_CA"];
  const client = new WsmanClient({
    endpoint,
    auth: { kind: "ntlm", user: env["KVP_STAND_IN_USER"] ?? "", password: env["KVP_STAND_IN_PASSWORD"] ?? "" },
    ...(caFile === undefined ? {} : { ca: readFileSync(caFile, "utf8") }),
    timeoutMs: 20_000,
  });
  const standIn = new StandIn(client);
  const hello: BridgeHello = {
    bridge: BRIDGE_NAME,
    protocol: PROTOCOL_VERSION,
    psVersion: "stand-in",
    psEdition: "stand-in (Node over WS-Management)",
    pid: process.pid,
  };
  process.stdout.write(`${JSON.stringify(hello)}\n`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    process.stdout.write(`${JSON.stringify(await standIn.handle(line))}\n`);
  }
  client.close();
}

void main().catch((error: unknown) => {
  process.stderr.write(
    `powershell-stand-in: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
