/** Shared setup for tests: a TEST DOUBLE host with a few VMs (see memory-host.ts). */
import { type MemoryHostOptions, MemoryHostTestDouble } from "./memory-host.js";

export const WEB01 = "11111111-2222-3333-4444-555555555555";
export const DUP_A = "AAAAAAAA-0000-0000-0000-000000000001";
export const DUP_B = "AAAAAAAA-0000-0000-0000-000000000002";

/** web01 (running, guest and intrinsic items), two VMs named "dup", and "off" without a component. */
export function sampleHost(options: MemoryHostOptions = {}): MemoryHostTestDouble {
  const host = new MemoryHostTestDouble(options);
  host.addVm(WEB01, "web01", {
    component: {
      operationalStatus: [2],
      guest: [
        { name: "ReadyState", data: "ready", source: "guest" },
        { name: "report#1/2", data: "first-", source: "guest" },
        { name: "report#2/2", data: "second", source: "guest" },
      ],
      intrinsic: [
        { name: "FullyQualifiedDomainName", data: "web01.example.test", source: "intrinsic" },
        { name: "OSName", data: "Debian GNU/Linux", source: "intrinsic" },
      ],
    },
    host: { role: "web" },
  });
  host.addVm(DUP_A, "dup");
  host.addVm(DUP_B, "dup");
  host.addVm("BBBBBBBB-0000-0000-0000-000000000003", "off", { enabledState: 3, component: undefined });
  return host;
}
