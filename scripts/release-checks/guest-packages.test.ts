// The guest packages of the release, as users download them: kvp-agent (.deb, .rpm: runs on
// the system's nodejs) and kvp-agent-standalone (.deb, .rpm, .tar.gz: Node inside), each for
// x86_64 and arm64. Checked here without installing them (installs, upgrades and removals in
// real Debian roots and an rpm root are in the release checks that do so):
// - the distributions' own linters: lintian on every .deb with errors and warnings fatal and
//   the overrides the package ships used exactly; rpmlint on every .rpm with the repository's
//   settings and rpmlintrc (an unused filter is an error there), nothing left;
// - contents: nothing that does not run (sources, headers, non-doc markdown, maps), every ELF
//   file built for the package's CPU and for glibc (read with binutils' readelf, not with the
//   builders' own reader), a man page per program, the tarball a root-owned tree of etc/ and usr/;
// - metadata: name, version in the format's spelling, architecture, the dependencies as
//   designed (nodejs >= 18 with RHEL's epoch, the glibc minimum each form documents);
// - the x64 Node-free program run directly from the tarball (both tools' --help, kvp-pool on
//   pools written here), the same program in all three containers, and the arm64 one under
//   qemu-user with arm64's glibc (qemu-aarch64 -L): both tools and koffi's arm64 library.
// Needs lintian, rpmlint, dpkg-deb, rpm (rpm2archive), tar, readelf (binutils), qemu-user
// and libc6/libstdc++6/libgcc-s1-arm64-cross: missing, the checks fail saying so
// (scripts/setup.sh --for-tests installs them).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchNode } from "../lib/node-builds.mjs";
import { debianVersion, rpmVersion } from "../lib/versions.mjs";
import { REPO_ROOT, artifact, expectedArtifacts, releaseVersion } from "./support.js";

const PACKAGING = join(REPO_ROOT, "apps/guest-agent/packaging");
const VERSION = releaseVersion();
const NAMES = expectedArtifacts(VERSION);
const MAINTAINER = "hyperv-kvp maintainers <hyperv-kvp@users.noreply.github.com>";

/** One CPU as each format names it, with its ELF machine as readelf prints it. */
const CPUS = [
  { node: "x64", deb: "amd64", rpm: "x86_64", machine: "Advanced Micro Devices X86-64", libgcc: "3.4" },
  { node: "arm64", deb: "arm64", rpm: "aarch64", machine: "AArch64", libgcc: "4.2" },
] as const;
type Cpu = (typeof CPUS)[number];

/** File names that must not be in a package: sources, headers, build files, source maps. */
const NOT_RUN =
  /\.(?:c|cc|cpp|cxx|h|hh|hpp|inc|S|asm|def|ts|map|gyp|gypi)$|(?:^|\/)(?:CMakeLists\.txt|binding\.gyp|Makefile)$/;

