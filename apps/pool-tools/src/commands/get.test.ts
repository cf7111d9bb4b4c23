// `get` reads only what it needs: keys compared as bytes, only the records of the key
// decoded, and nothing read after a plain record of the key that comes before any part.
// Checked against the plain definition (decode everything, reassemble, first match), over
// pools mixing plain records, parts, other cases and neighbours, in every order tried.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type KvpRecord,
  decodePool,
  encodePool,
  keyMatcher,
  parseChunkKey,
  reassembleRecords,
} from "@hyperv-kvp/kvp-core";
import { isCliError } from "@hyperv-kvp/cli-kit";
import { afterEach, expect, it } from "vitest";
import { makePoolDir } from "../test-support.js";
import { get } from "./get.js";
import { parsePoolOption } from "./pool-option.js";

let cleanup = () => {};
afterEach(() => cleanup());

/**
 * What get must answer: every record decoded, parts reassembled, the first match; a part
 * left as stored (its value not whole) is never an answer (`get --raw` reads one part).
 */
function expected(records: readonly KvpRecord[], key: string, ignoreCase: boolean): string | undefined {
  const decoded = decodePool(encodePool(records)).records;
  const matches = keyMatcher(key, ignoreCase ? { ignoreCase } : {});
  return reassembleRecords(decoded).records.find((r) => parseChunkKey(r.key) === undefined && matches(r))?.value;
}

/** A deterministic shuffle (xorshift), so a failure names a seed that reproduces it. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = Math.abs(s) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

it("answers as decoding the whole pool would, for plain records, parts and other cases in any order", async () => {
  const made = makePoolDir({});
  cleanup = made.cleanup;
  const file = join(made.dir, ".kvp_pool_1");
  const pool = parsePoolOption("1", "get");
  const kinds: KvpRecord[] = [
    { key: "k", value: "plain k" },
    { key: "K", value: "plain K" },
    { key: "k#1/2", value: "parts " },
    { key: "k#2/2", value: "of k" },
    { key: "K#1/2", value: "parts " },
    { key: "K#2/2", value: "of K" },
    { key: "k#", value: "not a part" },
    { key: "kk", value: "a longer key" },
    { key: "other", value: "x" },
  ];
  let compared = 0;
  for (let seed = 1; seed <= 60; seed++) {
    // A pool of some of the kinds (each kept with probability ~2/3), shuffled, padded past one chunk.
    const chosen = shuffled(kinds, seed).filter((_, i) => (seed * 7 + i) % 3 !== 0);
    const padding = Array.from({ length: seed % 2 === 0 ? 300 : 3 }, (_, i) => ({ key: `pad${i}`, value: "p" }));
    const records = seed % 4 < 2 ? [...chosen, ...padding] : [...padding, ...chosen];
    writeFileSync(file, encodePool(records));
    for (const key of ["k", "K", "k#1/2", "kk", "absent"]) {
      for (const ignoreCase of [false, true]) {
        const want = expected(records, key, ignoreCase);
        let got: string | undefined;
        try {
          got = (await get(key, { pool, dir: made.dir, ...(ignoreCase ? { ignoreCase } : {}) })).value;
        } catch (error) {
          if (!(isCliError(error) && error.code === "not-found")) throw error;
        }
        expect(got, `seed ${seed}, key ${key}, ignoreCase ${ignoreCase}`).toBe(want);
        compared++;
      }
    }
  }
  expect(compared).toBe(600);
});
