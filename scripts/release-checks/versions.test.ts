// One version, everywhere: after `changeset version`, every artifact of the release says the
// new version — in its name, in its package metadata, in every program's `--version`, and in
// the agent's kvp-agent/version record to the host. Made in a copy of this tree
// (bumped-release.ts), so nothing here depends on the release under test in release/.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { debianVersion, rpmVersion } from "../lib/versions.mjs";
import { type BumpedRelease, makeBumpedRelease } from "./bumped-release.js";
import { WINESERVER, run as runOn, winePlatform } from "./platforms.js";
import { NPM_PACKAGES, expectedArtifacts } from "./support.js";
import { unpack } from "./unpack.js";

let bumped: BumpedRelease;
const scratch = mkdtempSync(join(tmpdir(), "kvp-versions-"));
mkdirSync(join(scratch, "wine"));

beforeAll(() => {
  bumped = makeBumpedRelease();
}, 3_600_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (bumped) rmSync(join(bumped.tree, ".."), { recursive: true, force: true });
});

/** Runs a program of the release; its stdout, or a thrown error with everything it said. */
function output(file: string, args: readonly string[]): string {
  const run = spawnSync(file, [...args], {
    encoding: "utf8",
    env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
    timeout: 60_000,
  });
  if (run.error || run.status !== 0)
    throw new Error(
      `${file} ${args.join(" ")}: ${run.error?.message ?? `exit ${run.status}`}\n${run.stderr}${run.stdout}`,
    );
  return run.stdout;
}

const artifactOf = (name: string) => join(bumped.releaseDir, name);

