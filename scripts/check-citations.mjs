#!/usr/bin/env node
// Keeps comments, test names and READMEs citing what a newcomer can open (docs/README.md,
// "Citing these docs"). Over every file of the repository (tracked, or new and not ignored):
// - no citation of notes kept outside the repository, of their section numbers or of issue
//   numbers ("spec §6", "ground-truth", "issue #6", "the issue asks", …);
// - every `<file>.md#<heading>` cited (`docs/pool-files.md#trailing-fragments`, a relative
//   Markdown link, or the published READMEs' github.com/hyperv-kvp/hyperv-kvp/blob/main/ links)
//   names a file that exists and a heading in it, by GitHub's anchor rules; `docs/<file>.md`
//   without a heading must exist too.
// CHANGELOG.md files are history and are left as they are; so are this check and its test,
// which hold the patterns and broken citations on purpose.
//
//   node scripts/check-citations.mjs    exit 1, printing `file:line: problem` for each
//                                       (run by `pnpm lint:root`)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Citations a newcomer cannot open, case-insensitive: the patterns docs/README.md rules out. */
export const UNOPENABLE_CITATION =
  /spec §|ground[- ]truth|shared\/spec|\bissue #?\d+|the issue asks|the spec (?:says|fixes)/i;

/** Files left unchecked: changelogs (history), and this check and its test (examples on purpose). */
const UNCHECKED = /(?:^|\/)CHANGELOG\.md$|^scripts\/check-citations(?:\.test)?\.mjs$/;

/** How the published READMEs link the docs: npm does not resolve relative links. */
const REPOSITORY_BLOB = "https://github.com/hyperv-kvp/hyperv-kvp/blob/main/";

// A cited Markdown file with an optional heading, and headings cited after it as
// `, #other` or ` and #other` (`docs/wmi-and-cim.md#return-codes, #jobs, #errors`). The path
// must not continue a longer one or a URL other than the repository's own.
const CITED_FILE = new RegExp(
  String.raw`(?<![\w./:-])(${escapeRegExp(REPOSITORY_BLOB)})?([\w.][\w./-]*\.md)(?:#([\w-]+)((?:(?:,\s*|\s+and\s+|\s+or\s+)#[\w-]+)*))?`,
  "g",
);
/** A Markdown link to a heading of the same file: `[The picture](#the-picture)`. */
const SAME_FILE_LINK = /\]\(#([\w-]+)\)/g;

/**
 * The anchors GitHub gives a Markdown file's headings: ATX headings (`## Our lock`) outside
 * fenced code, lower-cased, punctuation dropped, spaces to `-`, a repeated heading suffixed
 * `-1`, `-2`…; plus explicit `<a id="…">`/`<a name="…">` anchors.
 * @param {string} markdown
 * @returns {Set<string>}
 */
export function headingAnchors(markdown) {
  const anchors = new Set();
  const seen = new Map();
  let fence;
  for (const line of markdown.split(/\r?\n/)) {
    const fenceMark = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fenceMark !== undefined) {
      if (fence === undefined) fence = fenceMark;
      else if (fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = slugOf(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/**
 * GitHub's anchor for a heading's text: links reduced to their text, then lower-cased,
 * everything but letters, digits, `_`, `-` and spaces dropped, spaces turned into `-`.
 * @param {string} heading
 * @returns {string}
 */
export function slugOf(heading) {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/**
 * @typedef {object} Problem
 * @property {string} file  path from the repository root, with `/`
 * @property {number} line  1-based
 * @property {string} message
 */

/**
 * Every problem in a set of files. Pure: `files` maps each path from the repository root
 * (with `/`) to its text, and is also where cited files are looked up.
 * @param {ReadonlyMap<string, string>} files
 * @returns {Problem[]}
 */
export function checkCitations(files) {
  /** @type {Problem[]} */
  const problems = [];
  /** @type {Map<string, Set<string>>} */
  const anchorsByFile = new Map();
  const anchorsOf = (path) => {
    let anchors = anchorsByFile.get(path);
    if (anchors === undefined) {
      anchors = headingAnchors(files.get(path) ?? "");
      anchorsByFile.set(path, anchors);
    }
    return anchors;
  };

  for (const [file, text] of files) {
    if (UNCHECKED.test(file)) continue;
    const lines = text.split(/\r?\n/);
    const isMarkdown = file.endsWith(".md");
    const reported = new Set();
    const report = (line, message) => {
      const key = `${line}\0${message}`;
      if (reported.has(key)) return;
      reported.add(key);
      problems.push({ file, line, message });
    };
    lines.forEach((lineText, index) => {
      const line = index + 1;
      const citation = UNOPENABLE_CITATION.exec(lineText);
      if (citation !== null)
        report(line, `cites what a newcomer cannot open ("${citation[0]}"): cite docs/<file>.md#<heading>`);

      for (const match of lineText.matchAll(CITED_FILE)) {
        const [, blob, cited, anchor, more] = match;
        if (anchor === undefined && !/^docs\/[^/]+\.md$/.test(cited)) continue;
        const target = resolveCited(files, file, cited, blob !== undefined);
        if (target === undefined) {
          report(line, `cites ${cited}, which does not exist`);
          continue;
        }
        if (anchor === undefined) continue;
        const anchors = [anchor, ...(more ?? "").split(/[^\w#-]+/).filter((word) => word.startsWith("#"))];
        for (const name of anchors.map((word) => word.replace(/^#/, ""))) {
          if (!anchorsOf(target).has(name)) report(line, `cites ${target}#${name}, which is no heading of ${target}`);
        }
      }
      if (isMarkdown) {
        for (const [, name] of lineText.matchAll(SAME_FILE_LINK)) {
          if (!anchorsOf(file).has(name)) report(line, `links #${name}, which is no heading of this file`);
        }
      }
    });
  }
  return problems;
}

/**
 * The file a citation in `from` names: the repository's blob URLs and bare paths from the
 * repository root (the comments' convention), else relative to `from`'s folder (Markdown links).
 * @param {ReadonlyMap<string, string>} files
 * @param {string} from
 * @param {string} cited
 * @param {boolean} fromRoot
 * @returns {string | undefined}
 */
function resolveCited(files, from, cited, fromRoot) {
  const candidates = [];
  if (fromRoot || !/^\.\.?\//.test(cited)) candidates.push(normalise(cited));
  if (!fromRoot) candidates.push(normalise(`${from.slice(0, from.lastIndexOf("/") + 1)}${cited}`));
  return candidates.find((path) => path !== undefined && files.has(path));
}

/** `a/./b/../c.md` → `a/c.md`; undefined when it climbs out of the repository. */
function normalise(path) {
  const parts = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.pop() === undefined) return undefined;
  }
  return parts.join("/");
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The repository's text files (tracked, or new and not ignored), binary files left out. */
function readRepositoryFiles(root) {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = new Map();
  for (const path of new Set(listed.split("\0"))) {
    if (path === "") continue;
    let bytes;
    try {
      bytes = readFileSync(`${root}/${path}`);
    } catch {
      continue; // deleted in the work tree, or a submodule
    }
    if (bytes.subarray(0, 8000).includes(0)) continue;
    files.set(path, bytes.toString("utf8"));
  }
  return files;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const problems = checkCitations(readRepositoryFiles(root));
  for (const { file, line, message } of problems) process.stderr.write(`${file}:${line}: ${message}\n`);
  if (problems.length > 0) {
    process.stderr.write(`check-citations: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
    process.exit(1);
  }
}
