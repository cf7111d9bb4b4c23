// A throwaway root file system the release checks install packages into and run programs in
// with chroot, as a template build does (guest-install-*.test.ts). Shared by the Debian roots
// (debian-root.ts) and the rpm root (rpm-root.ts).
//
// No mount made here can outlive its command: every command runs in a mount namespace of its
// own (`unshare --mount`, private propagation) that mounts /proc inside the root, chroots and
// runs the program; when the program exits the namespace and its /proc mount are gone, even
// when vitest is killed halfway. /proc is needed there: pool-file reads /proc/locks to name
// who holds a lock, dpkg and apt look at /proc too. It is the machine's procfs (no new PID
// namespace), so /proc/locks names the same processes as outside, the KVP daemon included.
//
// Commands get a fixed, minimal environment: nothing of this machine's passes in, in
// particular not NODE_EXTRA_CA_CERTS, which names a file the root lacks (Node would print
// "Ignoring extra certs" on every start).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { basename, join, posix } from "node:path";

/** PATH inside a root (Debian's default for root, sbin included: dpkg needs it). */
export const ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The whole environment of a command run in a root, unless a caller adds to it. */
export const ROOT_ENV: Readonly<Record<string, string>> = {
  PATH: ROOT_PATH,
  HOME: "/root",
  LANG: "C.UTF-8",
  // apt and debconf must never wait for an answer.
  DEBIAN_FRONTEND: "noninteractive",
};

/** Default deadline of one command in a root, in ms (a guard against hangs, not a measurement). */
export const DEFAULT_COMMAND_DEADLINE_MS = 120_000;

/** What a command did. */
export interface CommandResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, in ms. */
  readonly ms: number;
}

/** Options of {@link ChrootRoot.run}. */
export interface RunOptions {
  /** Variables added to {@link ROOT_ENV}. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the command (SIGKILL) after this many ms; default {@link DEFAULT_COMMAND_DEADLINE_MS}. */
  readonly deadlineMs?: number;
}

// Runs in the new mount namespace with the machine's /bin/sh: mounts the root's /proc, then
// becomes chroot, which becomes the program (one process throughout, so a deadline's SIGKILL
// hits the program itself).
const MOUNT_PROC =
  'root=$1; shift; mount -t proc proc "$root/proc" || { echo "release checks: cannot mount /proc in $root" >&2; exit 125; }';
const ENTER_ROOT = `${MOUNT_PROC}\nexec chroot "$root" "$@"`;
// The same namespace and /proc, but the program is this machine's (rpm --root chroots itself).
const BESIDE_ROOT = `${MOUNT_PROC}\nexec "$@"`;

/** Runs a program on this machine (not in a root), without blocking the event loop. */
export function runHere(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; deadlineMs?: number; cwd?: string; input?: string } = {},
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    child.stdin?.end(options.input);
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.deadlineMs ?? DEFAULT_COMMAND_DEADLINE_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`));
    });
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Lines of each output stream {@link describeResult} keeps (the last ones), and characters per line. */
const DESCRIBED_LINES = 40;
const DESCRIBED_LINE_CHARS = 300;

/**
 * What a command did, for assertion messages: how it ended and the end of its output (a Node
 * stack trace quotes a whole minified bundle line, so long lines are cut).
 */
export function describeResult(what: string, result: CommandResult): string {
  const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.status}`;
  const tail = (text: string) =>
    text
      .trim()
      .split("\n")
      .slice(-DESCRIBED_LINES)
      .map((line) => (line.length > DESCRIBED_LINE_CHARS ? `${line.slice(0, DESCRIBED_LINE_CHARS)}…` : line))
      .join("\n");
  return `${what} ${how}\n--- stderr\n${tail(result.stderr)}\n--- stdout\n${tail(result.stdout)}`;
}

/**
 * A root file system at {@link path} that commands run in with chroot. Made by a subclass's
 * builder; {@link destroy} removes it.
 */
export class ChrootRoot {
  constructor(
    /** The root directory, as this machine sees it. */
    readonly path: string,
    /** A directory of this machine holding {@link path} and nothing shared: removed with it. */
    readonly workDir: string,
  ) {}

  /** The path on this machine of `inside`, a path in the root. */
  file(inside: string): string {
    return join(this.path, posix.normalize(`/${inside}`));
  }

