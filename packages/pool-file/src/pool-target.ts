import { type PoolInfo, type PoolNumber, isKvpError, parsePool } from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "./errors.js";
import { poolPath, resolvePoolDir } from "./pool-dir.js";

/** A pool file: which pool, in which directory, at which path. */
export interface PoolTarget {
  readonly pool: PoolInfo;
  readonly dir: string;
  readonly path: string;
}

/**
 * Names a pool file. `pool` is a number, a name (`guest`, `external`, …) or a {@link PoolInfo};
 * `dir` defaults as in {@link resolvePoolDir}.
 * @throws {PoolFileError} `invalid` for an unknown pool.
 */
export function poolTarget(pool: string | number | PoolInfo, dir?: string): PoolTarget {
  let info: PoolInfo;
  try {
    info = typeof pool === "object" ? pool : parsePool(pool);
  } catch (error) {
    if (isKvpError(error)) throw new PoolFileError("invalid", error.message, { cause: error });
    throw error;
  }
  const resolved = resolvePoolDir(dir);
  return { pool: info, dir: resolved, path: poolPath(resolved, info.number as PoolNumber) };
}

/** "pool 1 (guest) /var/lib/hyperv/.kvp_pool_1": how messages name a pool file. */
export function describePool(target: PoolTarget): string {
  return `pool ${target.pool.number} (${target.pool.name}) ${target.path}`;
}

/**
 * Why a pool must not be written without `force`, or undefined when writing is ordinary.
 * Only pool 1 belongs to guest tools; the daemon owns the others.
 */
export function writeRefusal(target: PoolTarget): string | undefined {
  switch (target.pool.number) {
    case 1:
      return undefined;
    case 0:
    case 3:
      return `${describePool(target)} is written by hv_kvp_daemon with what the host sends; the host never reads it back and the daemon rewrites it at the host's next change`;
    case 2:
      return `${describePool(target)} is never read: hv_kvp_daemon synthesises pool 2 for the host from the system itself`;
    default:
      return `${describePool(target)} is unused: nothing reads it`;
  }
}
