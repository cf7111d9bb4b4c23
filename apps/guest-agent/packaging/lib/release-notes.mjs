// The releases a package's changelog lists, read from this repository: the CHANGELOG.md files
// changesets writes for the apps a package ships, with dates from git (changesets records
// none). See changelog.mjs for the formats.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { compareSemver, mergeReleases, parseChangesetsChangelog } from "./changelog.mjs";

/**
 * What the changelog says of a version changesets has not written notes for (a build from
 * the sources between releases, or before the first `changeset version`).
 * @param {string} version
 * @returns {string}
 */
export function unreleasedNote(version) {
  return `Version ${version}, built from the hyperv-kvp sources; no release notes were written for it (changesets writes them into CHANGELOG.md at release).`;
}

/** Seconds since the epoch of a git commit touching `args`, or undefined outside git. */
function gitTime(cwd, args) {
  const result = spawnSync("git", ["log", "--format=%ct", ...args], { cwd, encoding: "utf8" });
  if (result.error || result.status !== 0) return undefined;
  const times = result.stdout.trim().split("\n").filter(Boolean).map(Number);
  // Newest first: the last is the commit that first added what was searched for.
  return times.length > 0 ? times.at(-1) : undefined;
}

/**
 * The releases up to `version` (semver) from `changelogFiles` (those that exist), newest
 * first, with dates. `version` itself is always the first: with its notes when a file has
 * them, else with {@link unreleasedNote}.
 *
 * Dates: the newest entry is $SOURCE_DATE_EPOCH when set (reproducible builds), else the time
 * of the checkout's last commit, else now; each older one the time of the commit that added
 * its "## VERSION" heading. Where git cannot tell (no repository, a shallow clone), an entry
 * gets one second before the entry after it, so the order both formats require holds.
 * @param {string} version
 * @param {string[]} changelogFiles
 * @returns {{ version: string, items: string[], date: Date }[]}
 */
export function releaseNotes(version, changelogFiles) {
  const present = changelogFiles.filter((file) => existsSync(file));
  const merged = mergeReleases(present.map((file) => parseChangesetsChangelog(readFileSync(file, "utf8"))));
  const releases = merged.filter((r) => compareSemver(r.version, version) <= 0);
  if (releases[0]?.version !== version) releases.unshift({ version, items: [unreleasedNote(version)] });

  const epoch = process.env["SOURCE_DATE_EPOCH"];
  const cwd = dirname(changelogFiles[0] ?? ".");
  const newest =
    epoch !== undefined && /^\d+$/.test(epoch)
      ? Number(epoch)
      : (gitTime(cwd, ["-1", "HEAD"]) ?? Math.floor(Date.now() / 1000));
  let previous = newest + 1;
  return releases.map((release, i) => {
    let seconds = i === 0 ? newest : undefined;
    if (seconds === undefined) {
      const escaped = release.version.replace(/[.+]/g, "\\$&");
      const found = present
        .map((file) => gitTime(dirname(file), ["-G", `^## ${escaped}$`, "--", basename(file)]))
        .filter((t) => t !== undefined);
      seconds = found.length > 0 ? Math.min(...found) : undefined;
    }
    if (seconds === undefined || seconds >= previous) seconds = previous - 1;
    previous = seconds;
    return {
      ...release,
      items: release.items.length > 0 ? release.items : ["No user-visible changes."],
      date: new Date(seconds * 1000),
    };
  });
}
