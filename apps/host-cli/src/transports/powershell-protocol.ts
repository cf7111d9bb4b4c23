/**
 * The JSON-lines protocol between kvp-host and its PowerShell bridge
 * (`powershell/kvp-host-bridge.ps1`), documented once here; the script and the test stand-in
 * (`src/test-support/powershell-stand-in.ts`) both follow it. Pure: types, limits and the
 * readers that turn what the bridge wrote (hostile until checked) into kvp-host's types.
 *
 * Framing: UTF-8 without BOM, one JSON value per line, lines end with LF (a CR before it is
 * tolerated). kvp-host writes requests on the bridge's standard input with every non-ASCII
 * character escaped as `\uXXXX`, so no code page can change them; the bridge answers on its
 * standard output, and its standard error is free text for people.
 *
 * 1. At start the bridge writes one {@link BridgeHello} line, before reading anything.
 * 2. Then, for each request line, exactly one answer line with the request's `id`:
 *    `{"id":1,"ok":true,"result":…}` or `{"id":1,"ok":false,"error":{"kind":…,"message":…}}`
 *    ({@link BridgeAnswer}). A line that is not a request gets `"id":null`.
 * 3. The bridge ends when its standard input ends.
 *
 * Requests ({@link BridgeRequest}) and what `result` holds for each:
 * - `query` — WQL in a namespace: {@link BridgeInstance}[] (Get-CimInstance -Query);
 * - `get` — one instance by class and keys: {@link BridgeInstance} (Get-CimInstance
 *   -InputObject of a key-only client instance; a missing one fails with kind `not-found`);
 * - `invokeKvp` — Add/Modify/RemoveKvpItems on the namespace's
 *   Msvm_VirtualSystemManagementService, TargetSystem = the VM's Msvm_ComputerSystem,
 *   DataItems = the embedded CIM-XML strings: {@link InvokeKvpResult};
 * - `jobErrors` — GetErrorEx of a job: {@link JobErrorsResult}.
 * Every value of a request is data for the CIM cmdlets, never script text.
 */
import type { KvpMethod } from "../transport.js";
import type { HyperVNamespace } from "./wsman.js";

/** What the bridge calls itself in its hello line. */
export const BRIDGE_NAME = "kvp-host-bridge";
/** The protocol version this module speaks; the hello line must carry the same. */
export const PROTOCOL_VERSION = 1;
/** The script's file name (in `powershell/` of the package, `dist/powershell/` beside the bundle). */
export const BRIDGE_SCRIPT_NAME = "kvp-host-bridge.ps1";
/** Namespaces the bridge accepts (the script has the same list): a host's, and a failover cluster's. */
export const BRIDGE_NAMESPACES = [
  "root/virtualization/v2",
  "root/HyperVCluster/v2",
] as const satisfies readonly HyperVNamespace[];

/** Most properties one instance may carry (Msvm_ComputerSystem has about 60). */
export const MAX_INSTANCE_PROPERTIES = 4096;
/** Most elements of one array value, or instances of one answer (as WsmanClient's maxItems). */
export const MAX_ARRAY_ELEMENTS = 100_000;
/** Deepest nesting of embedded instances (the script refuses deeper ones too). */
export const MAX_INSTANCE_DEPTH = 4;
/** Most `extraCalls` labels on one answer. */
export const MAX_EXTRA_CALLS = 16;

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

/**
 * A property value as the bridge writes it: CIM strings, char16 and numbers up to 2^53 as
 * JSON strings and numbers, booleans as booleans, datetimes as ISO 8601 text, intervals as
 * ISO 8601 durations, integers beyond 2^53 as decimal text, embedded instances as
 * {@link BridgeInstance}, arrays as arrays (a one-element array stays an array), NULL as null.
 */
export type BridgeValue = null | string | number | boolean | BridgeInstance | readonly BridgeValue[];

/** A CIM instance as the bridge writes it: the class and every property, by name. */
export interface BridgeInstance {
  readonly className: string;
  readonly properties: Readonly<Record<string, BridgeValue>>;
}

