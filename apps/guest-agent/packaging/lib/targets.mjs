// The CPUs the guest packages are built for, with each format's name for them. Node and
// koffi say x64/arm64, Debian amd64/arm64, RPM x86_64/aarch64; the ELF machine number is
// what the builders and the release checks compare every shipped binary against.

/**
 * @typedef {object} Target
 * @property {"x64" | "arm64"} node Node's process.arch (and the SEA target's CPU)
 * @property {"amd64" | "arm64"} deb Debian architecture
 * @property {"x86_64" | "aarch64"} rpm RPM architecture
 * @property {number} elfMachine ELF e_machine of binaries for this CPU
 * @property {string} cpuName how people name the CPU, for messages
 */

/** @type {readonly Target[]} */
export const TARGETS = Object.freeze([
  Object.freeze({ node: "x64", deb: "amd64", rpm: "x86_64", elfMachine: 62, cpuName: "x86-64" }),
  Object.freeze({ node: "arm64", deb: "arm64", rpm: "aarch64", elfMachine: 183, cpuName: "AArch64" }),
]);

/**
 * The target a format calls `name`.
 * @param {"node" | "deb" | "rpm"} format
 * @param {string} name
 * @returns {Target}
 * @throws {Error} naming the accepted names when `name` is none of them.
 */
export function targetFor(format, name) {
  const target = TARGETS.find((t) => t[format] === name);
  if (target === undefined)
    throw new Error(
      `unknown ${format} architecture ${JSON.stringify(name)} (one of ${TARGETS.map((t) => t[format]).join(", ")})`,
    );
  return target;
}

/**
 * The target of the machine running this, or undefined when it is none of {@link TARGETS}
 * (the builders then cannot test-load what they pack).
 * @returns {Target | undefined}
 */
export function buildMachineTarget() {
  return process.platform === "linux" ? TARGETS.find((t) => t.node === process.arch) : undefined;
}
