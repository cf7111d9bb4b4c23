// Interop: several kvp-pool processes writing pool 1 at once while the host hammers the real
// daemon (SET on pool 0, ENUMERATE on pool 1): no torn record, no lost update.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { HvStatus } from "@hyperv-kvp/hyperv-sim";
import { expect, it } from "vitest";
import {
  describeWithRealDaemon,
  expectExit,
  expectWholeRecords,
  kvpAsync,
  listJsonAsync,
  pairs,
  readPoolBytes,
  startRealHost,
  whole,
} from "./interop-support.js";

const WRITERS = 4;
const ROUNDS = 8;
const KEYS_PER_WRITER = 12;
/** Writer 0 sets its keys one process per key instead of in batches. */
const SINGLE_SET_KEYS = 3;

const key = (writer: number, k: number) => `w${writer}-k${String(k).padStart(2, "0")}`;

/**
 * The value writer `w` gives key `k` in round `r`: unique, multibyte, and of a length that
 * changes from round to round (longer and shorter, 40 to ~1900 bytes), so records are
 * rewritten across the page boundaries inside them and shortened over old tails.
 */
function valueFor(w: number, k: number, r: number): string {
  const reps = (w * 37 + k * 53 + r * 71) % 180;
  return `w${w} k${k} r${r} |${"€é😀x".repeat(reps)}| end`;
}

describeWithRealDaemon("kvp-pool writers racing each other and the real hv_kvp_daemon", () => {
  it(`${WRITERS} writer processes × ${ROUNDS} rounds under host SET/ENUMERATE traffic: no torn record, no lost update`, async () => {
    const host = await startRealHost();
    const dir = host.poolDir;
    const written = new Map<string, Set<string>>();
    const remember = (k: string, v: string) => {
      const values = written.get(k) ?? new Set<string>();
      written.set(k, values);
      values.add(v);
    };
    for (let w = 0; w < WRITERS; w++) {
      const keys = w === 0 ? SINGLE_SET_KEYS : KEYS_PER_WRITER;
      for (let k = 0; k < keys; k++) for (let r = 0; r < ROUNDS; r++) remember(key(w, k), valueFor(w, k, r));
    }

    const writer = async (w: number) => {
      for (let r = 0; r < ROUNDS; r++) {
        if (w === 0) {
          for (let k = 0; k < SINGLE_SET_KEYS; k++) {
            expectExit(await kvpAsync(dir, ["--timeout", "20s", "set", key(w, k), valueFor(w, k, r)]), 0);
          }
          continue;
        }
        // A JSON batch on stdin: values hold no newline issues and order is kept.
        const batch = Object.fromEntries(
          Array.from({ length: KEYS_PER_WRITER }, (_, k) => [key(w, k), valueFor(w, k, r)]),
        );
        expectExit(
          await kvpAsync(dir, ["--timeout", "20s", "set", "--from-file", "-"], { input: JSON.stringify(batch) }),
          0,
        );
      }
    };

    let writing = true;
    let hostRounds = 0;
    const hostValues = new Map<string, string>();
    const hammer = async () => {
      while (writing) {
        const k = `host-${hostRounds % 5}`;
        const v = `host round ${hostRounds} ${"ß".repeat(hostRounds % 300)}`;
        expect(await host.set(0, k, v)).toBe(HvStatus.OK);
        hostValues.set(k, v);
        // Every record the host sees is whole: a key some writer used, a value it wrote.
        const seen = await host.enumerate(1);
        expect(seen.status).toBe(HvStatus.CONT);
        const keys = new Set<string>();
        for (const record of seen.records) {
          expect(record.truncated).toBe(false);
          expect(
            written.get(record.key)?.has(record.value),
            `host saw ${record.key} = ${record.value.slice(0, 40)}…`,
          ).toBe(true);
          expect(keys.has(record.key), `duplicate ${record.key}`).toBe(false);
          keys.add(record.key);
        }
        hostRounds++;
      }
    };

    const hammering = hammer();
    try {
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    } finally {
      writing = false;
      await hammering;
    }
    expect(hostRounds).toBeGreaterThan(0);

    // Final state: every key once, with the value of its last round.
    const expected = new Map<string, string>();
    for (let w = 0; w < WRITERS; w++) {
      const keys = w === 0 ? SINGLE_SET_KEYS : KEYS_PER_WRITER;
      for (let k = 0; k < keys; k++) expected.set(key(w, k), valueFor(w, k, ROUNDS - 1));
    }
    const listed = pairs(await listJsonAsync(dir, 1));
    expect(listed).toHaveLength(expected.size);
    expect(new Map(listed.map((r) => [r.key, r.value]))).toEqual(expected);
    // Writers' first batches are appended in whatever order they won the lock; each
    // writer's own keys stay in its order.
    for (let w = 1; w < WRITERS; w++) {
      const mine = listed.filter((r) => r.key.startsWith(`w${w}-`)).map((r) => r.key);
      expect(mine).toEqual(Array.from({ length: KEYS_PER_WRITER }, (_, k) => key(w, k)));
    }

    // The raw file: whole, terminated, valid records only.
    const raw = expectWholeRecords(readPoolBytes(dir, 1));
    expect(raw.fragment).toBe(0);
    expect(pairs(raw.records)).toEqual(listed);

    // The host sees the same, and the host's own pool 0 writes all landed.
    const seen = await host.enumerate(1);
    expect(seen.status).toBe(HvStatus.CONT);
    expect(seen.records).toEqual(whole(listed));
    expect(new Map(pairs(await listJsonAsync(dir, 0)).map((r) => [r.key, r.value]))).toEqual(hostValues);

    const check = expectExit(await kvpAsync(dir, ["check", "--all-pools", "--json"]), 0);
    for (const result of JSON.parse(check.stdout)) {
      expect(result.report, `pool ${result.pool}`).toMatchObject({ errors: 0, warnings: 0 });
    }
  }, 60_000);
});
