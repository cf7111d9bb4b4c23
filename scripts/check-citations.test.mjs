import { describe, expect, it } from "vitest";
import { checkCitations, headingAnchors, slugOf } from "./check-citations.mjs";

const BLOB = "https://github.com/hyperv-kvp/hyperv-kvp/blob/main/";

const DOCS = [
  "# WMI and CIM-XML",
  "",
  "## Return codes",
  "## Jobs",
  "## CIM-XML as Hyper-V writes it",
  "```",
  "## not a heading: inside a fence",
  "```",
].join("\n");

/** A repository holding the docs above plus `extra`, checked. */
const check = (extra) =>
  checkCitations(
    new Map([
      ["docs/wmi-and-cim.md", DOCS],
      ["apps/guest-agent/README.md", "# kvp-agent\n\n## systemd\n"],
      ...Object.entries(extra),
    ]),
  );

describe("slugOf: GitHub's anchors", () => {
  it.each([
    ["Fields end at the first NUL", "fields-end-at-the-first-nul"],
    ["CIM-XML as Hyper-V writes it", "cim-xml-as-hyper-v-writes-it"],
    ["The simulator's WMI", "the-simulators-wmi"],
    [
      "Config (`/etc/kvp-agent/config.json`, every field optional)",
      "config-etckvp-agentconfigjson-every-field-optional",
    ],
    ["Pool 3 host facts", "pool-3-host-facts"],
    ["See [the picture](#the-picture)", "see-the-picture"],
  ])("%s → %s", (heading, slug) => {
    expect(slugOf(heading)).toBe(slug);
  });
});

describe("headingAnchors", () => {
  it("numbers repeated headings, skips fenced code and keeps explicit anchors", () => {
    const anchors = headingAnchors(
      ["# Notes", "## Usage", "~~~sh", "# a shell comment", "~~~", "## Usage ##", '<a id="kept"></a>'].join("\n"),
    );
    expect([...anchors].sort()).toEqual(["kept", "notes", "usage", "usage-1"]);
  });
});

describe("checkCitations", () => {
  it("accepts citations of headings that exist, in every form the repository uses", () => {
    expect(
      check({
        "packages/a/src/x.ts": [
          "// Return codes (docs/wmi-and-cim.md#return-codes).",
          "/** Numbers (docs/wmi-and-cim.md#return-codes, #jobs and #cim-xml-as-hyper-v-writes-it). */",
          '  it("is described as apps/guest-agent/README.md#systemd says", () => {});',
        ].join("\n"),
        "packages/a/README.md": `See [jobs](${BLOB}docs/wmi-and-cim.md#jobs) and [the notes](${BLOB}docs/wmi-and-cim.md).`,
        "apps/guest-agent/NOTES.md": "[jobs](../../docs/wmi-and-cim.md#jobs), [here](#notes)\n\n# Notes\n",
        "docs/README.md": "[codes](wmi-and-cim.md#return-codes)",
      }),
    ).toEqual([]);
  });

  it("reports each citation of something a newcomer cannot open, by file and line", () => {
    expect(
      check({
        "packages/a/src/x.ts": "// fine\n// Limits (spec §6).\n// ground-truth notes; Spec §7\n",
        "scripts/bench.mjs": "// Benchmarks for issue #2\n// Issue 11\n",
        "apps/b/src/y.test.ts": 'it("says what the issue asks", () => {});\n// the spec says so\n',
      }).map(({ file, line }) => `${file}:${line}`),
    ).toEqual([
      "packages/a/src/x.ts:2",
      "packages/a/src/x.ts:3",
      "scripts/bench.mjs:1",
      "scripts/bench.mjs:2",
      "apps/b/src/y.test.ts:1",
      "apps/b/src/y.test.ts:2",
    ]);
  });

  it("leaves changelogs their history", () => {
    expect(check({ "packages/a/CHANGELOG.md": "- fixed issue #6 (spec §8, docs/gone.md#gone)\n" })).toEqual([]);
  });

  it("reports a heading that is not in the cited file, or only in its fenced code", () => {
    expect(
      check({
        "packages/a/src/x.ts": "// (docs/wmi-and-cim.md#jobz)\n// (docs/wmi-and-cim.md#return-codes, #errors)\n",
        "packages/a/README.md": `[x](${BLOB}docs/wmi-and-cim.md#not-a-heading-inside-a-fence)`,
        "docs/README.md": "# Notes\n[x](#the-picture)\n",
      }),
    ).toEqual([
      {
        file: "packages/a/src/x.ts",
        line: 1,
        message: "cites docs/wmi-and-cim.md#jobz, which is no heading of docs/wmi-and-cim.md",
      },
      {
        file: "packages/a/src/x.ts",
        line: 2,
        message: "cites docs/wmi-and-cim.md#errors, which is no heading of docs/wmi-and-cim.md",
      },
      {
        file: "packages/a/README.md",
        line: 1,
        message: "cites docs/wmi-and-cim.md#not-a-heading-inside-a-fence, which is no heading of docs/wmi-and-cim.md",
      },
      { file: "docs/README.md", line: 2, message: "links #the-picture, which is no heading of this file" },
    ]);
  });

  it("reports a cited file that does not exist", () => {
    expect(check({ "packages/a/src/x.ts": "// docs/pools.md, docs/pools.md#record-layout\n" })).toEqual([
      { file: "packages/a/src/x.ts", line: 1, message: "cites docs/pools.md, which does not exist" },
    ]);
  });

  it("ignores other sites' links and Markdown files named without a heading outside docs/", () => {
    expect(
      check({
        "packages/a/README.md": "[x](https://github.com/other/repo/blob/main/README.md#usage); see CHANGELOG.md",
        "scripts/api-report.mjs": 'const REPORT_FILE = "api-report.md";',
      }),
    ).toEqual([]);
  });
});
