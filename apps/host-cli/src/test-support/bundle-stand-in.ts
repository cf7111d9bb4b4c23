/**
 * Bundles the PowerShell bridge stand-in (powershell-stand-in.ts, which imports workspace
 * sources) into one CommonJS file a child `node` can run, as the CLI itself is bundled.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const STAND_IN_SOURCE = fileURLToPath(new URL("./powershell-stand-in.ts", import.meta.url));

/** Writes the stand-in bundle to `outfile`. */
export async function bundleStandIn(outfile: string): Promise<void> {
  await build({
    entryPoints: [STAND_IN_SOURCE],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    conditions: ["@hyperv-kvp/source"],
    logLevel: "warning",
  });
}
