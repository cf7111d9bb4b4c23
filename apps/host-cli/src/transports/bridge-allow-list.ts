/**
 * What the PowerShell bridge may do, and nothing more: the namespaces, classes, associations
 * and methods kvp-host's Hyper-V logic (`hyperv-wmi.ts`) uses. The script
 * (`powershell/kvp-host-bridge.ps1`) holds the same lists and checks every request against
 * them before any CIM cmdlet runs (powershell-script.test.ts compares the lists and checks the
 * order); the test stand-in checks with {@link refusalOf}. A request outside them is refused
 * as `invalid-request`, so even a request kvp-host never meant to send (a bug, a tampered
 * pipe) can do nothing else with the administrator rights the bridge runs with.
 */
import { HYPERV_CLASSES, HYPERV_NAMESPACES, KVP_SETTING_DATA, REALIZED_SETTINGS } from "../hyperv-wmi.js";
import type { BridgeArgument, BridgePath, BridgeRequestBody } from "./powershell-protocol.js";

/** Namespaces the bridge accepts. */
export const ALLOWED_NAMESPACES: readonly string[] = [HYPERV_NAMESPACES.host, HYPERV_NAMESPACES.cluster];

/** Classes a `query` may select from. */
export const ALLOWED_QUERY_CLASSES: readonly string[] = [HYPERV_CLASSES.computerSystem, HYPERV_CLASSES.kvpComponent];

/** Classes an `enumerate` may list whole. */
export const ALLOWED_ENUMERATE_CLASSES: readonly string[] = [HYPERV_CLASSES.managementService];

/** Associations an `enumerate` may follow, as `SourceClass/AssocClass/ResultClass`. */
export const ALLOWED_ASSOCIATIONS: readonly string[] = [
  `${HYPERV_CLASSES.computerSystem}/${REALIZED_SETTINGS.assocClass}/${REALIZED_SETTINGS.resultClass}`,
  `${HYPERV_CLASSES.settingData}/${KVP_SETTING_DATA.assocClass}/${KVP_SETTING_DATA.resultClass}`,
];

/** Classes a `get` may read. */
export const ALLOWED_GET_CLASSES: readonly string[] = [HYPERV_CLASSES.concreteJob];

const KVP_SIGNATURE = `TargetSystem:${HYPERV_CLASSES.computerSystem},DataItems:string[]`;

/**
 * Methods an `invoke` may call, as `Class.Method`, each with its parameters in order:
 * `Name:string[]` (an array of text), `Name:string`, or `Name:Class` (a reference to an
 * instance of Class). Every parameter must be given, none other.
 */
export const ALLOWED_METHODS: Readonly<Record<string, string>> = {
  [`${HYPERV_CLASSES.managementService}.AddKvpItems`]: KVP_SIGNATURE,
  [`${HYPERV_CLASSES.managementService}.ModifyKvpItems`]: KVP_SIGNATURE,
  [`${HYPERV_CLASSES.managementService}.RemoveKvpItems`]: KVP_SIGNATURE,
  [`${HYPERV_CLASSES.concreteJob}.GetErrorEx`]: "",
};

/** Longest WQL a `query` may carry, characters. */
export const MAX_WQL_CHARS = 4096;

/**
 * The only WQL a `query` may carry: `SELECT * FROM Class`, optionally `WHERE Prop="text"`
 * joined by ` AND ` (at most 16), strings escaped as kvp-core's wqlString writes them
 * (backslash before `\` and `"`). The script holds the same pattern (.NET and JavaScript read
 * it alike); the class is then checked against {@link ALLOWED_QUERY_CLASSES}.
 */
export const WQL_SELECT_PATTERN =
  /^SELECT \* FROM (?<class>[A-Za-z_][A-Za-z0-9_]{0,255})(?: WHERE [A-Za-z_][A-Za-z0-9_]{0,255}="(?:[^"\\]|\\[\\"])*"(?: AND [A-Za-z_][A-Za-z0-9_]{0,255}="(?:[^"\\]|\\[\\"])*"){0,15})?$/;

