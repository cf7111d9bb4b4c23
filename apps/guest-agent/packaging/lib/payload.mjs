// The files every guest package installs, staged once per package: the programs (two
// bundles with their launchers, or the single executable with two links), the kvp-lock addon
// and koffi for the target CPU, the unit, /etc/kvp-agent, man pages and docs. The builders differ only in
// where the unit and the docs go and how the tree is then packed.
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { lockAddonName } from "../../../../packages/pool-file/native/build-addon.mjs";
import { mergeNotices, noticesText, parseNotices } from "../../../../scripts/lib/third-party-notices.mjs";
import { copyrightText } from "./copyright.mjs";
import { isMusl, readElf } from "./elf.mjs";
import { stageKoffi } from "./koffi.mjs";
import { manPage } from "./manpages.mjs";
import {
  AGENT_BUNDLE,
  APP_DIR,
  LAYOUT,
  PACKAGING_DIR,
  POOL_BUNDLE,
  POOL_TOOLS_DIR,
  SEED_DROP_IN,
  SEED_UNIT,
  UNIT,
} from "./project.mjs";
import { installFile, listTree, makeDir, shippedBundle, symlinkStaged, writeGzipped, writeStaged } from "./stage.mjs";
import { renderTemplate } from "./template.mjs";

/** The standalone executable's name in LAYOUT.lib; kvp-agent and kvp-pool link to it. */
export const STANDALONE_EXECUTABLE = "kvp-agent-standalone";

/**
 * The built bundles, checked to exist.
 * @returns {{ agent: string, pool: string }}
 * @throws {Error} naming how to build a missing one.
 */
export function builtBundles() {
  for (const [bundle, dir] of [
    [AGENT_BUNDLE, APP_DIR],
    [POOL_BUNDLE, POOL_TOOLS_DIR],
  ]) {
    if (!existsSync(bundle))
      throw new Error(`${bundle} is missing: build it (node build.mjs in ${dir}) or leave out --no-build`);
  }
  return { agent: AGENT_BUNDLE, pool: POOL_BUNDLE };
}

/**
 * The kvp-lock addon for `target` (pool-file's lock calls without koffi), as the bundles'
 * builds wrote it beside them: both programs load it from beside themselves, and the packages
 * put it beside them in the same directory.
 * @param {import("./targets.mjs").Target} target
 * @returns {string}
 * @throws {Error} naming how to build a missing one (the other CPU's needs its cross compiler).
 */
export function builtLockAddon(target) {
  const name = lockAddonName(target.node);
  const files = [AGENT_BUNDLE, POOL_BUNDLE].map((bundle) => join(dirname(bundle), name));
  for (const file of files) {
    if (!existsSync(file)) {
      const compiler =
        target.node === process.arch ? "gcc" : `${target.cpuName}'s cross compiler (scripts/setup.sh --for-release)`;
      throw new Error(
        `${file} is missing: the bundles' builds write it with ${compiler}; build them again (node build.mjs, or leave out --no-build; turbo may replay a build cached without it: turbo run build --force)`,
      );
    }
  }
  const [agentAddon, poolAddon] = files.map((file) => readFileSync(file));
  if (agentAddon === undefined || poolAddon === undefined || !agentAddon.equals(poolAddon))
    throw new Error(`${files.join(" and ")} differ: build both bundles again (node build.mjs in each app)`);
  return files[0];
}

/**
 * @typedef {object} PayloadOptions
 * @property {string} stage the staging root
 * @property {"node" | "standalone"} form
 * @property {"deb" | "rpm" | "tar"} format
 * @property {string} packageName
 * @property {import("./targets.mjs").Target} target
 * @property {ReturnType<import("./koffi.mjs").locateKoffi>} koffi
 * @property {string} version the version shown in man pages (the package's spelling)
 * @property {Date} date the release's date (man page footers)
 * @property {string} [executable] standalone: the built single executable
 * @property {{ license: string, version: string }} [node] standalone: the embedded Node release
 */

