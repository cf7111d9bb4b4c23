import { join } from "node:path";
import { type PoolNumber, poolFileName } from "@hyperv-kvp/kvp-core";

/** Where hv_kvp_daemon keeps the pools; it hard-codes this path. */
export const DEFAULT_POOL_DIR = "/var/lib/hyperv";

/** Environment variable that overrides {@link DEFAULT_POOL_DIR} (the `--dir` option wins over it). */
export const POOL_DIR_ENV = "KVP_POOL_DIR";

/**
 * The pool directory to use: the explicit one, else `$KVP_POOL_DIR`, else `/var/lib/hyperv`.
 */
export function resolvePoolDir(dir?: string, env: Record<string, string | undefined> = process.env): string {
  if (dir !== undefined && dir !== "") return dir;
  const fromEnv = env[POOL_DIR_ENV];
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : DEFAULT_POOL_DIR;
}

/** Path of a pool's file in `dir`. */
export function poolPath(dir: string, pool: PoolNumber): string {
  return join(dir, poolFileName(pool));
}
