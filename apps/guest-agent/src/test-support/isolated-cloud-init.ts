// Runs Debian's real cloud-init against a temporary root without touching this machine.
// Run plainly as root (CI runs as root), cloud-init's stock config sets the hostname, adds a
// user with passwordless sudo and writes network config (/etc/systemd/network): so here it
// runs only inside mount and UTS namespaces of its own (unshare -m -u, private propagation),
// where /etc/cloud, /var/lib and /var/log are bind mounts of directories under ROOT, /run is
// a fresh tmpfs, and then / itself is remounted read-only: anything cloud-init would write
// outside those fails instead of changing the machine. Its cloud.cfg runs only what the test
// checks (NoCloud, write_files) with network config off.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

/** How an isolated cloud-init run ended. */
export interface IsolatedRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `argv` (e.g. `["cloud-init", "init", "--local"]`) isolated as the file's header says.
 * Asynchronous: a simulated host serving from the test's own process (WMI, the daemon's
 * device) must go on answering while cloud-init runs.
 * @returns its exit status and output.
 */
export function runIsolatedCloudInit(root: IsolatedRoot, argv: readonly string[]): Promise<IsolatedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "unshare",
      ["--mount", "--uts", "--propagation", "private", "/bin/sh", "-c", SCRIPT, "isolated", ...argv],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ROOT: root.root },
        timeout: 120_000,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** What `cloud-init query` can be asked for here: the seed's instance-id, hostname and user-data. */
export type CloudInitQuery = "instance_id" | "local_hostname" | "userdata";

/**
 * A first boot's two stages, as systemd runs them (`init --local`, then `init`), in one
 * isolated run (one /run, which both stages and `query` share), then `cloud-init query` of
 * each of `queries`, each to a file in `out/`.
 * @returns how the run ended and, when it succeeded, what each query printed.
 */
export async function bootIsolatedCloudInit(
  root: IsolatedRoot,
  queries: readonly CloudInitQuery[] = ["instance_id", "local_hostname", "userdata"],
): Promise<IsolatedRun & { readonly query: (what: CloudInitQuery) => string }> {
  const run = await runIsolatedCloudInit(root, [
    "sh",
    "-c",
    `cloud-init init --local || exit 11
cloud-init init || exit 12
for what in ${queries.join(" ")}; do cloud-init query "$what" > "$ROOT/out/query-$what" || exit 13; done`,
  ]);
  return { ...run, query: (what) => readFileSync(join(root.out, `query-${what}`), "utf8") };
}
