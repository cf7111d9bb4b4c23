import { decodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import { describe, expect, it } from "vitest";
import { HostModel } from "./host-model.js";
import { kvpComponentOf, vmComputerSystemOf } from "./instances.js";
import { COMPONENT_STATUS } from "./wmi-classes.js";

const GUID_A = "11111111-1111-4111-8111-111111111111";

describe("instances", () => {
  it("serves the component with guest items, and No contact when the daemon is stopped", () => {
    const vm = new HostModel().addVm("web01", GUID_A);
    const component = kvpComponentOf(vm, [{ key: "g", value: "1" }], [{ key: "OSName", value: "Debian" }]);
    const p = component.properties;
    expect(p.get("SystemName")).toBe(GUID_A);
    expect(p.get("OperationalStatus")).toEqual([String(COMPONENT_STATUS.ok)]);
    expect(decodeKvpItem((p.get("GuestExchangeItems") as string[])[0]!)).toMatchObject({
      name: "g",
      data: "1",
      source: "guest",
    });
    expect(decodeKvpItem((p.get("GuestIntrinsicExchangeItems") as string[])[0]!)).toMatchObject({
      name: "OSName",
      source: "intrinsic",
    });
    vm.running = false;
    expect(kvpComponentOf(vm).properties.get("OperationalStatus")).toEqual(["12"]);
    expect(vmComputerSystemOf(vm).properties.get("EnabledState")).toBe("3");
  });
});
