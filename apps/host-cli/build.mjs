// Bundles kvp-host into one minified CommonJS file, as apps/pool-tools does: one file to
// load instead of dozens of modules, and CommonJS rather than ESM for a quicker start, which
// matters to scripts that call kvp-host once per VM.
import { build } from "esbuild";

await build({
  entryPoints: ["src/bin.ts"],
  outfile: "dist/kvp-host.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  sourcemap: true,
  conditions: ["@hyperv-kvp/source"],
  logLevel: "warning",
});
