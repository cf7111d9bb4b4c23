// Bundles kvp-agent into one minified CommonJS file, as kvp-pool is (apps/pool-tools/build.mjs):
// `kvp-agent once` and `kvp-agent wait` run in boot scripts, where start-up time adds up, and
// one file is what the .deb ships. CommonJS because Node's ESM loader costs milliseconds
// before our first line. koffi stays external: it finds its native binary relative to its
// own package, which ships beside the bundle.
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
  outfile: "dist/kvp-agent.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  // Debian 12's nodejs is 18; the bundle must parse and run there.
  target: "node18",
  minify: true,
  sourcemap: true,
  external: ["koffi"],
  conditions: ["@hyperv-kvp/source"],
  // Sources are ESM and resolve koffi through import.meta.url; give the bundle its own URL.
  define: {
    ...BUNDLE_META_DEFINE,
    // src/version.ts: the version `--version` prints, from package.json at build time.
    __KVP_VERSION__: JSON.stringify(packageVersion(new URL("package.json", import.meta.url))),
  },
  banner: { js: `${BUNDLE_META_BANNER}` },
  // `kvp-agent once` spawns (and decodes a hook's output) only when there are hooks, and hashes
  // only records that do not decode back to their bytes (src/pool-mirror.ts): these built-ins
  // load on first use.
  plugins: [lazyBuiltins(["child_process", "crypto", "string_decoder", "os", "module"]), processFromGlobal()],
  // The packages it inlines, for their notices (below).
  metafile: true,
  // Written below, as the bundle the launcher carries. vm.Script, which runs it, has no
  // loader for import() on Node 18 and 20: dynamic imports become requires.
  supported: {
    "dynamic-import": false,
    // Node 18's V8 reads \p{…} property escapes (Emoji_Presentation and the like) in regular
    // expression literals. Told otherwise, esbuild turns such literals into `new RegExp(…)`,
    // which it cannot drop when unused: valibot's email-and-emoji checks, which the config
    // schema does not use, then built a 500-character Unicode pattern at every start (~0.2 ms).
    "regexp-unicode-property-escapes": true,
  },
  write: false,
  logLevel: "warning",
});

// dist/kvp-agent.cjs is the launcher carrying the bundle (scripts/lib/cached-launcher.mjs): one
// file, as before, whose starts after the first read the bundle's compiled code from a cache.
await writeBuiltProgram(result, { program: "kvp-agent", target: "node18" });

// Each package the bundle inlines travels with its licence notice (npm tarball, .deb, .rpm).
writeFileSync(
  "dist/THIRD-PARTY-NOTICES.txt",
  noticesText("kvp-agent", bundledPackages(result.metafile, process.cwd())),
);

// pool-file's lock calls load the kvp-lock addon from beside the file that holds their code:
// here the bundle, so the addon is built next to it (packages/pool-file/src/libc.ts says why).
// Without it the bundle takes the locks through koffi, correct but slower to start.
buildLockAddons("dist");
