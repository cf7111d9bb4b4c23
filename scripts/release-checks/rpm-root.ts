// An rpm database in a throwaway root, for the guest .rpm checks (guest-install-rpm.test.ts).
//
// Only Debian's archive is reachable here, so there is no RHEL, Alma or Rocky root. The root is
// a real Debian 12 root (debian-root.ts: its /bin/sh runs the scriptlets, its nodejs 18 runs
// the installed programs) with an rpm database of its own (/var/lib/rpm), and this machine's
// rpm installs into it with `rpm --root`, as image builders (dnf --installroot, mock, kiwi)
// do: rpm chroots into the root to run scriptlets.
//
// The database starts empty, so it cannot know what Debian installed. Instead of `--nodeps`,
// each Requires of the packages under test is checked against the root, and a stand-in
// package ("debian-root-provides") declaring exactly the capabilities found goes in first;
// rpm then resolves every Requires itself, version comparisons included. A capability is
// found when it is:
//   - a file (`/bin/sh`): the root has it;
//   - a shared-library capability (`libc.so.6(GLIBC_2.28)(64bit)`): rpm's own elfdeps
//     derives it from the root's libraries, as rpm does when it builds a distribution's
//     packages;
//   - a capability of the dynamic loader (`rtld(GNU_HASH)`, which RHEL's glibc declares by
//     hand): the root's own /bin/sh requires it too (elfdeps --requires), and that shell runs
//     every scriptlet and command in the root;
//   - `NAME [op VERSION]`: the root has the Debian package NAME installed, provided at its
//     upstream version, spelled as the RHEL family's package of that version would provide it
//     (see RHEL_SPELLING: EL's nodejs carries Epoch 1, so Debian's nodejs 18.20.4+dfsg-1~deb12u3
//     provides `nodejs = 1:18.20.4`, as nodejs-1:18.20.4 would on Alma 9).
// Whatever is none of these is reported, and the check fails rather than install around it.
// rpmlib() capabilities are rpm's own; capabilities a package provides itself (config(...))
// need nothing.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ChrootRoot, type CommandResult, describeResult, runHere } from "./chroot-root.js";
import type { DebianRoot } from "./debian-root.js";

/** The database path inside the root (RHEL 8's; RHEL 9 links /usr/lib/sysimage/rpm there). */
export const RPM_DB_PATH = "/var/lib/rpm";

/** The stand-in package declaring what the Debian root provides. */
export const STAND_IN = "debian-root-provides";

/** Debian's rpm keeps its tools here (elfdeps). */
const RPM_TOOLS_DIR = "/usr/lib/rpm";

/** How a RHEL-family package spells a capability a Debian package of the root provides. */
export interface RhelSpelling {
  /** The Debian package whose version gives the capability's. */
  readonly debianPackage: string;
  /** The RHEL package's Epoch (absent: none, as rpm's 0). */
  readonly epoch?: number;
}

/**
 * Capabilities whose RHEL-family spelling differs from "the Debian package of that name, at its
 * upstream version". EL's nodejs.spec sets `%global nodejs_epoch 1` (RHEL 9's default
 * nodejs is 1:16.20.2) and provides `nodejs(engine) = VERSION` without the epoch. So
 * `Requires: nodejs >= 18` is met by that nodejs 16: the epoch outranks the version.
 */
export const RHEL_SPELLING: Readonly<Record<string, RhelSpelling>> = {
  nodejs: { debianPackage: "nodejs", epoch: 1 },
  "nodejs(engine)": { debianPackage: "nodejs" },
};

/** The Provides line of `capability` at `version` as the RHEL family spells it. */
export function rhelProvides(capability: string, version: string): string {
  const epoch = RHEL_SPELLING[capability]?.epoch;
  return `${capability} = ${epoch === undefined ? "" : `${epoch}:`}${version}`;
}

/** The shell that runs scriptlets in the root (Debian's /bin/sh is dash; /bin is /usr/bin). */
const ROOT_SHELL = "/usr/bin/dash";

/** Directories of the root whose shared libraries give soname capabilities (Debian 12, amd64; /lib is /usr/lib). */
const LIBRARY_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"];

/**
 * `rpm --root ROOT --dbpath /var/lib/rpm ARGS`: this machine's rpm, in a mount namespace of
 * its own with the root's /proc mounted (the scriptlets rpm runs in the root see /proc, as
 * chroot-root.ts gives every command there).
 */
export function rpmInRoot(root: ChrootRoot, args: readonly string[]): Promise<CommandResult> {
  return root.runWithRootProc("rpm", ["--root", root.path, "--dbpath", RPM_DB_PATH, ...args]);
}

/** {@link rpmInRoot}, which must succeed. @throws Error with rpm's output otherwise. */
export async function rpmInRootOk(root: ChrootRoot, args: readonly string[]): Promise<CommandResult> {
  const result = await rpmInRoot(root, args);
  if (result.status !== 0) throw new Error(describeResult(`rpm ${args.join(" ")}`, result));
  return result;
}

/** One query tag of an installed package (`%{VERSION}`…), or undefined when it is not installed. */
export async function installedTag(root: ChrootRoot, name: string, tag: string): Promise<string | undefined> {
  const result = await rpmInRoot(root, ["--query", "--queryformat", `%{${tag}}`, name]);
  if (result.status !== 0) {
    if (/is not installed/.test(result.stdout + result.stderr)) return undefined;
    throw new Error(describeResult(`rpm -q ${name}`, result));
  }
  return result.stdout;
}