/**
 * Stages the files of one package.
 * @param {PayloadOptions} options
 * @returns {{ unitFile: string, docDir: string, licenseDir: string, koffiBinary: string, elfFiles: string[], conffiles: string[] }}
 *   paths relative to the stage (docDir holds README/examples; licenseDir the copyright
 *   and, standalone, Node's LICENSE: the same as docDir except for RPM's /usr/share/licenses)
 */
export function stagePayload(options) {
  const { stage, form, format, packageName, target } = options;
  const at = (rel) => join(stage, rel);
  const lib = LAYOUT.lib;
  const unitDir = format === "deb" ? LAYOUT.debianUnitDir : LAYOUT.unitDir;
  const docDir = `usr/share/doc/${packageName}`;
  const licenseDir = format === "rpm" ? `usr/share/licenses/${packageName}` : docDir;
  const bundles = builtBundles();

  // The programs.
  if (form === "node") {
    writeStaged(at(`${lib}/kvp-agent.cjs`), shippedBundle(bundles.agent), 0o644);
    writeStaged(at(`${lib}/kvp-pool.cjs`), shippedBundle(bundles.pool), 0o644);
    installFile(join(PACKAGING_DIR, "deb/kvp-agent"), at(`${LAYOUT.bin}/kvp-agent`), 0o755);
    installFile(join(PACKAGING_DIR, "deb/kvp-pool"), at(`${LAYOUT.bin}/kvp-pool`), 0o755);
  } else {
    if (options.executable === undefined) throw new Error("the standalone form needs its executable");
    installFile(options.executable, at(`${lib}/${STANDALONE_EXECUTABLE}`), 0o755);
    for (const name of ["kvp-agent", "kvp-pool"])
      symlinkStaged(at(`${LAYOUT.bin}/${name}`), `../lib/kvp-agent/${STANDALONE_EXECUTABLE}`);
  }
  // Beside the programs: they load it from beside the file that holds their code (the
  // bundles, or the executable, whose code is the same bundles).
  installFile(builtLockAddon(target), at(`${lib}/${lockAddonName(target.node)}`), 0o644);
  const koffiBinary = stageKoffi(at(`${lib}/node_modules`), target, options.koffi);

  // The service and its configuration.
  installFile(join(APP_DIR, "systemd", UNIT), at(`${unitDir}/${UNIT}`), 0o644);
  // The cloud-init seed step: a static unit that cloud-init-local.service pulls in through the
  // drop-in, so neither needs enabling (a no-op until the config enables cloudInit).
  installFile(join(APP_DIR, "systemd", SEED_UNIT), at(`${unitDir}/${SEED_UNIT}`), 0o644);
  installFile(join(APP_DIR, "systemd", SEED_DROP_IN), at(`${unitDir}/${SEED_DROP_IN}`), 0o644);
  // The same bytes in both forms' RPMs: a swap from one to the other replaces nothing here.
  if (format === "rpm")
    writeStaged(
      at(`${LAYOUT.presetDir}/80-kvp-agent.preset`),
      `# The Hyper-V KVP guest agent runs wherever it is installed (it stays idle outside Hyper-V).\nenable ${UNIT}\n`,
      0o644,
    );
  installFile(join(PACKAGING_DIR, "deb/config.example.json"), at(`${LAYOUT.etc}/config.example.json`), 0o644);
  makeDir(at(`${LAYOUT.etc}/hooks.d`));

  // Manual pages, from the programs' own help.
  const files = {
    "kvp-agent": [
      ["/etc/kvp-agent/config.json", "the config (absent: defaults); config.example.json beside it has every setting"],
      ["/etc/kvp-agent/hooks.d/", "hook executables, run for every pool-0 change"],
      ["/run/kvp-agent/", "the state files"],
      [
        "/var/lib/cloud/seed/nocloud/",
        "the NoCloud seed written from the host's cloud-init/* items (config cloudInit)",
      ],
      ["/var/lib/hyperv/.kvp_pool_*", "the KVP daemon's pool files"],
    ],
    "kvp-pool": [["/var/lib/hyperv/.kvp_pool_*", "the KVP daemon's pool files"]],
  };
  for (const [name, bundle, other] of [
    ["kvp-agent", bundles.agent, "kvp-pool"],
    ["kvp-pool", bundles.pool, "kvp-agent"],
  ]) {
    const page = manPage({
      name,
      bundle,
      version: options.version,
      date: options.date,
      files: files[name],
      seeAlso: [`${other}(1)`, "hv_kvp_daemon(8)"],
    });
    writeGzipped(at(`${LAYOUT.man1}/${name}.1.gz`), page);
  }

  // Documentation.
  const tags = new Set([form, format]);
  const title = `${packageName}: the hyperv-kvp guest agent (kvp-agent) and pool tool (kvp-pool)`;
  const readme = renderTemplate(readFileSync(join(PACKAGING_DIR, "deb/README.Debian"), "utf8"), tags, {
    title,
    rule: "=".repeat(title.length),
    unitpath: `/${unitDir}/${UNIT}`,
    unitdir: `/${unitDir}`,
    docdir: `/${docDir}`,
  });
  writeStaged(at(`${docDir}/${format === "deb" ? "README.Debian" : "README"}`), readme, 0o644);
  installFile(
    join(PACKAGING_DIR, "examples/cloudstack/config.json"),
    at(`${docDir}/examples/cloudstack/config.json`),
    0o644,
  );
  // Not executable: an example to copy (install -m 0755 … /usr/local/sbin/), not a program
  // of the package; rpmlint and lintian treat executables with a shebang as ones.
  installFile(
    join(PACKAGING_DIR, "examples/cloudstack/kvp-cloudstack-hook"),
    at(`${docDir}/examples/cloudstack/kvp-cloudstack-hook`),
    0o644,
  );
  // What the bundles inline, from the notices their builds wrote (the standalone program
  // wraps the same two bundles).
  const bundled = mergeNotices(
    ...[bundles.agent, bundles.pool].map((bundle) =>
      parseNotices(readFileSync(join(dirname(bundle), "THIRD-PARTY-NOTICES.txt"), "utf8")),
    ),
  );
  writeStaged(at(`${licenseDir}/THIRD-PARTY-NOTICES`), noticesText(packageName, bundled), 0o644);
  const copyright = copyrightText({
    form,
    bundled,
    executable: `${lib}/${STANDALONE_EXECUTABLE}`,
    ...(options.node ? { nodeLicense: options.node.license, nodeVersion: options.node.version } : {}),
  });
  writeStaged(at(`${licenseDir}/copyright`), copyright, 0o644);
  if (form === "standalone" && options.node) installFile(options.node.license, at(`${licenseDir}/LICENSE.node`), 0o644);
  // What lintian reports and why it stays (Debian's place for it); the RPMs' equivalent is
  // rpm/*.rpmlintrc, which the release checks pass to rpmlint.
  if (form === "standalone" && format === "deb")
    installFile(
      join(PACKAGING_DIR, "standalone/lintian-overrides"),
      at(`usr/share/lintian/overrides/${packageName}`),
      0o644,
    );

  const elfFiles = checkShippedElfs(stage, target);
  return {
    unitFile: `${unitDir}/${UNIT}`,
    docDir,
    licenseDir,
    koffiBinary,
    elfFiles,
    conffiles: [`/${LAYOUT.etc}/config.example.json`],
  };
}

/**
 * Every ELF file in the staged tree, checked to run on `target` with glibc: nothing for
 * another CPU or libc may be shipped.
 * @param {string} stage
 * @param {import("./targets.mjs").Target} target
 * @returns {string[]} their paths relative to the stage
 * @throws {Error} naming a file built for another CPU or for musl.
 */
export function checkShippedElfs(stage, target) {
  const elfs = [];
  for (const rel of listTree(stage)) {
    if (rel.endsWith("/") || !lstatSync(join(stage, rel)).isFile()) continue;
    const elf = readElf(join(stage, rel));
    if (elf === undefined) continue;
    if (elf.machine !== target.elfMachine)
      throw new Error(`${rel} is built for ELF machine ${elf.machine}, not ${target.cpuName}: refusing to pack it`);
    if (isMusl(elf)) throw new Error(`${rel} is built for musl: the packages are for glibc systems`);
    elfs.push(rel);
  }
  return elfs;
}
