// A staging tree: the files of a package laid out as they install, with the modes Debian and
// RPM expect (0755 directories and executables, 0644 the rest, owned by whoever builds: the
// package formats record root). Every builder fills one, then hands it to dpkg-deb, rpmbuild
// or tar.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Makes `dir` (and its parents inside the stage) with mode 0755.
 * @param {string} dir
 */
export function makeDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
}

/**
 * Copies `source` to `target` with `mode` (0644 or 0755), making the directories between.
 * @param {string} source
 * @param {string} target
 * @param {number} mode
 */
export function installFile(source, target, mode) {
  makeDir(dirname(target));
  copyFileSync(source, target);
  chmodSync(target, mode);
}

/**
 * Writes `content` to `target` with `mode`, making the directories between.
 * @param {string} target
 * @param {string | Uint8Array} content
 * @param {number} mode
 */
export function writeStaged(target, content, mode) {
  makeDir(dirname(target));
  writeFileSync(target, content);
  chmodSync(target, mode);
}

/**
 * Writes `text` gzip-compressed at the highest level, with no name or time in the header, as
 * Debian wants man pages and changelogs (lintian checks for -9 and reproducibility).
 * @param {string} target
 * @param {string} text
 */
export function writeGzipped(target, text) {
  writeStaged(target, gzipSync(Buffer.from(text, "utf8"), { level: 9 }), 0o644);
}

/**
 * A relative symlink `link` → `target` (relative, so the tree works unpacked under any
 * prefix and in a root dpkg installs into without chroot).
 * @param {string} link
 * @param {string} target
 */
export function symlinkStaged(link, target) {
  makeDir(dirname(link));
  symlinkSync(target, link);
}

/**
 * A bundle as shipped: without its `#!/usr/bin/env node` line (the launchers run it with a
 * chosen node; a shebang in a non-executable file only draws lintian's script-not-executable)
 * and without its sourceMappingURL comment (the map is not shipped).
 * @param {string} bundle path of a built .cjs
 * @returns {string}
 */
export function shippedBundle(bundle) {
  return readFileSync(bundle, "utf8")
    .replace(/^#![^\n]*\n/, "")
    .replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, "\n");
}

/**
 * Every entry under `root` as paths relative to it, sorted; directories end in "/".
 * @param {string} root
 * @returns {string[]}
 */
export function listTree(root) {
  const out = [];
  const walk = (dir, rel) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel === "" ? name : `${rel}/${name}`;
      const stat = lstatSync(path);
      if (stat.isDirectory() && !stat.isSymbolicLink()) {
        out.push(`${relPath}/`);
        walk(path, relPath);
      } else out.push(relPath);
    }
  };
  walk(root, "");
  return out.sort();
}

/**
 * Installed size as dpkg-gencontrol counts it, in KiB: each file rounded up to a KiB, one per
 * directory and symlink.
 * @param {string} dir
 * @returns {number}
 */
export function installedSizeKiB(dir) {
  let kib = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) kib += 1 + installedSizeKiB(path);
    else if (stat.isSymbolicLink()) kib += 1;
    else kib += Math.ceil(stat.size / 1024);
  }
  return kib;
}

/**
 * Runs a program to completion; its stdout.
 * @param {string} file
 * @param {readonly string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, input?: string, timeout?: number }} [options]
 * @returns {string}
 * @throws {Error} naming the command and its output when it cannot start or exits non-zero.
 */
export function run(file, args, options = {}) {
  const result = spawnSync(file, [...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeout ?? 900_000,
    ...options,
  });
  if (result.error) throw new Error(`cannot run ${file}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(
      `${file} ${args.join(" ")} exited with ${result.status ?? result.signal}\n${result.stderr}${result.stdout}`.trimEnd(),
    );
  return result.stdout;
}
