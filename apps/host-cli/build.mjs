// Bundles kvp-host into one minified CommonJS file, as apps/pool-tools does: one file to
// load instead of dozens of modules, and CommonJS rather than ESM for a quicker start, which
// matters to scripts that call kvp-host once per VM.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { BUNDLE_META_BANNER, BUNDLE_META_DEFINE } from "../../scripts/lib/bundle-meta.mjs";
import { writeBuiltProgram } from "../../scripts/lib/cached-launcher.mjs";
import { lazyBuiltins, lazyPackages, processFromGlobal } from "../../scripts/lib/lazy-builtins.mjs";
import { bundledPackages, noticesText } from "../../scripts/lib/third-party-notices.mjs";
import { packageVersion } from "../../scripts/lib/versions.mjs";

const result = await build({
  entryPoints: ["src/bin.ts"],
  outfile: "dist/kvp-host.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  // The map stays in the workspace for debugging but is not published: the CLI prints
  // one-line errors, never stack traces, and the map (commander's sources included) would be
  // four fifths of the tarball. "external": the bundle does not name it, so the published
  // bundle points at nothing it lacks.
  sourcemap: "external",
  conditions: ["@hyperv-kvp/source"],
  // Sources are ESM and find the PowerShell bridge script through import.meta.url; give the
  // CommonJS bundle its own URL, and let the sources see that they run bundled
  // (src/transports/powershell.ts, bridgeScriptPath). The banner repeats "use strict" first:
  // esbuild's own directive comes after it, where it is no longer a directive.
  define: {
    ...BUNDLE_META_DEFINE,
    // src/version.ts: the version `--version` prints, from package.json at build time.
    __KVP_VERSION__: JSON.stringify(packageVersion(new URL("package.json", import.meta.url))),
  },
  banner: { js: `"use strict";${BUNDLE_META_BANNER}` },
  // `kvp-host --help` and a wsman command never spawn: node:child_process (and the stream and
  // net modules it loads) waits for the PowerShell transport's first use.
  // fast-xml-parser (with the packages it loads) sets up tables and classes at load: it waits
  // for the first parse, which `--help`, `--version` and the PowerShell transport never make.
  plugins: [lazyBuiltins(["child_process", "os", "module"]), processFromGlobal(), lazyPackages(["fast-xml-parser"])],
  // The packages it inlines, for their notices (below).
  metafile: true,
  // Written below, as the bundle the launcher carries. vm.Script, which runs it, has no
  // loader for import() on Node 18 and 20: dynamic imports become requires.
  supported: { "dynamic-import": false },
  write: false,
  logLevel: "warning",
});

// dist/kvp-host.cjs is the launcher carrying the bundle (scripts/lib/cached-launcher.mjs): one
// file, as before, whose starts after the first read the bundle's compiled code from a cache.
await writeBuiltProgram(result, { program: "kvp-host", target: "node20" });

// Each package the bundle inlines travels with its licence notice (npm tarball, .deb, .rpm).
writeFileSync("dist/THIRD-PARTY-NOTICES.txt", noticesText("kvp-host", bundledPackages(result.metafile, process.cwd())));

// The local PowerShell transport runs this script; it ships beside the bundle (package.json
// "files" has dist), where bridgeScriptPath looks for it.
mkdirSync("dist/powershell", { recursive: true });
copyFileSync("powershell/kvp-host-bridge.ps1", "dist/powershell/kvp-host-bridge.ps1");
