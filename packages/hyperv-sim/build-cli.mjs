// Bundles the hyperv-sim command into dist/hyperv-sim.mjs, the package's bin. The command line
// runs on the workspace's private CLI kit, which is never published, so the kit and commander
// are inlined (their notices in dist/THIRD-PARTY-NOTICES.txt); the simulator itself is not:
// the command reaches it only through the package's own entry point, dist/index.js (tsc's
// build), so the library exists once in the tarball. No source map: it would point at sources
// the tarball does not ship.
import { writeFileSync } from "node:fs";
import { build } from "esbuild";
import { bundledPackages, noticesText } from "../../scripts/lib/third-party-notices.mjs";
import { packageVersion } from "../../scripts/lib/versions.mjs";

/** Packages inlined into the bundle; every other bare import stays an import. */
const INLINED = new Set(["@hyperv-kvp/cli-kit", "commander", "@commander-js/extra-typings"]);

const result = await build({
  entryPoints: ["src/cli/bin.ts"],
  outfile: "dist/hyperv-sim.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["@hyperv-kvp/source"],
  define: { __KVP_VERSION__: JSON.stringify(packageVersion(new URL("package.json", import.meta.url))) },
  // commander is CommonJS: give its require() calls of node builtins a require in ESM.
  banner: {
    js: 'import { createRequire as __kvpCreateRequire } from "node:module";const require = __kvpCreateRequire(import.meta.url);',
  },
  plugins: [
    {
      name: "library-through-its-entry-point",
      setup(b) {
        // src/cli/ imports the library as "../index.js": the built dist/index.js beside the bundle.
        b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
          args.importer.includes("/src/cli/") ? { path: "./index.js", external: true } : undefined,
        );
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
          return INLINED.has(name) ? undefined : { path: args.path, external: true };
        });
      },
    },
  ],
  metafile: true,
  logLevel: "warning",
});

// The inlined packages travel with their licence notices.
writeFileSync(
  "dist/THIRD-PARTY-NOTICES.txt",
  noticesText("hyperv-sim's command (dist/hyperv-sim.mjs)", bundledPackages(result.metafile, process.cwd())),
);
