/**
 * The JSON-lines protocol between kvp-host and its PowerShell bridge
 * (`powershell/kvp-host-bridge.ps1`), documented once here; the script and the test stand-in
 * (`src/test-support/powershell-stand-in.ts`) both follow it. Pure: types, limits, the
 * writers of requests and the readers that turn what the bridge wrote (hostile until
 * checked) into the seam's CIM values.
 *
 * Framing: UTF-8 without BOM, one JSON value per line, lines end with LF (a CR before it is
 * tolerated). kvp-host writes requests on the bridge's standard input with every non-ASCII
 * character escaped as `\uXXXX`, so no code page can change them; the bridge answers on its
 * standard output, and its standard error is free text for people.
 *
 * 1. At start the bridge writes one {@link BridgeHello} line, before reading anything.
 * 2. Then, for each request line, exactly one answer line with the request's `id`:
 *    `{"id":1,"ok":true,"result":…}` or `{"id":1,"ok":false,"error":{"kind":…,"message":…}}`.
 *    A line that is not a request gets `"id":null`.
 * 3. The bridge ends when its standard input ends.
 *
 * Requests are the four operations of the CIM seam ({@link BridgeRequestBody}), each one CIM
 * cmdlet call on the bridge's side, every value a parameter of that cmdlet, never script
 * text; the bridge refuses what its allow-list (`bridge-allow-list.ts`) does not name:
 * - `query` `{namespace, wql}` → instances (Get-CimInstance -Query, WQL `SELECT * FROM`);
 * - `enumerate` `{namespace, className}` → instances (Get-CimInstance -ClassName), or
 *   `{source, assocClass, resultClass}` → instances (Get-CimAssociatedInstance);
 * - `get` `{path}` → one instance (Get-CimInstance -InputObject);
 * - `invoke` `{path, method, arguments}` → `{returnValue, outputs}` (Invoke-CimMethod).
 * A path is `{namespace, className, keys: {Name: "text", …}}`; an argument is text, an array
 * of text or `{"path": …}` (a reference). A value in an answer is null, text, a number, a
 * boolean, an array or an instance `{className, properties}`: a reference (a method's Job)
 * arrives as the instance the CIM cmdlets give for it, which holds its keys.
 */
import { isCimName } from "@hyperv-kvp/kvp-core/cim";
import { type CimInstance, type CimInstancePath, type CimKeyBinding, type CimProperty } from "@hyperv-kvp/kvp-core/cim";
import { type HostErrorKind, TransportError } from "../transport-error.js";
import type { CimArgument, CimEnumeration, CimOutput } from "../transport.js";

/** What the bridge calls itself in its hello line. */
export const BRIDGE_NAME = "kvp-host-bridge";
/**
 * The protocol version this module speaks; the hello line must carry the same. 2: the
 * generic CIM operations (1 had Hyper-V operations of its own).
 */
export const PROTOCOL_VERSION = 2;
/** The script's file name (in `powershell/` of the package, `dist/powershell/` beside the bundle). */
export const BRIDGE_SCRIPT_NAME = "kvp-host-bridge.ps1";

/** Most properties one instance may carry (Msvm_ComputerSystem has about 60). */
export const MAX_INSTANCE_PROPERTIES = 4096;
/** Most elements of one array value, or instances of one answer (as WsmanClient's maxItems). */
export const MAX_ARRAY_ELEMENTS = 100_000;
/** Deepest nesting of embedded instances (the script refuses deeper ones too). */
export const MAX_INSTANCE_DEPTH = 4;
/** Most keys of one path. */
export const MAX_PATH_KEYS = 16;

/** The first line the bridge writes. */
export interface BridgeHello {
  readonly bridge: typeof BRIDGE_NAME;
  /** {@link PROTOCOL_VERSION}. */
  readonly protocol: number;
  /** `$PSVersionTable.PSVersion`, e.g. `5.1.22621.4249` (`stand-in` for the test stand-in). */
  readonly psVersion: string;
  /** `Desktop` (Windows PowerShell) or `Core` (pwsh); empty when unknown. */
  readonly psEdition: string;
  /** The bridge's process ID, when it says. */
  readonly pid?: number;
}

/** A path as the protocol writes it: keys by name, every key text. */
export interface BridgePath {
  readonly namespace: string;
  readonly className: string;
  readonly keys: Readonly<Record<string, string>>;
}

/** An argument of `invoke`. */
export type BridgeArgument = string | readonly string[] | { readonly path: BridgePath };