  /**
   * Runs `argv` in the root: its own mount namespace with /proc mounted, chroot, the
   * {@link ROOT_ENV} environment (plus `options.env`), no stdin.
   */
  run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return runHere(
      "unshare",
      ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", ENTER_ROOT, "sh", this.path, ...argv],
      {
        env: { ...ROOT_ENV, ...options.env },
        deadlineMs: options.deadlineMs ?? DEFAULT_COMMAND_DEADLINE_MS,
      },
    );
  }

  /**
   * Runs a program of THIS machine (not chrooted; `rpm --root` is one) in a mount namespace
   * of its own where the root's /proc is mounted, with {@link ROOT_ENV}.
   */
  runWithRootProc(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return runHere(
      "unshare",
      ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", BESIDE_ROOT, "sh", this.path, file, ...args],
      {
        env: { ...ROOT_ENV, ...options.env },
        deadlineMs: options.deadlineMs ?? DEFAULT_COMMAND_DEADLINE_MS,
      },
    );
  }

  /**
   * {@link run}, which must succeed.
   * @throws Error with the command's output when it exits non-zero.
   */
  async runOk(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const result = await this.run(argv, options);
    if (result.status !== 0) throw new Error(describeResult(`in ${this.path}: ${argv.join(" ")}`, result));
    return result;
  }

  /** Copies a file of this machine into the root's /tmp/release-checks; returns its path inside the root. */
  copyIn(file: string): string {
    const dir = "/tmp/release-checks";
    mkdirSync(this.file(dir), { recursive: true });
    copyFileSync(file, this.file(`${dir}/${basename(file)}`));
    return `${dir}/${basename(file)}`;
  }

  /** True when `inside` exists in the root (a dangling symlink counts as absent). */
  exists(inside: string): boolean {
    return existsSync(this.file(inside));
  }

  /** The text of a file in the root. */
  read(inside: string): string {
    return readFileSync(this.file(inside), "utf8");
  }

  /**
   * Processes whose root directory is this root: what a maintainer script or a command left
   * running. Read from /proc/PID/root of every process; ones that exit meanwhile are skipped.
   */
  processesInside(): { pid: number; command: string }[] {
    const found: { pid: number; command: string }[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (readlinkSync(`/proc/${name}/root`) !== this.path) continue;
        const command = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
        found.push({ pid: Number(name), command });
      } catch {
        // Gone meanwhile, or not ours to read.
      }
    }
    return found;
  }

  /** Mount points of this process's namespace at or under the root's work directory (there should be none). */
  mountsInside(): string[] {
    return mountPointsUnder(this.workDir);
  }

  /**
   * Removes the root. First kills what still runs in it (those are the checks' own
   * processes) and unmounts what is mounted under it (lazily), so `rm -rf` never reaches
   * through a mount into this machine's files.
   * @returns what had to be cleaned up: processes killed and mounts unmounted. Callers
   *   assert both are empty; a leak is a failure, but it is cleaned up first.
   */
  async destroy(): Promise<{ killed: string[]; unmounted: string[] }> {
    const killed: string[] = [];
    for (const process of this.processesInside()) {
      try {
        globalThis.process.kill(process.pid, "SIGKILL");
        killed.push(`${process.pid} ${process.command}`);
      } catch {
        // Exited meanwhile.
      }
    }
    const unmounted = this.mountsInside();
    // Deepest first, so a mount on top of another goes first.
    for (const mount of [...unmounted].sort((a, b) => b.length - a.length)) spawnSync("umount", ["--lazy", mount]);
    const left = this.mountsInside();
    if (left.length > 0)
      throw new Error(
        `cannot unmount ${left.join(", ")}: ${this.workDir} is left in place so nothing under those mounts is removed`,
      );
    // --one-file-system: a mount this check did not see is still not crossed.
    const removed = spawnSync("rm", ["-rf", "--one-file-system", "--", this.workDir], { encoding: "utf8" });
    if (removed.status !== 0) throw new Error(`cannot remove ${this.workDir}: ${removed.stderr.trim()}`);
    return { killed, unmounted };
  }
}

/** Mount points of this process's mount namespace at or under `dir` (from /proc/self/mountinfo). */
export function mountPointsUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined)
    .map(unescapeMountPath)
    .filter((point) => point === dir || point.startsWith(prefix));
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Debian's archive, the one mmdebstrap and apt inside the roots fetch from. */
export const DEBIAN_MIRROR = "http://deb.debian.org/debian";

/**
 * Checks what building and entering roots needs, so a check fails with the reason rather than
 * halfway: running as root (chroot, mount), the programs named, and Debian's archive reachable.
 * @throws Error naming what is missing and how to get it. Never a skip: CI runs as root with
 *   network, and a check that cannot run must say so.
 */
export async function assertRootPrerequisites(programs: Readonly<Record<string, string>>): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the guest install checks build Debian roots and chroot into them: run them as root (CI does), e.g. sudo pnpm exec vitest run --project release",
    );
  }
  const needed = { unshare: "util-linux", mount: "mount", chroot: "coreutils", ...programs };
  for (const [program, debianPackage] of Object.entries(needed)) {
    const found = spawnSync("sh", ["-c", 'command -v "$1"', "sh", program], {
      env: { ...process.env, PATH: `${process.env["PATH"] ?? ""}:${ROOT_PATH}` },
    });
    if (found.status !== 0)
      throw new Error(
        `${program} is missing: apt-get install ${debianPackage} (bash scripts/setup.sh --for-tests installs it)`,
      );
  }
  const probe = `${DEBIAN_MIRROR}/dists/bookworm/Release`;
  try {
    const response = await fetch(probe, { method: "HEAD", signal: AbortSignal.timeout(20_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    throw new Error(
      `Debian's archive is not reachable (HEAD ${probe}: ${error instanceof Error ? error.message : String(error)}): the guest install checks build their roots from it and need network access to deb.debian.org and security.debian.org`,
    );
  }
}
