import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { lazyBuiltins, lazyPackages, processFromGlobal } from "./lib/lazy-builtins.mjs";

const dir = mkdtempSync(join(tmpdir(), "lazy-builtins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `source` as the CLIs are bundled (CommonJS, the plugin on), runs it, returns its JSON output. */
async function runBundled(source, plugins = [lazyBuiltins(["child_process", "crypto"])]) {
  return JSON.parse(execFileSync(process.execPath, [await bundled(source, plugins)], { encoding: "utf8" }));
}

/** Bundles `source` as the CLIs are bundled; returns the bundle's path. */
async function bundled(source, plugins) {
  const outfile = join(dir, `bundle-${Math.random().toString(36).slice(2)}.cjs`);
  await build({
    stdin: { contents: source, loader: "js", resolveDir: dir },
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    plugins,
    logLevel: "error",
  });
  return outfile;
}

const LOADED = `const loaded = (name) => process.moduleLoadList.includes("NativeModule " + name);`;

describe("lazyBuiltins", () => {
  it("loads nothing until an export is read, then the real module", async () => {
    const out = await runBundled(`
      import { execFileSync } from "node:child_process";
      import { createHash } from "crypto";
      ${LOADED}
      const before = [loaded("child_process"), loaded("crypto")];
      const child = execFileSync(process.execPath, ["-e", "process.stdout.write('ok')"], { encoding: "utf8" });
      const hash = createHash("sha256").update("abc").digest("hex").slice(0, 8);
      console.log(JSON.stringify({ before, after: [loaded("child_process"), loaded("crypto")], child, hash }));
    `);
    expect(out).toEqual({ before: [false, false], after: [true, true], child: "ok", hash: "ba7816bf" });
  });

  it("serves default and namespace imports, and CommonJS require, the real module's exports", async () => {
    const out = await runBundled(`
      import cp from "node:child_process";
      import * as ns from "node:child_process";
      ${LOADED}
      const before = loaded("child_process");
      const real = process.getBuiltinModule?.("node:child_process") ?? eval("require")("node:child_process");
      const required = require("child_process");
      console.log(JSON.stringify({
        before,
        same: cp.spawn === real.spawn && ns.spawn === real.spawn && required.spawn === real.spawn,
        keys: Object.keys(ns).includes("spawnSync"),
      }));
    `);
    expect(out).toEqual({ before: false, same: true, keys: true });
  });
});

describe("lazyPackages", () => {
  // A package whose top-level leaves a mark, with a CommonJS build that differs from its ESM
  // entry: the bundle must hold the ESM code, as it does without the plugin.
  const pkg = join(dir, "node_modules", "marking-package");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({
      name: "marking-package",
      type: "module",
      exports: { ".": { import: "./esm.js", require: "./cjs.cjs" } },
    }),
  );
  writeFileSync(
    join(pkg, "esm.js"),
    'globalThis.marks = (globalThis.marks ?? 0) + 1;\nexport class Parser { parse() { return "esm"; } }\nexport const META = Symbol("meta");\n',
  );
  writeFileSync(join(pkg, "cjs.cjs"), 'exports.Parser = class { parse() { return "cjs"; } };\n');

  it("runs the package's top-level on the first read of an export, once, from its ESM entry", async () => {
    const out = await runBundled(
      `
      import { Parser, META } from "marking-package";
      const before = globalThis.marks ?? 0;
      const parsed = new Parser().parse();
      const symbol = typeof META;
      console.log(JSON.stringify({ before, parsed, symbol, after: globalThis.marks }));
    `,
      [lazyPackages(["marking-package"])],
    );
    expect(out).toEqual({ before: 0, parsed: "esm", symbol: "symbol", after: 1 });
  });

  it("without the plugin, runs it when the bundle starts (the check above can fail)", async () => {
    const out = await runBundled(
      `
      import { Parser } from "marking-package";
      console.log(JSON.stringify({ before: globalThis.marks ?? 0, parsed: new Parser().parse() }));
    `,
      [],
    );
    expect(out).toEqual({ before: 1, parsed: "esm" });
  });
});

describe("processFromGlobal", () => {
  // commander's form (CommonJS require) and the ESM forms, with and without node:.
  const source = `
    import processDefault from "node:process";
    import * as processNamespace from "process";
    const required = require("node:process");
    console.log(JSON.stringify({
      required: required === process,
      defaultImport: processDefault === process,
      namespace: processNamespace.env === process.env && processNamespace.argv === process.argv,
    }));
  `;

  it("gives every require and import of node:process the global process", async () => {
    const out = await runBundled(source, [processFromGlobal()]);
    expect(out).toEqual({ required: true, defaultImport: true, namespace: true });
  });

  it("leaves no require of the built-in in the bundle (the one that builds Node 18's facade)", async () => {
    const withPlugin = readFileSync(await bundled(source, [processFromGlobal()]), "utf8");
    const without = readFileSync(await bundled(source, []), "utf8");
    expect(without).toMatch(/require\("(node:)?process"\)/);
    expect(withPlugin).not.toMatch(/require\("(node:)?process"\)/);
  });
});