/** Requests, without the `id` kvp-host adds. */
export type BridgeRequestBody =
  | { readonly op: "query"; readonly namespace: string; readonly wql: string }
  | { readonly op: "enumerate"; readonly namespace: string; readonly className: string }
  | { readonly op: "enumerate"; readonly source: BridgePath; readonly assocClass: string; readonly resultClass: string }
  | { readonly op: "get"; readonly path: BridgePath }
  | {
      readonly op: "invoke";
      readonly path: BridgePath;
      readonly method: string;
      readonly arguments: Readonly<Record<string, BridgeArgument>>;
    };

/** One request line. */
export type BridgeRequest = BridgeRequestBody & { readonly id: number };

/**
 * Why the bridge could not do a request:
 * - `not-found`: WMI has no such instance (CIM NotFound);
 * - `access-denied`: WMI refused (kvp-host must run as an administrator of the host);
 * - `cim`: any other CIM failure (invalid query, namespace, provider failure);
 * - `invalid-request`: the line was not a request the bridge understands or allows;
 * - `internal`: anything else inside the bridge.
 */
export type BridgeFailureKind = "not-found" | "access-denied" | "cim" | "invalid-request" | "internal";

/** The `error` of a failed answer. */
export interface BridgeFailure {
  readonly kind: BridgeFailureKind;
  readonly message: string;
  /** The exception's HRESULT, e.g. -2147217406 (0x80041002, WBEM_E_NOT_FOUND). */
  readonly hresult?: number;
  /** CimException's NativeErrorCode name, e.g. `NotFound`, `InvalidQuery`. */
  readonly nativeErrorCode?: string;
  /** The .NET type of the exception. */
  readonly exceptionType?: string;
}

/** One answer line. */
export type BridgeAnswer =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number | null; readonly ok: false; readonly error: BridgeFailure };

/** How a bridge failure kind reads at the seam. */
export const HOST_ERROR_KINDS: Readonly<Record<BridgeFailureKind, HostErrorKind>> = {
  "not-found": "not-found",
  "access-denied": "access-denied",
  "invalid-request": "invalid-request",
  cim: "failed",
  internal: "failed",
};

// -- writing requests -----------------------------------------------------------------------

/** A path as the protocol writes it. @throws {TransportError} `config` without a namespace or with a key that is not text. */
export function toBridgePath(path: CimInstancePath): BridgePath {
  if (path.namespace === undefined)
    throw new TransportError("config", `the path of ${path.className} has no namespace`);
  const keys: Record<string, string> = {};
  for (const key of path.keys) {
    if (key.type !== "string")
      throw new TransportError("config", `the key ${key.name} of ${path.className} is not text`);
    // An own data property whatever the name: a key named "__proto__" stays a key.
    Object.defineProperty(keys, key.name, { value: key.value, enumerable: true, writable: true, configurable: true });
  }
  return { namespace: path.namespace, className: path.className, keys };
}

/** The request for {@link CimClient.enumerate}. */
export function enumerateRequest(what: CimEnumeration): BridgeRequestBody {
  return "className" in what
    ? { op: "enumerate", namespace: what.namespace, className: what.className }
    : {
        op: "enumerate",
        source: toBridgePath(what.source),
        assocClass: what.assocClass,
        resultClass: what.resultClass,
      };
}

/** The request for {@link CimClient.invoke}: arguments in their order. */
export function invokeRequest(
  path: CimInstancePath,
  method: string,
  args: ReadonlyMap<string, CimArgument>,
): BridgeRequestBody {
  const out: Record<string, BridgeArgument> = {};
  for (const [name, value] of args) {
    const argument: BridgeArgument =
      typeof value === "string" || Array.isArray(value)
        ? (value as string | readonly string[])
        : { path: toBridgePath(value as CimInstancePath) };
    Object.defineProperty(out, name, { value: argument, enumerable: true, writable: true, configurable: true });
  }
  return { op: "invoke", path: toBridgePath(path), method, arguments: out };
}

// -- reading answers ------------------------------------------------------------------------

function invalid(message: string): TransportError {
  return new TransportError("unreadable", `invalid answer from the PowerShell bridge: ${message}`);
}