/** The capabilities a package file declares (`rpm -qp --requires` or `--provides`), one per entry. */
export async function packageCapabilities(file: string, which: "requires" | "provides"): Promise<string[]> {
  const result = await runHere("rpm", ["--query", "--package", `--${which}`, file]);
  if (result.status !== 0) throw new Error(describeResult(`rpm -qp --${which} ${file}`, result));
  return result.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** What {@link checkRequiresAgainstRoot} found for the packages' Requires. */
export interface RootProvides {
  /** `capability [= version]` lines for the stand-in's Provides, each checked against the root. */
  readonly provides: string[];
  /** Requires, with how each was met (for the report): `requirement ← what in the root`. */
  readonly evidence: string[];
  /** Requires the root cannot be shown to meet. */
  readonly unmet: string[];
}

/**
 * Checks every Requires of `packages` (rpm files) against the Debian root, as described at
 * the top of this file.
 */
export async function checkRequiresAgainstRoot(root: DebianRoot, packages: readonly string[]): Promise<RootProvides> {
  const requires = new Set<string>();
  const selfProvided = new Set<string>();
  for (const file of packages) {
    for (const requirement of await packageCapabilities(file, "requires")) requires.add(requirement);
    for (const provided of await packageCapabilities(file, "provides")) selfProvided.add(capabilityName(provided));
  }
  const sonames = await elfdeps("--provides", libraryFiles(root));
  const shellNeeds = await elfdeps("--requires", [root.file(ROOT_SHELL)]);
  const provides = new Set<string>();
  const evidence: string[] = [];
  const unmet: string[] = [];
  for (const requirement of [...requires].sort()) {
    const name = capabilityName(requirement);
    if (name.startsWith("rpmlib(") || selfProvided.has(name)) continue;
    if (name.startsWith("/")) {
      if (root.exists(name)) {
        provides.add(name);
        evidence.push(`${requirement} ← the root's file ${name}`);
      } else unmet.push(requirement);
    } else if (name.startsWith("rtld(")) {
      if (shellNeeds.has(name)) {
        provides.add(name);
        evidence.push(`${requirement} ← required by the root's own /bin/sh, which runs there`);
      } else unmet.push(requirement);
    } else if (/\.so[.(]/.test(name)) {
      if (sonames.has(name)) {
        provides.add(name);
        evidence.push(`${requirement} ← elfdeps --provides of the root's libraries`);
      } else unmet.push(requirement);
    } else {
      const debianPackage = RHEL_SPELLING[name]?.debianPackage ?? name;
      const state = await root.packageState(debianPackage);
      const upstream = /^(?:\d+:)?(\d+(?:\.\d+)*)/.exec(state.version)?.[1];
      if (state.status === "install ok installed" && upstream) {
        const line = rhelProvides(name, upstream);
        provides.add(line);
        evidence.push(`${requirement} ← ${line}, from the root's Debian package ${debianPackage} ${state.version}`);
      } else unmet.push(requirement);
    }
  }
  return { provides: [...provides].sort(), evidence, unmet };
}

/**
 * Builds the stand-in package ({@link STAND_IN}, noarch, no files) declaring `provides`,
 * with this machine's rpmbuild, into `dir`.
 * @returns the .rpm's path.
 */
export async function buildStandIn(provides: readonly string[], dir: string): Promise<string> {
  const top = join(dir, "rpmbuild");
  for (const sub of ["SPECS", "RPMS", "BUILD", "BUILDROOT", "SOURCES", "SRPMS"])
    mkdirSync(join(top, sub), { recursive: true });
  const spec = join(top, "SPECS", `${STAND_IN}.spec`);
  writeFileSync(
    spec,
    [
      `Name: ${STAND_IN}`,
      "Version: 1",
      "Release: 1",
      "Summary: What the Debian root under test provides, each capability checked against it",
      "License: MIT",
      "BuildArch: noarch",
      "AutoReqProv: no",
      ...provides.map((capability) => `Provides: ${capability}`),
      "%description",
      "A stand-in for the Debian packages of a throwaway root, for rpm's dependency checks (release checks).",
      "%files",
      "",
    ].join("\n"),
  );
  const built = await runHere("rpmbuild", ["-bb", "--quiet", "--define", `_topdir ${top}`, spec]);
  if (built.status !== 0) throw new Error(describeResult(`rpmbuild ${STAND_IN}`, built));
  const rpm = join(top, "RPMS", "noarch", `${STAND_IN}-1-1.noarch.rpm`);
  if (!existsSync(rpm)) throw new Error(`rpmbuild wrote no ${rpm}`);
  return rpm;
}

/** The name of a capability (`nodejs >= 18` → `nodejs`). */
function capabilityName(capability: string): string {
  return capability.split(" ")[0] ?? capability;
}

/** The root's shared libraries (as paths of this machine). */
function libraryFiles(root: ChrootRoot): string[] {
  const files: string[] = [];
  for (const dir of LIBRARY_DIRS) {
    if (!root.exists(dir)) continue;
    for (const name of readdirSync(root.file(dir)))
      if (/\.so(\.|$)/.test(name)) files.push(root.file(`${dir}/${name}`));
  }
  return files;
}

/** What rpm's elfdeps says `files` provide or require (the capabilities rpmbuild would record). */
async function elfdeps(which: "--provides" | "--requires", files: readonly string[]): Promise<Set<string>> {
  // elfdeps reads the file names on stdin.
  const result = await runHere(join(RPM_TOOLS_DIR, "elfdeps"), [which], { input: `${files.join("\n")}\n` });
  if (result.status !== 0) throw new Error(describeResult(`elfdeps ${which}`, result));
  return new Set(result.stdout.split("\n").filter(Boolean));
}
