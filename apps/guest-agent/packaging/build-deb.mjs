#!/usr/bin/env node
// Builds the kvp-agent Debian package, which runs on the system's nodejs (18 or later):
// DIR/kvp-agent_<version>_<arch>.deb, its path printed on stdout.
//
//   node packaging/build-deb.mjs [--arch amd64|arm64] [--version V] [--out DIR] [--no-build]
//
// --arch     Debian architecture (default: this machine's). Both build on any machine: the
//            bundles are JavaScript; only koffi's binary differs, taken from
//            @koromix/koffi-linux-<cpu> (pnpm-workspace.yaml's supportedArchitectures makes
//            pnpm install both CPUs' packages)
// --version  the version to stamp, semver (default: this app's package.json version);
//            Debian's spelling is derived (1.2.0-rc.1 → 1.2.0~rc.1)
// --out      where the .deb goes (default: dist)
// --no-build use dist/kvp-agent.cjs and ../pool-tools/dist/kvp-pool.cjs as they are instead
//            of rebuilding them first (the release and the tests build them before)
//
// Layout (deb/README.Debian): the agent's bundle and kvp-pool's side by side in
// /usr/lib/kvp-agent with the run-time files of koffi for that CPU (lib/koffi.mjs), a
// launcher for each in /usr/bin, the unit in /lib/systemd/system, /etc/kvp-agent with an
// example config (the only conffile) and an empty hooks.d, man pages from the programs'
// --help, the changelog from the apps' CHANGELOG.md (changesets). A native package (the
// version has no Debian revision), so the changelog is changelog.gz. preinst refuses a
// nodejs older than 18 before anything is unpacked.
//
// Checks before packing (lib/packages.mjs): every ELF file is for the target CPU and glibc;
// for this machine's CPU the staged koffi is loaded with this Node and calls into libc;
// Depends come from the binaries' symbol versions (lib/library-needs.mjs). Needs dpkg-deb;
// runs as any user.
import { runBuilder } from "./lib/cli.mjs";
import { builderInputs } from "./lib/inputs.mjs";
import { packageDeb } from "./lib/packages.mjs";

const USAGE = "node packaging/build-deb.mjs [--arch amd64|arm64] [--version V] [--out DIR] [--no-build]";

await runBuilder("build-deb", () => {
  const inputs = builderInputs(process.argv.slice(2), "deb", USAGE);
  return [packageDeb({ form: "node", ...inputs })];
});