/** The lintian overrides the standalone .deb ships, as `tag [context]` lines (comments dropped). */
function shippedOverrides(): string[] {
  return readFileSync(join(PACKAGING, "standalone/lintian-overrides"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.replace(/^kvp-agent-standalone: /, ""));
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Buffer } = {},
): Run {
  const result = spawnSync(file, [...args], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: 600_000,
    ...options,
  });
  if (result.error) throw new Error(`cannot run ${file}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Fails naming the Debian package to install when a program is missing. */
function need(program: string, debianPackages: string): void {
  if (spawnSync("sh", ["-c", 'command -v "$1"', "sh", program]).status !== 0) {
    throw new Error(`${program} is missing: apt-get install ${debianPackages} (scripts/setup.sh --for-tests does)`);
  }
}

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `guest-packages-${prefix}-`));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every regular file and symlink under `root`, relative, sorted. */
function files(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel === "" ? name : `${rel}/${name}`;
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path, relPath);
      else out.push(relPath);
    }
  };
  walk(root, "");
  return out;
}

function isElf(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString("latin1") === "\x7fELF";
  } finally {
    closeSync(fd);
  }
}

/** readelf's view of an ELF file: machine, interpreter, needed libraries. */
function elfFacts(path: string): { machine: string; interpreter: string | undefined; needed: string[] } {
  const result = run("readelf", ["--file-header", "--program-headers", "--dynamic", "--wide", path]);
  expect(result.status, result.stderr).toBe(0);
  return {
    machine: /^\s*Machine:\s+(.+)$/m.exec(result.stdout)?.[1]?.trim() ?? "",
    interpreter: /Requesting program interpreter: ([^\]]+)\]/.exec(result.stdout)?.[1],
    needed: [...result.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!),
  };
}

/**
 * What every package must (not) hold, checked on its unpacked tree: nothing that does not
 * run, every ELF file for `cpu` and glibc, a man page for each program in usr/bin.
 */
function checkContents(root: string, cpu: Cpu, what: string): void {
  const all = files(root);
  expect(all.length, what).toBeGreaterThan(10);
  expect(
    all.filter((rel) => NOT_RUN.test(rel)),
    `${what}: sources, headers or maps`,
  ).toEqual([]);
  expect(
    all.filter((rel) => /\.md$/i.test(rel) && !rel.startsWith("usr/share/doc/")),
    `${what}: docs outside the doc directory`,
  ).toEqual([]);
  expect(
    all.filter((rel) => /musl/i.test(rel)),
    `${what}: musl builds`,
  ).toEqual([]);
  const elfs = all.filter((rel) => lstatSync(join(root, rel)).isFile() && isElf(join(root, rel)));
  expect(elfs.length, `${what}: koffi's library at least`).toBeGreaterThan(0);
  for (const rel of elfs) {
    const elf = elfFacts(join(root, rel));
    expect(elf.machine, `${what}: ${rel}`).toBe(cpu.machine);
    expect(elf.interpreter ?? "", `${what}: ${rel}`).not.toMatch(/ld-musl/);
    expect(
      elf.needed.filter((lib) => lib.startsWith("libc.musl")),
      `${what}: ${rel}`,
    ).toEqual([]);
    expect(elf.needed, `${what}: ${rel} links glibc`).toContain("libc.so.6");
  }
  for (const program of ["kvp-agent", "kvp-pool"]) {
    expect(all, what).toContain(`usr/bin/${program}`);
    expect(all, what).toContain(`usr/share/man/man1/${program}.1.gz`);
  }
}

/**
 * Pool files as hv_kvp_daemon keeps them (one record: a 512-byte key and a 2048-byte value,
 * each UTF-8 padded with NULs): pool 0 from the host, pool 3 its facts, the rest empty.
 */