describe("a release made after `changeset version`", () => {
  it("moved every package of the workspace to one new version", () => {
    expect(bumped.to).not.toBe(bumped.from);
    const dirs = ["packages", "apps"].flatMap((top) =>
      readdirSync(join(bumped.tree, top)).map((name) => `${top}/${name}`),
    );
    for (const dir of dirs) {
      const { version } = JSON.parse(readFileSync(join(bumped.tree, dir, "package.json"), "utf8")) as {
        version: string;
      };
      expect(version, dir).toBe(bumped.to);
    }
  });

  it("names every artifact with the new version", () => {
    const present = readdirSync(bumped.releaseDir).filter((name) => name !== "SHA256SUMS");
    expect(present.sort()).toEqual(Object.values(expectedArtifacts(bumped.to)).flat().sort());
  });

  it("npm tarballs: package.json says it, and the bundled CLIs print it", () => {
    for (const [i, name] of expectedArtifacts(bumped.to).npm.entries()) {
      const dir = unpack(artifactOf(name), join(scratch, `npm-${i}`));
      const pkg = JSON.parse(readFileSync(join(dir, "package", "package.json"), "utf8")) as {
        name: string;
        version: string;
        dependencies?: Record<string, string>;
      };
      expect(pkg.version, name).toBe(bumped.to);
      // Internal dependencies point at this very version, not at the one before.
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
        if (dep.startsWith("@hyperv-kvp/")) expect(range, `${name}: ${dep}`).toContain(bumped.to);
      }
      if (NPM_PACKAGES[i] === "apps/host-cli")
        expect(output(process.execPath, [join(dir, "package/dist/kvp-host.cjs"), "--version"])).toBe(`${bumped.to}\n`);
      if (NPM_PACKAGES[i] === "apps/pool-tools")
        expect(output(process.execPath, [join(dir, "package/dist/kvp-pool.cjs"), "--version"])).toBe(`${bumped.to}\n`);
    }
  });

  it("kvp-host for Linux prints it, and kvp-host.exe under Wine", async () => {
    const [windows, linux] = expectedArtifacts(bumped.to).host;
    expect(output(artifactOf(linux!), ["--version"])).toBe(`${bumped.to}\n`);
    const wine = await winePlatform(join(scratch, "wine"));
    try {
      const run = await runOn(wine, artifactOf(windows!), ["--version"]);
      expect(run).toMatchObject({ code: 0, stdout: `${bumped.to}\n` });
    } finally {
      await runOn(wine, WINESERVER, ["-k"]).catch(() => undefined);
    }
  });

  it("guest .debs: Version, changelog and both programs say it", () => {
    for (const name of expectedArtifacts(bumped.to).guestDeb) {
      expect(output("dpkg-deb", ["--field", artifactOf(name), "Version"]).trim(), name).toBe(debianVersion(bumped.to));
      const root = unpack(artifactOf(name), join(scratch, name));
      // A native package (no Debian revision): its changelog is changelog.gz.
      const changelog = output("sh", [
        "-c",
        'gzip -dc "$1" | head -n 1',
        "sh",
        join(root, "usr/share/doc/kvp-agent/changelog.gz"),
      ]);
      expect(changelog, name).toContain(`(${debianVersion(bumped.to)}`);
      for (const bundle of ["kvp-agent.cjs", "kvp-pool.cjs"]) {
        expect(
          output(process.execPath, [join(root, "usr/lib/kvp-agent", bundle), "--version"]),
          `${name}: ${bundle}`,
        ).toBe(`${bumped.to}\n`);
      }
    }
  });

  it("guest .rpms: Version-Release and both programs say it", () => {
    for (const name of expectedArtifacts(bumped.to).guestRpm) {
      expect(output("rpm", ["-qp", "--qf", "%{VERSION}-%{RELEASE}", artifactOf(name)]), name).toBe(
        `${rpmVersion(bumped.to)}-1`,
      );
      const root = unpack(artifactOf(name), join(scratch, name));
      for (const bundle of ["kvp-agent.cjs", "kvp-pool.cjs"]) {
        expect(
          output(process.execPath, [join(root, "usr/lib/kvp-agent", bundle), "--version"]),
          `${name}: ${bundle}`,
        ).toBe(`${bumped.to}\n`);
      }
    }
  });

  it("the Node-free form: .deb, .rpm and .tar.gz say it, and so do both programs of each CPU", () => {
    const artifacts = expectedArtifacts(bumped.to);
    for (const name of artifacts.standaloneDeb)
      expect(output("dpkg-deb", ["--field", artifactOf(name), "Version"]).trim(), name).toBe(debianVersion(bumped.to));
    for (const name of artifacts.standaloneRpm)
      expect(output("rpm", ["-qp", "--qf", "%{VERSION}-%{RELEASE}", artifactOf(name)]), name).toBe(
        `${rpmVersion(bumped.to)}-1`,
      );
    for (const name of [...artifacts.standaloneDeb, ...artifacts.standaloneRpm, ...artifacts.standaloneTar]) {
      const root = unpack(artifactOf(name), join(scratch, name));
      // The arm64 program runs under qemu-user with arm64 glibc (scripts/setup.sh --for-tests).
      const prefix = /arm64|aarch64/.test(name) ? ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"] : [];
      for (const tool of ["kvp-agent", "kvp-pool"]) {
        const [program, ...args] = [...prefix, join(root, "usr/bin", tool), "--version"];
        expect(output(program!, args), `${name}: ${tool}`).toBe(`${bumped.to}\n`);
      }
    }
  });

  it("the agent reports it to the host as kvp-agent/version", () => {
    // The agent from the amd64 .deb (its koffi beside it), with this machine's Node, on a pool
    // directory of its own: `once` writes its records into pool 1 as it does for the host.
    const [deb] = expectedArtifacts(bumped.to).guestDeb;
    const root = unpack(artifactOf(deb!), join(scratch, "agent-report"));
    const pools = join(scratch, "agent-report-pools");
    mkdirSync(pools);
    for (const pool of [0, 1, 2, 3, 4] as const) writeFileSync(join(pools, poolFileName(pool)), "");
    output(process.execPath, [
      join(root, "usr/lib/kvp-agent/kvp-agent.cjs"),
      "--dir",
      pools,
      "--state-dir",
      join(scratch, "agent-report-state"),
      "once",
    ]);
    const records = decodePool(new Uint8Array(readFileSync(join(pools, poolFileName(1))))).records;
    expect(records.find((record) => record.key === "kvp-agent/version")?.value).toBe(bumped.to);
  });
});
