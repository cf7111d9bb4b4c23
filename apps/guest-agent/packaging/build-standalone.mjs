#!/usr/bin/env node
// Builds the Node-free form of the guest agent, kvp-agent-standalone, for one CPU:
//   DIR/kvp-agent-standalone_<debian version>_<amd64|arm64>.deb
//   DIR/kvp-agent-standalone-<rpm version>-1.<x86_64|aarch64>.rpm
//   DIR/kvp-agent-standalone-<version>-linux-<x64|arm64>.tar.gz
// and prints the three paths.
//
//   node packaging/build-standalone.mjs [--arch x64|arm64] [--version V] [--out DIR] [--no-build]
//
// Options as build-deb.mjs's (--arch in Node's spelling, default this machine's).
//
// The program: standalone/multi-call.cjs with both built bundles (dist/kvp-agent.cjs,
// pool-tools' dist/kvp-pool.cjs) in one CommonJS bundle, made a Node 22 single executable
// by scripts/lib/sea.mjs for the target CPU (the official Node build from npm, stripped,
// with the bundle injected): /usr/lib/kvp-agent/kvp-agent-standalone, run as kvp-agent or
// kvp-pool through /usr/bin links. Inside a single executable `require` sees only Node's
// built-ins, so koffi's run-time files lie beside it in node_modules, where the bundles'
// createRequire(<executable>) finds them. The rest is the kvp-agent package's: unit, config,
// hooks directory, man pages, maintainer scripts (no nodejs check), docs, plus Node's
// LICENSE. The .deb and .rpm conflict with kvp-agent and provide it: one form at a time.
//
// Checks: the Node-form checks of lib/packages.mjs (every ELF for the target CPU and glibc,
// the glibc minimum the docs state), and for this machine's CPU the staged program run
// through its links: both --help, and kvp-pool writing and reading a record through the
// koffi beside it. For another CPU the same run happens under qemu-user when
// `qemu-aarch64` and an aarch64 glibc (Debian: qemu-user libc6-arm64-cross
// libstdc++6-arm64-cross) are installed; without them that CPU's program is checked by its
// ELF headers only, and the build says so on stderr.
//
// Compression (measured on this 2-core machine, see apps/guest-agent/README.md): xz for the
// .deb and .rpm (dpkg of Debian 11 reads no zstd; RHEL 8's rpm reads xz), gzip for the
// .tar.gz its name promises.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEA_NODE_VERSION, nodeLicensePath } from "../../../scripts/lib/node-builds.mjs";
import { runBuilder } from "./lib/cli.mjs";
import { emulatorFor } from "./lib/emulation.mjs";
import { builderInputs } from "./lib/inputs.mjs";
import { packageDeb, packageRpm, packageTarball } from "./lib/packages.mjs";
import { builtBundles } from "./lib/payload.mjs";
import { buildStandaloneExecutable, checkStandaloneRuns } from "./lib/standalone-program.mjs";
import { buildMachineTarget } from "./lib/targets.mjs";

/**
 * xz at its default level 6 for the .deb and .rpm: a third smaller than gzip for ~65 s of
 * one core per package; -9 saves 1% more for 10 s more. gzip -6 for the tarball: -9 saves
 * under 1% and takes three times as long. (Measured on the ~105 MB x64 program.)
 */
const COMPRESSION = Object.freeze({ deb: "xz", debLevel: 6, rpm: "w6.xzdio", tarLevel: 6 });

const USAGE = "node packaging/build-standalone.mjs [--arch x64|arm64] [--version V] [--out DIR] [--no-build]";

await runBuilder("build-standalone", async () => {
  const inputs = builderInputs(process.argv.slice(2), "node", USAGE);
  const work = mkdtempSync(join(tmpdir(), "kvp-agent-standalone-build-"));
  try {
    const executable = join(work, "kvp-agent-standalone");
    const timed = async (what, step) => {
      const started = Date.now();
      const result = await step();
      process.stderr.write(`build-standalone: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return result;
    };
    await timed(`the ${inputs.target.node} program`, () =>
      buildStandaloneExecutable(builtBundles(), inputs.target, executable),
    );
    const wrap = inputs.target === buildMachineTarget() ? [] : emulatorFor(inputs.target);
    if (wrap === undefined) {
      process.stderr.write(
        `build-standalone: note: no emulator for ${inputs.target.cpuName} here (qemu-user with an ${inputs.target.cpuName} sysroot): its program is checked by its ELF headers only, not run\n`,
      );
    }
    let checked = false;
    const options = {
      form: "standalone",
      ...inputs,
      executable,
      node: { license: nodeLicensePath(SEA_NODE_VERSION), version: SEA_NODE_VERSION },
      compression: COMPRESSION,
      // The program is the same in every format: run it once, from the first staged tree.
      check: (stage) => {
        if (checked || wrap === undefined) return;
        checkStandaloneRuns(stage, wrap);
        checked = true;
      },
    };
    return [
      await timed("the .deb", () => packageDeb(options)),
      await timed("the .rpm", () => packageRpm(options)),
      await timed("the .tar.gz", () => packageTarball(options)),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
