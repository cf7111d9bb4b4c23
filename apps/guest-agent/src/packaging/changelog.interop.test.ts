// The packages' changelogs from changesets' CHANGELOG.md (packaging/lib/changelog.mjs): the
// sample below is in the format `changeset version` writes (hash-prefixed items, continuation
// lines indented by two, "Updated dependencies" items, an item that is itself a list, the same
// item in two packages' files), and what comes out must be what dpkg-parsechangelog and rpm
// read. Needs dpkg-parsechangelog (dpkg-dev) and rpmbuild's rpmspec (rpm): missing, the tests
// fail (see test-support/packaging-support.ts).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import {
  changesOf,
  compareSemver,
  debianChangelog,
  mergeReleases,
  parseChangesetsChangelog,
  reflow,
  rpmChangelog,
} from "../../packaging/lib/changelog.mjs";
import { describeNeeding, hasProgram, removeTempDirs, runSync, tempDir } from "./test-support/packaging-support.js";

afterAll(removeTempDirs);

const AGENT = `# @hyperv-kvp/guest-agent

## 0.2.0

### Minor Changes

- 2333ea8: Guest packages for x86_64 and arm64, each passing its distribution's linter:

  - \`kvp-agent\` \`.deb\` and \`.rpm\` run on the system's Node.js 18 or later.
  - \`kvp-agent-standalone\` needs no Node.js: one executable with Node.js 22 inside runs
    \`kvp-agent\` or \`kvp-pool\` by the name it is called as.

### Patch Changes

- fa07b94: Hardening from review: a hook that cannot be started is a result, 100% of the time.
- Updated dependencies [fa07b94]
  - @hyperv-kvp/pool-file@0.2.0

## 0.1.0

### Minor Changes

- 9c225a6: - New \`kvp-agent\`: harvests what the host sends (pools 0 and 3)
    into \`/run/kvp-agent\`.
  - Long values: kvp-core \`splitValue\` stores a value longer than the host receives whole
    as parts \`KEY#1/N\` … \`KEY#N/N\`.
`;

const POOL_TOOLS = `# @hyperv-kvp/pool-tools

## 0.2.0

### Patch Changes

- fa07b94: Hardening from review: a hook that cannot be started is a result, 100% of the time.
- Updated dependencies [fa07b94]
  - @hyperv-kvp/kvp-core@0.2.0

## 0.1.0

### Minor Changes

- 1482171: First release of the foundation.
`;

it("parses releases newest first, items without hashes or dependency noise, continuation lines joined", () => {
  const releases = parseChangesetsChangelog(AGENT);
  expect(releases.map((r) => r.version)).toEqual(["0.2.0", "0.1.0"]);
  expect(releases[0]!.items).toEqual([
    "Guest packages for x86_64 and arm64, each passing its distribution's linter:\n\n- `kvp-agent` `.deb` and `.rpm` run on the system's Node.js 18 or later.\n- `kvp-agent-standalone` needs no Node.js: one executable with Node.js 22 inside runs\n  `kvp-agent` or `kvp-pool` by the name it is called as.",
    "Hardening from review: a hook that cannot be started is a result, 100% of the time.",
  ]);
  expect(releases[1]!.items).toHaveLength(1);
});

it("merges the apps' files by version, an item in both once", () => {
  const merged = mergeReleases([parseChangesetsChangelog(AGENT), parseChangesetsChangelog(POOL_TOOLS)]);
  expect(merged.map((r) => [r.version, r.items.length])).toEqual([
    ["0.2.0", 2],
    ["0.1.0", 2],
  ]);
});

it("orders versions as semver does: a pre-release before its release, numbers numerically", () => {
  const versions = ["0.10.0", "0.2.0", "1.0.0-rc.1", "1.0.0", "0.2.0-beta.2", "0.2.0-beta.10"];
  expect([...versions].sort(compareSemver)).toEqual([
    "0.2.0-beta.10",
    "0.2.0-beta.2",
    "0.2.0",
    "0.10.0",
    "1.0.0-rc.1",
    "1.0.0",
  ]);
});

