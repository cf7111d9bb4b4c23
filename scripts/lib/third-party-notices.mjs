// The notices of the npm packages a bundle contains. MIT and similar licences ask that their
// copyright notice travel with every copy, and an esbuild bundle (or a single executable made
// from one) is a copy of each package it inlines; this file lists them from the bundle's own
// metafile, so a new dependency cannot be shipped without its notice.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Finds the directory of the npm package that holds `file`: the nearest package.json with a name. */
function packageRootOf(file) {
  let dir = dirname(file);
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      if (typeof pkg.name === "string") return { dir, pkg };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The MIT licence's terms (after its copyright line), for notices that must carry them. */
export const MIT_TERMS = `Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.`;

/** `author` of a package.json as text. */
function authorOf(pkg) {
  if (typeof pkg.author === "string") return pkg.author;
  if (pkg.author && typeof pkg.author.name === "string") return pkg.author.name;
  return undefined;
}

/** The licence text a package ships (LICENSE, LICENCE, COPYING, any case and extension). */
function licenseTextOf(dir) {
  const name = readdirSync(dir).find((entry) => /^(licen[cs]e|copying)(\.|$)/i.test(entry));
  return name === undefined ? undefined : readFileSync(join(dir, name), "utf8").trim();
}

/**
 * The third-party packages among an esbuild metafile's inputs (anything under a
 * node_modules directory; the workspace's own packages are this project's), each once.
 * @param {{ inputs: Record<string, unknown> }} metafile esbuild's metafile (`metafile: true`)
 * @param {string} workingDir the directory esbuild ran in (inputs are relative to it)
 * @returns {{ name: string, version: string, license: string, text: string }[]}
 * @throws when a bundled package ships no licence text (and is not MIT with a named author):
 *   its notice cannot be carried.
 */
export function bundledPackages(metafile, workingDir) {
  const found = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    if (!input.includes("node_modules/")) continue;
    const root = packageRootOf(resolve(workingDir, input));
    if (root === undefined || found.has(root.pkg.name)) continue;
    let text = licenseTextOf(root.dir);
    // Some MIT packages ship no licence file (@nodable/entities): their package.json's word
    // and author are all there is, so the notice says exactly that, with MIT's terms.
    if (text === undefined && root.pkg.license === "MIT" && authorOf(root.pkg) !== undefined) {
      text = `The package ships no licence file; its package.json says "license": "MIT", "author": "${authorOf(root.pkg)}".\n\nCopyright (c) ${authorOf(root.pkg)}\n\n${MIT_TERMS}`;
    }
    if (text === undefined)
      throw new Error(
        `${root.pkg.name}@${root.pkg.version} is bundled but ships no LICENSE file and names no MIT author: add its notice by hand or drop it`,
      );
    found.set(root.pkg.name, {
      name: root.pkg.name,
      version: root.pkg.version,
      license: root.pkg.license ?? "see below",
      text,
    });
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The text of a THIRD-PARTY-NOTICES file for `what` (a program's name), listing `packages`
 * (from {@link bundledPackages}) and any `extra` components (Node.js itself, for a single
 * executable) with their licence texts.
 * @param {string} what
 * @param {{ name: string, version: string, license: string, text: string }[]} packages
 */
export function noticesText(what, packages) {
  const parts = [
    `${what} contains the following third-party software, each under its own licence.`,
    `The rest of it is hyperv-kvp, Copyright (c) the hyperv-kvp authors, under the MIT licence`,
    "(LICENSE in its package and at https://github.com/hyperv-kvp/hyperv-kvp).",
    "",
  ];
  for (const pkg of packages) parts.push(RULE, `${pkg.name} ${pkg.version} (${pkg.license})`, RULE, "", pkg.text, "");
  return `${parts.join("\n")}\n`;
}

/** The rule noticesText draws around each package's heading. */
const RULE = "=".repeat(78);

/**
 * The packages listed in a notices file written by {@link noticesText} (for combining the
 * notices of several bundles into one file).
 * @param {string} text
 * @returns {{ name: string, version: string, license: string, text: string }[]}
 */
export function parseNotices(text) {
  const sections = text.split(`${RULE}\n`);
  const packages = [];
  // After the preamble, sections alternate: heading, then licence text.
  for (let i = 1; i + 1 < sections.length; i += 2) {
    const match = /^(\S+) (\S+) \((.*)\)\n$/.exec(sections[i]);
    if (!match) throw new Error(`not a notices heading: ${JSON.stringify(sections[i].slice(0, 80))}`);
    packages.push({ name: match[1], version: match[2], license: match[3], text: sections[i + 1].trim() });
  }
  return packages;
}

/**
 * The packages of several notices lists, each name and version once, sorted.
 * @param {...{ name: string, version: string, license: string, text: string }[]} lists
 */
export function mergeNotices(...lists) {
  const byKey = new Map();
  for (const pkg of lists.flat()) byKey.set(`${pkg.name}@${pkg.version}`, pkg);
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
}
