/**
 * The reads of root/virtualization/v2: Enumerate (a class, or a WQL filter) and Get, answered
 * from the model, with each running VM's guest items read from its pools 1 and 2 by
 * ENUMERATE at query time, as Hyper-V asks the guest's KVP service.
 */
import { equalsIgnoreCase } from "@hyperv-kvp/kvp-core/cim";
import { WQL_DIALECT, type WsmanHandlerResult, type WsmanInstance, type WsmanRequest } from "@hyperv-kvp/wsman";
import { isSimError } from "../errors.js";
import { associatorsOf } from "./associators.js";
import { FILTER_REFUSED, NOT_FOUND, fault } from "./faults.js";
import type { GuestAccess } from "./guest-registry.js";
import type { HostModel } from "./host-model.js";
import { concreteJobOf, kvpComponentOf, kvpSettingDataOf, virtualSystemSettingDataOf } from "./instances.js";
import { selectorValue, servedClassOf } from "./resource-uri.js";
import { WMI_CLASSES } from "./wmi-classes.js";
import { type WqlCondition, matchesConditions, parseWqlStatement } from "./wql.js";

/** The instances of `className` (as {@link servedClassOf} spells it) that satisfy `conditions`. */
async function instancesOf(
  model: HostModel,
  guest: GuestAccess,
  className: string,
  conditions: readonly WqlCondition[],
): Promise<WsmanInstance[]> {
  const matching = (instances: WsmanInstance[]) => instances.filter((i) => matchesConditions(i, conditions));
  switch (className) {
    case WMI_CLASSES.computerSystem:
      return matching(model.computerSystems());
    case WMI_CLASSES.kvpComponent: {
      const out: WsmanInstance[] = [];
      for (const vm of model.vms) {
        // Conditions are checked on the instance without items first, so only the VMs
        // asked for are enumerated.
        if (!vm.kvpComponent || !matchesConditions(kvpComponentOf(vm), conditions)) continue;
        const pools = vm.running
          ? await guest.run(vm.guid, async (host) => ({
              guest: await host.enumerate(1),
              intrinsic: await host.enumerate(2),
            }))
          : undefined;
        out.push(kvpComponentOf(vm, pools?.guest.records ?? [], pools?.intrinsic.records ?? []));
      }
      return out;
    }
    case WMI_CLASSES.kvpSettingData:
      return matching(model.vms.map(kvpSettingDataOf));
    case WMI_CLASSES.settingData:
      return matching(model.vms.map(virtualSystemSettingDataOf));
    case WMI_CLASSES.managementService:
      return matching([model.managementService()]);
    case WMI_CLASSES.concreteJob:
      return matching(model.jobList.map(concreteJobOf));
    default:
      return [];
  }
}

/**
 * Answers an Enumerate of `uriClass` (the class its resource URI names, `*` for WQL): every
 * instance, those a WQL filter selects, or the two ASSOCIATORS OF routes. A filter this
 * simulator does not serve is a `w:CannotProcessFilter` fault whose detail says why.
 */
export async function answerEnumerate(
  model: HostModel,
  guest: GuestAccess,
  request: Extract<WsmanRequest, { kind: "enumerate" }>,
  uriClass: string,
): Promise<WsmanHandlerResult> {
  let className: string;
  let conditions: readonly WqlCondition[] = [];
  if (request.filter !== undefined) {
    if (!equalsIgnoreCase(request.filter.dialect, WQL_DIALECT)) {
      return fault(
        "w:FilterDialectRequestedUnavailable",
        "The requested filter dialect is not supported.",
        request.filter.dialect,
      );
    }
    try {
      const query = parseWqlStatement(request.filter.query);
      if (query.kind === "associators") return { kind: "enumerate", items: associatorsOf(model.vms, query) };
      className = query.className;
      conditions = query.conditions;
    } catch (error) {
      if (isSimError(error)) return fault("w:CannotProcessFilter", FILTER_REFUSED, error.message);
      throw error;
    }
  } else if (uriClass === "*") {
    return fault("w:CannotProcessFilter", "An enumeration of root/virtualization/v2/* needs a WQL filter.");
  } else {
    className = uriClass;
  }
  const served = servedClassOf(className);
  if (served === undefined)
    return fault(
      "w:CannotProcessFilter",
      FILTER_REFUSED,
      `invalid WQL query: class ${className} is not served by this simulator`,
    );
  try {
    return { kind: "enumerate", items: await instancesOf(model, guest, served, conditions) };
  } catch (error) {
    if (isSimError(error, "invalid-argument")) return fault("w:CannotProcessFilter", FILTER_REFUSED, error.message);
    throw error;
  }
}

/**
 * Answers a Get of `uriClass`: a job by InstanceID, a computer system by Name, or the
 * management service. Other classes cannot be read one by one here.
 */
export function answerGet(
  model: HostModel,
  request: Extract<WsmanRequest, { kind: "get" }>,
  uriClass: string,
): WsmanHandlerResult {
  const served = servedClassOf(uriClass);
  if (served === WMI_CLASSES.concreteJob) {
    const id = selectorValue(request.selectors, "InstanceID");
    const job = id === undefined ? undefined : model.findJob(id);
    return job === undefined
      ? fault("w:InvalidSelectors", NOT_FOUND, `no Msvm_ConcreteJob with InstanceID ${JSON.stringify(id ?? "")}`)
      : { kind: "get", instance: concreteJobOf(job) };
  }
  if (served === WMI_CLASSES.computerSystem) {
    const name = selectorValue(request.selectors, "Name");
    const found = model
      .computerSystems()
      .find((i) => name !== undefined && equalsIgnoreCase(String(i.properties.get("Name")), name));
    return found === undefined ? fault("w:InvalidSelectors", NOT_FOUND) : { kind: "get", instance: found };
  }
  if (served === WMI_CLASSES.managementService) return { kind: "get", instance: model.managementService() };
  return fault("a:ActionNotSupported", `Get of ${uriClass} is not supported by this simulator.`);
}
