// Reads an npm tarball and says what is wrong with it as a published package: what it must
// not hold (tests, test support, `workspace:` specifiers, source maps or map references to
// files it lacks, the workspace-only export condition) and what it must (LICENSE, README,
// the project's metadata, every file its exports, main, types and bin name).
// Used by scripts/pack-npm.mjs before a tarball goes into a release, and by the release checks.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { gunzipSync } from "node:zlib";
import { PROJECT_METADATA } from "./npm-packages.mjs";

/** Size of a tar header and the unit file data is padded to, in bytes. */
const TAR_BLOCK = 512;

/** The export condition that points workspace packages at their sources; never published. */
export const SOURCE_CONDITION = "@hyperv-kvp/source";

/**
 * The regular files of an npm tarball (gzip'd ustar, with pax or GNU long names), by path
 * inside the package: `package/` (npm's top directory, whatever it is called) is dropped.
 * @param {string | Buffer} tarball path of the .tgz, or its bytes
 * @returns {Map<string, Buffer>}
 * @throws Error when the file is not a gzip'd tar or is cut short.
 */
export function readTarball(tarball) {
  const tar = gunzipSync(typeof tarball === "string" ? readFileSync(tarball) : tarball);
  const files = new Map();
  let longName;
  for (let offset = 0; offset + TAR_BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + TAR_BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const text = (start, length) => header.toString("utf8", start, start + length).replace(/\0.*$/s, "");
    const size = Number.parseInt(text(124, 12).trim() || "0", 8);
    const type = text(156, 1) || "0";
    const dataStart = offset + TAR_BLOCK;
    if (!Number.isSafeInteger(size) || dataStart + size > tar.length)
      throw new Error("truncated or invalid tar: an entry runs past the end");
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (type === "x") {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"))?.[1] ?? longName;
      continue;
    }
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    const prefix = text(257, 6) === "ustar" ? text(345, 155) : "";
    const name = longName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
    longName = undefined;
    if (type !== "0") continue;
    files.set(name.replace(/^[^/]+\//, ""), Buffer.from(data));
  }
  return files;
}

/** Paths that are tests or test support, which no tarball may hold. */
const TEST_PATH =
  /(^|\/)(test-support|__tests__|__mocks__|fixtures)(\/|$)|\.(test|spec)\.(d\.)?[cm]?[jt]sx?(\.map)?$|(^|\/)vitest\.config\.|(^|\/)tsconfig[^/]*\.json$/;

/** A module that imports vitest: test support that slipped into the build. */
const IMPORTS_VITEST = /\bfrom\s*["']vitest["']|\brequire\(\s*["']vitest["']\s*\)|\bimport\(\s*["']vitest["']\s*\)/;

/** Files whose last `sourceMappingURL` comment must name a file in the tarball. */
const MAPPED_FILE = /\.(js|cjs|mjs|d\.ts|d\.cts|d\.mts)$/;

const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"];

/**
 * What is wrong with a packed package, one sentence each; empty when nothing is.
 * @param {Map<string, Buffer>} files what {@link readTarball} returned
 * @param {{ dir: string }} expected `dir`: the package's directory in the repository
 *   (repository.directory must name it)
 * @returns {string[]}
 */
export function tarballProblems(files, expected) {
  const problems = [];
  const raw = files.get("package.json");
  if (raw === undefined) return ["no package.json"];
  let pkg;
  try {
    pkg = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    return [`package.json does not parse: ${error.message}`];
  }

  for (const path of files.keys()) {
    if (TEST_PATH.test(path)) problems.push(`${path} is a test, test support or build configuration`);
  }
  problems.push(...metadataProblems(pkg, expected));
  problems.push(...referenceProblems(pkg, files));

  for (const [path, bytes] of files) {
    if (path.endsWith(".map")) problems.push(...sourceMapProblems(path, bytes, files));
    if (!MAPPED_FILE.test(path)) continue;
    const text = bytes.toString("utf8");
    if (IMPORTS_VITEST.test(text)) problems.push(`${path} imports vitest (test support in the build?)`);
    const url = [...text.matchAll(/^\/\/# sourceMappingURL=(\S+)\s*$/gm)].at(-1)?.[1];
    if (url !== undefined && !url.startsWith("data:")) {
      const target = posix.join(posix.dirname(path), decodeURIComponent(url));
      if (!files.has(target)) problems.push(`${path} names the source map ${url}, which the tarball lacks`);
    }
  }
  return problems;
}

/** The metadata and publishing fields every published package.json must have. */
function metadataProblems(pkg, expected) {
  const problems = [];
  const want = (ok, what) => ok || problems.push(`package.json: ${what}`);
  want(pkg.private !== true, `"private": true (it would not publish)`);
  want(pkg.license === PROJECT_METADATA.license, `license is ${JSON.stringify(pkg.license)}, not "MIT"`);
  want(
    pkg.homepage === PROJECT_METADATA.homepage,
    `homepage is ${JSON.stringify(pkg.homepage)}, not ${PROJECT_METADATA.homepage}`,
  );
  want(
    pkg.bugs?.url === PROJECT_METADATA.bugsUrl,
    `bugs.url is ${JSON.stringify(pkg.bugs?.url)}, not ${PROJECT_METADATA.bugsUrl}`,
  );
  want(
    pkg.repository?.url === PROJECT_METADATA.repositoryUrl && pkg.repository?.directory === expected.dir,
    `repository is ${JSON.stringify(pkg.repository)}, not ${PROJECT_METADATA.repositoryUrl} with directory ${expected.dir}`,
  );
  want(
    pkg.author === PROJECT_METADATA.author,
    `author is ${JSON.stringify(pkg.author)}, not ${JSON.stringify(PROJECT_METADATA.author)}`,
  );
  want(Array.isArray(pkg.keywords) && pkg.keywords.length > 0, "no keywords");
  want(typeof pkg.engines?.node === "string", "no engines.node");
  want(
    pkg.publishConfig?.access === "public",
    `publishConfig.access is ${JSON.stringify(pkg.publishConfig?.access)}, not "public" (a scoped package would publish as restricted)`,
  );
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, spec] of Object.entries(pkg[field] ?? {})) {
      if (/^(workspace|link|file|catalog|portal):/.test(String(spec)))
        problems.push(`package.json: ${field}.${name} is ${JSON.stringify(spec)}, which no registry resolves`);
    }
  }
  return problems;
}