/** A plain JSON object (what JSON.parse makes of `{…}`), never an array. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own property: JSON.parse makes `__proto__` an own key, and nothing inherited counts. */
function own(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** Reads the hello line. @throws {TransportError} `unreadable`; `unavailable` for another protocol version. */
export function readHello(value: unknown): BridgeHello {
  if (!isRecord(value) || own(value, "bridge") !== BRIDGE_NAME)
    throw invalid(`the first line is not the bridge's hello`);
  const protocol = own(value, "protocol");
  if (typeof protocol !== "number" || !Number.isSafeInteger(protocol))
    throw invalid("the hello has no protocol version");
  if (protocol !== PROTOCOL_VERSION) {
    throw new TransportError(
      "unavailable",
      `the PowerShell bridge speaks protocol ${protocol}, kvp-host speaks ${PROTOCOL_VERSION}: the script and kvp-host are from different releases`,
    );
  }
  const psVersion = own(value, "psVersion");
  const psEdition = own(value, "psEdition");
  const pid = own(value, "pid");
  return {
    bridge: BRIDGE_NAME,
    protocol,
    psVersion: typeof psVersion === "string" ? psVersion : "",
    psEdition: typeof psEdition === "string" ? psEdition : "",
    ...(typeof pid === "number" && Number.isSafeInteger(pid) ? { pid } : {}),
  };
}

const FAILURE_KINDS: readonly BridgeFailureKind[] = [
  "not-found",
  "access-denied",
  "cim",
  "invalid-request",
  "internal",
];

function readFailure(value: unknown): BridgeFailure {
  if (!isRecord(value)) throw invalid(`a failed answer has no "error" object`);
  const kind = own(value, "kind");
  const message = own(value, "message");
  if (typeof message !== "string") throw invalid(`a failed answer has no message`);
  const hresult = own(value, "hresult");
  const nativeErrorCode = own(value, "nativeErrorCode");
  const exceptionType = own(value, "exceptionType");
  return {
    // A kind this version does not know is still a failure of the bridge, not of the protocol.
    kind: (FAILURE_KINDS as readonly unknown[]).includes(kind) ? (kind as BridgeFailureKind) : "internal",
    message,
    ...(typeof hresult === "number" && Number.isSafeInteger(hresult) ? { hresult } : {}),
    ...(typeof nativeErrorCode === "string" ? { nativeErrorCode } : {}),
    ...(typeof exceptionType === "string" ? { exceptionType } : {}),
  };
}

/** An answer, checked against the request it must answer. */
export type ReadAnswer =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly failure: BridgeFailure };

/**
 * Reads the answer to request `id`. A failure with `"id": null` (the bridge could not read the
 * request) is accepted as this request's answer: only one request is ever outstanding.
 * @throws {TransportError} `unreadable`
 */
export function readAnswer(value: unknown, id: number): ReadAnswer {
  if (!isRecord(value)) throw invalid("an answer is not a JSON object");
  const ok = own(value, "ok");
  const answerId = own(value, "id");
  if (ok === true) {
    if (answerId !== id) throw invalid(`answer for request ${JSON.stringify(answerId)} while waiting for ${id}`);
    if (!Object.hasOwn(value, "result")) throw invalid(`answer ${id} has no result`);
    return { ok: true, result: value["result"] };
  }
  if (ok === false) {
    if (answerId !== id && answerId !== null)
      throw invalid(`answer for request ${JSON.stringify(answerId)} while waiting for ${id}`);
    return { ok: false, failure: readFailure(own(value, "error")) };
  }
  throw invalid(`answer has no "ok" true or false`);
}

/** A value once read: text for scalars (see transport.ts), instances as the seam has them. */
type ReadValue = null | string | CimInstance | readonly ReadValue[];

/** Reads a path `{namespace, className, keys}`. @throws {TransportError} `unreadable` */
export function readPath(value: unknown, where = "a path"): CimInstancePath {
  if (!isRecord(value)) throw invalid(`${where} is not a path`);
  const namespace = own(value, "namespace");
  const className = own(value, "className");
  const keys = own(value, "keys");
  if (typeof className !== "string" || !isCimName(className)) throw invalid(`${where} has no class name`);
  if (namespace !== undefined && namespace !== null && typeof namespace !== "string")
    throw invalid(`${where} has a namespace that is not text`);
  if (!isRecord(keys)) throw invalid(`${where} has no keys`);
  const names = Object.keys(keys);
  if (names.length > MAX_PATH_KEYS) throw invalid(`${where} has more than ${MAX_PATH_KEYS} keys`);
  const bindings: CimKeyBinding[] = names.map((name) => {
    const key = keys[name];
    if (!isCimName(name) || typeof key !== "string") throw invalid(`${where} has a key that is not a name and text`);
    return { name, type: "string", value: key };
  });
  return {
    ...(typeof namespace === "string" && namespace !== "" ? { namespace: namespace.replaceAll("\\", "/") } : {}),
    className,
    keys: bindings,
  };
}

