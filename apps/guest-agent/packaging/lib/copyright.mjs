// The packages' copyright file (Debian's machine-readable format; the RPMs ship it as their
// %license and the tarball in its doc directory): who holds the rights to each shipped file
// and under which licence, with every licence text in full.
import { readFileSync } from "node:fs";
import { MIT_TERMS } from "../../../../scripts/lib/third-party-notices.mjs";

/** The year the project started; the notice runs from it to the year of the build. */
const FIRST_YEAR = 2026;

/** A licence text as a copyright-format continuation: one leading space, " ." for blank lines. */
function continuation(text) {
  return text
    .replace(/\s+$/, "")
    .split("\n")
    .map((line) => (line.trim() === "" ? " ." : ` ${line.replace(/\s+$/, "")}`))
    .join("\n");
}

/**
 * The copyright file of a package.
 * @param {object} options
 * @param {"node" | "standalone"} options.form
 * @param {string} options.executable standalone: the executable's path in the package (no leading /)
 * @param {string} [options.nodeLicense] standalone: path of Node's LICENSE for the embedded release
 * @param {string} [options.nodeVersion] standalone: the embedded Node release
 * @param {{ name: string, version: string, license: string, text: string }[]} options.bundled
 *   the npm packages the bundles inline (scripts/lib/third-party-notices.mjs); their licence
 *   texts ship beside this file as THIRD-PARTY-NOTICES
 * @param {number} [options.year] default: this year
 * @returns {string}
 * @throws when a bundled package is not MIT licensed (this file's stanza says MIT for all).
 */
export function copyrightText({
  form,
  executable,
  nodeLicense,
  nodeVersion,
  bundled,
  year = new Date().getUTCFullYear(),
}) {
  const ours = `${FIRST_YEAR}${year > FIRST_YEAR ? `-${year}` : ""} the hyperv-kvp authors`;
  const notMit = bundled.filter((pkg) => pkg.license !== "MIT");
  if (notMit.length > 0)
    throw new Error(
      `bundled packages not under MIT need a stanza of their own: ${notMit.map((p) => `${p.name} (${p.license})`).join(", ")}`,
    );
  // Each package's own copyright line, from its licence text; the package named after it.
  const libs = bundled
    .map((pkg) => {
      const line = /^\s*Copyright\b(.*)$/im
        .exec(pkg.text)?.[1]
        ?.replace(/^\s*(\(c\)|©)?\s*/i, "")
        .trim();
      return ` ${line ? `${line} ` : "the authors of "}(${pkg.name} ${pkg.version})`;
    })
    .join("\n");
  // The names, wrapped as continuation lines under ~80 columns.
  const names = bundled
    .map((pkg) => pkg.name)
    .join(", ")
    .replace(/(.{1,76})(, |$)/g, (_, chunk, sep) => `${chunk}${sep.trim()}\n `)
    .trimEnd();
  const koffi = `Files: usr/lib/kvp-agent/node_modules/koffi/* usr/lib/kvp-agent/node_modules/@koromix/*
Copyright: 2026 Niels Martignène <niels.martignene@protonmail.com>
License: MIT`;
  const stanzas = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: hyperv-kvp (kvp-agent, kvp-pool)
Upstream-Contact: https://github.com/hyperv-kvp/hyperv-kvp/issues
Source: https://github.com/hyperv-kvp/hyperv-kvp
Comment: ${
      form === "node"
        ? `usr/lib/kvp-agent/kvp-agent.cjs and kvp-pool.cjs are esbuild bundles of the
 hyperv-kvp sources and of these npm packages (all MIT; each one's licence text is in
 THIRD-PARTY-NOTICES beside this file):
 ${names}.`
        : `${executable} is one Node.js single executable: the official
 build of Node.js ${nodeVersion} with, injected into it, esbuild bundles of the
 hyperv-kvp sources and of these npm packages (all MIT; each one's licence text is in
 THIRD-PARTY-NOTICES beside this file):
 ${names}.
 Node.js's licence, which covers the libraries built into Node.js, is in full below
 and in LICENSE.node beside this file.`
    }
 usr/lib/kvp-agent/node_modules holds the run-time files of the npm packages koffi
 and @koromix/koffi-linux-* (its prebuilt library for one CPU), unchanged.`,
    `Files: *
Copyright: ${ours}
License: MIT`,
    form === "node"
      ? `Files: usr/lib/kvp-agent/kvp-agent.cjs usr/lib/kvp-agent/kvp-pool.cjs
Copyright: ${ours}
${libs}
License: MIT`
      : `Files: ${executable}
Copyright: ${ours}
${libs}
 Node.js contributors; Joyent, Inc. and other Node contributors (Node.js)
License: MIT and Node.js`,
    koffi,
    `License: MIT
${continuation(MIT_TERMS)}`,
  ];
  if (form === "standalone") {
    if (nodeLicense === undefined) throw new Error("the standalone copyright needs Node's LICENSE");
    stanzas.push(`License: Node.js
 The licence of Node.js and of the third-party components built into it, as Node.js
 ${nodeVersion} ships it in its LICENSE file:
 .
${continuation(readFileSync(nodeLicense, "utf8"))}`);
  }
  return `${stanzas.join("\n\n")}\n`;
}
