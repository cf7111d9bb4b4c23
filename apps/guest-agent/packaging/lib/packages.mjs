// The guest packages, one function per format: stage the payload of a form (lib/payload.mjs),
// check it, describe it in the format's metadata, pack it. build-deb.mjs and build-rpm.mjs
// pack the form that runs on the system's nodejs; build-standalone.mjs the one that carries
// Node inside a single executable, in both formats and as a tarball.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { debianVersion, rpmVersion } from "../../../../scripts/lib/versions.mjs";
import { debianChangelog, rpmChangelog } from "./changelog.mjs";
import { buildDeb } from "./deb.mjs";
import { readElf } from "./elf.mjs";
import { checkKoffiLoads } from "./koffi.mjs";
import { debianLibraryDepends, libraryNeeds } from "./library-needs.mjs";
import { STANDALONE_EXECUTABLE, stagePayload } from "./payload.mjs";
import {
  HOMEPAGE,
  LAYOUT,
  MAINTAINER,
  NODE_PACKAGE,
  PACKAGING_DIR,
  SEED_DROP_IN,
  STANDALONE_PACKAGE,
  description,
  summary,
} from "./project.mjs";
import { buildRpm, filesSection } from "./rpm.mjs";
import { listTree, run, writeGzipped, writeStaged } from "./stage.mjs";
import { renderTemplate } from "./template.mjs";
import { buildMachineTarget } from "./targets.mjs";

/**
 * The oldest glibc each form supports, as the README and the descriptions say: koffi's
 * binary needs 2.25; Node 22's official build 2.28. A build whose binaries need another
 * fails (a koffi or Node update): then change this and the docs together.
 */
export const DOCUMENTED_GLIBC = Object.freeze({ node: "2.25", standalone: "2.28" });

/** The KVP daemon's package: Debian's, then Ubuntu's (a metapackage per kernel flavour). */
const DEBIAN_DAEMON = "hyperv-daemons | linux-cloud-tools-virtual";

/** The KVP daemon's package in the RHEL family. */
const RPM_DAEMON = "hypervkvpd";

/**
 * RPM's License of each form. The standalone executable holds Node.js, whose own code is MIT
 * and which builds in V8 (BSD-3-Clause), OpenSSL (Apache-2.0), ICU (Unicode-3.0), zlib,
 * libuv, c-ares, nghttp2, llhttp, brotli (MIT), base64 (BSD-2-Clause), SQLite (blessing)
 * and others under ISC: LICENSE.node has each text.
 */
const RPM_LICENSE = Object.freeze({
  node: "MIT",
  standalone: "MIT AND Apache-2.0 AND BSD-2-Clause AND BSD-3-Clause AND ISC AND Unicode-3.0 AND Zlib AND blessing",
});

/**
 * @typedef {object} PackageOptions
 * @property {"node" | "standalone"} form
 * @property {import("./targets.mjs").Target} target
 * @property {string} version semver
 * @property {ReturnType<import("./release-notes.mjs").releaseNotes>} releases newest first
 * @property {ReturnType<import("./koffi.mjs").locateKoffi>} koffi
 * @property {string} out the output directory
 * @property {string} [executable] standalone: the built single executable
 * @property {{ license: string, version: string }} [node] standalone: the embedded Node release
 * @property {{ deb: string, debLevel?: number, rpm: string, tarLevel?: number }} [compression]
 *   default xz (level 9 for rpm), gzip -9 for the tarball
 * @property {(stage: string) => void} [check] runs on the staged tree before it is packed
 *   (build-standalone.mjs runs the executable there)
 */

/** The package name of a form. */
function packageName(form) {
  return form === "node" ? NODE_PACKAGE : STANDALONE_PACKAGE;
}

/**
 * Stages a form's payload for a format, runs the checks every package gets, and returns what
 * the metadata needs.
 */
