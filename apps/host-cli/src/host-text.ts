/**
 * Text the other side wrote (a WS-Management fault's reason, an HTTP error body, a CIM error
 * through the PowerShell bridge, a name or value it returned) on its way to a terminal. One
 * sanitiser for all of it: cli-kit's `printable` (controls C0, DEL, C1, separators and bidi
 * controls escaped), applied at the edge where a message is printed, never before (escaping
 * twice would print `\\u001b`). Error messages are cut to {@link MAX_HOST_TEXT} characters
 * first: a host can answer megabytes of reason.
 */
import { type ErrorRule, printable, printableProse } from "@hyperv-kvp/cli-kit";

/** The most characters of an error message that quotes the host. */
export const MAX_HOST_TEXT = 1000;

/** `text` cut to `max` characters, with `… (N more)` saying how much was left out. */
export function capped(text: string, max = MAX_HOST_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more)`;
}

/** `text` from the host, cut and escaped for one line of a message. */
export function hostText(text: string, max = MAX_HOST_TEXT): string {
  return printable(capped(text, max));
}

/** `rule` with its message made printable: for errors whose messages quote the host. */
export function quotingHost(rule: ErrorRule): ErrorRule {
  return (error) => {
    const failure = rule(error);
    // Prose: escaped as hostText escapes, but a Windows path in it keeps its single backslashes.
    return failure === undefined ? undefined : { ...failure, message: printableProse(capped(failure.message)) };
  };
}

/**
 * A name the host gave (a VM's ElementName) in double quotes inside a message or report,
 * escaped with `printable` (not JSON.stringify, which passes C1 and bidi controls) and cut to
 * 200 characters. For messages printed as they are (HostCliError, reports); not for
 * transport messages, which the error table escapes as a whole.
 */
export function quoted(name: string): string {
  return `"${hostText(name, 200).replace(/"/g, "\\u0022")}"`;
}
