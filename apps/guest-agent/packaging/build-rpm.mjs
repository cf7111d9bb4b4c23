#!/usr/bin/env node
// Builds the kvp-agent RPM package, which runs on the system's nodejs (18 or later):
// DIR/kvp-agent-<version>-1.<arch>.rpm, its path printed on stdout.
//
//   node packaging/build-rpm.mjs [--arch x86_64|aarch64] [--version V] [--out DIR] [--no-build]
//
// Options as build-deb.mjs's (--arch in RPM's spelling); the version is spelled by
// scripts/lib/versions.mjs rpmVersion (1.2.0-rc.1 → 1.2.0~rc.1, build metadata dropped).
//
// The payload is the .deb's, with RPM's paths: the unit in /usr/lib/systemd/system and a
// preset that enables it (RHEL's default preset disables units nobody named), docs in
// /usr/share/doc/kvp-agent, the copyright file as %license, config.example.json
// %config(noreplace). Requires nodejs >= 1:18 (RHEL's nodejs has Epoch 1), Recommends
// hypervkvpd; the systemd scriptlets are written out (rpm/*.sh) as %systemd_post, _preun
// and _postun_with_restart do, plus `kvp-agent forget` on erase and a %pre that refuses a
// node older than 18. Built with rpmbuild (Debian's rpm 4.18), without strip or debuginfo:
// the binaries may be for another CPU.
import { runBuilder } from "./lib/cli.mjs";
import { builderInputs } from "./lib/inputs.mjs";
import { packageRpm } from "./lib/packages.mjs";

const USAGE = "node packaging/build-rpm.mjs [--arch x86_64|aarch64] [--version V] [--out DIR] [--no-build]";

await runBuilder("build-rpm", () => {
  const inputs = builderInputs(process.argv.slice(2), "rpm", USAGE);
  return [packageRpm({ form: "node", ...inputs })];
});