/** Requests, without the `id` kvp-host adds. */
export type BridgeRequestBody =
  | { readonly op: "query"; readonly namespace: string; readonly wql: string }
  | {
      readonly op: "get";
      readonly namespace: string;
      readonly className: string;
      readonly keys: Readonly<Record<string, string>>;
    }
  | {
      readonly op: "invokeKvp";
      readonly namespace: string;
      readonly method: KvpMethod;
      readonly vmId: string;
      readonly dataItems: readonly string[];
    }
  | { readonly op: "jobErrors"; readonly namespace: string; readonly className: string; readonly instanceId: string };

/** One request line. */
export type BridgeRequest = BridgeRequestBody & { readonly id: number };

/** The result of `invokeKvp`. */
export interface InvokeKvpResult {
  /** ReturnValue: 0 completed, 4096 job started, others failed. */
  readonly returnValue: number;
  /** The Job output reference (with 4096), its class and InstanceID key; null when none. */
  readonly job: { readonly className: string; readonly instanceId: string } | null;
}

/** The result of `jobErrors`. */
export interface JobErrorsResult {
  /** GetErrorEx's ReturnValue, null when it gave none. */
  readonly returnValue: number | null;
  /** The Errors output: embedded Msvm_Error CIM-XML strings, or instances when the CIM layer parsed them. */
  readonly errors: readonly (string | BridgeInstance)[];
}

/**
 * Why the bridge could not do a request:
 * - `not-found`: WMI has no such instance (CIM NotFound), or no management service;
 * - `access-denied`: WMI refused (kvp-host must run as an administrator of the host);
 * - `cim`: any other CIM failure (invalid query, namespace, provider failure);
 * - `invalid-request`: the line was not a request the bridge understands;
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

/**
 * One answer line. `extraCalls` lists the WMI operations the bridge made for the request on
 * top of the one the request stands for (`query Msvm_VirtualSystemManagementService` the
 * first time, `get Msvm_ComputerSystem` for each invokeKvp, `get Msvm_ConcreteJob` for each
 * jobErrors), with the labels of {@link CallCounter}.
 */
export type BridgeAnswer =
  | { readonly id: number; readonly ok: true; readonly result: unknown; readonly extraCalls?: readonly string[] }
  | {
      readonly id: number | null;
      readonly ok: false;
      readonly error: BridgeFailure;
      readonly extraCalls?: readonly string[];
    };

/**
 * What went wrong talking to the bridge:
 * - `powershell-missing`: the PowerShell executable is not there (spawn ENOENT);
 * - `spawn-failed`: it could not be started otherwise (EACCES, …);
 * - `exited`: the bridge ended before its hello or before answering a request;
 * - `timeout`: no hello or no answer in time (the bridge is then stopped);
 * - `garbled`: a line that is not UTF-8 or not JSON;
 * - `oversize`: a line longer than the limit;
 * - `invalid-answer`: JSON that is not the protocol's (wrong shape, wrong id, unasked);
 * - `version-mismatch`: the hello names another protocol version;
 * - `host-error`: the bridge answered with an error ({@link PowerShellBridgeError.failure});
 * - `closed`: the transport was closed.
 * kvp-host maps every code to exit 3 (the host could not be reached or read).
 */
export type PowerShellBridgeErrorCode =
  | "powershell-missing"
  | "spawn-failed"
  | "exited"
  | "timeout"
  | "garbled"
  | "oversize"
  | "invalid-answer"
  | "version-mismatch"
  | "host-error"
  | "closed";

/** The error class of the PowerShell transport; `code` says which kind of failure it is. */
export class PowerShellBridgeError extends Error {
  override readonly name = "PowerShellBridgeError";
  constructor(
    readonly code: PowerShellBridgeErrorCode,
    message: string,
    /** For `host-error`: what the bridge said. */
    readonly failure?: BridgeFailure,
  ) {
    super(message);
  }
}

/** True when `error` is a {@link PowerShellBridgeError}, optionally of the given code. */
export function isPowerShellBridgeError(
  error: unknown,
  code?: PowerShellBridgeErrorCode,
): error is PowerShellBridgeError {
  return error instanceof PowerShellBridgeError && (code === undefined || error.code === code);
}

