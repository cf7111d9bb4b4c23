import { KvpError } from "./errors.js";

/**
 * The five pools, by number, with the kernel's names and what each is for. A pool is a file
 * `.kvp_pool_<number>`; who writes it decides whether we may.
 */
export const POOLS = [
  { number: 0, name: "external", kernelName: "KVP_POOL_EXTERNAL", direction: "host → guest", writer: "daemon" },
  { number: 1, name: "guest", kernelName: "KVP_POOL_GUEST", direction: "guest → host", writer: "guest" },
  { number: 2, name: "auto", kernelName: "KVP_POOL_AUTO", direction: "guest → host", writer: "synthesised" },
  {
    number: 3,
    name: "auto-external",
    kernelName: "KVP_POOL_AUTO_EXTERNAL",
    direction: "host → guest",
    writer: "daemon",
  },
  { number: 4, name: "auto-internal", kernelName: "KVP_POOL_AUTO_INTERNAL", direction: "unused", writer: "daemon" },
] as const;

/** A pool number, 0–4. */
export type PoolNumber = (typeof POOLS)[number]["number"];

/** Description of one pool (an element of {@link POOLS}). */
export type PoolInfo = (typeof POOLS)[number];

/** File name of a pool inside the pool directory. */
export function poolFileName(pool: PoolNumber): string {
  return `.kvp_pool_${pool}`;
}

/**
 * Parses a pool given by number (`"1"`) or name (`"guest"`, case-insensitive; the kernel
 * names such as `KVP_POOL_GUEST` work too).
 * @throws {KvpError} `invalid-pool`, listing the valid names.
 */
export function parsePool(text: string | number): PoolInfo {
  const wanted = String(text).trim().toLowerCase();
  const found = POOLS.find(
    (p) => String(p.number) === wanted || p.name === wanted || p.kernelName.toLowerCase() === wanted,
  );
  if (!found) {
    const names = POOLS.map((p) => `${p.number}|${p.name}`).join(", ");
    throw new KvpError("invalid-pool", `invalid pool: ${JSON.stringify(String(text))} (use one of ${names})`);
  }
  return found;
}
