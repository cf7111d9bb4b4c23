/** What a request addresses: the class its resource URI names, and the values of its selectors. */
import { type WsmanSelector, equalsIgnoreCase } from "@hyperv-kvp/kvp-core/cim";
import { V2_RESOURCE_URI, WMI_CLASSES } from "./wmi-classes.js";

/**
 * The class a resource URI names under `namespaceUri` (`…/wmi/<namespace>`; `*` for WQL),
 * compared ignoring case, or undefined for a URI outside it or no class name.
 */
export function classOfResourceUri(resourceUri: string, namespaceUri: string = V2_RESOURCE_URI): string | undefined {
  const prefix = `${namespaceUri}/`;
  if (!resourceUri.toLowerCase().startsWith(prefix.toLowerCase())) return undefined;
  const rest = resourceUri.slice(prefix.length);
  return /^(\*|[A-Za-z_][A-Za-z0-9_]*)$/.test(rest) ? rest : undefined;
}

/**
 * The served class named `name` (ignoring case), spelled as WMI spells it, or undefined.
 * Msvm_Error is only ever embedded in GetErrorEx's output, never served on its own.
 */
export function servedClassOf(name: string): string | undefined {
  return Object.values(WMI_CLASSES).find((c) => c !== WMI_CLASSES.error && equalsIgnoreCase(c, name));
}

/** The text value of the selector `name` (ignoring case), or undefined when absent or an EPR. */
export function selectorValue(selectors: readonly WsmanSelector[], name: string): string | undefined {
  const found = selectors.find((s) => equalsIgnoreCase(s.name, name))?.value;
  return typeof found === "string" ? found : undefined;
}
