/**
 * The methods of root/virtualization/v2: AddKvpItems, ModifyKvpItems and RemoveKvpItems of
 * the management service, and GetErrorEx of a job. The model decides each call's outcome;
 * a started job is handed to `runJob` (kvp-jobs.ts applies it to the guest).
 */
import {
  type CimInstancePath,
  WSA_ANONYMOUS,
  type WsmanEpr,
  eprToPath,
  equalsIgnoreCase,
} from "@hyperv-kvp/kvp-core/cim";
import type { WsmanHandlerResult, WsmanParameter, WsmanRequest } from "@hyperv-kvp/wsman";
import { NOT_FOUND, fault } from "./faults.js";
import type { HostModel, MethodOutcome } from "./host-model.js";
import { jobErrorsOf } from "./instances.js";
import { selectorValue, servedClassOf } from "./resource-uri.js";
import { RETURN_VALUES, V2_RESOURCE_URI, WMI_CLASSES, isKvpMethod } from "./wmi-classes.js";

/** A method call's job, as the model started it: Running, its guest operations not yet applied. */
export type StartedJob = Extract<MethodOutcome, { kind: "job" }>;

/** DataItems as strings: absent or NULL is none, one item may arrive as text; undefined for anything else. */
function stringsOf(value: WsmanParameter | undefined): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return [...(value as readonly string[])];
  return undefined;
}

/** TargetSystem as an instance path, or undefined when it is missing or not a reference. */
function targetOf(value: WsmanParameter | undefined): CimInstancePath | undefined {
  if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  try {
    return eprToPath(value as WsmanEpr);
  } catch {
    return undefined;
  }
}

/**
 * Answers an Invoke of `request.method` on `uriClass`: GetErrorEx of a job, or a KVP method
 * (ReturnValue 32773 without a job when the call itself is wrong, else 4096 and the job's
 * reference, after handing the job to `runJob`). Other methods are `a:ActionNotSupported`.
 */
export function answerInvoke(
  model: HostModel,
  request: Extract<WsmanRequest, { kind: "invoke" }>,
  uriClass: string,
  runJob: (job: StartedJob) => void,
): WsmanHandlerResult {
  const served = servedClassOf(uriClass);
  if (served === WMI_CLASSES.concreteJob && request.method === "GetErrorEx") {
    const id = selectorValue(request.selectors, "InstanceID");
    const job = id === undefined ? undefined : model.findJob(id);
    if (job === undefined) return fault("w:InvalidSelectors", NOT_FOUND);
    return { kind: "invoke", returnValue: RETURN_VALUES.completed, outputs: { Errors: jobErrorsOf(job) } };
  }
  if (served !== WMI_CLASSES.managementService || !isKvpMethod(request.method)) {
    return fault("a:ActionNotSupported", `Method ${request.method} of ${uriClass} is not supported by this simulator.`);
  }
  const name = selectorValue(request.selectors, "Name");
  if (name !== undefined && !equalsIgnoreCase(name, "vmms")) return fault("w:InvalidSelectors", NOT_FOUND);

  const items = stringsOf(request.parameters.get("DataItems"));
  if (items === undefined) return { kind: "invoke", returnValue: RETURN_VALUES.invalidParameter };
  const outcome = model.invokeKvpMethod(request.method, targetOf(request.parameters.get("TargetSystem")), items);
  if (outcome.kind === "rejected") return { kind: "invoke", returnValue: outcome.returnValue };
  runJob(outcome);
  const job: WsmanEpr = {
    address: WSA_ANONYMOUS,
    resourceUri: `${V2_RESOURCE_URI}/${WMI_CLASSES.concreteJob}`,
    selectors: [{ name: "InstanceID", value: outcome.job.instanceId }],
  };
  return { kind: "invoke", returnValue: RETURN_VALUES.jobStarted, outputs: { Job: job } };
}