/** Namespaces compare ignoring case, with either slash, as WMI compares them. */
function namespaceRefusal(namespace: string): string | undefined {
  const wanted = namespace.replaceAll("\\", "/").toLowerCase();
  return ALLOWED_NAMESPACES.some((allowed) => allowed.toLowerCase() === wanted)
    ? undefined
    : `invalid request: namespace '${namespace}' is not one kvp-host uses`;
}

function pathRefusal(path: BridgePath, classes: readonly string[], what: string): string | undefined {
  return (
    namespaceRefusal(path.namespace) ??
    (classes.includes(path.className) ? undefined : `invalid request: ${what} of ${path.className} is not allowed`)
  );
}

function argumentRefusal(name: string, type: string, value: BridgeArgument | undefined): string | undefined {
  const wrong = `invalid request: argument ${name} must be ${type === "string" || type === "string[]" ? type : `a reference to ${type}`}`;
  if (value === undefined) return wrong;
  if (type === "string") return typeof value === "string" ? undefined : wrong;
  if (type === "string[]") return Array.isArray(value) && value.every((v) => typeof v === "string") ? undefined : wrong;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return wrong;
  return pathRefusal((value as { path: BridgePath }).path, [type], `a reference`) === undefined ? undefined : wrong;
}

/** The parameters of an allowed method signature, in order, as [name, type]. */
export function parametersOf(signature: string): [string, string][] {
  return signature === "" ? [] : signature.split(",").map((p) => p.split(":", 2) as [string, string]);
}

/**
 * Why the bridge refuses `request` (a well-formed request), or undefined when the allow-list
 * permits it. The messages are the script's.
 */
export function refusalOf(request: BridgeRequestBody): string | undefined {
  switch (request.op) {
    case "query": {
      if (request.wql.length > MAX_WQL_CHARS) return `invalid request: WQL longer than ${MAX_WQL_CHARS} characters`;
      const match = WQL_SELECT_PATTERN.exec(request.wql);
      if (match === null) return "invalid request: WQL must be SELECT * FROM a class with equality conditions";
      const className = match.groups?.["class"] ?? "";
      return (
        namespaceRefusal(request.namespace) ??
        (ALLOWED_QUERY_CLASSES.includes(className)
          ? undefined
          : `invalid request: query of ${className} is not allowed`)
      );
    }
    case "enumerate": {
      if ("className" in request) {
        return (
          namespaceRefusal(request.namespace) ??
          (ALLOWED_ENUMERATE_CLASSES.includes(request.className)
            ? undefined
            : `invalid request: enumeration of ${request.className} is not allowed`)
        );
      }
      const association = `${request.source.className}/${request.assocClass}/${request.resultClass}`;
      return (
        namespaceRefusal(request.source.namespace) ??
        (ALLOWED_ASSOCIATIONS.includes(association)
          ? undefined
          : `invalid request: association ${association} is not allowed`)
      );
    }
    case "get":
      return pathRefusal(request.path, ALLOWED_GET_CLASSES, "get");
    case "invoke": {
      const signature = ALLOWED_METHODS[`${request.path.className}.${request.method}`];
      const refused = namespaceRefusal(request.path.namespace);
      if (refused !== undefined) return refused;
      if (signature === undefined || !Object.hasOwn(ALLOWED_METHODS, `${request.path.className}.${request.method}`))
        return `invalid request: method ${request.path.className}.${request.method} is not allowed`;
      const parameters = parametersOf(signature);
      const given = Object.keys(request.arguments);
      if (given.length !== parameters.length || given.some((name) => !parameters.some(([p]) => p === name)))
        return `invalid request: ${request.method} takes ${parameters.map(([p]) => p).join(", ") || "no arguments"}`;
      for (const [name, type] of parameters) {
        const refusal = argumentRefusal(
          name,
          type,
          Object.hasOwn(request.arguments, name) ? request.arguments[name] : undefined,
        );
        if (refusal !== undefined) return refusal;
      }
      return undefined;
    }
  }
}
