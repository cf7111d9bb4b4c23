import type { CliCommand } from "@hyperv-kvp/cli-kit";
import type { HostCli } from "../host-session.js";
import { formatStatus } from "../print.js";
import { KVP_COMPONENT_STATUS } from "@hyperv-kvp/kvp-core/cim";
import { decodeSourceItems } from "../items.js";
import { resolveVm } from "../resolve-vm.js";
import type { HyperVWmi, VmInfo } from "../hyperv-wmi.js";

/** Intrinsic items worth showing in a status line, when the guest reports them. */
export const STATUS_INTRINSIC_KEYS = [
  "FullyQualifiedDomainName",
  "OSName",
  "OSVersion",
  "IntegrationServicesVersion",
] as const;

/** What {@link status} returns. */
export interface StatusResult {
  readonly vm: VmInfo;
  /** Whether the VM has an Msvm_KvpExchangeComponent at all. */
  readonly component: boolean;
  /** OperationalStatus[0] of the component (2 OK, 3 Degraded, 7 Non-recoverable, 12 No contact, 13 Lost communication). */
  readonly operationalStatus?: number;
  /** Its meaning (docs/wmi-and-cim.md#component-health), or `unknown status N`. */
  readonly health: string;
  /** True only for OperationalStatus 2. */
  readonly ok: boolean;
  readonly statusDescriptions: readonly string[];
  /** Items in GuestExchangeItems / GuestIntrinsicExchangeItems. */
  readonly guestItems: number;
  readonly intrinsicItems: number;
  /** Selected intrinsic items ({@link STATUS_INTRINSIC_KEYS}). */
  readonly intrinsic: Record<string, string>;
}

/** The health of the KVP integration service of the VM `vmRef` names. */
export async function status(wmi: HyperVWmi, vmRef: string): Promise<StatusResult> {
  const vm = await resolveVm(wmi, vmRef);
  const component = await wmi.getKvpComponent(vm.id);
  if (component === undefined) {
    return {
      vm,
      component: false,
      health: "no KVP exchange component (VM off, or the Data Exchange service is not offered)",
      ok: false,
      statusDescriptions: [],
      guestItems: 0,
      intrinsicItems: 0,
      intrinsic: {},
    };
  }
  const code = component.operationalStatus[0];
  const health =
    code === undefined
      ? "no OperationalStatus"
      : Object.hasOwn(KVP_COMPONENT_STATUS, code)
        ? KVP_COMPONENT_STATUS[code]!
        : `unknown status ${code}`;
  const intrinsic: Record<string, string> = {};
  const items = decodeSourceItems("intrinsic", component.intrinsicItems, { raw: true }).items;
  for (const key of STATUS_INTRINSIC_KEYS) {
    const item = items.find((i) => i.key === key);
    if (item !== undefined) intrinsic[key] = item.value;
  }
  return {
    vm,
    component: true,
    ...(code === undefined ? {} : { operationalStatus: code }),
    health,
    ok: code === 2,
    statusDescriptions: component.statusDescriptions,
    guestItems: component.guestItems.length,
    intrinsicItems: component.intrinsicItems.length,
    intrinsic,
  };
}

/** `kvp-host status`. */
export const statusCommand: CliCommand<HostCli> = {
  name: "status",
  define: (command, { run, ctx, withHost }) =>
    command
      .description("health of VM's KVP (Data Exchange) integration service")
      .argument("<vm>", "VM name or GUID")
      .option("--json", "print the status as JSON")
      .action(async (vm, opts) => {
        const result = await withHost((t) => status(t, vm));
        if (opts.json) run.json(result);
        else ctx.stdout.write(formatStatus(result));
      }),
};
