// The older build an upgrade check starts from: the release's own builder, run on this tree
// with a lower version (`--version`, semver: the builders spell it for Debian and rpm), so
// `dpkg -i` / `rpm -U` of the release is an upgrade.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describeResult, runHere } from "./chroot-root.js";
import { REPO_ROOT } from "./support.js";

/**
 * A semver version older than `version` in semver's, Debian's and rpm's order alike.
 * A release `1.2.0` gets the pre-release `1.2.0-test0` (Debian and rpm spell it `1.2.0~test0`,
 * and sort `~` before the end). A pre-release cannot take another suffix safely (Debian
 * would read `1.2.0~rc.1-test0` as a newer revision), so its core goes down instead:
 * `1.2.1-rc.1` → `1.2.0`, `1.2.0-rc.1` → `1.1.9999`, `1.0.0-rc.1` → `0.9999.9999`.
 * @throws Error for a version that is not semver, or `0.0.0-…` (nothing is older).
 */
export function olderVersion(version: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+.*)?$/.exec(version);
  if (!match) throw new Error(`not a semver version: ${JSON.stringify(version)}`);
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (match[4] === undefined) return `${major}.${minor}.${patch}-test0`;
  if (patch > 0) return `${major}.${minor}.${patch - 1}`;
  if (minor > 0) return `${major}.${minor - 1}.9999`;
  if (major > 0) return `${major - 1}.9999.9999`;
  throw new Error(`no version is older than ${version}`);
}

/**
 * Runs a builder of the release (a path under the repository, e.g.
 * `apps/guest-agent/packaging/build-deb.mjs`) with `--no-build` (the bundles are built: the
 * release's build step, or setup.sh, built them), `args` and `--out out`.
 * @returns the paths it printed (one per artifact).
 * @throws Error with the builder's output when it fails.
 */
export async function buildOlder(builder: string, args: readonly string[], out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const argv = [join(REPO_ROOT, builder), "--no-build", ...args, "--out", out];
  const result = await runHere(process.execPath, argv, { cwd: REPO_ROOT, deadlineMs: 600_000 });
  if (result.status !== 0) throw new Error(describeResult(`node ${builder} ${args.join(" ")}`, result));
  return result.stdout.split("\n").filter(Boolean);
}
