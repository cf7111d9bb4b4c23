/**
 * What the host says when something fails: method return codes, Msvm_ConcreteJob states and
 * errors, and Msvm_Error instances (CIM_Error) as GetErrorEx returns them, turned into one
 * readable sentence. Numbers and names from Microsoft's Hyper-V WMI reference
 * (docs/wmi-and-cim.md#return-codes, #jobs, #errors) and DMTF's CIM_Error.
 */
import { KvpError } from "../errors.js";
import { type CimInstance, type CimProperty, getProperty } from "./cim-instance.js";
import { type FromCimXmlOptions, fromCimXml } from "./from-cim-xml.js";
import { isCimIntegerType, parseCimInteger, quoteForMessage } from "./cim-types.js";

/** Return values of Msvm_VirtualSystemManagementService methods (docs/wmi-and-cim.md#return-codes). */
export const RETURN_CODES: Readonly<Record<number, string>> = Object.freeze({
  0: "completed",
  4096: "job started",
  32768: "failed",
  32769: "access denied",
  32770: "not supported",
  32771: "status unknown",
  32772: "timeout",
  32773: "invalid parameter",
  32774: "system in use",
  32775: "invalid state",
  32776: "incorrect data type",
  32777: "system not available",
  32778: "out of memory",
});

/**
 * Msvm_ConcreteJob JobState values (docs/wmi-and-cim.md#jobs); 32768 is what Microsoft's samples
 * treat as completed with warnings.
 */
export const JOB_STATES: Readonly<Record<number, string>> = Object.freeze({
  2: "New",
  3: "Starting",
  4: "Running",
  5: "Suspended",
  6: "Shutting Down",
  7: "Completed",
  8: "Terminated",
  9: "Killed",
  10: "Exception",
  11: "Service",
  32768: "Completed with Warnings",
});

/** Msvm_KvpExchangeComponent OperationalStatus[0] values (docs/wmi-and-cim.md#component-health). */
export const KVP_COMPONENT_STATUS: Readonly<Record<number, string>> = Object.freeze({
  2: "OK",
  3: "Degraded",
  7: "Non-recoverable error",
  12: "No contact (no guest service)",
  13: "Lost communication",
});

/** CIM_Error ErrorType values. */
export const ERROR_TYPES: Readonly<Record<number, string>> = Object.freeze({
  0: "Unknown",
  1: "Other",
  2: "Communications Error",
  3: "Quality of Service Error",
  4: "Software Error",
  5: "Hardware Error",
  6: "Environmental Error",
  7: "Security Error",
  8: "Oversubscription Error",
  9: "Unavailable Resource Error",
  10: "Unsupported Operation Error",
});

/** CIM_Error PerceivedSeverity values. */
export const PERCEIVED_SEVERITIES: Readonly<Record<number, string>> = Object.freeze({
  0: "Unknown",
  1: "Other",
  2: "Information",
  3: "Degraded/Warning",
  4: "Minor",
  5: "Major",
  6: "Critical",
  7: "Fatal/NonRecoverable",
});

/** CIM_Error CIMStatusCode values (DMTF DSP0200 status codes 1–17). */
export const CIM_STATUS_CODES: Readonly<Record<number, string>> = Object.freeze({
  1: "CIM_ERR_FAILED",
  2: "CIM_ERR_ACCESS_DENIED",
  3: "CIM_ERR_INVALID_NAMESPACE",
  4: "CIM_ERR_INVALID_PARAMETER",
  5: "CIM_ERR_INVALID_CLASS",
  6: "CIM_ERR_NOT_FOUND",
  7: "CIM_ERR_NOT_SUPPORTED",
  8: "CIM_ERR_CLASS_HAS_CHILDREN",
  9: "CIM_ERR_CLASS_HAS_INSTANCES",
  10: "CIM_ERR_INVALID_SUPERCLASS",
  11: "CIM_ERR_ALREADY_EXISTS",
  12: "CIM_ERR_NO_SUCH_PROPERTY",
  13: "CIM_ERR_TYPE_MISMATCH",
  14: "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED",
  15: "CIM_ERR_INVALID_QUERY",
  16: "CIM_ERR_METHOD_NOT_AVAILABLE",
  17: "CIM_ERR_METHOD_NOT_FOUND",
});

function lookup(table: Readonly<Record<number, string>>, value: number): string | undefined {
  return Object.hasOwn(table, value) ? table[value] : undefined;
}

/** `32773 (invalid parameter)`; `5 (unknown return code)` for a number not in {@link RETURN_CODES}. */
export function describeReturnCode(code: number): string {
  return `${code} (${lookup(RETURN_CODES, code) ?? "unknown return code"})`;
}

