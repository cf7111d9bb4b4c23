/**
 * The seam between kvp-host's Hyper-V logic and the host: a small CIM client — query (WQL),
 * enumerate (a class, or the instances associated with one), get (by path), invoke (a method
 * on a path) — in kvp-core's CIM terms. A transport implements it and knows nothing of
 * Hyper-V: WS-Management (`transports/wsman.ts`) and the local PowerShell bridge
 * (`transports/powershell.ts`) do; the Hyper-V logic (`hyperv-wmi.ts`: which classes, which
 * queries, caches, call counts) is written once above it.
 *
 * Values cross the seam as text, as WS-Management carries them (it has no CIM types): every
 * property of an instance is a `string` property, an array a `string` array, NULL null. A
 * number from the bridge arrives as its decimal text, a boolean as `true` or `false`, so both
 * transports hand the same instances to the same readers.
 */
import type { CimInstance, CimInstancePath } from "@hyperv-kvp/kvp-core/cim";

/** How kvp-host reaches the host. */
export type TransportKind = "powershell" | "wsman";

/**
 * The transport of a command line that names no host: local PowerShell on Windows (kvp-host
 * runs on the Hyper-V host itself), WS-Management everywhere else.
 */
export function defaultTransportKind(platform: string): TransportKind {
  return platform === "win32" ? "powershell" : "wsman";
}

/**
 * The transport a command line asks for: `--transport` when given (`explicit`); else
 * WS-Management when it names a host (`--host` or `--endpoint`: the PowerShell bridge only
 * reaches the host kvp-host runs on), so every `kvp-host --host …` works the same on Windows
 * and elsewhere; else `platformDefault` ({@link defaultTransportKind}).
 */
export function chooseTransportKind(
  explicit: TransportKind | undefined,
  namesHost: boolean,
  platformDefault: TransportKind,
): TransportKind {
  return explicit ?? (namesHost ? "wsman" : platformDefault);
}

/** A method argument: text, an array of text, or a reference to an instance (a CIM REF). */
export type CimArgument = string | readonly string[] | CimInstancePath;

/**
 * A method output: text, an array, a reference (such as a method's Job), or embedded
 * instances — as CIM-XML text over WS-Management, as instances when the CIM layer read them
 * (the PowerShell bridge may deliver either).
 */
export type CimOutput = null | string | CimInstancePath | CimInstance | readonly (string | CimInstance)[];

/** What a method returned. */
export interface CimMethodResult {
  /** ReturnValue. */
  readonly returnValue: number;
  /** Every other output, by name as the host wrote it. */
  readonly outputs: ReadonlyMap<string, CimOutput>;
}

/**
 * What {@link CimClient.enumerate} lists: every instance of a class in a namespace, or the
 * instances of `resultClass` associated with `source` through `assocClass`.
 */
export type CimEnumeration =
  | { readonly namespace: string; readonly className: string }
  | { readonly source: CimInstancePath; readonly assocClass: string; readonly resultClass: string };

/**
 * One WMI host seen as CIM. Paths must carry their namespace. Every failure to reach, read or
 * be answered by the host is a {@link TransportError} (`transport-error.ts`), whichever the
 * transport; a method's error return code is not a failure, it is returned.
 */
export interface CimClient {
  /** The instances a WQL `SELECT` returns in `namespace`. */
  query(namespace: string, wql: string): Promise<CimInstance[]>;
  /** The instances of a class, or associated with an instance (see {@link CimEnumeration}). */
  enumerate(what: CimEnumeration): Promise<CimInstance[]>;
  /** The instance `path` names. */
  get(path: CimInstancePath): Promise<CimInstance>;
  /** Invokes `method` on the instance `path` names with `args`, in their order. */
  invoke(path: CimInstancePath, method: string, args: ReadonlyMap<string, CimArgument>): Promise<CimMethodResult>;
  /** Releases connections and processes; later calls fail. */
  close(): void;
}

/** The class a path or an enumeration is about: the class enumerated, or the result class of an association. */
export function classOfEnumeration(what: CimEnumeration): string {
  return "className" in what ? what.className : what.resultClass;
}
