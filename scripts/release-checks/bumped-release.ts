// A release of the next version, made the way maintainers make one: a copy of this tree, a
// changeset, `changeset version`, `pnpm release`. versions.test.ts checks that every artifact
// then carries the new version, so no place keeps a version by hand.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./support.js";

/** What {@link makeBumpedRelease} made. */
export interface BumpedRelease {
  /** The copy of the repository, after `changeset version`. */
  readonly tree: string;
  /** Its release directory. */
  readonly releaseDir: string;
  /** The version before. */
  readonly from: string;
  /** The version `changeset version` moved every package to. */
  readonly to: string;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 1_800_000): string {
  const result = spawnSync(command, [...args], { cwd, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (result.error || result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} in ${cwd} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}${result.stdout}`.slice(
        0,
        20_000,
      ),
    );
  }
  return result.stdout;
}

function versionIn(tree: string, packageDir: string): string {
  return (JSON.parse(readFileSync(join(tree, packageDir, "package.json"), "utf8")) as { version: string }).version;
}

/**
 * Copies the working tree (tracked files and new files git does not ignore, so what is being
 * changed is what is checked), installs its dependencies from pnpm's store, adds a minor
 * changeset for kvp-core (the fixed group moves every package with it), runs `changeset
 * version`, then builds the whole release in the copy.
 */
export function makeBumpedRelease(): BumpedRelease {
  const tree = join(mkdtempSync(join(tmpdir(), "kvp-bumped-")), "hyperv-kvp");
  run(
    "sh",
    [
      "-c",
      'mkdir -p "$1" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$1"',
      "sh",
      tree,
    ],
    REPO_ROOT,
  );
  const from = versionIn(tree, "packages/kvp-core");
  run("pnpm", ["install", "--frozen-lockfile", "--offline", "--reporter=silent"], tree);
  writeFileSync(
    join(tree, ".changeset", "release-check-bump.md"),
    '---\n"@hyperv-kvp/kvp-core": minor\n---\n\nThe release check moves every package to the next version.\n',
  );
  run("pnpm", ["exec", "changeset", "version"], tree);
  const to = versionIn(tree, "packages/kvp-core");
  const releaseDir = join(tree, "release");
  run(process.execPath, ["scripts/release.mjs", "--out", releaseDir], tree);
  return { tree, releaseDir, from, to };
}
