// Real Debian roots for the guest install checks: built by mmdebstrap from Debian's archive
// (Debian's own nodejs, libc, dpkg and package database), entered with chroot (chroot-root.ts).
// Packages are installed with the root's own dpkg and apt, so maintainer scripts run as in a
// template's build root: no systemd runs, nothing may be started.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChrootRoot, type CommandResult, describeResult, runHere } from "./chroot-root.js";

/** Longest a root build may take, in ms (a deadline against a stalled download). */
const BUILD_DEADLINE_MS = 900_000;

/** dpkg-query's format for {@link DebianRoot.packageState}: dpkg's own `${Field}` placeholders. */
const DPKG_QUERY_FORMAT = ["Status", "Version", "Installed-Size"].map((field) => `\${${field}}`).join("\t");

/** Options of {@link DebianRoot.build}. */
export interface DebianRootOptions {
  /** Debian suite: `bookworm` (12) or `bullseye` (11). */
  readonly suite: "bookworm" | "bullseye";
  /** Packages mmdebstrap installs besides the `apt` variant's (Priority: required + apt). */
  readonly include?: readonly string[];
}

/** What dpkg knows of one package in a root. */
export interface PackageState {
  /** dpkg's status line (`install ok installed`, `deinstall ok config-files`…), or `unknown` when dpkg has no record of it. */
  readonly status: string;
  /** The version dpkg has for it (empty when unknown). */
  readonly version: string;
  /** Installed-Size, KiB (0 when unknown). */
  readonly installedSizeKiB: number;
}

/** A Debian root made by mmdebstrap in a new directory under the temporary directory. */
export class DebianRoot extends ChrootRoot {
  /** Whether `apt-get update` ran (mmdebstrap empties the lists it used). */
  private updated = false;

  private constructor(
    path: string,
    workDir: string,
    /** The suite it was built from. */
    readonly suite: DebianRootOptions["suite"],
    /** How long mmdebstrap took, in seconds. */
    readonly buildSeconds: number,
  ) {
    super(path, workDir);
  }

  /**
   * Builds a root with `mmdebstrap --variant=apt [--include=…] SUITE DIR` from Debian's
   * archive (sources: the suite, its updates and its security suite, as mmdebstrap writes
   * them). About 15 s and 270 MB here.
   * @throws Error with mmdebstrap's last output lines when it fails.
   */
  static async build(options: DebianRootOptions): Promise<DebianRoot> {
    const workDir = mkdtempSync(join(tmpdir(), `kvp-release-${options.suite}-`));
    const path = join(workDir, "root");
    const include = options.include?.length ? [`--include=${options.include.join(",")}`] : [];
    const result = await runHere("mmdebstrap", ["--variant=apt", ...include, options.suite, path], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
      deadlineMs: BUILD_DEADLINE_MS,
    });
    const root = new DebianRoot(path, workDir, options.suite, result.ms / 1000);
    if (result.status !== 0) {
      await root.destroy();
      const tail = `${result.stderr}${result.stdout}`.trim().split("\n").slice(-15).join("\n");
      throw new Error(
        `mmdebstrap ${options.suite} (${options.include?.join(",") ?? "no extra packages"}) failed (exit ${result.status}); its last lines:\n${tail}`,
      );
    }
    return root;
  }

  /** What the root's dpkg knows of `name`. */
  async packageState(name: string): Promise<PackageState> {
    const result = await this.run(["dpkg-query", "--show", `--showformat=${DPKG_QUERY_FORMAT}`, name]);
    if (result.status !== 0) {
      if (/no packages found matching/.test(result.stderr))
        return { status: "unknown", version: "", installedSizeKiB: 0 };
      throw new Error(describeResult(`dpkg-query --show ${name}`, result));
    }
    const [status = "", version = "", size = ""] = result.stdout.split("\t");
    return { status, version, installedSizeKiB: Number(size) || 0 };
  }

  /**
   * `apt-get install -y --no-install-recommends ARGS` in the root (after `apt-get update`
   * the first time). `pkg/suite` picks a package from one suite only.
   */
  async aptInstall(args: readonly string[]): Promise<CommandResult> {
    if (!this.updated) {
      await this.runOk(["apt-get", "update", "-q"], { deadlineMs: 300_000 });
      this.updated = true;
    }
    return this.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", ...args], { deadlineMs: 600_000 });
  }
}