function writePools(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const record = (key: string, value: string) => {
    const bytes = Buffer.alloc(2560);
    bytes.write(key, 0, "utf8");
    bytes.write(value, 512, "utf8");
    return bytes;
  };
  writeFileSync(
    join(dir, ".kvp_pool_0"),
    Buffer.concat([record("Role", "web"), record("cloudstack-vm-userdata", "type=router;name=r-1")]),
  );
  writeFileSync(join(dir, ".kvp_pool_3"), record("HostName", "hv-01"));
  for (const pool of [1, 2, 4]) writeFileSync(join(dir, `.kvp_pool_${pool}`), "");
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

it("checks every guest package the release contract names", () => {
  const debs = CPUS.flatMap((cpu) =>
    ["kvp-agent", "kvp-agent-standalone"].map((form) => `${form}_${debianVersion(VERSION)}_${cpu.deb}.deb`),
  );
  const rpms = CPUS.flatMap((cpu) =>
    ["kvp-agent", "kvp-agent-standalone"].map((form) => `${form}-${rpmVersion(VERSION)}-1.${cpu.rpm}.rpm`),
  );
  const tars = CPUS.map((cpu) => `kvp-agent-standalone-${VERSION}-linux-${cpu.node}.tar.gz`);
  expect([...debs, ...rpms, ...tars].sort()).toEqual(
    [
      ...NAMES.guestDeb,
      ...NAMES.standaloneDeb,
      ...NAMES.guestRpm,
      ...NAMES.standaloneRpm,
      ...NAMES.standaloneTar,
    ].sort(),
  );
});

describe("the guest .debs", () => {
  beforeAll(() => {
    need("lintian", "lintian");
    need("dpkg-deb", "dpkg");
    need("readelf", "binutils");
  });

  for (const cpu of CPUS) {
    for (const form of ["kvp-agent", "kvp-agent-standalone"] as const) {
      const name = `${form}_${debianVersion(VERSION)}_${cpu.deb}.deb`;

      it(`${name}: lintian finds no error or warning, and the overrides it ships are all used`, () => {
        const deb = artifact(name);
        // Overridden findings print as O: (with --show-overrides lintian would count them
        // for --fail-on), so the verdict is read from the lines: no E: or W: left.
        const result = run("lintian", ["--fail-on", "none", "--display-info", "--show-overrides", deb]);
        expect(result.status, result.stdout + result.stderr).toBe(0);
        const lines = result.stdout.split("\n").filter(Boolean);
        expect(
          lines.filter((line) => /^[EW]: /.test(line)),
          result.stdout,
        ).toEqual([]);
        expect(lines.filter((line) => /unused-override|mismatched-override/.test(line))).toEqual([]);
        const overridden = lines
          .filter((line) => line.startsWith("O: "))
          .map((line) => line.replace(/^O: [^:]+: /, ""));
        expect(overridden.sort()).toEqual(form === "kvp-agent" ? [] : shippedOverrides().sort());
      });

      it(`${name}: names its version, CPU and dependencies as designed`, () => {
        const deb = artifact(name);
        const field = (f: string) => run("dpkg-deb", ["--field", deb, f]).stdout.trim();
        expect(field("Package")).toBe(form);
        expect(field("Version")).toBe(debianVersion(VERSION));
        expect(field("Architecture")).toBe(cpu.deb);
        expect(field("Maintainer")).toBe(MAINTAINER);
        expect(field("Homepage")).toBe("https://github.com/hyperv-kvp/hyperv-kvp");
        expect(field("Recommends")).toBe("hyperv-daemons | linux-cloud-tools-virtual");
        if (form === "kvp-agent") {
          // koffi's binary: GLIBC_2.25, CXXABI_1.3.11 (GCC 7.1); no GCC_ symbol versions.
          expect(field("Depends")).toBe("nodejs (>= 18), libc6 (>= 2.25), libgcc-s1, libstdc++6 (>= 7.1)");
          expect(field("Conflicts")).toBe("kvp-agent-standalone");
          expect(field("Replaces")).toBe("kvp-agent-standalone");
          expect(field("Provides")).toBe("");
        } else {
          // Node 22's official build: GLIBC_2.28; no nodejs.
          expect(field("Depends")).toBe(`libc6 (>= 2.28), libgcc-s1 (>= ${cpu.libgcc}), libstdc++6 (>= 7.1)`);
          expect(field("Conflicts")).toBe("kvp-agent");
          expect(field("Replaces")).toBe("kvp-agent");
          expect(field("Provides")).toBe(`kvp-agent (= ${debianVersion(VERSION)})`);
        }
      });

      it(`${name}: holds only what runs on ${cpu.deb} with glibc, root-owned, and a changelog of this version`, () => {
        const deb = artifact(name);
        const listing = run("dpkg-deb", ["--contents", deb]).stdout.trim().split("\n");
        for (const line of listing) expect(line.split(/\s+/)[1], line).toBe("root/root");
        const root = tempDir(`deb-${cpu.deb}`);
        expect(run("dpkg-deb", ["--extract", deb, root]).status).toBe(0);
        checkContents(root, cpu, name);
        const changelog = readFileSync(join(root, `usr/share/doc/${form}/changelog.gz`));
        const first = spawnSync("gzip", ["-dc"], { input: changelog, encoding: "utf8" }).stdout.split("\n")[0];
        expect(first).toBe(`${form} (${debianVersion(VERSION)}) unstable; urgency=medium`);
      });
    }
  }
});

describe("the guest .rpms", () => {
  beforeAll(() => {
    need("rpmlint", "rpmlint");
    need("rpm", "rpm");
    need("rpm2archive", "rpm");
    need("readelf", "binutils");
  });

  for (const cpu of CPUS) {
    for (const form of ["kvp-agent", "kvp-agent-standalone"] as const) {
      const name = `${form}-${rpmVersion(VERSION)}-1.${cpu.rpm}.rpm`;
      const query = (rpm: string, args: string[]) => {
        const result = run("rpm", ["-qp", ...args, rpm]);
        expect(result.status, result.stderr).toBe(0);
        return result.stdout;
      };

      it(`${name}: rpmlint, with the repository's settings and the package's rpmlintrc, finds nothing`, () => {
        const rpm = artifact(name);
        const result = run("rpmlint", [
          "-c",
          join(PACKAGING, "rpm/rpmlint.toml"),
          "-r",
          join(PACKAGING, `rpm/${form}.rpmlintrc`),
          rpm,
        ]);
        expect(result.stdout).toMatch(/1 packages and 0 specfiles checked; 0 errors, 0 warnings/);
        expect(result.status, result.stdout + result.stderr).toBe(0);
      });

      it(`${name}: names its version, CPU and dependencies as designed`, () => {
        const rpm = artifact(name);
        expect(query(rpm, ["--queryformat", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{URL}\n"])).toBe(
          `${form} ${rpmVersion(VERSION)} 1 ${cpu.rpm} https://github.com/hyperv-kvp/hyperv-kvp\n`,
        );
        expect(query(rpm, ["--queryformat", "%{PACKAGER}"])).toBe(MAINTAINER);
        const requires = query(rpm, ["--requires"]).trim().split("\n");
        expect(query(rpm, ["--recommends"])).toBe("hypervkvpd\n");
        if (form === "kvp-agent") {
          // RHEL's nodejs has Epoch 1: without it, 1:16 would satisfy ">= 18".
          expect(requires).toContain("nodejs >= 1:18");
          expect(requires).toContain("libc.so.6(GLIBC_2.25)(64bit)");
          expect(requires.filter((r) => /GLIBC_2\.(2[6-9]|[3-9]\d)\)/.test(r))).toEqual([]);
          expect(query(rpm, ["--conflicts"])).toBe("kvp-agent-standalone\n");
        } else {
          expect(requires.filter((r) => /node/.test(r))).toEqual([]);
          expect(requires).toContain("libc.so.6(GLIBC_2.28)(64bit)");
          expect(requires.filter((r) => /GLIBC_2\.(29|[3-9]\d)\)/.test(r))).toEqual([]);
          expect(query(rpm, ["--conflicts"])).toBe("kvp-agent\n");
          expect(query(rpm, ["--provides"]).split("\n")).toContain(`kvp-agent = ${rpmVersion(VERSION)}-1`);
        }
        // Nothing offered to other packages from the private directory (koffi.node, the kvp-lock addon).
        expect(
          query(rpm, ["--provides"])
            .split("\n")
            .filter((p) => /koffi|kvp-lock/.test(p)),
        ).toEqual([]);
        expect(query(rpm, ["--configfiles"])).toBe("/etc/kvp-agent/config.example.json\n");
        expect(query(rpm, ["--changelog"]).split("\n")[0]).toMatch(
          new RegExp(
            `^\\* \\w{3} \\w{3} \\d{2} \\d{4} ${MAINTAINER.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} - ${rpmVersion(VERSION).replace(/[.~]/g, "\\$&")}-1$`,
          ),
        );
        // The scriptlets: a nodejs guard for the Node form, the unit's preset and `forget` on erase.
        const scripts = query(rpm, ["--scripts"]);
        expect(scripts.includes("preinstall scriptlet")).toBe(form === "kvp-agent");
        expect(scripts).toContain("systemctl --no-reload preset kvp-agent.service");
        expect(scripts).toContain("/usr/bin/kvp-agent forget");
      });

      it(`${name}: holds only what runs on ${cpu.rpm} with glibc, with RPM's paths`, () => {
        const rpm = artifact(name);
        const root = tempDir(`rpm-${cpu.rpm}`);
        const archive = spawnSync("rpm2archive", ["-"], { input: readFileSync(rpm), maxBuffer: 512 * 1024 * 1024 });
        expect(archive.status, String(archive.stderr)).toBe(0);
        const untar = spawnSync("tar", ["-xzf", "-", "-C", root], { input: archive.stdout });
        expect(untar.status, String(untar.stderr)).toBe(0);
        checkContents(root, cpu, name);
        const all = files(root);
        expect(all).toContain("usr/lib/systemd/system/kvp-agent.service");
        expect(all).toContain("usr/lib/systemd/system-preset/80-kvp-agent.preset");
        expect(all).toContain(`usr/share/licenses/${form}/copyright`);
        expect(all.filter((rel) => rel.startsWith("lib/"))).toEqual([]);
      });
    }
  }
});

describe("the kvp-agent packages' programs, on Node 18 (Debian 12's nodejs)", () => {
  beforeAll(() => {
    need("dpkg-deb", "dpkg");
    need("rpm2archive", "rpm");
  });

  for (const cpu of CPUS) {
    it(`${cpu.deb}: the .deb and the .rpm carry the same programs and koffi; both tools run on Node 18.20.4 for ${cpu.node}${cpu.node === "x64" ? "" : " (under qemu-user)"}, koffi taking the locks`, () => {
      const fromDeb = tempDir(`node-deb-${cpu.deb}`);
      expect(
        run("dpkg-deb", ["--extract", artifact(`kvp-agent_${debianVersion(VERSION)}_${cpu.deb}.deb`), fromDeb]).status,
      ).toBe(0);
      const fromRpm = tempDir(`node-rpm-${cpu.rpm}`);
      const archive = spawnSync("rpm2archive", ["-"], {
        input: readFileSync(artifact(`kvp-agent-${rpmVersion(VERSION)}-1.${cpu.rpm}.rpm`)),
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(spawnSync("tar", ["-xzf", "-", "-C", fromRpm], { input: archive.stdout }).status).toBe(0);
      const lib = files(join(fromDeb, "usr/lib/kvp-agent"));
      expect(lib).toEqual(files(join(fromRpm, "usr/lib/kvp-agent")));
      // The kvp-lock addon beside the bundles: the pool lock without koffi.
      expect(lib).toContain(`kvp-lock.linux-${cpu.node}.node`);
      for (const rel of lib)
        expect(sha256(join(fromRpm, "usr/lib/kvp-agent", rel)), rel).toBe(
          sha256(join(fromDeb, "usr/lib/kvp-agent", rel)),
        );

      let node: string;
      try {
        node = fetchNode(`linux-${cpu.node}@18.20.4`);
      } catch (error) {
        throw new Error(
          `no Node 18.20.4 for ${cpu.node} (npm registry's node-linux-${cpu.node}): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      let wrap: string[] = [];
      if (cpu.node !== process.arch) {
        needEmulator();
        wrap = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"];
      }
      const pools = join(tempDir(`node-pools-${cpu.node}`), "hyperv");
      writePools(pools);
      const runNode = (script: string, args: string[]) => {
        const [file, ...pre] = [...wrap, node];
        return run(file!, [...pre, join(fromDeb, "usr/lib/kvp-agent", script), ...args], {
          env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
        });
      };
      const got = runNode("kvp-pool.cjs", ["--dir", pools, "get", "Role", "--pool", "external"]);
      expect(got.status, got.stderr).toBe(0);
      expect(got.stdout).toBe("web\n");
      writeFileSync(join(pools, "..", "config.json"), "{}\n");
      const once = runNode("kvp-agent.cjs", [
        "once",
        "--config",
        join(pools, "..", "config.json"),
        "--dir",
        pools,
        "--state-dir",
        join(pools, "..", "state"),
      ]);
      expect(once.status, once.stderr).toBe(0);
      expect(once.stdout).toBe("stopped: 2 item(s), 1 fact(s)\n");
      expect(JSON.parse(readFileSync(join(pools, "..", "state", "host.json"), "utf8"))).toEqual({
        Role: "web",
        "cloudstack-vm-userdata": "type=router;name=r-1",
      });
    });
  }
});

describe("the Node-free tarballs and the program in them", () => {
  beforeAll(() => {
    need("tar", "tar");
    need("readelf", "binutils");
  });

  /** The tarball of `cpu` unpacked (once per CPU). */
  const unpacked = new Map<string, string>();
  const unpack = (cpu: Cpu) => {
    let root = unpacked.get(cpu.node);
    if (root === undefined) {
      root = tempDir(`tar-${cpu.node}`);
      const result = run("tar", [
        "-xzf",
        artifact(`kvp-agent-standalone-${VERSION}-linux-${cpu.node}.tar.gz`),
        "-C",
        root,
      ]);
      expect(result.status, result.stderr).toBe(0);
      unpacked.set(cpu.node, root);
    }
    return root;
  };

  for (const cpu of CPUS) {
    const name = `kvp-agent-standalone-${VERSION}-linux-${cpu.node}.tar.gz`;
    it(`${name}: a root-owned tree of etc/ and usr/ to unpack into /, with relative links, an INSTALL note and the unit`, () => {
      const listing = run("tar", ["-tvzf", artifact(name), "--numeric-owner"])
        .stdout.trim()
        .split("\n");
      for (const line of listing) expect(line.split(/\s+/)[1], line).toBe("0/0");
      const paths = run("tar", ["-tzf", artifact(name)])
        .stdout.trim()
        .split("\n");
      expect(paths.filter((p) => !/^(etc|usr)\//.test(p))).toEqual([]);
      const root = unpack(cpu);
      checkContents(root, cpu, name);
      for (const program of ["kvp-agent", "kvp-pool"])
        expect(readlinkSync(join(root, "usr/bin", program))).toBe("../lib/kvp-agent/kvp-agent-standalone");
      expect(files(root)).toEqual(
        expect.arrayContaining([
          "usr/lib/systemd/system/kvp-agent.service",
          "usr/share/doc/kvp-agent-standalone/INSTALL",
          "usr/share/doc/kvp-agent-standalone/LICENSE.node",
          "etc/kvp-agent/config.example.json",
        ]),
      );
      expect(readFileSync(join(root, "usr/share/doc/kvp-agent-standalone/INSTALL"), "utf8")).toContain(
        `tar -xzf ${name} -C / --no-overwrite-dir`,
      );
    });

    it(`${cpu.node}: the .deb, the .rpm and the tarball carry the same program and koffi`, () => {
      const fromTar = unpack(cpu);
      const fromDeb = tempDir(`same-${cpu.deb}`);
      expect(
        run("dpkg-deb", [
          "--extract",
          artifact(`kvp-agent-standalone_${debianVersion(VERSION)}_${cpu.deb}.deb`),
          fromDeb,
        ]).status,
      ).toBe(0);
      const fromRpm = tempDir(`same-${cpu.rpm}`);
      const archive = spawnSync("rpm2archive", ["-"], {
        input: readFileSync(artifact(`kvp-agent-standalone-${rpmVersion(VERSION)}-1.${cpu.rpm}.rpm`)),
        maxBuffer: 512 * 1024 * 1024,
      });
      expect(spawnSync("tar", ["-xzf", "-", "-C", fromRpm], { input: archive.stdout }).status).toBe(0);
      const lib = files(join(fromTar, "usr/lib/kvp-agent"));
      expect(lib).toContain("kvp-agent-standalone");
      // The kvp-lock addon beside the executable: the pool lock without koffi.
      expect(lib).toContain(`kvp-lock.linux-${cpu.node}.node`);
      for (const rel of lib) {
        const digest = sha256(join(fromTar, "usr/lib/kvp-agent", rel));
        expect(sha256(join(fromDeb, "usr/lib/kvp-agent", rel)), rel).toBe(digest);
        expect(sha256(join(fromRpm, "usr/lib/kvp-agent", rel)), rel).toBe(digest);
      }
    });
  }

  /**
   * Runs a tool of the unpacked tree through its link, as users do; `emulate` runs it under
   * qemu-user with arm64's glibc.
   */
  const tool = (root: string, name: string, args: string[], emulate = false) => {
    const program = join(root, "usr/bin", name);
    const [file, pre] = emulate ? ["qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", program]] : [program, []];
    return run(file, [...pre, ...args], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" } });
  };

  const exercise = (cpu: Cpu, emulate: boolean) => {
    const root = unpack(cpu);
    const agentHelp = tool(root, "kvp-agent", ["--help"], emulate);
    expect(agentHelp.status, agentHelp.stderr).toBe(0);
    expect(agentHelp.stdout).toMatch(/^Usage: kvp-agent \[options\] \[command\]/);
    const poolHelp = tool(root, "kvp-pool", ["--help"], emulate);
    expect(poolHelp.status, poolHelp.stderr).toBe(0);
    expect(poolHelp.stdout).toMatch(/^Usage: kvp-pool \[options\] \[command\]/);
    // The program itself, called by its own name, wants the tool named first.
    const bare = run(
      emulate ? "qemu-aarch64" : join(root, "usr/lib/kvp-agent/kvp-agent-standalone"),
      emulate ? ["-L", "/usr/aarch64-linux-gnu", join(root, "usr/lib/kvp-agent/kvp-agent-standalone")] : [],
    );
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/^kvp-agent-standalone: no tool named; usage: kvp-agent-standalone agent\|pool/);

    // kvp-pool reads under the daemon's locks, taken through koffi's library beside the program.
    const pools = join(tempDir(`pools-${cpu.node}`), "hyperv");
    writePools(pools);
    const external = tool(root, "kvp-pool", ["--dir", pools, "list", "--pool", "external"], emulate);
    expect(external.status, external.stderr).toBe(0);
    expect(external.stdout).toBe("# pool 0 (external)\nRole = web\ncloudstack-vm-userdata = type=router;name=r-1\n");
    const facts = tool(root, "kvp-pool", ["--dir", pools, "list", "--pool", "auto-external"], emulate);
    expect(facts.stdout).toBe("# pool 3 (auto-external)\nHostName = hv-01\n");
    const set = tool(root, "kvp-pool", ["--dir", pools, "set", "ReadyState", "ready"], emulate);
    expect(set.status, set.stderr).toBe(0);
    const got = run(emulate ? "qemu-aarch64" : join(root, "usr/lib/kvp-agent/kvp-agent-standalone"), [
      ...(emulate ? ["-L", "/usr/aarch64-linux-gnu", join(root, "usr/lib/kvp-agent/kvp-agent-standalone")] : []),
      "pool",
      "--dir",
      pools,
      "get",
      "ReadyState",
    ]);
    expect(got.status, got.stderr).toBe(0);
    expect(got.stdout).toBe("ready\n");
    expect(readFileSync(join(pools, ".kvp_pool_1")).subarray(0, 10).toString("latin1")).toBe("ReadyState");
  };

  it("x64: the program runs directly: both tools' help, and kvp-pool lists, sets and gets on pools written here", () => {
    exercise(CPUS[0], false);
  });

  it("arm64: the program runs under qemu-user with arm64's glibc: both tools, and koffi's arm64 library takes the locks", () => {
    needEmulator();
    exercise(CPUS[1], true);
  });
});

/** Fails unless qemu-user and arm64's glibc and C++ runtime are installed. */
function needEmulator(): void {
  need("qemu-aarch64", "qemu-user");
  for (const lib of ["lib/ld-linux-aarch64.so.1", "lib/libstdc++.so.6", "lib/libgcc_s.so.1"]) {
    if (!lstatExists(join("/usr/aarch64-linux-gnu", lib))) {
      throw new Error(
        `/usr/aarch64-linux-gnu/${lib} is missing: apt-get install libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross (scripts/setup.sh --for-tests does)`,
      );
    }
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
