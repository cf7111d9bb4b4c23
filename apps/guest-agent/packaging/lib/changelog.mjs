// The packages' changelogs, from what changesets writes (`changeset version` turns the
// .changeset/*.md files into a "## <version>" section of each package's CHANGELOG.md): parsed
// into releases, then spelled as a Debian changelog and as an RPM %changelog. Pure functions;
// the builders read the files and find the dates (changesets writes none).

/**
 * @typedef {object} Release
 * @property {string} version semver, as in package.json
 * @property {string[]} items each change as markdown text (its lines, list marker and
 *   changesets' commit hash removed)
 */

/**
 * The releases in a changesets CHANGELOG.md, newest first, without changesets'
 * "Updated dependencies" items (every package of the fixed group moves together; they say
 * nothing to a user of this package).
 * @param {string} markdown
 * @returns {Release[]}
 */
export function parseChangesetsChangelog(markdown) {
  const releases = [];
  let release;
  let item;
  for (const line of markdown.replace(/\r\n/g, "\n").split("\n")) {
    const heading = /^## (\S+)\s*$/.exec(line);
    if (heading) {
      release = { version: heading[1], items: [] };
      releases.push(release);
      item = undefined;
      continue;
    }
    if (release === undefined || /^#/.test(line)) {
      item = undefined;
      continue;
    }
    const start = /^- (?:[0-9a-f]{7,40}: )?(.*)$/.exec(line);
    if (start) {
      item = [start[1]];
      release.items.push(item);
    } else if (item !== undefined && (line === "" || line.startsWith("  "))) {
      item.push(line.slice(2));
    } else if (line.trim() !== "") {
      item = undefined;
    }
  }
  for (const r of releases) {
    r.items = r.items
      .map((lines) => lines.join("\n").trim())
      .filter((text) => text !== "" && !/^Updated dependencies\b/.test(text));
  }
  return releases;
}

/**
 * Merges the releases of several CHANGELOG.md files (the agent's and kvp-pool's: one package
 * ships both) by version, newest first; an item written into both (one changeset naming both
 * packages) appears once.
 * @param {Release[][]} lists
 * @returns {Release[]}
 */
export function mergeReleases(lists) {
  const byVersion = new Map();
  for (const list of lists) {
    for (const { version, items } of list) {
      const merged = byVersion.get(version) ?? [];
      for (const text of items) if (!merged.includes(text)) merged.push(text);
      byVersion.set(version, merged);
    }
  }
  return [...byVersion]
    .map(([version, items]) => ({ version, items }))
    .sort((a, b) => compareSemver(b.version, a.version));
}

/**
 * Orders semver versions: numbers numerically, a pre-release before its release.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareSemver(a, b) {
  const split = (v) => {
    const [core = "", pre] = v.replace(/\+.*$/, "").split(/-(.*)/s);
    return { core: core.split(".").map(Number), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === undefined || y.pre === undefined) return (x.pre === undefined ? 1 : 0) - (y.pre === undefined ? 1 : 0);
  return x.pre < y.pre ? -1 : x.pre > y.pre ? 1 : 0;
}

/**
 * Reflows a markdown item to `width` columns: paragraphs and list items are filled, code
 * blocks kept line for line; paragraphs are separated by an empty string.
 * @param {string} text
 * @param {number} width columns available for the text (the caller adds its prefixes)
 * @returns {string[]} lines; nested list items start with "- " and continue indented by 2
 */
export function reflow(text, width) {
  const out = [];
  let words = [];
  let indent = "";
  let firstPrefix = "";
  const flush = () => {
    if (words.length === 0) return;
    let line = firstPrefix;
    let empty = true;
    for (const word of words) {
      if (!empty && line.length + 1 + word.length > width) {
        out.push(line);
        line = indent;
        empty = true;
      }
      line = empty ? line + word : `${line} ${word}`;
      empty = false;
    }
    out.push(line);
    words = [];
  };
  let inCode = false;
  for (const raw of text.split("\n")) {
    if (/^\s*```/.test(raw)) {
      flush();
      inCode = !inCode;
      out.push(raw);
      continue;
    }
    if (inCode) {
      out.push(raw);
      continue;
    }
    if (raw.trim() === "") {
      flush();
      if (out.length > 0 && out.at(-1) !== "") out.push("");
      indent = "";
      firstPrefix = "";
      continue;
    }
    const bullet = /^(\s*)(?:[-*]|\d+\.) (.*)$/.exec(raw);
    if (bullet) {
      flush();
      firstPrefix = `${bullet[1]}- `;
      indent = `${bullet[1]}  `;
      words = bullet[2].split(/\s+/).filter(Boolean);
      continue;
    }
    words.push(...raw.trim().split(/\s+/));
  }
  flush();
  while (out.at(-1) === "") out.pop();
  return out;
}

/**
 * The changes of a release as the packaging changelogs list them: an item that is itself a
 * list (a changeset written as "- this\n- that") becomes one change per top-level entry.
 * @param {string[]} items markdown text of each change
 * @returns {string[]}
 */
export function changesOf(items) {
  return items.flatMap((text) => {
    if (!/^[-*] /.test(text)) return [text];
    const parts = [];
    for (const line of text.split("\n")) {
      if (/^[-*] /.test(line)) parts.push([line.slice(2)]);
      else parts.at(-1)?.push(line.startsWith("  ") ? line.slice(2) : line);
    }
    return parts.map((lines) => lines.join("\n").trim());
  });
}

/**
 * @typedef {object} ChangelogEntry
 * @property {string} version in the packaging format's spelling (Debian or RPM)
 * @property {string[]} items markdown text of each change
 * @property {Date} date when the release was made
 */

/** Day and month names in English, as both formats want them whatever the locale. */
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n) => String(n).padStart(2, "0");

/**
 * A Debian changelog (debian/changelog format, newest entry first) for `pkg`.
 * @param {string} pkg
 * @param {ChangelogEntry[]} entries newest first
 * @param {string} maintainer "Name <address>"
 * @returns {string}
 */
export function debianChangelog(pkg, entries, maintainer) {
  return entries
    .map(({ version, items, date }) => {
      const lines = [`${pkg} (${version}) unstable; urgency=medium`, ""];
      for (const item of changesOf(items)) {
        // lintian wants lines of at most 80 columns: "  * " / "    " leave 76.
        lines.push(...reflow(item, 76).map((line, i) => (line === "" ? "" : `${i === 0 ? "  * " : "    "}${line}`)));
      }
      const d = date;
      const stamp = `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
      lines.push("", ` -- ${maintainer}  ${stamp}`);
      return `${lines.join("\n")}\n`;
    })
    .join("\n");
}

/**
 * An RPM %changelog body (without the %changelog line), newest entry first. `%` is doubled:
 * rpmbuild expands macros there.
 * @param {ChangelogEntry[]} entries newest first; `version` is VERSION-RELEASE
 * @param {string} packager "Name <address>"
 * @returns {string}
 */
export function rpmChangelog(entries, packager) {
  return entries
    .map(({ version, items, date }) => {
      const d = date;
      const lines = [
        `* ${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${d.getUTCFullYear()} ${packager} - ${version}`,
      ];
      for (const item of changesOf(items)) {
        lines.push(...reflow(item, 76).map((line, i) => (line === "" ? "" : `${i === 0 ? "- " : "  "}${line}`)));
      }
      return `${lines.join("\n").replaceAll("%", "%%")}\n`;
    })
    .join("\n");
}