/** The name of a JobState, or `unknown state N`. */
export function jobStateName(state: number): string {
  return lookup(JOB_STATES, state) ?? `unknown state ${state}`;
}

/** True once a job will not change any more: Completed, Terminated, Killed, Exception or Completed with Warnings. */
export function isJobFinished(state: number): boolean {
  return state === 7 || state === 8 || state === 9 || state === 10 || state === 32768;
}

/** True for Completed and Completed with Warnings. */
export function isJobSuccessful(state: number): boolean {
  return state === 7 || state === 32768;
}

/** The parts of an Msvm_ConcreteJob that explain its outcome. */
export interface WmiJob {
  readonly instanceId?: string;
  readonly caption?: string;
  readonly description?: string;
  readonly elementName?: string;
  /** JobState (see {@link JOB_STATES}). */
  readonly jobState: number;
  /** JobStatus: free text such as "Completed successfully". */
  readonly jobStatus?: string;
  readonly percentComplete?: number;
  /** ErrorCode (a return code, see {@link RETURN_CODES}); 0 when none. */
  readonly errorCode?: number;
  readonly errorDescription?: string;
  readonly errorSummaryDescription?: string;
}

/** The parts of an Msvm_Error (CIM_Error) a person needs. */
export interface WmiError {
  readonly className: string;
  readonly message?: string;
  readonly messageId?: string;
  readonly messageArguments: readonly string[];
  /** ErrorType (see {@link ERROR_TYPES}). */
  readonly errorType?: number;
  readonly otherErrorType?: string;
  /** PerceivedSeverity (see {@link PERCEIVED_SEVERITIES}). */
  readonly perceivedSeverity?: number;
  readonly probableCause?: number;
  readonly probableCauseDescription?: string;
  readonly recommendedActions: readonly string[];
  readonly errorSource?: string;
  readonly owningEntity?: string;
  /** CIMStatusCode (see {@link CIM_STATUS_CODES}). */
  readonly cimStatusCode?: number;
  readonly cimStatusCodeDescription?: string;
}

