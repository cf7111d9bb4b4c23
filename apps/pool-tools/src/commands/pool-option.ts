import { CliError } from "@hyperv-kvp/cli-kit";
import { POOLS, type PoolInfo, isKvpError, parsePool } from "@hyperv-kvp/kvp-core";

/** Options every command takes. */
export interface CommonOptions {
  /** Pool directory (`--dir`); default `$KVP_POOL_DIR`, else /var/lib/hyperv. */
  readonly dir?: string;
  /** Longest lock wait in ms (`--timeout`). */
  readonly timeoutMs?: number;
}

/** `--pool`'s help text. */
export const POOL_HELP = "pool number or name: 0|external, 1|guest, 2|auto, 3|auto-external, 4|auto-internal";

/**
 * Parses `--pool`: a number or a name.
 * @throws {CliError} `usage`, naming the valid pools and the help to read.
 */
export function parsePoolOption(text: string, command: string): PoolInfo {
  try {
    return parsePool(text);
  } catch (error) {
    if (isKvpError(error)) throw new CliError("usage", error.message, `kvp-pool ${command} --help`);
    throw error;
  }
}

/** Every pool, in number order. */
export const ALL_POOLS: readonly PoolInfo[] = POOLS;
