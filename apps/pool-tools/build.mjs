// Bundles kvp-pool into one minified CommonJS file. Start-up time is a feature of a CLI that
// scripts call once per key: one file to read and compile instead of dozens of modules, and
// CommonJS rather than ESM (Node's ESM loader costs several milliseconds before our first
// line runs), keep `kvp-pool get` near bare `node` start-up. koffi stays external: it finds
// its native binary relative to its own package.
import { writeFileSync } from "node:fs";
import { build } from "esbuild";
import { BUNDLE_META_BANNER, BUNDLE_META_DEFINE } from "../../scripts/lib/bundle-meta.mjs";
import { writeBuiltProgram } from "../../scripts/lib/cached-launcher.mjs";
import { buildLockAddons } from "../../packages/pool-file/native/build-addon.mjs";
import { lazyBuiltins, processFromGlobal } from "../../scripts/lib/lazy-builtins.mjs";
import { bundledPackages, noticesText } from "../../scripts/lib/third-party-notices.mjs";
import { packageVersion } from "../../scripts/lib/versions.mjs";

const result = await build({
  entryPoints: ["src/bin.ts"],
  outfile: "dist/kvp-pool.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  minify: true,
  // The map stays in the workspace (for debugging, and the guest packaging tests read
  // kvp-pool's to see that the bundle is fresh) but is not published: the CLI prints one-line
  // errors, never stack traces, and the map would be most of the tarball. "external": the
  // bundle does not name it, so the published bundle points at nothing it lacks.
  sourcemap: "external",
  external: ["koffi"],
  conditions: ["@hyperv-kvp/source"],
  // Sources are ESM and use import.meta.url to resolve koffi lazily; give the CommonJS
  // bundle the same URL of itself.
  define: {
    ...BUNDLE_META_DEFINE,
    // src/version.ts: the version `--version` prints, from package.json at build time.
    __KVP_VERSION__: JSON.stringify(packageVersion(new URL("package.json", import.meta.url))),
  },
  banner: { js: `${BUNDLE_META_BANNER}` },
  // commander requires node:child_process at load; kvp-pool never spawns (see the plugin).
  plugins: [lazyBuiltins(["child_process", "os", "module"]), processFromGlobal()],
  // The packages it inlines, for their notices (below).
  metafile: true,
  // Written below, as the bundle the launcher carries. vm.Script, which runs it, has no
  // loader for import() on Node 18 and 20: dynamic imports become requires.
  supported: { "dynamic-import": false },
  write: false,
  logLevel: "warning",
});

// dist/kvp-pool.cjs is the launcher carrying the bundle (scripts/lib/cached-launcher.mjs): one
// file, as before, whose starts after the first read the bundle's compiled code from a cache.
await writeBuiltProgram(result, { program: "kvp-pool", target: "node18" });

// Each package the bundle inlines travels with its licence notice (npm tarball, .deb, .rpm).
writeFileSync("dist/THIRD-PARTY-NOTICES.txt", noticesText("kvp-pool", bundledPackages(result.metafile, process.cwd())));

// pool-file's lock calls load the kvp-lock addon from beside the file that holds their code:
// here the bundle, so the addon is built next to it (packages/pool-file/src/libc.ts says why).
// Without it the bundle takes the locks through koffi, correct but slower to start.
buildLockAddons("dist");
