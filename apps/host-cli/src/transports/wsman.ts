/**
 * {@link CimClient} over WS-Management (WinRM) with @hyperv-kvp/wsman's WsmanClient, as WMI's
 * WS-Management plugin and libvirt's Hyper-V driver address it: the resource URI of a class is
 * `http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<Class>`; a WQL query, a class
 * and an association are all Enumerates of `…/<namespace>/*` with a WQL filter (`SELECT * FROM
 * Class`, `ASSOCIATORS OF {path} WHERE AssocClass=… ResultClass=…`); Get and Invoke address an
 * instance by a SelectorSet of its keys; a reference argument is an endpoint reference; a
 * reference output (a method's Job) comes back as one. Not verified against a real host.
 */
import {
  type CimInstance,
  type CimInstancePath,
  type CimProperty,
  WMI_RESOURCE_URI_PREFIX,
  type WsmanEpr,
  type WsmanSelector,
  eprToPath,
  formatWmiPath,
  pathToEpr,
} from "@hyperv-kvp/kvp-core/cim";
import {
  type InvokeResult,
  type ParameterInput,
  type WsmanInstance,
  type WsmanParameter,
  type WsmanSkippedItem,
  isWsmanError,
} from "@hyperv-kvp/wsman";
import { printable } from "@hyperv-kvp/cli-kit";
import { type HostErrorKind, TransportError, type TransportErrorCode } from "../transport-error.js";
import type { CimArgument, CimClient, CimEnumeration, CimMethodResult, CimOutput } from "../transport.js";

/** What the client needs of WS-Management: WsmanClient, hyperv-sim's in-process client, or a recording fake in tests. */
export type WsmanClientLike = {
  get(resourceUri: string, selectors: readonly WsmanSelector[]): Promise<WsmanInstance>;
  enumerate(resourceUri: string, wql: string): Promise<WsmanInstance[]>;
  invoke(
    resourceUri: string,
    method: string,
    selectors: readonly WsmanSelector[],
    parameters: ParameterInput<WsmanParameter>,
  ): Promise<InvokeResult>;
  close(): void;
  /** The items the latest enumerate left out because they could not be read (WsmanClient's). */
  readonly enumerationSkipped?: readonly WsmanSkippedItem[];
};

/** Options of {@link WsmanCimClient}. */
export interface WsmanCimClientOptions {
  /**
   * Told of the items an enumeration left out because they could not be read (an item costs
   * itself, never the answer): kvp-host says so on stderr rather than show less in silence.
   */
  readonly onSkipped?: (skipped: readonly WsmanSkippedItem[]) => void;
}

/** Resource URI of `className` in `namespace` (`…/wmi/root/virtualization/v2/Msvm_ComputerSystem`). */
export function resourceUriOf(namespace: string, className: string): string {
  return `${WMI_RESOURCE_URI_PREFIX}${namespace}/${className}`;
}

/** Where WQL enumerations of `namespace` go: `…/<namespace>/*`. */
export function enumerationUriOf(namespace: string): string {
  return resourceUriOf(namespace, "*");
}

/**
 * The WQL of an enumeration: `SELECT * FROM Class`, or `ASSOCIATORS OF {Class.Key="v",…} WHERE
 * AssocClass=A ResultClass=R` (the source path without its namespace, as WMI wants it there).
 */
export function enumerationWql(what: CimEnumeration): string {
  if ("className" in what) return `SELECT * FROM ${what.className}`;
  const { namespace: _, ...source } = what.source;
  return `ASSOCIATORS OF {${formatWmiPath(source)}} WHERE AssocClass=${what.assocClass} ResultClass=${what.resultClass}`;
}

/** The namespace of an enumeration. @throws {TransportError} `config` for a source path without one. */
function namespaceOf(what: CimEnumeration): string {
  return "className" in what ? what.namespace : namespaceOfPath(what.source);
}

function namespaceOfPath(path: CimInstancePath): string {
  if (path.namespace === undefined)
    throw new TransportError("config", `the path of ${path.className} has no namespace`);
  return path.namespace;
}

/**
 * A WS-Management instance as a CIM instance: every value text (WS-Management carries no
 * types), so the seam's readers parse numbers the same whichever transport.
 */
export function toCimInstance(instance: WsmanInstance): CimInstance {
  const properties: CimProperty[] = [];
  for (const [name, value] of instance.properties) {
    if (value === null || typeof value === "string") properties.push({ name, type: "string", value });
    else properties.push({ name, type: "string", array: true, value: [...value] });
  }
  // A reference (an association's GroupComponent/PartComponent) is a CIM REF; CIM instances
  // hold no arrays of them, and one whose EPR names no WMI class has no path to give.
  for (const [name, refs] of instance.references ?? []) {
    const [only] = refs;
    if (refs.length === 1 && only?.path !== undefined) properties.push({ name, type: "reference", value: only.path });
  }
  return { className: instance.className, properties };
}