// Values are read tolerantly (any integer TYPE, numbers written as strings): these
// instances exist to explain a failure, so a surprising type must not hide the explanation.
function numberOf(property: CimProperty | undefined): number | undefined {
  if (property === undefined || property.value === null || property.array) return undefined;
  if (isCimIntegerType(property.type)) return Number(property.value);
  if (property.type === "string") {
    try {
      const value = parseCimInteger("sint64", property.value as string);
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function textOf(property: CimProperty | undefined): string | undefined {
  if (property === undefined || property.value === null || property.array) return undefined;
  return property.type === "string" || property.type === "char16" ? (property.value as string) : String(property.value);
}

function textsOf(property: CimProperty | undefined): string[] {
  if (property === undefined || property.value === null) return [];
  if (!property.array) {
    const text = textOf(property);
    return text === undefined ? [] : [text];
  }
  return (property.value as readonly unknown[]).filter((v) => v !== null).map((v) => String(v));
}

/** Builds an object from present values only, as exactOptionalPropertyTypes wants. */
function defined<T extends object>(fields: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as T;
}

/**
 * Reads the job fields from an Msvm_ConcreteJob (or any CIM_ConcreteJob) instance.
 * @throws {KvpError} `invalid-cim` when JobState is missing or not a number.
 */
export function jobFromInstance(instance: CimInstance): WmiJob {
  const get = (name: string) => getProperty(instance, name);
  const jobState = numberOf(get("JobState"));
  if (jobState === undefined)
    throw new KvpError("invalid-cim", `invalid CIM: ${quoteForMessage(instance.className)} has no JobState`);
  return defined<WmiJob>({
    instanceId: textOf(get("InstanceID")),
    caption: textOf(get("Caption")),
    description: textOf(get("Description")),
    elementName: textOf(get("ElementName")),
    jobState,
    jobStatus: textOf(get("JobStatus")),
    percentComplete: numberOf(get("PercentComplete")),
    errorCode: numberOf(get("ErrorCode")),
    errorDescription: textOf(get("ErrorDescription")),
    errorSummaryDescription: textOf(get("ErrorSummaryDescription")),
  });
}

/** Reads the error fields from an Msvm_Error (CIM_Error) instance; every field is optional. */
export function errorFromInstance(instance: CimInstance): WmiError {
  const get = (name: string) => getProperty(instance, name);
  return defined<WmiError>({
    className: instance.className,
    message: textOf(get("Message")),
    messageId: textOf(get("MessageID")),
    messageArguments: textsOf(get("MessageArguments")),
    errorType: numberOf(get("ErrorType")),
    otherErrorType: textOf(get("OtherErrorType")),
    perceivedSeverity: numberOf(get("PerceivedSeverity")),
    probableCause: numberOf(get("ProbableCause")),
    probableCauseDescription: textOf(get("ProbableCauseDescription")),
    recommendedActions: textsOf(get("RecommendedActions")),
    errorSource: textOf(get("ErrorSource")),
    owningEntity: textOf(get("OwningEntity")),
    cimStatusCode: numberOf(get("CIMStatusCode")),
    cimStatusCodeDescription: textOf(get("CIMStatusCodeDescription")),
  });
}

/**
 * Reads an Msvm_ConcreteJob from its CIM-XML text.
 * @throws {KvpError} `invalid-xml`, `limit-exceeded` or `invalid-cim`.
 */
export function decodeWmiJob(xml: string, options: FromCimXmlOptions = {}): WmiJob {
  return jobFromInstance(fromCimXml(xml, { ...options, qualifiers: "skip" }));
}

/**
 * Reads the `Errors` output of GetErrorEx: an array of embedded Msvm_Error instances. An
 * entry that cannot be read becomes an error whose message says why, so the explanation of a
 * failure is never lost to a malformed detail.
 */
export function decodeWmiErrors(xmls: readonly unknown[], options: FromCimXmlOptions = {}): WmiError[] {
  return xmls.map((xml) => {
    try {
      if (typeof xml !== "string") throw new KvpError("invalid-cim", "invalid CIM: error entry is not a string");
      return errorFromInstance(fromCimXml(xml, { ...options, qualifiers: "skip" }));
    } catch (error) {
      if (!(error instanceof KvpError)) throw error;
      return {
        className: "Msvm_Error",
        message: `(unreadable error detail: ${error.message})`,
        messageArguments: [],
        recommendedActions: [],
      };
    }
  });
}

/**
 * Text from the host made safe for one line of a terminal: control characters (XML 1.0
 * still allows tab, newlines and the C1 range, which includes escape sequences) become
 * spaces, runs of spaces shrink to one, and very long text is cut at 2000 characters.
 */
function forDisplay(text: string): string {
  const clean = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
  return clean.length > 2000 ? `${clean.slice(0, 1997)}...` : clean;
}

/** One line for an Msvm_Error: its message, message ID, CIM status and recommended actions. */
export function describeWmiError(error: WmiError): string {
  const parts: string[] = [];
  parts.push(error.message !== undefined && error.message.trim() !== "" ? forDisplay(error.message) : "(no message)");
  const details: string[] = [];
  if (error.messageId !== undefined) details.push(`message ID ${forDisplay(error.messageId)}`);
  if (error.cimStatusCode !== undefined) {
    details.push(`${lookup(CIM_STATUS_CODES, error.cimStatusCode) ?? `CIM status ${error.cimStatusCode}`}`);
  }
  if (error.errorType !== undefined && error.errorType > 1)
    details.push(lookup(ERROR_TYPES, error.errorType) ?? `error type ${error.errorType}`);
  let line = parts.join("");
  if (details.length > 0) line += ` [${details.join(", ")}]`;
  if (error.recommendedActions.length > 0)
    line += `; recommended: ${error.recommendedActions.map(forDisplay).join("; ")}`;
  return line;
}

/**
 * One readable sentence for a job that did not complete, e.g.
 * `job "Adding KVP items" ended in state Exception (10): error 32773 (invalid parameter):
 * The key already exists. [message ID 12345]`. Error texts repeated between the job and its
 * Msvm_Error details are shown once; host text is cleaned of control characters.
 */
export function describeJobFailure(job: WmiJob, errors: readonly WmiError[] = []): string {
  const label = job.caption ?? job.elementName ?? job.instanceId;
  const verb = isJobSuccessful(job.jobState) ? "completed" : isJobFinished(job.jobState) ? "ended" : "is";
  let text = `job${label === undefined ? "" : ` ${JSON.stringify(forDisplay(label))}`} ${verb} in state ${jobStateName(job.jobState)} (${job.jobState})`;
  if (job.errorCode !== undefined && job.errorCode !== 0) text += `: error ${describeReturnCode(job.errorCode)}`;
  const shown = new Set<string>();
  const add = (piece: string | undefined) => {
    if (piece === undefined) return;
    const clean = forDisplay(piece);
    if (clean === "" || shown.has(clean.toLowerCase())) return;
    shown.add(clean.toLowerCase());
    text += `: ${clean}`;
  };
  add(job.errorDescription);
  add(job.errorSummaryDescription);
  for (const error of errors) {
    if (error.message !== undefined && shown.has(forDisplay(error.message).toLowerCase())) {
      // The job already said this; keep only the details the error adds.
      const rest = describeWmiError({ ...error, message: "" }).replace(/^\(no message\) ?/, "");
      if (rest !== "") text += ` ${rest}`;
      continue;
    }
    add(describeWmiError(error));
  }
  return text;
}
