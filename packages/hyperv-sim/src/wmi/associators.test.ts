import { decodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import { valueAsArray } from "@hyperv-kvp/wsman";
import { describe, expect, it } from "vitest";
import { associatorsOf } from "./associators.js";
import { HostModel } from "./host-model.js";

const GUID_A = "11111111-1111-4111-8111-111111111111";
const GUID_B = "22222222-2222-4222-8222-222222222222";

describe("associatorsOf", () => {
  it("answers the ASSOCIATORS OF route from a VM to its KVP setting data, and nothing else", () => {
    const model = new HostModel();
    model.addVm("web01", GUID_A).hostItems.set("Role", "web");
    model.addVm("web01", GUID_B);
    const cs = {
      sourceClass: "msvm_computersystem",
      assocClass: "Msvm_SettingsDefineState",
      resultClass: "Msvm_VirtualSystemSettingData",
    };
    const [settings, ...more] = associatorsOf(model.vms, {
      ...cs,
      sourceKeys: [
        { property: "CreationClassName", value: "Msvm_ComputerSystem" },
        { property: "name", value: GUID_A.toLowerCase() },
      ],
    });
    expect(more).toEqual([]);
    expect(settings!.className).toBe("Msvm_VirtualSystemSettingData");
    expect(settings!.properties.get("InstanceID")).toBe(`Microsoft:${GUID_A}`);
    expect(settings!.properties.get("VirtualSystemType")).toBe("Microsoft:Hyper-V:System:Realized");
    const kvp = {
      sourceClass: "Msvm_VirtualSystemSettingData",
      assocClass: "Msvm_VirtualSystemSettingDataComponent",
      resultClass: "Msvm_KvpExchangeComponentSettingData",
    };
    const [data] = associatorsOf(model.vms, {
      ...kvp,
      sourceKeys: [{ property: "InstanceID", value: `Microsoft:${GUID_A}` }],
    });
    expect(valueAsArray(data!.properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x).name)).toEqual(["Role"]);
    // Paths that name no VM give nothing.
    expect(
      associatorsOf(model.vms, {
        ...cs,
        sourceKeys: [
          { property: "CreationClassName", value: "Msvm_ComputerSystem" },
          { property: "Name", value: "HV-HOST01" },
        ],
      }),
    ).toEqual([]);
    expect(
      associatorsOf(model.vms, { ...kvp, sourceKeys: [{ property: "InstanceID", value: "Microsoft:nope" }] }),
    ).toEqual([]);
    // Anything else is refused.
    for (const query of [
      { ...cs, sourceKeys: [{ property: "Name", value: GUID_A }] },
      {
        ...cs,
        sourceKeys: [
          { property: "Name", value: GUID_A },
          { property: "Name", value: GUID_A },
        ],
      },
      {
        ...cs,
        sourceKeys: [
          { property: "CreationClassName", value: "Msvm_ComputerSystem" },
          { property: "Name", value: GUID_A },
          { property: "X", value: "1" },
        ],
      },
      {
        ...cs,
        resultClass: "Msvm_KvpExchangeComponentSettingData",
        sourceKeys: [
          { property: "CreationClassName", value: "Msvm_ComputerSystem" },
          { property: "Name", value: GUID_A },
        ],
      },
      {
        ...kvp,
        assocClass: "Msvm_SettingsDefineState",
        sourceKeys: [{ property: "InstanceID", value: `Microsoft:${GUID_A}` }],
      },
      { ...kvp, sourceKeys: [{ property: "ElementName", value: "web01" }] },
    ]) {
      expect(() => associatorsOf(model.vms, query)).toThrow(/^invalid WQL query: /);
    }
  });
});
