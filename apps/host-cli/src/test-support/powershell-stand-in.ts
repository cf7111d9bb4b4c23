/**
 * TEST STAND-IN for `powershell/kvp-host-bridge.ps1`: a separate Node process that speaks the
 * bridge's JSON-lines protocol (`src/transports/powershell-protocol.ts`) on standard input and
 * output, checks every request against the same allow-list as the script
 * (`src/transports/bridge-allow-list.ts`), and does each with the WS-Management call the CIM
 * cmdlets make over WinRM, through kvp-host's own WS-Management CIM client, against a
 * WS-Management endpoint (hyperv-sim's startWmiHost in the tests): one call per request, as
 * the script makes one cmdlet call.
 *
 * It writes the JSON shapes the script writes: integers of the properties kvp-host reads as
 * numbers, booleans as booleans, every other value as text (WS-Management carries no types,
 * so the stand-in knows which properties are integers and booleans by name), references as
 * `{"path": …}`, embedded instances in Errors as the CIM-XML strings WS-Management delivers.
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
import type { CimInstance, CimInstancePath } from "@hyperv-kvp/kvp-core/cim";
import { WsmanClient } from "@hyperv-kvp/wsman";
import { isTransportError } from "../transport-error.js";
import type { CimArgument, CimClient, CimOutput } from "../transport.js";
import { refusalOf } from "../transports/bridge-allow-list.js";
import {
  BRIDGE_NAME,
  type BridgeAnswer,
  type BridgeArgument,
  type BridgeFailure,
  type BridgeHello,
  type BridgePath,
  type BridgeRequestBody,
  PROTOCOL_VERSION,
  readPath,
  toBridgePath,
} from "../transports/powershell-protocol.js";
import { WsmanCimClient } from "../transports/wsman.js";

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

type JsonValue = null | string | number | boolean | JsonValue[] | { [name: string]: JsonValue };

class StandInFailure extends Error {
  constructor(
    readonly kind: BridgeFailure["kind"],
    message: string,
  ) {
    super(message);
  }
}

function typed(name: string, text: string | null): JsonValue {
  if (text === null) return null;
  if (INTEGER_PROPERTIES.has(name) && /^-?\d{1,15}$/.test(text)) return Number(text);
  if (BOOLEAN_PROPERTIES.has(name) && /^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  return text;
}

/** An own data property, whatever the name (a "__proto__" stays a property). */
function define(target: Record<string, JsonValue>, name: string, value: JsonValue): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** A reference as the CIM cmdlets give it: an instance holding the keys. */
function referenceJson(path: CimInstancePath): JsonValue {
  const properties: Record<string, JsonValue> = {};
  for (const key of path.keys) define(properties, key.name, typed(key.name, String(key.value)));
  return { className: path.className, properties };
}

/** A seam instance in the shape Get-CimInstance's objects take in the script's JSON. */
function instanceJson(instance: CimInstance): JsonValue {
  const properties: Record<string, JsonValue> = {};
  for (const p of instance.properties) {
    if (p.type === "reference") define(properties, p.name, p.value === null ? null : referenceJson(p.value));
    else if (p.array)
      define(properties, p.name, p.value === null ? null : p.value.map((v) => typed(p.name, v as string)));
    else define(properties, p.name, typed(p.name, p.value as string | null));
  }
  return { className: instance.className, properties };
}

function outputJson(value: CimOutput): JsonValue {
  if (value === null || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : instanceJson(v as CimInstance)));
  return "keys" in value ? referenceJson(value as CimInstancePath) : instanceJson(value as CimInstance);
}

function field(request: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(request, name) ? request[name] : undefined;
}

function text(request: Record<string, unknown>, name: string): string {
  const value = field(request, name);
  if (typeof value !== "string")
    throw new StandInFailure("invalid-request", `invalid request: '${name}' must be a string`);
  return value;
}

function bridgePath(value: unknown, name: string): BridgePath {
  try {
    const path = readPath(value, `'${name}'`);
    if (path.namespace === undefined) throw new Error("no namespace");
    return toBridgePath(path);
  } catch {
    throw new StandInFailure("invalid-request", `invalid request: '${name}' must be a path`);
  }
}

