// Running another CPU's program here: qemu-user with that CPU's glibc as its sysroot (Debian:
// qemu-user and libc6-arm64-cross, libstdc++6-arm64-cross, libgcc-s1-arm64-cross, which
// install into /usr/aarch64-linux-gnu). Used to run the arm64 standalone program where it
// can be; nothing requires it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Per Node CPU name: the qemu-user programs that run it, and the sysroot of its glibc. */
const EMULATORS = Object.freeze({
  arm64: {
    programs: ["qemu-aarch64", "qemu-aarch64-static"],
    sysroot: "/usr/aarch64-linux-gnu",
    loader: "lib/ld-linux-aarch64.so.1",
  },
  x64: {
    programs: ["qemu-x86_64", "qemu-x86_64-static"],
    sysroot: "/usr/x86_64-linux-gnu",
    loader: "lib64/ld-linux-x86-64.so.2",
  },
});

/**
 * The command prefix that runs `target`'s programs here (`["qemu-aarch64", "-L", sysroot]`),
 * or undefined when this machine has no emulator or no glibc for that CPU.
 * @param {import("./targets.mjs").Target} target
 * @returns {string[] | undefined}
 */
export function emulatorFor(target) {
  const emulator = EMULATORS[target.node];
  if (emulator === undefined || !existsSync(`${emulator.sysroot}/${emulator.loader}`)) return undefined;
  for (const program of emulator.programs) {
    const probe = spawnSync(program, ["--version"], { encoding: "utf8" });
    if (!probe.error && probe.status === 0) return [program, "-L", emulator.sysroot];
  }
  return undefined;
}
