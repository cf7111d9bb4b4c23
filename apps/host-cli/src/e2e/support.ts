/**
 * What the end-to-end suites share: where the built bundles are, running one as a child
 * process, the simulated host over HTTPS with the real daemon, reading a guest's pool file.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type SelfSignedCertificate,
  type WmiHost,
  makeSelfSignedCertificate,
  startWmiHost,
} from "@hyperv-kvp/hyperv-sim";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";

/** The built kvp-host bundle (built by the project's vitest globalSetup). */
export const KVP_HOST = fileURLToPath(new URL("../../dist/kvp-host.cjs", import.meta.url));
/** The guest side's built kvp-pool bundle. */
export const KVP_POOL = fileURLToPath(new URL("../../../pool-tools/dist/kvp-pool.cjs", import.meta.url));

/** How a child process ended. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `script` with this Node, asynchronously: the simulator serves from this very process,
 * so a synchronous spawn would deadlock. `env` is added to this process's environment
 * (a value `undefined` removes the variable).
 */
export function runNode(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Key → value of a guest's pool file `n` in `dir` (first of duplicates wins, as readers do). */
export function poolOf(dir: string, n: 0 | 1): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of decodePool(new Uint8Array(readFileSync(join(dir, poolFileName(n))))).records)
    if (!map.has(r.key)) map.set(r.key, r.value);
  return map;
}

/** The user and password of {@link startHttpsHost}'s host. */
export const E2E_USER = "Administrator";
export const E2E_PASSWORD = "E2e-Pa55w0rd!";

/** Options of {@link HttpsHost.kvpHost}. */
export interface KvpHostRunOptions {
  /** Default {@link E2E_PASSWORD}. */
  readonly password?: string;
  /** False: no `--ca` (the self-signed certificate is then not trusted). */
  readonly ca?: boolean;
  /** Default the host's endpoint. */
  readonly endpoint?: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

/** hyperv-sim's WMI host over loopback HTTPS (a self-signed certificate), its VMs on the real daemon. */
export interface HttpsHost {
  readonly host: WmiHost;
  readonly cert: SelfSignedCertificate;
  /** Runs the built kvp-host against it: `--endpoint`, `--user`, `--timeout 10s`, `--ca`, then `args`. */
  kvpHost(args: readonly string[], options?: KvpHostRunOptions): Promise<Run>;
  close(): Promise<void>;
}

/** Starts {@link HttpsHost} with `vms`. */
export async function startHttpsHost(vms: readonly string[]): Promise<HttpsHost> {
  const cert = makeSelfSignedCertificate();
  let host: WmiHost;
  try {
    host = await startWmiHost({
      vms: [...vms],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [E2E_USER]: E2E_PASSWORD },
    });
  } catch (error) {
    rmSync(cert.dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host,
    cert,
    kvpHost: (args, options = {}) =>
      runNode(
        KVP_HOST,
        [
          "--endpoint",
          options.endpoint ?? host.endpoint,
          "--user",
          E2E_USER,
          "--timeout",
          "10s",
          ...(options.ca === false ? [] : ["--ca", cert.certPath]),
          ...args,
        ],
        { KVP_HOST_PASSWORD: options.password ?? E2E_PASSWORD },
        options.timeoutMs,
      ),
    close: async () => {
      await host.close();
      rmSync(cert.dir, { recursive: true, force: true });
    },
  };
}