function argumentsOf(value: unknown): Record<string, BridgeArgument> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new StandInFailure("invalid-request", "invalid request: 'arguments' must be an object");
  const out: Record<string, BridgeArgument> = {};
  for (const [name, argument] of Object.entries(value as Record<string, unknown>)) {
    const read: BridgeArgument =
      typeof argument === "string"
        ? argument
        : Array.isArray(argument) && argument.every((a) => typeof a === "string")
          ? (argument as string[])
          : { path: bridgePath(field((argument ?? {}) as Record<string, unknown>, "path"), name) };
    Object.defineProperty(out, name, { value: read, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A request line's body, its shape checked as the script checks it. */
function bodyOf(request: Record<string, unknown>): BridgeRequestBody {
  switch (text(request, "op")) {
    case "query":
      return { op: "query", namespace: text(request, "namespace"), wql: text(request, "wql") };
    case "enumerate":
      return field(request, "source") === undefined
        ? { op: "enumerate", namespace: text(request, "namespace"), className: text(request, "className") }
        : {
            op: "enumerate",
            source: bridgePath(field(request, "source"), "source"),
            assocClass: text(request, "assocClass"),
            resultClass: text(request, "resultClass"),
          };
    case "get":
      return { op: "get", path: bridgePath(field(request, "path"), "path") };
    case "invoke":
      return {
        op: "invoke",
        path: bridgePath(field(request, "path"), "path"),
        method: text(request, "method"),
        arguments: argumentsOf(field(request, "arguments")),
      };
    default:
      throw new StandInFailure("invalid-request", "invalid request: unknown op");
  }
}

function seamPath(path: BridgePath): CimInstancePath {
  return readPath(path);
}

/** One bridge: kvp-host's WS-Management CIM client. */
class StandIn {
  constructor(private readonly client: CimClient) {}

  async handle(line: string): Promise<BridgeAnswer> {
    let id: number | null = null;
    try {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        throw new StandInFailure("invalid-request", "invalid request: not JSON");
      }
      if (typeof request !== "object" || request === null || Array.isArray(request))
        throw new StandInFailure("invalid-request", "invalid request: not a JSON object");
      const fields = request as Record<string, unknown>;
      const candidate = field(fields, "id");
      if (typeof candidate !== "number" || !Number.isSafeInteger(candidate) || candidate < 0) {
        throw new StandInFailure("invalid-request", "invalid request: 'id' must be a non-negative integer");
      }
      id = candidate;
      const body = bodyOf(fields);
      // Checked before anything reaches WS-Management, as the script checks before any cmdlet.
      const refusal = refusalOf(body);
      if (refusal !== undefined) throw new StandInFailure("invalid-request", refusal);
      return { id, ok: true, result: await this.run(body) };
    } catch (error) {
      return { id, ok: false, error: failureOf(error) };
    }
  }

  private async run(body: BridgeRequestBody): Promise<JsonValue> {
    switch (body.op) {
      case "query":
        return (await this.client.query(body.namespace, body.wql)).map(instanceJson);
      case "enumerate": {
        const found =
          "className" in body
            ? await this.client.enumerate({ namespace: body.namespace, className: body.className })
            : await this.client.enumerate({
                source: seamPath(body.source),
                assocClass: body.assocClass,
                resultClass: body.resultClass,
              });
        return found.map(instanceJson);
      }
      case "get":
        return instanceJson(await this.client.get(seamPath(body.path)));
      case "invoke": {
        const args = new Map<string, CimArgument>();
        for (const [name, value] of Object.entries(body.arguments))
          args.set(
            name,
            typeof value === "string" || Array.isArray(value) ? value : seamPath((value as { path: BridgePath }).path),
          );
        const result = await this.client.invoke(seamPath(body.path), body.method, args);
        const outputs: Record<string, JsonValue> = {};
        for (const [name, value] of result.outputs) define(outputs, name, outputJson(value));
        return { returnValue: result.returnValue, outputs };
      }
    }
  }
}

const CIM_EXCEPTION = "Microsoft.Management.Infrastructure.CimException";

/** What a failure would have been as a CimException. */
function failureOf(error: unknown): BridgeFailure {
  if (error instanceof StandInFailure)
    return { kind: error.kind, message: error.message, exceptionType: "System.InvalidOperationException" };
  if (isTransportError(error, "unauthorized"))
    return {
      kind: "access-denied",
      message: "Access denied",
      nativeErrorCode: "AccessDenied",
      hresult: -2147217405,
      exceptionType: CIM_EXCEPTION,
    };
  if (isTransportError(error, "host-error") && error.hostError?.kind === "not-found")
    return {
      kind: "not-found",
      message: "Not found",
      nativeErrorCode: "NotFound",
      hresult: -2147217406,
      exceptionType: CIM_EXCEPTION,
    };
  if (isTransportError(error))
    return {
      kind: "cim",
      message: error.message,
      nativeErrorCode: "Failed",
      hresult: -2147217407,
      exceptionType: CIM_EXCEPTION,
    };
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
  const client = new WsmanCimClient(
    new WsmanClient({
      endpoint,
      auth: { kind: "ntlm", user: env["KVP_STAND_IN_USER"] ?? "", password: env["KVP_STAND_IN_PASSWORD"] ?? "" },
      ...(caFile === undefined ? {} : { ca: readFileSync(caFile, "utf8") }),
      timeoutMs: 20_000,
    }),
  );
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
