// Bundles kvp-pool into one ESM file: one file to read and compile at start-up instead of
// dozens of modules is most of what keeps `kvp-pool get` near bare `node` start-up time.
// koffi stays external: it finds its native binary relative to its own package.
import { build } from "esbuild";

await build({
  entryPoints: ["src/bin.ts"],
  outfile: "dist/kvp-pool.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  sourcemap: true,
  minify: true,
  keepNames: false,
  external: ["koffi"],
  conditions: ["@hyperv-kvp/source"],
  // commander is CommonJS; give the bundle a real `require` for its built-in imports.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
});
