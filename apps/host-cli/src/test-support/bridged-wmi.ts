// Shared by the PowerShell transport's tests (transports/powershell*.test.ts).
import type { HYPERV_NAMESPACES } from "../hyperv-wmi.js";
import { HyperVWmi } from "../hyperv-wmi.js";
import {
  type PowerShellCimClient,
  type PowerShellClientOptions,
  openPowerShellClient,
} from "../transports/powershell.js";

/** kvp-host's Hyper-V logic over a PowerShell client, with the client's own view at hand. */
export class BridgedWmi extends HyperVWmi {
  constructor(
    readonly bridge: PowerShellCimClient,
    namespace?: typeof HYPERV_NAMESPACES.cluster,
  ) {
    super(bridge, namespace === undefined ? {} : { namespace });
  }
  get hello() {
    return this.bridge.hello;
  }
  get exited() {
    return this.bridge.exited;
  }
  get stderrLines() {
    return this.bridge.stderrLines;
  }
}

/** A PowerShell client started with `options`, under kvp-host's Hyper-V logic. */
export async function openBridged(
  options: PowerShellClientOptions,
  namespace?: typeof HYPERV_NAMESPACES.cluster,
): Promise<BridgedWmi> {
  return new BridgedWmi(await openPowerShellClient(options), namespace);
}
