// A binary .rpm from a staging tree with rpmbuild (Debian's rpm 4.18 works: nothing is
// compiled, %install copies the staged tree). The spec is written here: metadata,
// hand-written systemd scriptlets (Debian has no systemd RPM macros), the file list with
// %config, %doc and %license, the %changelog.
//
// rpmbuild's post-install steps are turned off: strip, debuginfo and build-id links would
// run this machine's binutils over binaries of another CPU (and the shipped ones are
// upstream's, stripped where they should be), and the man pages are compressed already.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listTree, run } from "./stage.mjs";

/**
 * @typedef {object} RpmSpec
 * @property {string} name
 * @property {string} version RPM spelling
 * @property {string} release
 * @property {string} arch x86_64 | aarch64
 * @property {string} summary
 * @property {string[]} description paragraphs
 * @property {string} license SPDX expression
 * @property {string} url
 * @property {string} packager
 * @property {string[]} tags further preamble lines (Requires:, Recommends:, Conflicts:, Provides:, ...)
 * @property {Record<string, string>} scriptlets "pre" | "post" | "preun" | "postun" → shell text
 * @property {string[]} files the %files section's lines
 * @property {string} changelog the %changelog body
 * @property {string} payload _binary_payload, e.g. w9.xzdio
 */

/**
 * The spec file text; `stage` is copied into the build root by %install.
 * @param {RpmSpec} spec
 * @param {string} stage
 * @returns {string}
 */
export function specText(spec, stage) {
  const wrap = (paragraph) => {
    const lines = [];
    let line = "";
    for (const word of paragraph.split(/\s+/)) {
      if (line !== "" && line.length + 1 + word.length > 79) {
        lines.push(line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    if (line !== "") lines.push(line);
    return lines.join("\n");
  };
  // rpmbuild expands macros in scriptlets too: a shell's ${v%%.*} must reach it as %%%%.
  const scriptlets = Object.entries(spec.scriptlets).map(
    ([name, body]) => `%${name}\n${body.trimEnd().replaceAll("%", "%%")}\n`,
  );
  return `# Written by apps/guest-agent/packaging (lib/rpm.mjs); see build-rpm.mjs and build-standalone.mjs.
%global __os_install_post %{nil}
%global debug_package %{nil}
%global _build_id_links none
%global _binary_payload ${spec.payload}
%global _buildhost hyperv-kvp-build
# koffi.node and kvp-lock.linux-*.node are private modules of this package, not libraries for others to link.
%global __provides_exclude_from ^/usr/lib/kvp-agent/.*$

Name: ${spec.name}
Version: ${spec.version}
Release: ${spec.release}
Summary: ${spec.summary}
# Fedora and RHEL ignore Group; openSUSE's rpmlint (Debian's default settings) wants one.
Group: System Environment/Daemons
License: ${spec.license}
URL: ${spec.url}
Packager: ${spec.packager}
${spec.tags.join("\n")}

%description
${spec.description.map(wrap).join("\n\n")}

%prep

%build

%install
cp -a '${stage}/.' '%{buildroot}/'

${scriptlets.join("\n")}
%files
${spec.files.join("\n")}

%changelog
${spec.changelog}`;
}

/**
 * The %files lines for a staged tree: every file and symlink, the directories only the
 * package owns (`ownedDirs`, e.g. /usr/lib/kvp-agent and what is below it), with attributes
 * for those that need one (`attributes`: path → "%config(noreplace)", "%doc", "%license").
 * @param {string} stage
 * @param {string[]} ownedDirs absolute directory paths the package owns with everything in them
 * @param {Record<string, string>} attributes absolute path → attribute
 * @returns {string[]}
 */
export function filesSection(stage, ownedDirs, attributes) {
  const lines = [];
  for (const rel of listTree(stage)) {
    const path = `/${rel.replace(/\/$/, "")}`;
    const isDir = rel.endsWith("/");
    if (isDir && !ownedDirs.some((dir) => path === dir || path.startsWith(`${dir}/`))) continue;
    const attribute = attributes[path];
    lines.push(`${isDir ? "%dir " : ""}${attribute ? `${attribute} ` : ""}${path}`);
  }
  return lines;
}

/**
 * Runs rpmbuild on `spec` for the staged tree and writes `out`.
 * @param {RpmSpec} spec
 * @param {string} stage
 * @param {string} out the .rpm to write (its name must be what rpmbuild names it)
 */
export function buildRpm(spec, stage, out) {
  const top = mkdtempSync(join(tmpdir(), "kvp-agent-rpmbuild-"));
  try {
    for (const dir of ["BUILD", "BUILDROOT", "RPMS", "SPECS", "SOURCES", "SRPMS"]) mkdirSync(join(top, dir));
    const specFile = join(top, "SPECS", `${spec.name}.spec`);
    writeFileSync(specFile, specText(spec, stage));
    const outDir = join(out, "..");
    run("rpmbuild", [
      "-bb",
      "--target",
      spec.arch,
      "--define",
      `_topdir ${top}`,
      "--define",
      `_rpmdir ${outDir}`,
      "--define",
      "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
      specFile,
    ]);
    // rpmbuild names the file from the spec; make sure it is the name the release promises.
    if (!existsSync(out)) throw new Error(`rpmbuild did not write ${out}`);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}
