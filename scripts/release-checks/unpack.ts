// Unpacks an artifact of the release the way its format is meant to be read, to look inside
// without installing it: npm and release tarballs with tar, .debs with dpkg-deb, .rpms with
// rpm2cpio and cpio (both from Debian's rpm and cpio packages).
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";

/**
 * Unpacks `file` (`.tgz`, `.tar.gz`, `.deb`, `.rpm`) into `dir` (created) and returns `dir`.
 * An npm tarball's files land under `dir/package/`; a package's under `dir/` as installed.
 * @throws when the format is unknown or the tools fail.
 */
export function unpack(file: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  let run: ReturnType<typeof spawnSync>;
  if (file.endsWith(".tgz") || file.endsWith(".tar.gz"))
    run = spawnSync("tar", ["-xzf", file, "-C", dir], { encoding: "utf8" });
  else if (file.endsWith(".deb")) run = spawnSync("dpkg-deb", ["-x", file, dir], { encoding: "utf8" });
  else if (file.endsWith(".rpm"))
    run = spawnSync("sh", ["-c", 'rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames', "sh", file], {
      cwd: dir,
      encoding: "utf8",
    });
  else throw new Error(`unpack: unknown kind of file ${file}`);
  if (run.error || run.status !== 0)
    throw new Error(`unpack ${file}: ${run.error?.message ?? `exit ${run.status}`} ${String(run.stderr)}`);
  return dir;
}
