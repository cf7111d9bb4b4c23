// The older build an upgrade check starts from: the release's own builder, run on this tree
// with a lower version (`--version`), so `dpkg -i` / `rpm -U` of the release is an upgrade.
// Debian and rpm both sort `~` before the end of a version: 1.2.0~test0 < 1.2.0, and
// 1.2.0~rc.1~test0 < 1.2.0~rc.1.
import { join } from "node:path";
import { describeResult, runHere } from "./chroot-root.js";
import { REPO_ROOT } from "./support.js";

/** The suffix that makes a version older than the release's, in Debian's and rpm's order. */
export const OLDER_SUFFIX = "~test0";

/**
 * Runs a builder of the release (a path under the repository, e.g.
 * `apps/guest-agent/packaging/build-deb.mjs`) with `--no-build` (the bundles are built: the
 * release's build step, or setup.sh, built them), `args` and `--out out`.
 * @returns the paths it printed (one per artifact).
 * @throws Error with the builder's output when it fails.
 */
export async function buildOlder(builder: string, args: readonly string[], out: string): Promise<string[]> {
  const argv = [join(REPO_ROOT, builder), "--no-build", ...args, "--out", out];
  const result = await runHere(process.execPath, argv, { cwd: REPO_ROOT, deadlineMs: 600_000 });
  if (result.status !== 0) throw new Error(describeResult(`node ${builder} ${args.join(" ")}`, result));
  return result.stdout.split("\n").filter(Boolean);
}