function isEpr(value: WsmanParameter): value is WsmanEpr {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An output of Invoke as a seam value: an endpoint reference becomes a path. */
function toOutput(name: string, value: WsmanParameter): CimOutput {
  if (value === null || typeof value === "string") return value;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value as readonly unknown[]) {
      // No method kvp-host calls returns an array of references.
      if (typeof item !== "string")
        throw new TransportError(
          "unreadable",
          `the output ${name} is an array of references, which kvp-host does not read`,
        );
      items.push(item);
    }
    return items;
  }
  if (!isEpr(value)) throw new TransportError("unreadable", `the output ${name} cannot be read`);
  try {
    return eprToPath(value);
  } catch (error) {
    throw new TransportError(
      "unreadable",
      `the output ${name} is a reference kvp-host cannot read: ${(error as Error).message}`,
    );
  }
}

const CODES: Readonly<Record<string, TransportErrorCode>> = {
  "invalid-message": "unreadable",
  "limit-exceeded": "unreadable",
  integrity: "unreadable",
  "http-error": "unreadable",
  "invalid-argument": "config",
  "unencrypted-refused": "config",
  fault: "host-error",
  unauthorized: "unauthorized",
  "connection-failed": "unreachable",
  "tls-untrusted": "tls",
  "tls-error": "tls",
  timeout: "timeout",
};

/** How a fault's subcode describes it. */
function faultKind(subcode: string): HostErrorKind {
  const local = subcode.slice(subcode.indexOf(":") + 1);
  if (local === "InvalidSelectors") return "not-found";
  if (local === "AccessDenied") return "access-denied";
  if (local === "CannotProcessFilter" || local === "DestinationUnreachable" || local === "ActionNotSupported")
    return "invalid-request";
  return "failed";
}

/**
 * A WsmanError as a {@link TransportError} with the same message, followed by what the server
 * said ({@link WsmanError.serverText}, raw: main.ts's error table escapes and cuts it when it
 * prints); anything else as it is.
 */
export function fromWsmanError(error: unknown): unknown {
  if (!isWsmanError(error)) return error;
  const code = CODES[error.code] ?? "unreadable";
  const message = error.serverText === undefined ? error.message : `${error.message}: ${error.serverText}`;
  return new TransportError(code, message, {
    cause: error,
    ...(code === "host-error"
      ? {
          hostError: {
            kind: faultKind(error.fault?.subcode ?? ""),
            ...(error.fault?.subcode ? { code: error.fault.subcode } : {}),
          },
        }
      : {}),
  });
}

/** {@link CimClient} over WS-Management (see the module doc). */
export class WsmanCimClient implements CimClient {
  constructor(
    private readonly client: WsmanClientLike,
    private readonly options: WsmanCimClientOptions = {},
  ) {}

  private async enumerateOf(resourceUri: string, wql: string): Promise<CimInstance[]> {
    const found = await this.call(() => this.client.enumerate(resourceUri, wql));
    const skipped = this.client.enumerationSkipped ?? [];
    if (skipped.length > 0) this.options.onSkipped?.(skipped);
    return found.map(toCimInstance);
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw fromWsmanError(error);
    }
  }

  query(namespace: string, wql: string): Promise<CimInstance[]> {
    return this.enumerateOf(enumerationUriOf(namespace), wql);
  }

  enumerate(what: CimEnumeration): Promise<CimInstance[]> {
    return this.enumerateOf(enumerationUriOf(namespaceOf(what)), enumerationWql(what));
  }

  async get(path: CimInstancePath): Promise<CimInstance> {
    const epr = this.eprOf(path);
    return toCimInstance(await this.call(() => this.client.get(epr.resourceUri, epr.selectors)));
  }

  async invoke(
    path: CimInstancePath,
    method: string,
    args: ReadonlyMap<string, CimArgument>,
  ): Promise<CimMethodResult> {
    const epr = this.eprOf(path);
    const parameters = new Map<string, WsmanParameter>();
    for (const [name, value] of args) {
      parameters.set(
        name,
        typeof value === "string" || Array.isArray(value) ? value : this.eprOf(value as CimInstancePath),
      );
    }
    const result = await this.call(() => this.client.invoke(epr.resourceUri, method, epr.selectors, parameters));
    const outputs = new Map<string, CimOutput>();
    for (const [name, value] of result.outputs) outputs.set(name, toOutput(name, value));
    if (result.job !== undefined && !outputs.has("Job")) outputs.set("Job", toOutput("Job", result.job));
    return { returnValue: result.returnValue, outputs };
  }

  close(): void {
    this.client.close();
  }

  /** @throws {TransportError} `config` for a path that cannot be an endpoint reference. */
  private eprOf(path: CimInstancePath): WsmanEpr {
    namespaceOfPath(path);
    try {
      return pathToEpr(path);
    } catch (error) {
      throw new TransportError("config", `cannot address ${path.className}: ${(error as Error).message}`);
    }
  }
}

/**
 * The warning kvp-host prints for items an enumeration left out: how many, of which class
 * (a name from the server: escaped), and the first one's reason (this library's words).
 */
export function skippedItemsWarning(skipped: readonly WsmanSkippedItem[]): string {
  const classes = [...new Set(skipped.map((s) => printable(s.className)))].join(", ");
  return `warning: ${skipped.length} item(s) of ${classes} in the host's answer could not be read and are left out (${printable(skipped[0]!.message)})`;
}
