/**
 * What the agent's end-to-end tests share: where the built bundles are, and running one as a
 * child process, asynchronously (the simulated host serves from this very process, so a
 * synchronous spawn would deadlock), knowing whether it has ended.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built kvp-agent bundle (built by the project's vitest globalSetup). */
export const KVP_AGENT = fileURLToPath(new URL("../../dist/kvp-agent.cjs", import.meta.url));
/** The host side's built kvp-host bundle (built by `pnpm exec turbo run build`, not by this project). */
export const KVP_HOST = fileURLToPath(new URL("../../../host-cli/dist/kvp-host.cjs", import.meta.url));

/** How a child process ended. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A bundle running in the background. */
export interface Running {
  /** Settles when it has ended and its output is closed. */
  readonly done: Promise<Run>;
  /** Whether it has ended. */
  ended(): boolean;
  /** Sends it `signal` (default SIGKILL, for a test's cleanup) if it is still running. */
  stop(signal?: NodeJS.Signals): void;
}

/**
 * Starts `bundle` with this Node. Its environment is PATH and `env` alone, so nothing of the
 * test's own environment (CI, KVP_*) changes what it does.
 */
export function startBundle(bundle: string, args: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [bundle, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
  });
  let stdout = "";
  let stderr = "";
  let ended = false;
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const done = new Promise<Run>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      ended = true;
      resolve({ code, stdout, stderr });
    });
  });
  return {
    done,
    ended: () => ended,
    stop: (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