function invalid(message: string): PowerShellBridgeError {
  return new PowerShellBridgeError("invalid-answer", `invalid answer from the PowerShell bridge: ${message}`);
}

/** A plain JSON object (what JSON.parse makes of `{…}`), never an array. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own property: JSON.parse makes `__proto__` an own key, and nothing inherited counts. */
function own(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** Reads the hello line. @throws {PowerShellBridgeError} `invalid-answer`, `version-mismatch` */
export function readHello(value: unknown): BridgeHello {
  if (!isRecord(value) || own(value, "bridge") !== BRIDGE_NAME)
    throw invalid(`the first line is not the bridge's hello`);
  const protocol = own(value, "protocol");
  if (typeof protocol !== "number" || !Number.isSafeInteger(protocol))
    throw invalid("the hello has no protocol version");
  if (protocol !== PROTOCOL_VERSION) {
    throw new PowerShellBridgeError(
      "version-mismatch",
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

const CALL_LABEL = /^(query|get|invoke) [A-Za-z_][A-Za-z0-9_]{0,255}$/;

function readExtraCalls(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_EXTRA_CALLS)
    throw invalid(`"extraCalls" is not a list of at most ${MAX_EXTRA_CALLS} labels`);
  return value.map((label) => {
    if (typeof label !== "string" || !CALL_LABEL.test(label))
      throw invalid(`"extraCalls" holds something that is not a call label`);
    return label;
  });
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
  | { readonly ok: true; readonly result: unknown; readonly extraCalls: string[] }
  | { readonly ok: false; readonly failure: BridgeFailure; readonly extraCalls: string[] };

/**
 * Reads the answer to request `id`. A failure with `"id": null` (the bridge could not read the
 * request) is accepted as this request's answer: only one request is ever outstanding.
 * @throws {PowerShellBridgeError} `invalid-answer`
 */
export function readAnswer(value: unknown, id: number): ReadAnswer {
  if (!isRecord(value)) throw invalid("an answer is not a JSON object");
  const ok = own(value, "ok");
  const answerId = own(value, "id");
  const extraCalls = readExtraCalls(own(value, "extraCalls"));
  if (ok === true) {
    if (answerId !== id) throw invalid(`answer for request ${JSON.stringify(answerId)} while waiting for ${id}`);
    if (!Object.hasOwn(value, "result")) throw invalid(`answer ${id} has no result`);
    return { ok: true, result: value["result"], extraCalls };
  }
  if (ok === false) {
    if (answerId !== id && answerId !== null)
      throw invalid(`answer for request ${JSON.stringify(answerId)} while waiting for ${id}`);
    return { ok: false, failure: readFailure(own(value, "error")), extraCalls };
  }
  throw invalid(`answer has no "ok" true or false`);
}

/** A {@link BridgeInstance} once read: properties in a Map, so no name reaches a prototype. */
export interface ReadInstance {
  readonly className: string;
  readonly properties: ReadonlyMap<string, ReadValue>;
}

/** A {@link BridgeValue} once read. */
export type ReadValue = null | string | number | boolean | ReadInstance | readonly ReadValue[];

function readValue(value: unknown, depth: number, where: string): ReadValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${where} is not a finite number`);
    return value;
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

function readInstanceAt(value: unknown, depth: number, where: string): ReadInstance {
  if (depth > MAX_INSTANCE_DEPTH) throw invalid(`${where} nests instances deeper than ${MAX_INSTANCE_DEPTH}`);
  if (!isRecord(value)) throw invalid(`${where} is not an instance`);
  const className = own(value, "className");
  const properties = own(value, "properties");
  if (typeof className !== "string" || !isRecord(properties))
    throw invalid(`${where} is not an instance {className, properties}`);
  const names = Object.keys(properties);
  if (names.length > MAX_INSTANCE_PROPERTIES)
    throw invalid(`${where} has more than ${MAX_INSTANCE_PROPERTIES} properties`);
  const map = new Map<string, ReadValue>();
  for (const name of names) map.set(name, readValue(properties[name], depth, `${className}.${name}`));
  return { className, properties: map };
}

/** Reads one instance. @throws {PowerShellBridgeError} `invalid-answer` */
export function readInstance(value: unknown): ReadInstance {
  return readInstanceAt(value, 0, "an instance");
}

/** Reads a `query` result. @throws {PowerShellBridgeError} `invalid-answer` */
export function readInstances(value: unknown): ReadInstance[] {
  if (!Array.isArray(value)) throw invalid("a query result is not an array");
  if (value.length > MAX_ARRAY_ELEMENTS) throw invalid(`a query result has more than ${MAX_ARRAY_ELEMENTS} instances`);
  return value.map((instance) => readInstance(instance));
}

/** Reads an `invokeKvp` result. @throws {PowerShellBridgeError} `invalid-answer` */
export function readInvokeKvpResult(value: unknown): InvokeKvpResult {
  if (!isRecord(value)) throw invalid("an invokeKvp result is not an object");
  const returnValue = own(value, "returnValue");
  if (typeof returnValue !== "number" || !Number.isSafeInteger(returnValue))
    throw invalid("an invokeKvp result has no ReturnValue");
  const job = own(value, "job");
  if (job === null || job === undefined) return { returnValue, job: null };
  if (!isRecord(job)) throw invalid("the Job of an invokeKvp result is not an object");
  const className = own(job, "className");
  const instanceId = own(job, "instanceId");
  if (typeof className !== "string" || typeof instanceId !== "string")
    throw invalid("the Job of an invokeKvp result has no className and instanceId");
  return { returnValue, job: { className, instanceId } };
}

/** A `jobErrors` result once read. */
export interface ReadJobErrors {
  readonly returnValue: number | null;
  readonly errors: readonly (string | ReadInstance)[];
}

/** Reads a `jobErrors` result. @throws {PowerShellBridgeError} `invalid-answer` */
export function readJobErrorsResult(value: unknown): ReadJobErrors {
  if (!isRecord(value)) throw invalid("a jobErrors result is not an object");
  const returnValue = own(value, "returnValue");
  const errors = own(value, "errors");
  if (!Array.isArray(errors) || errors.length > MAX_ARRAY_ELEMENTS)
    throw invalid("a jobErrors result has no errors array");
  return {
    returnValue: typeof returnValue === "number" && Number.isSafeInteger(returnValue) ? returnValue : null,
    errors: errors.map((entry) => (typeof entry === "string" ? entry : readInstance(entry))),
  };
}

/** A scalar property as text: strings as they are, numbers and booleans written out; undefined for null, arrays, instances. */
export function textOf(value: ReadValue | undefined): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** An array-of-strings property: null or absent → [], one string → [it] (tolerated), else strings only. */
export function stringsOf(value: ReadValue | undefined, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return [...(value as string[])];
  throw invalid(`${where} is not an array of strings`);
}

/** An array-of-integers property (numbers, or integer text): null or absent → []; other entries are dropped. */
export function integersOf(value: ReadValue | undefined): number[] {
  const list =
    value === undefined || value === null
      ? []
      : Array.isArray(value)
        ? (value as readonly ReadValue[])
        : [value as ReadValue];
  const out: number[] = [];
  for (const v of list) {
    const n =
      typeof v === "number" ? v : typeof v === "string" && /^-?\d{1,15}$/.test(v.trim()) ? Number(v) : Number.NaN;
    if (Number.isSafeInteger(n)) out.push(n);
  }
  return out;
}

/** An integer property (a number, or integer text), or undefined. */
export function integerOf(value: ReadValue | undefined): number | undefined {
  return value === undefined || Array.isArray(value) ? undefined : integersOf(value)[0];
}

/** A boolean property (true/false, or their text in any case), or undefined. */
export function booleanOf(value: ReadValue | undefined): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (text === "true") return true;
    if (text === "false") return false;
  }
  return undefined;
}

/** The property `name` of an instance: exact case first, then ignoring case as CIM names compare. */
export function propertyOf(instance: ReadInstance, name: string): ReadValue | undefined {
  const exact = instance.properties.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of instance.properties) if (key.toLowerCase() === lower) return value;
  return undefined;
}
