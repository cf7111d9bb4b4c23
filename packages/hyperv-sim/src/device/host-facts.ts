import type { KvpRecord } from "@hyperv-kvp/kvp-core";

/**
 * What a Windows Server 2022 Hyper-V host sends to pool 3 (KVP_POOL_AUTO_EXTERNAL) when the
 * guest's KVP service starts: the sixteen items real hosts send (docs/pool-files.md#pool-3-host-facts), in
 * their order, with made-up but realistic values (edition 8 = Datacenter, processor
 * architecture 9 = x64). The set varies by host version; nothing should depend on exactly
 * these keys.
 */
export const DEFAULT_HOST_FACTS: readonly KvpRecord[] = [
  { key: "HostName", value: "HV-HOST01" },
  { key: "HostingSystemEditionId", value: "8" },
  { key: "HostingSystemNestedLevel", value: "0" },
  { key: "HostingSystemOsMajor", value: "10" },
  { key: "HostingSystemOsMinor", value: "0" },
  { key: "HostingSystemProcessorArchitecture", value: "9" },
  { key: "HostingSystemProcessorIdleStateMax", value: "0" },
  { key: "HostingSystemProcessorThrottleMax", value: "100" },
  { key: "HostingSystemProcessorThrottleMin", value: "100" },
  { key: "HostingSystemSpMajor", value: "0" },
  { key: "HostingSystemSpMinor", value: "0" },
  { key: "PhysicalHostName", value: "HV-HOST01" },
  { key: "PhysicalHostNameFullyQualified", value: "hv-host01.example.test" },
  { key: "VirtualMachineDynamicMemoryBalancingEnabled", value: "0" },
  { key: "VirtualMachineId", value: "5E3C6A2B-8F41-4D7A-9B0E-2C1D4F6A8B93" },
  { key: "VirtualMachineName", value: "web01" },
];

/**
 * {@link DEFAULT_HOST_FACTS} with `overrides` applied: a known key keeps its place and
 * takes the new value, an unknown key is appended (in the overrides' order).
 */
export function hostFacts(overrides: Readonly<Record<string, string>> = {}): KvpRecord[] {
  const known = new Set(DEFAULT_HOST_FACTS.map((f) => f.key));
  const merged = DEFAULT_HOST_FACTS.map((f) =>
    Object.hasOwn(overrides, f.key) ? { key: f.key, value: overrides[f.key]! } : f,
  );
  for (const [key, value] of Object.entries(overrides)) {
    if (!known.has(key)) merged.push({ key, value });
  }
  return merged;
}
