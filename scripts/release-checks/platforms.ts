// How the release checks run the programs they check: natively, or a Windows executable under
// Wine in a throwaway prefix. Output goes to FILES, never pipes: a pipe as stdout makes Node
// under Wine fail at its first write (EBADF). A Windows process under Wine receives SIGINT as
// a console Ctrl-C event (Node's SIGINT listeners run); SIGTERM ends it without them.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Debian's wine64 loader; the package puts no `wine` on PATH. */
export const WINE64 = "/usr/lib/wine/wine64";
export const WINESERVER = "/usr/lib/wine/wineserver";
/** Longest any one run may take, ms: a deadline against hangs, not a measurement. */
export const RUN_DEADLINE_MS = 120_000;

/** How a run ended, and what it wrote. */
export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A program still running (a watch). */
export interface Running {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Sends SIGINT: a console Ctrl-C event for a Windows process under Wine. */
  readonly interrupt: () => void;
  readonly ended: Promise<Run>;
}

/** How the checks run one executable: natively, or under Wine with its own prefix. */
export interface Platform {
  readonly windows: boolean;
  /** Where runs keep their output files (and Wine its prefix). */
  readonly workDir: string;
  /** The environment every run gets (without NODE_EXTRA_CA_CERTS, which users do not have). */
  readonly env: Record<string, string>;
  readonly command: (program: string, args: readonly string[]) => [string, string[]];
  /** A Linux path as the program names it: `Z:\tmp\…` for Windows (Wine's Z: is /). */
  readonly pathFor: (unixPath: string) => string;
  /** A path the program printed, as a Linux path (Wine drives are links in the prefix's dosdevices). */
  readonly unixPath: (programPath: string) => string;
}

let counter = 0;

/** Starts `program` with stdout and stderr in files (see the header: a pipe breaks Node under Wine). */
export function start(
  platform: Platform,
  program: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Running {
  const base = join(platform.workDir, `run-${++counter}`);
  const out = openSync(`${base}.out`, "w");
  const err = openSync(`${base}.err`, "w");
  const [command, argv] = platform.command(program, args);
  let child: ChildProcess;
  try {
    child = spawn(command, argv, {
      stdio: ["ignore", out, err],
      env: { ...platform.env, ...env },
      cwd: platform.workDir,
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const read = (suffix: string) => () => readFileSync(`${base}.${suffix}`, "utf8");
  const ended = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_DEADLINE_MS);
    child.once("error", (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: read("out")(), stderr: read("err")() });
    });
  });
  return { stdout: read("out"), stderr: read("err"), interrupt: () => child.kill("SIGINT"), ended };
}

export function run(
  platform: Platform,
  program: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return start(platform, program, args, env).ended;
}

/** Resolves once `check()` is true, polling; throws naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The environment of this process without what would flatter or skew the runs. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      name !== "NODE_EXTRA_CA_CERTS" &&
      name !== "KVP_HOST_PASSWORD" &&
      name !== "KVP_HOST_POWERSHELL"
    )
      env[name] = value;
  }
  return env;
}

/** A throwaway Wine prefix that reports Windows 10 (Node refuses the older Windows a fresh prefix reports). */
export async function winePlatform(workDir: string): Promise<Platform> {
  if (!existsSync(WINE64)) {
    throw new Error(
      `${WINE64} is missing: the Windows executable is checked under Wine. Install it with \`apt-get install -y --no-install-recommends wine64\` (scripts/setup.sh --for-tests does).`,
    );
  }
  const prefix = join(workDir, "wine-prefix");
  const env = { ...cleanEnv(), WINEPREFIX: prefix, WINEDEBUG: "-all" };
  const platform: Platform = {
    windows: true,
    workDir,
    env,
    command: (program, args) => [WINE64, [program, ...args]],
    pathFor: (unixPath) => `Z:${unixPath.replaceAll("/", "\\")}`,
    unixPath: (programPath) => {
      const match = /^([A-Za-z]):\\(.*)$/.exec(programPath);
      if (!match) throw new Error(`not a Windows path: ${programPath}`);
      return join(prefix, "dosdevices", `${match[1]!.toLowerCase()}:`, ...match[2]!.split("\\"));
    },
  };
  const setup = await run(platform, "winecfg", ["/v", "win10"]);
  if (setup.code !== 0) throw new Error(`wine64 winecfg /v win10 failed (exit ${setup.code}): ${setup.stderr}`);
  return platform;
}

/** Runs programs natively, output files in `workDir`. */
export const linuxPlatform = (workDir: string): Platform => ({
  windows: false,
  workDir,
  env: cleanEnv(),
  command: (program, args) => [program, [...args]],
  pathFor: (unixPath) => unixPath,
  unixPath: (programPath) => programPath,
});
