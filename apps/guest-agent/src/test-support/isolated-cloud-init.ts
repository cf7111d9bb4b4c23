// Runs Debian's real cloud-init against a temporary root without touching this machine.
// Run plainly as root (CI runs as root), cloud-init's stock config sets the hostname, adds a
// user with passwordless sudo and writes network config (/etc/systemd/network): so here it
// runs only inside mount and UTS namespaces of its own (unshare -m -u, private propagation),
// where /etc/cloud, /var/lib and /var/log are bind mounts of directories under ROOT, /run is
// a fresh tmpfs, and then / itself is remounted read-only: anything cloud-init would write
// outside those fails instead of changing the machine. Its cloud.cfg runs only what the test
// checks (NoCloud, write_files) with network config off.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The minimal cloud.cfg: NoCloud only, no hostname, users or network changes, one module. */
export const ISOLATED_CLOUD_CFG = `datasource_list: [ NoCloud, None ]
preserve_hostname: true
network: { config: disabled }
users: []
cloud_init_modules: [ write_files ]
cloud_config_modules: []
cloud_final_modules: []
`;

/** The directories of an isolated cloud-init root. */
export interface IsolatedRoot {
  readonly root: string;
  /** Bound over /var/lib inside the namespace; the NoCloud seed is `varLib/cloud/seed/nocloud`. */
  readonly varLib: string;
  readonly seedDir: string;
  /** Writable inside the namespace (its own bind mount): where write_files may point, and query output goes. */
  readonly out: string;
  readonly log: string;
}

/** Lays out ROOT for {@link runIsolatedCloudInit}. */
export function isolatedRoot(root: string): IsolatedRoot {
  const dirs = {
    root,
    varLib: join(root, "varlib"),
    seedDir: join(root, "varlib/cloud/seed/nocloud"),
    out: join(root, "out"),
    log: join(root, "log"),
  };
  for (const dir of [join(root, "etc-cloud"), dirs.varLib, dirs.out, dirs.log]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, "etc-cloud/cloud.cfg"), ISOLATED_CLOUD_CFG);
  return dirs;
}

// ROOT comes in the environment, never spliced into the script. /var/lib (not /var/lib/cloud,
// which this machine need not have: creating it would change the machine) is bound whole.
const SCRIPT = `set -e
mount --bind "$ROOT/etc-cloud" /etc/cloud
mount --bind "$ROOT/varlib" /var/lib
mount --bind "$ROOT/log" /var/log
mount --bind "$ROOT/out" "$ROOT/out"
mount -t tmpfs tmpfs /run
mount -o remount,bind,ro /
"$@"`;

/**
 * Runs `argv` (e.g. `["cloud-init", "init", "--local"]`) isolated as the file's header says.
 * @returns its exit status and output.
 */
export function runIsolatedCloudInit(
  root: IsolatedRoot,
  argv: readonly string[],
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    "unshare",
    ["--mount", "--uts", "--propagation", "private", "/bin/sh", "-c", SCRIPT, "isolated", ...argv],
    { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ROOT: root.root }, timeout: 120_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
