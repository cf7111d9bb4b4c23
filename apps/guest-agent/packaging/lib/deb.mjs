// A binary .deb from a staging tree, the way dpkg-buildpackage would leave it but without a
// debian/ source tree: control (with Installed-Size), md5sums, conffiles and maintainer
// scripts in DEBIAN/, then dpkg-deb. Runs as any user (--root-owner-group records root).
import { createHash } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { installFile, installedSizeKiB, listTree, run, writeStaged } from "./stage.mjs";

/**
 * @typedef {object} DebControl
 * @property {string} package
 * @property {string} version Debian spelling
 * @property {string} architecture
 * @property {string} maintainer
 * @property {string} homepage
 * @property {string} summary
 * @property {string[]} description paragraphs of plain text
 * @property {string} [section] default admin
 * @property {Record<string, string[] | undefined>} relations Depends, Recommends, Conflicts, ... → entries
 */

/**
 * The control file's text. The description is wrapped to 79 columns (lintian's limit is 80).
 * @param {DebControl & { installedSize: number }} control
 * @returns {string}
 */
export function controlText(control) {
  const wrap = (paragraph) => {
    const lines = [];
    let line = "";
    for (const word of paragraph.split(/\s+/)) {
      if (line !== "" && line.length + 1 + word.length > 78) {
        lines.push(` ${line}`);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    if (line !== "") lines.push(` ${line}`);
    return lines;
  };
  const fields = [
    ["Package", control.package],
    ["Version", control.version],
    ["Architecture", control.architecture],
    ["Maintainer", control.maintainer],
    ["Installed-Size", String(control.installedSize)],
    ...Object.entries(control.relations)
      .filter(([, entries]) => entries && entries.length > 0)
      .map(([name, entries]) => [name, entries.join(", ")]),
    ["Section", control.section ?? "admin"],
    ["Priority", "optional"],
    ["Homepage", control.homepage],
    ["Description", control.summary],
  ];
  // Paragraphs are separated by a line holding " ." (Debian policy 5.6.13).
  const body = control.description.flatMap((paragraph, i) => (i === 0 ? wrap(paragraph) : [" .", ...wrap(paragraph)]));
  return `${fields.map(([k, v]) => `${k}: ${v}`).join("\n")}\n${body.join("\n")}\n`;
}

/**
 * Builds `out` from the tree `stage`: writes DEBIAN/ (control, md5sums of every regular file
 * but the conffiles, conffiles, the maintainer scripts), then runs dpkg-deb.
 * @param {object} options
 * @param {string} options.stage the package's files as they install
 * @param {DebControl} options.control
 * @param {string[]} options.conffiles absolute paths
 * @param {Record<string, string>} options.scripts maintainer script name → source file
 * @param {string} options.out the .deb to write
 * @param {string} [options.compression] dpkg-deb -Z (default xz)
 * @param {number} [options.level] dpkg-deb -z
 */
export function buildDeb({ stage, control, conffiles, scripts, out, compression = "xz", level }) {
  const debian = join(stage, "DEBIAN");
  rmSync(debian, { recursive: true, force: true });
  const files = listTree(stage).filter((rel) => !rel.endsWith("/") && lstatSync(join(stage, rel)).isFile());
  const md5sums = files
    .filter((rel) => !conffiles.includes(`/${rel}`))
    .map(
      (rel) =>
        `${createHash("md5")
          .update(readFileSync(join(stage, rel)))
          .digest("hex")}  ${rel}\n`,
    )
    .join("");
  const installedSize = installedSizeKiB(stage);
  mkdirSync(debian, { mode: 0o755 });
  chmodSync(debian, 0o755);
  writeStaged(join(debian, "control"), controlText({ ...control, installedSize }), 0o644);
  if (conffiles.length > 0) writeStaged(join(debian, "conffiles"), conffiles.map((f) => `${f}\n`).join(""), 0o644);
  writeStaged(join(debian, "md5sums"), md5sums, 0o644);
  for (const [name, source] of Object.entries(scripts)) installFile(source, join(debian, name), 0o755);
  // mkdtemp made the stage 0700; the package's root directory must read as 0755.
  chmodSync(stage, 0o755);
  const args = [
    "--root-owner-group",
    `-Z${compression}`,
    ...(level === undefined ? [] : [`-z${level}`]),
    "--build",
    stage,
    out,
  ];
  run("dpkg-deb", args);
  rmSync(debian, { recursive: true, force: true });
}
