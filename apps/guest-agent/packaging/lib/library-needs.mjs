// Which system libraries, and which of their versions, the binaries of a package need, in
// Debian's spelling. dpkg-shlibdeps would answer from this machine's symbols files, which say
// libc6 (>= 2.34) for anything using pthread symbols (glibc 2.34 moved them into libc): right
// for a package built on Debian 12 for Debian 12, wrong for binaries built elsewhere for older
// systems, such as Node's official builds (glibc 2.28) and koffi's (2.25). So the minimum is
// read from the binaries' own symbol version needs (GLIBC_2.28 means glibc 2.28), which is
// what the dynamic loader checks.
import { compareDotted, highestVersionNeeded } from "./elf.mjs";

/** The GCC release whose libstdc++ first had each GLIBCXX_ symbol version. */
const GLIBCXX_SINCE_GCC = Object.freeze({
  3.4: "3.4",
  "3.4.9": "4.2",
  "3.4.10": "4.3",
  "3.4.11": "4.4",
  "3.4.12": "4.4.1",
  "3.4.13": "4.4.2",
  "3.4.14": "4.5",
  "3.4.15": "4.6",
  "3.4.16": "4.6.1",
  "3.4.17": "4.7",
  "3.4.18": "4.8",
  "3.4.19": "4.8.3",
  "3.4.20": "4.9",
  "3.4.21": "5.1",
  "3.4.22": "6.1",
  "3.4.23": "7.1",
  "3.4.24": "7.2",
  "3.4.25": "8.1",
  "3.4.26": "9.1",
  "3.4.27": "9.2",
  "3.4.28": "9.3",
  "3.4.29": "11.1",
  "3.4.30": "12.1",
  "3.4.31": "13.1",
  "3.4.32": "13.2",
});

/** The GCC release whose libstdc++ first had each CXXABI_ symbol version. */
const CXXABI_SINCE_GCC = Object.freeze({
  1.3: "3.4",
  "1.3.1": "4.1.1",
  "1.3.2": "4.3",
  "1.3.3": "4.4",
  "1.3.4": "4.5",
  "1.3.5": "4.6",
  "1.3.6": "4.7",
  "1.3.7": "4.8",
  "1.3.8": "4.9",
  "1.3.9": "5.1",
  "1.3.10": "6.1",
  "1.3.11": "7.1",
  "1.3.12": "9.1",
  "1.3.13": "11.1",
  "1.3.14": "13.1",
});

/** The Debian package of each library a binary may link; anything else is refused. */
const DEBIAN_PACKAGE_OF = Object.freeze({
  "libc.so.6": "libc6",
  "libm.so.6": "libc6",
  "libdl.so.2": "libc6",
  "libpthread.so.0": "libc6",
  "librt.so.1": "libc6",
  "ld-linux-x86-64.so.2": "libc6",
  "ld-linux-aarch64.so.1": "libc6",
  "libstdc++.so.6": "libstdc++6",
  "libgcc_s.so.1": "libgcc-s1",
});

/**
 * @typedef {object} LibraryNeeds
 * @property {string} glibc the oldest glibc that runs every binary ("2.28")
 * @property {string | undefined} gcc the oldest GCC whose libstdc++ they need, if they link it
 * @property {string | undefined} libgcc the highest GCC_ version they need of libgcc_s
 * @property {Set<string>} packages the Debian packages of the libraries they link
 */

/**
 * What the ELF binaries `elfs` need together.
 * @param {import("./elf.mjs").ElfInfo[]} elfs
 * @returns {LibraryNeeds}
 * @throws {Error} for a library outside the C/C++ runtime, or a libstdc++ version this table
 *   does not know yet (add it from the libstdc++ ABI documentation).
 */
export function libraryNeeds(elfs) {
  const packages = new Set();
  let glibc = "2.2.5";
  let gcc;
  let libgcc;
  const raise = (current, next) => (current === undefined || compareDotted(next, current) > 0 ? next : current);
  for (const elf of elfs) {
    for (const lib of elf.needed) {
      const pkg = DEBIAN_PACKAGE_OF[lib];
      if (pkg === undefined)
        throw new Error(
          `a shipped binary links ${lib}, which no package dependency covers yet (lib/library-needs.mjs)`,
        );
      packages.add(pkg);
    }
    const g = highestVersionNeeded(elf, "GLIBC_");
    if (g !== undefined) glibc = raise(glibc, g);
    for (const [prefix, table] of [
      ["GLIBCXX_", GLIBCXX_SINCE_GCC],
      ["CXXABI_", CXXABI_SINCE_GCC],
    ]) {
      const v = highestVersionNeeded(elf, prefix);
      if (v === undefined) continue;
      const since = table[v];
      if (since === undefined)
        throw new Error(
          `a shipped binary needs ${prefix}${v}, which lib/library-needs.mjs cannot map to a GCC release yet`,
        );
      gcc = raise(gcc, since);
    }
    const l = highestVersionNeeded(elf, "GCC_");
    if (l !== undefined) libgcc = raise(libgcc, l.replace(/\.0$/, ""));
  }
  return { glibc, gcc, libgcc, packages };
}

/**
 * The Depends entries for `needs`, sorted as dpkg-shlibdeps writes them:
 * `libc6 (>= 2.28), libgcc-s1 (>= 4.2), libstdc++6 (>= 7.1)`.
 * @param {LibraryNeeds} needs
 * @returns {string[]}
 */
export function debianLibraryDepends(needs) {
  const minimum = { libc6: needs.glibc, "libstdc++6": needs.gcc, "libgcc-s1": needs.libgcc };
  return [...new Set(["libc6", ...needs.packages])]
    .sort()
    .map((pkg) => (minimum[pkg] ? `${pkg} (>= ${minimum[pkg]})` : pkg));
}