it("splits an item written as a list into one change per entry", () => {
  const [, older] = parseChangesetsChangelog(AGENT);
  expect(changesOf(older!.items)).toEqual([
    "New `kvp-agent`: harvests what the host sends (pools 0 and 3)\ninto `/run/kvp-agent`.",
    "Long values: kvp-core `splitValue` stores a value longer than the host receives whole\nas parts `KEY#1/N` … `KEY#N/N`.",
  ]);
});

it("fills paragraphs and list entries to the width, keeping paragraphs apart", () => {
  expect(reflow("one two three four\nfive six\n\n- seven eight nine ten", 14)).toEqual([
    "one two three",
    "four five six",
    "",
    "- seven eight",
    "  nine ten",
  ]);
});

describeNeeding(
  "the changelogs as dpkg and rpm read them",
  () => {
    if (!hasProgram("dpkg-parsechangelog")) return "dpkg-parsechangelog is missing (apt-get install dpkg-dev)";
    if (!hasProgram("rpmspec")) return "rpmspec is missing (apt-get install rpm)";
    return undefined;
  },
  () => {
    const releases = mergeReleases([parseChangesetsChangelog(AGENT), parseChangesetsChangelog(POOL_TOOLS)]);
    const dated = releases.map((r, i) => ({ ...r, date: new Date(Date.UTC(2026, 11, 2 - i, 6, 0, 0)) }));
    const maintainer = "hyperv-kvp maintainers <hyperv-kvp@users.noreply.github.com>";

    it("is a Debian changelog dpkg-parsechangelog reads, every line within 80 columns but the trailers", () => {
      const text = debianChangelog("kvp-agent", dated, maintainer);
      const file = join(tempDir("changelog"), "changelog");
      writeFileSync(file, text);
      const all = runSync("dpkg-parsechangelog", ["--file", file, "--all", "--format", "rfc822"]);
      expect(all.stderr).toBe("");
      expect([...all.stdout.matchAll(/^Version: (.*)$/gm)].map((m) => m[1])).toEqual(["0.2.0", "0.1.0"]);
      const newest = runSync("dpkg-parsechangelog", ["--file", file, "--show-field", "Changes"]).stdout;
      // 0.2.0's two changes (the list inside the first stays one change: it is not the whole item).
      expect(newest.match(/^ {2}\* /gm)).toHaveLength(2);
      expect(runSync("dpkg-parsechangelog", ["--file", file, "--show-field", "Date"]).stdout.trim()).toBe(
        "Wed, 02 Dec 2026 06:00:00 +0000",
      );
      expect(text.split("\n").filter((line) => line.length > 80 && !line.startsWith(" -- "))).toEqual([]);
    });

    it("is an RPM %changelog rpm reads back, with % escaped from macro expansion", () => {
      const body = rpmChangelog(
        dated.map((r) => ({ ...r, version: `${r.version}-1` })),
        maintainer,
      );
      expect(body).toMatch(/100%% of\s+the time/);
      const spec = join(tempDir("spec"), "x.spec");
      writeFileSync(
        spec,
        `Name: x\nVersion: 0.2.0\nRelease: 1\nSummary: x\nLicense: MIT\n%description\nx\n%files\n%changelog\n${body}`,
      );
      // rpm --changelog's format, read through a spec (rpmspec expands it as rpmbuild would).
      const parsed = runSync("rpmspec", [
        "--query",
        "--queryformat",
        "[* %{CHANGELOGTIME:day} %{CHANGELOGNAME}\n%{CHANGELOGTEXT}\n\n]",
        spec,
      ]);
      expect(parsed.stderr).toBe("");
      expect(parsed.stdout.split("\n")[0]).toBe(`* Wed Dec 02 2026 ${maintainer} - 0.2.0-1`);
      expect(parsed.stdout).toMatch(/100% of\s+the time/);
      expect(parsed.stdout.match(/^\* /gm)).toHaveLength(2);
    });
  },
);
