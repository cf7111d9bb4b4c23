// An esbuild plugin for CLI bundles: Node built-ins that cost milliseconds to load
// (node:child_process pulls in stream, net and dgram; node:crypto its own stream layer) but
// that a run seldom uses are loaded on first use instead of when the bundle starts.
// commander requires node:child_process at load for executable subcommands, which our CLIs
// do not have: without this, `--help` alone paid for it.
//
// How: each import of such a built-in gets a proxy that requires the real module on the first
// read of one of its exports. esbuild reads an ESM import of a CommonJS module through a copy
// that forwards each export (its __toESM helper: it lists the keys and the prototype, then
// reads a key only when the code does), so the proxy answers those questions from the key
// list taken at build time and loads nothing until an export is read.
import { createRequire } from "node:module";
import { basename, dirname, relative } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

/**
 * The plugin: `names` are the built-ins to defer, without `node:` (`["child_process"]`).
 * Every import of them in the bundle, ours and our dependencies', gets the lazy proxy.
 */
export function lazyBuiltins(names) {
  const filter = new RegExp(`^(node:)?(${names.join("|")})$`);
  return {
    name: "lazy-builtins",
    setup(build) {
      build.onResolve({ filter }, (args) =>
        // The proxy's own require is of the real module, which stays outside the bundle.
        args.namespace === "lazy-builtin"
          ? { path: args.path, external: true }
          : { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" },
      );
      build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
        contents: lazyModuleSource(`node:${args.path}`, Object.keys(require(`node:${args.path}`))),
        loader: "js",
      }));
    },
  };
}

/**
 * The plugin that gives every `require("node:process")` (commander's, at load) the global
 * `process`, which is what Node returns for it. On Node 18 a program's first require of a
 * built-in builds that module's ES module facade, which reads every export: for `process`
 * its stdin, stdout and stderr getters (each stream created, node:net or the tty and stream
 * modules loaded) and allowedNodeEnvironmentFlags (a set of every Node option): ~11 M
 * instructions, 3–4 ms of every start, and the standard streams made whether the program
 * uses them or not. Node 20 and later pay ~0.1 M for it; the global is the same object there.
 */
export function processFromGlobal() {
  return {
    name: "process-from-global",
    setup(build) {
      build.onResolve({ filter: /^(node:)?process$/ }, () => ({ path: "process", namespace: "process-global" }));
      build.onLoad({ filter: /.*/, namespace: "process-global" }, () => ({
        contents: "module.exports = process;\n",
        loader: "js",
      }));
    },
  };
}

/**
 * The same for packages the bundle inlines (`["fast-xml-parser"]`): their module top-levels
 * run on the first read of one of their exports instead of when the bundle starts. esbuild
 * then wraps the package in an initialiser that the proxy's require calls. The proxy requires
 * the file an import resolves to (the package's ESM entry), so the bundle holds the same code
 * as without the plugin, not the package's CommonJS build.
 */
export function lazyPackages(names) {
  const filter = new RegExp(`^(${names.map((name) => name.replaceAll(".", "\\.")).join("|")})$`);
  return {
    name: "lazy-packages",
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData?.lazyPackage) return undefined;
        const real = await build.resolve(args.path, {
          kind: "import-statement",
          resolveDir: args.resolveDir,
          pluginData: { lazyPackage: true },
        });
        if (real.errors.length > 0) return { errors: real.errors };
        // Named by its path from the working directory, as esbuild names files: no absolute
        // path of the build machine in the source map.
        const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
        return { path: relative(cwd, real.path), namespace: "lazy-package", pluginData: { file: real.path } };
      });
      build.onLoad({ filter: /.*/, namespace: "lazy-package" }, async ({ pluginData: { file } }) => ({
        contents: lazyModuleSource(`./${basename(file)}`, Object.keys(await import(pathToFileURL(file).href))),
        loader: "js",
        resolveDir: dirname(file),
      }));
    },
  };
}

/** CommonJS whose exports are `specifier`'s (`keys` at build time), it required on the first read of one. */
function lazyModuleSource(specifier, keys) {
  return `"use strict";
let m;
const load = () => (m ??= require(${JSON.stringify(specifier)}));
const keys = ${JSON.stringify(keys)};
module.exports = new Proxy({}, {
  // esbuild's helper asks for __esModule before anything is used; no built-in has it.
  get: (_, k) => (k === "__esModule" && m === undefined ? undefined : load()[k]),
  has: (_, k) => k in load(),
  ownKeys: () => (m === undefined ? [...keys] : Reflect.ownKeys(m)),
  getOwnPropertyDescriptor: (_, k) =>
    m === undefined && keys.includes(k)
      ? { configurable: true, enumerable: true, get: () => load()[k] }
      : Reflect.getOwnPropertyDescriptor(load(), k) && { ...Reflect.getOwnPropertyDescriptor(m, k), configurable: true },
  getPrototypeOf: () => Object.prototype,
});
`;
}