function stageChecked(options, format, stage) {
  const { form, target } = options;
  const pkg = packageName(form);
  const payload = stagePayload({
    stage,
    form,
    format,
    packageName: pkg,
    target,
    koffi: options.koffi,
    version: format === "rpm" ? rpmVersion(options.version) : debianVersion(options.version),
    date: options.releases[0].date,
    ...(options.executable ? { executable: options.executable } : {}),
    ...(options.node ? { node: options.node } : {}),
  });
  // The Node form's koffi loads with this machine's Node where the CPU is this machine's; the
  // standalone form is run whole by build-standalone.mjs instead.
  if (form === "node" && target === buildMachineTarget())
    checkKoffiLoads(process.execPath, join(stage, LAYOUT.lib, "node_modules"));
  options.check?.(stage);
  const needs = libraryNeeds(payload.elfFiles.map((rel) => readElf(join(stage, rel))));
  if (needs.glibc !== DOCUMENTED_GLIBC[form]) {
    throw new Error(
      `the ${pkg} binaries need glibc ${needs.glibc}, the docs say ${DOCUMENTED_GLIBC[form]}: update DOCUMENTED_GLIBC (lib/packages.mjs), the READMEs and the descriptions together`,
    );
  }
  return { pkg, payload, needs };
}

/**
 * Builds the .deb of a form: `<package>_<debian version>_<arch>.deb` in `options.out`.
 * @param {PackageOptions} options
 * @returns {string} its path
 */
