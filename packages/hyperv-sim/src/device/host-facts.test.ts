import { describe, expect, it } from "vitest";
import { DEFAULT_HOST_FACTS, hostFacts } from "./host-facts.js";

describe("hostFacts", () => {
  it("has the sixteen items real hosts send, in their order", () => {
    expect(DEFAULT_HOST_FACTS.map((f) => f.key)).toEqual([
      "HostName",
      "HostingSystemEditionId",
      "HostingSystemNestedLevel",
      "HostingSystemOsMajor",
      "HostingSystemOsMinor",
      "HostingSystemProcessorArchitecture",
      "HostingSystemProcessorIdleStateMax",
      "HostingSystemProcessorThrottleMax",
      "HostingSystemProcessorThrottleMin",
      "HostingSystemSpMajor",
      "HostingSystemSpMinor",
      "PhysicalHostName",
      "PhysicalHostNameFullyQualified",
      "VirtualMachineDynamicMemoryBalancingEnabled",
      "VirtualMachineId",
      "VirtualMachineName",
    ]);
  });

  it("replaces known keys in place and appends new ones", () => {
    const facts = hostFacts({ VirtualMachineName: "db02", Extra: "1", HostName: "H2" });
    expect(facts[0]).toEqual({ key: "HostName", value: "H2" });
    expect(facts[15]).toEqual({ key: "VirtualMachineName", value: "db02" });
    expect(facts[16]).toEqual({ key: "Extra", value: "1" });
    expect(facts.length).toBe(17);
  });

  it("ignores inherited properties", () => {
    const overrides = Object.create({ HostName: "inherited" }) as Record<string, string>;
    expect(hostFacts(overrides)).toEqual(DEFAULT_HOST_FACTS);
  });
});