/** Files the package.json names (exports, main, types, bin) that are missing, and LICENSE/README. */
function referenceProblems(pkg, files) {
  const problems = [];
  for (const required of ["LICENSE", "README.md"]) {
    if (!files.has(required)) problems.push(`no ${required}`);
  }
  const named = [];
  const walkExports = (value, where) => {
    if (typeof value === "string") named.push([where, value]);
    else if (value !== null && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key === SOURCE_CONDITION)
          problems.push(`package.json: ${where} has the workspace-only condition ${SOURCE_CONDITION}`);
        walkExports(inner, `${where}[${JSON.stringify(key)}]`);
      }
    }
  };
  walkExports(pkg.exports, "exports");
  for (const field of ["main", "types", "typings", "module"]) {
    if (typeof pkg[field] === "string") named.push([field, pkg[field]]);
  }
  const bin = typeof pkg.bin === "string" ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
  for (const [name, path] of Object.entries(bin)) named.push([`bin.${name}`, path]);
  // A bundled command inlines other packages: their notices must travel with it.
  if (Object.keys(bin).some((name) => name.startsWith("kvp-")) && !files.has("dist/THIRD-PARTY-NOTICES.txt")) {
    problems.push("no dist/THIRD-PARTY-NOTICES.txt beside the bundled command (the notices of what it inlines)");
  }
  for (const [where, path] of named) {
    if (path.includes("*")) continue;
    const normal = posix.normalize(path);
    if (!files.has(normal)) problems.push(`package.json: ${where} is ${path}, which the tarball lacks`);
  }
  return problems;
}

/** Sources a map names that the tarball lacks (a map that would mislead a debugger). */
function sourceMapProblems(path, bytes, files) {
  let map;
  try {
    map = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    return [`${path} is not a JSON source map: ${error.message}`];
  }
  if (!Array.isArray(map.sources)) return [`${path} has no sources list`];
  const root = posix.join(posix.dirname(path), map.sourceRoot ?? "");
  return map.sources
    .filter((source) => !files.has(posix.join(root, source)))
    .map((source) => `${path} points at ${source}, which the tarball lacks`);
}
