/**
 * The WS-Management faults the simulated hosts answer with, shared by a host's and a
 * cluster's handlers so both refuse a request in the same words.
 */
import type { WsmanFaultInit, WsmanHandlerResult } from "@hyperv-kvp/wsman";

/** Reason of a `w:InvalidSelectors` fault for an instance that does not exist, as WinRM words it. */
export const NOT_FOUND =
  "The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors.";

/** Reason of a `w:CannotProcessFilter` fault; the detail says what in the filter was refused. */
export const FILTER_REFUSED = "The WS-Management service cannot process the filter.";

/** A fault answer: `subcode` such as `w:InvalidSelectors`, `reason` for people, `detail` optional. */
export function fault(
  subcode: string,
  reason: string,
  detail?: string,
  code: WsmanFaultInit["code"] = "s:Sender",
): WsmanHandlerResult {
  return { kind: "fault", fault: { code, subcode, reason, ...(detail === undefined ? {} : { detail }) } };
}