function readValue(value: unknown, depth: number, where: string): ReadValue {
  if (value === null || typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${where} is not a finite number`);
    return String(value);
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY_ELEMENTS) throw invalid(`${where} has more than ${MAX_ARRAY_ELEMENTS} elements`);
    return value.map((element) => {
      if (Array.isArray(element)) throw invalid(`${where} is an array of arrays`);
      return readValue(element, depth, where);
    });
  }
  return readInstanceAt(value, depth + 1, where);
}

function isInstanceValue(value: ReadValue): value is CimInstance {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "properties" in value;
}

/**
 * A value as a property of the seam's instances: text, or an array of text. An embedded
 * instance inside an instance is left out (kvp-host reads none), and so are the instances
 * inside an array.
 */
function toProperty(name: string, value: ReadValue): CimProperty | undefined {
  if (value === null || typeof value === "string") return { name, type: "string", value };
  if (Array.isArray(value)) {
    const texts = (value as readonly ReadValue[]).filter(
      (v): v is string | null => v === null || typeof v === "string",
    );
    return { name, type: "string", array: true, value: texts };
  }
  return undefined;
}

function readInstanceAt(value: unknown, depth: number, where: string): CimInstance {
  if (depth > MAX_INSTANCE_DEPTH) throw invalid(`${where} nests instances deeper than ${MAX_INSTANCE_DEPTH}`);
  if (!isRecord(value)) throw invalid(`${where} is not an instance`);
  const className = own(value, "className");
  const properties = own(value, "properties");
  if (typeof className !== "string" || !isRecord(properties))
    throw invalid(`${where} is not an instance {className, properties}`);
  const names = Object.keys(properties);
  if (names.length > MAX_INSTANCE_PROPERTIES)
    throw invalid(`${where} has more than ${MAX_INSTANCE_PROPERTIES} properties`);
  const out: CimProperty[] = [];
  for (const name of names) {
    const property = toProperty(name, readValue(properties[name], depth, `${className}.${name}`));
    if (property !== undefined) out.push(property);
  }
  return { className, properties: out };
}

/** Reads one instance. @throws {TransportError} `unreadable` */
export function readInstance(value: unknown): CimInstance {
  return readInstanceAt(value, 0, "an instance");
}

/** Reads the instances of a `query` or `enumerate` result. @throws {TransportError} `unreadable` */
export function readInstances(value: unknown): CimInstance[] {
  if (!Array.isArray(value)) throw invalid("a query result is not an array");
  if (value.length > MAX_ARRAY_ELEMENTS) throw invalid(`a query result has more than ${MAX_ARRAY_ELEMENTS} instances`);
  return value.map((instance) => readInstance(instance));
}

/** What an `invoke` result holds once read. */
export interface ReadMethodResult {
  readonly returnValue: number;
  readonly outputs: ReadonlyMap<string, CimOutput>;
}

function toOutput(value: ReadValue): CimOutput {
  if (!Array.isArray(value)) return value as CimOutput;
  // Arrays of outputs are text or embedded instances (GetErrorEx's Errors); NULL elements go.
  return (value as readonly ReadValue[]).filter(
    (v): v is string | CimInstance => typeof v === "string" || (v !== null && isInstanceValue(v)),
  );
}

/** Reads an `invoke` result `{returnValue, outputs}`. @throws {TransportError} `unreadable` */
export function readMethodResult(value: unknown): ReadMethodResult {
  if (!isRecord(value)) throw invalid("an invoke result is not an object");
  const returnValue = own(value, "returnValue");
  if (typeof returnValue !== "number" || !Number.isSafeInteger(returnValue))
    throw invalid("an invoke result has no ReturnValue");
  const outputs = own(value, "outputs");
  if (outputs !== undefined && outputs !== null && !isRecord(outputs))
    throw invalid("the outputs of an invoke result are not an object");
  const map = new Map<string, CimOutput>();
  const names = outputs === undefined || outputs === null ? [] : Object.keys(outputs);
  if (names.length > MAX_INSTANCE_PROPERTIES)
    throw invalid(`an invoke result has more than ${MAX_INSTANCE_PROPERTIES} outputs`);
  for (const name of names)
    map.set(name, toOutput(readValue((outputs as Record<string, unknown>)[name], 0, `output ${name}`)));
  return { returnValue, outputs: map };
}
