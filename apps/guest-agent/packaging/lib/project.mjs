// What every guest package says about itself: names, maintainer, homepage, descriptions and
// where its inputs live in this repository. One place, so the .deb, the .rpm and the Node-free
// forms cannot drift apart.
import { fileURLToPath } from "node:url";

/** apps/guest-agent. */
export const APP_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** apps/guest-agent/packaging. */
export const PACKAGING_DIR = fileURLToPath(new URL("../", import.meta.url));

/** apps/pool-tools, whose kvp-pool bundle every package ships too. */
export const POOL_TOOLS_DIR = fileURLToPath(new URL("../../../pool-tools/", import.meta.url));

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** The agent's built bundle. */
export const AGENT_BUNDLE = `${APP_DIR}dist/kvp-agent.cjs`;

/** kvp-pool's built bundle. */
export const POOL_BUNDLE = `${POOL_TOOLS_DIR}dist/kvp-pool.cjs`;

/** The package that runs on the system's Node.js (18 or later). */
export const NODE_PACKAGE = "kvp-agent";

/** The package that carries its own Node.js (a single executable). */
export const STANDALONE_PACKAGE = "kvp-agent-standalone";

/**
 * The Maintainer (Debian) and Packager (RPM) of every package: the project's choice, or
 * $DEB_MAINTAINER for a rebuild by someone else ("Name <address>").
 */
export const MAINTAINER =
  process.env["DEB_MAINTAINER"] || "hyperv-kvp maintainers <hyperv-kvp@users.noreply.github.com>";

/** The project's home, in Homepage (Debian) and URL (RPM). */
export const HOMEPAGE = "https://github.com/hyperv-kvp/hyperv-kvp";

/** Where the packages' files go, the same for every form so the docs describe one layout. */
export const LAYOUT = Object.freeze({
  /** kvp-agent's private directory: bundles or the executable, and koffi beside them. */
  lib: "usr/lib/kvp-agent",
  bin: "usr/bin",
  etc: "etc/kvp-agent",
  man1: "usr/share/man/man1",
  /** systemd's vendor unit directory: Debian 11/12 still use /lib (their merged /usr makes them one). */
  debianUnitDir: "lib/systemd/system",
  /** RPM distributions and the tarball: /usr/lib (systemd reads both everywhere). */
  unitDir: "usr/lib/systemd/system",
  presetDir: "usr/lib/systemd/system-preset",
});

/** The unit's file name. */
export const UNIT = "kvp-agent.service";

/** The cloud-init seed step's unit, static (no [Install]): {@link SEED_DROP_IN} pulls it in. */
export const SEED_UNIT = "kvp-agent-cloud-init-seed.service";

/** The drop-in, relative to the unit directory, that orders cloud-init-local.service after {@link SEED_UNIT}. */
export const SEED_DROP_IN = "cloud-init-local.service.d/50-kvp-agent-cloud-init-seed.conf";

/** The one-line summary (Debian's Description first line, RPM's Summary). */
export function summary(form) {
  return form === "standalone"
    ? "Hyper-V KVP guest agent and pool tool, Node.js included"
    : "Hyper-V KVP guest agent and pool-record tool";
}

/**
 * The long description as paragraphs of plain text (each format wraps and marks them up
 * its own way).
 * @param {"node" | "standalone"} form
 * @returns {string[]}
 */
export function description(form) {
  const common = [
    "The kvp-agent service turns what the Hyper-V host sends through KVP data exchange (pools 0 and 3) into state files and hook runs, and reports its status back to the host through pool 1. The kvp-pool command lists, gets, sets, deletes, checks and watches KVP pool records safely beside hv_kvp_daemon, for scripts and debugging.",
  ];
  return form === "standalone"
    ? [
        ...common,
        "This form needs no Node.js on the system: one executable carries Node.js 22 and both programs, for distributions whose nodejs is older than 18 or absent (Debian 11, Ubuntu 22.04, RHEL 8/9); it needs glibc 2.28 or later. It replaces the kvp-agent package, which runs the same programs on the system's nodejs.",
      ]
    : [
        ...common,
        "Both run on the system's Node.js, 18 or later; kvp-agent-standalone carries its own for systems without one.",
      ];
}
