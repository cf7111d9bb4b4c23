/**
 * The WS-Management handler of root/virtualization/v2 for one host: requests in, answers
 * out. Reads go to read-requests.ts, method calls to method-requests.ts, and the jobs those
 * start run in the background against the guests (kvp-jobs.ts).
 */
import type { WsmanHandler } from "@hyperv-kvp/wsman";
import { fault } from "./faults.js";
import type { GuestAccess } from "./guest-registry.js";
import type { HostModel } from "./host-model.js";
import { type KvpJobOptions, applyKvpJob } from "./kvp-jobs.js";
import { answerInvoke } from "./method-requests.js";
import { answerEnumerate, answerGet } from "./read-requests.js";
import { classOfResourceUri } from "./resource-uri.js";

/** Options of {@link createWmiHandler}. */
export interface WmiHandlerOptions extends KvpJobOptions {
  /** Receives each job's promise as it starts (for a host's settle()). */
  readonly track?: (job: Promise<void>) => void;
}

/**
 * The WS-Management handler over a model and the VMs' guest sides. Jobs are applied in the
 * background through `guest`; `track` receives each job's promise.
 */
export function createWmiHandler(model: HostModel, guest: GuestAccess, options: WmiHandlerOptions = {}): WsmanHandler {
  return async (request) => {
    const uriClass = classOfResourceUri(request.resourceUri);
    if (uriClass === undefined) {
      return fault(
        "a:DestinationUnreachable",
        `The WS-Management service cannot process the request because the resource URI ${request.resourceUri} is not a class of root/virtualization/v2.`,
      );
    }
    switch (request.kind) {
      case "enumerate":
        return answerEnumerate(model, guest, request, uriClass);
      case "get":
        return answerGet(model, request, uriClass);
      case "invoke":
        return answerInvoke(model, request, uriClass, (started) => {
          const done = applyKvpJob(model, guest, started, options);
          options.track?.(done);
        });
    }
  };
}