export function packageDeb(options) {
  const { form, target } = options;
  const stage = mkdtempSync(join(tmpdir(), "kvp-agent-deb-"));
  try {
    const { pkg, payload, needs } = stageChecked(options, "deb", stage);
    const version = debianVersion(options.version);
    // A native package (no Debian revision): its one changelog is changelog.gz.
    writeGzipped(
      join(stage, payload.docDir, "changelog.gz"),
      debianChangelog(
        pkg,
        options.releases.map((r) => ({ ...r, version: debianVersion(r.version) })),
        MAINTAINER,
      ),
    );
    const other = packageName(form === "node" ? "standalone" : "node");
    const deb = join(options.out, `${pkg}_${version}_${target.deb}.deb`);
    rmSync(deb, { force: true });
    buildDeb({
      stage,
      out: deb,
      control: {
        package: pkg,
        version,
        architecture: target.deb,
        maintainer: MAINTAINER,
        homepage: HOMEPAGE,
        summary: summary(form),
        description: description(form),
        relations: {
          Depends: [...(form === "node" ? ["nodejs (>= 18)"] : []), ...debianLibraryDepends(needs)],
          Recommends: [DEBIAN_DAEMON],
          // One form at a time: both install the same paths. The standalone form stands in
          // for kvp-agent (Provides), so what depends on kvp-agent accepts either.
          Conflicts: [other],
          Replaces: [other],
          Provides: form === "standalone" ? [`${NODE_PACKAGE} (= ${version})`] : undefined,
        },
      },
      conffiles: payload.conffiles,
      scripts: Object.fromEntries(
        [...(form === "node" ? ["preinst"] : []), "postinst", "prerm", "postrm"].map((name) => [
          name,
          join(PACKAGING_DIR, "deb", name),
        ]),
      ),
      compression: options.compression?.deb ?? "xz",
      ...(options.compression?.debLevel === undefined ? {} : { level: options.compression.debLevel }),
    });
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Builds the .rpm of a form: `<package>-<rpm version>-1.<arch>.rpm` in `options.out`.
 * @param {PackageOptions} options
 * @returns {string} its path
 */
export function packageRpm(options) {
  const { form, target } = options;
  const stage = mkdtempSync(join(tmpdir(), "kvp-agent-rpm-"));
  try {
    const { pkg, payload } = stageChecked(options, "rpm", stage);
    const version = rpmVersion(options.version);
    const release = "1";
    const other = form === "node" ? `/${LAYOUT.lib}/${STANDALONE_EXECUTABLE}` : `/${LAYOUT.lib}/kvp-agent.cjs`;
    const script = (name) =>
      renderTemplate(readFileSync(join(PACKAGING_DIR, "rpm", `${name}.sh`), "utf8"), new Set([form]), {
        package: pkg,
        other,
      });
    const rpm = join(options.out, `${pkg}-${version}-${release}.${target.rpm}.rpm`);
    rmSync(rpm, { force: true });
    buildRpm(
      {
        name: pkg,
        version,
        release,
        arch: target.rpm,
        summary: summary(form),
        description: description(form),
        license: RPM_LICENSE[form],
        url: HOMEPAGE,
        packager: MAINTAINER,
        tags: [
          // RHEL, Alma, Rocky and Fedora give nodejs Epoch 1: a plain "nodejs >= 18" means
          // epoch 0 and would accept their nodejs 16 (1:16.x > 0:18). See rpm/pre-nodejs.sh.
          ...(form === "node" ? ["Requires: nodejs >= 1:18"] : []),
          `Recommends: ${RPM_DAEMON}`,
          `Conflicts: ${packageName(form === "node" ? "standalone" : "node")}`,
          ...(form === "standalone" ? [`Provides: ${NODE_PACKAGE} = ${version}-${release}`] : []),
        ],
        scriptlets: {
          ...(form === "node" ? { pre: readFileSync(join(PACKAGING_DIR, "rpm", "pre-nodejs.sh"), "utf8") } : {}),
          post: script("post"),
          preun: script("preun"),
          postun: script("postun"),
        },
        files: filesSection(
          stage,
          [
            `/${LAYOUT.lib}`,
            `/${LAYOUT.etc}`,
            `/${payload.docDir}`,
            `/${payload.licenseDir}`,
            // cloud-init's package owns no such directory: the drop-in's goes with ours.
            `/${LAYOUT.unitDir}/${dirname(SEED_DROP_IN)}`,
          ],
          {
            [`/${LAYOUT.etc}/config.example.json`]: "%config(noreplace)",
            ...Object.fromEntries(listDocs(stage, payload.docDir).map((path) => [path, "%doc"])),
            ...Object.fromEntries(listDocs(stage, payload.licenseDir).map((path) => [path, "%license"])),
          },
        ),
        changelog: rpmChangelog(
          options.releases.map((r) => ({ ...r, version: `${rpmVersion(r.version)}-${release}` })),
          MAINTAINER,
        ),
        payload: options.compression?.rpm ?? "w9.xzdio",
      },
      stage,
      rpm,
    );
    return rpm;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The files under `dir` of the staged tree, as absolute package paths. */
function listDocs(stage, dir) {
  return listTree(join(stage, dir))
    .filter((rel) => !rel.endsWith("/"))
    .map((rel) => `/${dir}/${rel}`);
}

/**
 * Builds the tarball of the standalone form: `kvp-agent-standalone-<version>-linux-<cpu>.tar.gz`
 * in `options.out`, a tree to unpack into / (or a prefix): the .rpm's paths (unit in
 * /usr/lib/systemd/system), the docs with an INSTALL note. Entries are owned by root and
 * sorted; their times are the release's.
 * @param {PackageOptions} options
 * @returns {string} its path
 */
export function packageTarball(options) {
  const { target } = options;
  if (options.form !== "standalone") throw new Error("only the standalone form has a tarball");
  const work = mkdtempSync(join(tmpdir(), "kvp-agent-tar-"));
  const stage = join(work, "root");
  try {
    mkdirSync(stage);
    const { pkg, payload } = stageChecked(options, "tar", stage);
    const date = options.releases[0].date;
    writeStaged(
      join(stage, payload.docDir, "INSTALL"),
      renderTemplate(readFileSync(join(PACKAGING_DIR, "standalone", "INSTALL"), "utf8"), new Set([target.node]), {
        version: options.version,
        cpu: target.node,
        glibc: DOCUMENTED_GLIBC.standalone,
      }),
      0o644,
    );
    writeStaged(
      join(stage, payload.docDir, "changelog"),
      debianChangelog(
        pkg,
        options.releases.map((r) => ({ ...r, version: debianVersion(r.version) })),
        MAINTAINER,
      ),
      0o644,
    );
    const tarball = join(options.out, `${pkg}-${options.version}-linux-${target.node}.tar.gz`);
    rmSync(tarball, { force: true });
    // No "." entry: unpacking into / must not touch the mode of / itself.
    const top = readdirSync(stage).sort();
    if (top.join(" ") !== "etc usr")
      throw new Error(`the tarball's tree holds ${top.join(", ")}; only etc and usr may be unpacked into /`);
    const tar = join(work, `${pkg}.tar`);
    run("tar", [
      "--create",
      "--file",
      tar,
      "--directory",
      stage,
      "--sort=name",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      `--mtime=@${Math.floor(date.getTime() / 1000)}`,
      ...top,
    ]);
    run("gzip", [`-${options.compression?.tarLevel ?? 9}`, "--no-name", tar]);
    copyFileSync(`${tar}.gz`, tarball);
    return tarball;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
