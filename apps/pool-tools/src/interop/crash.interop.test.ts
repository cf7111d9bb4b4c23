// Interop: kvp-pool processes SIGKILLed in the middle of big set/delete batches leave pool 1
// whole and usable, for kvp-pool and for the real daemon.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
//
// What "whole" means is pool-file's write guarantee (record-write-plan.ts): every write stays
// inside one 4 KiB page, which a SIGKILL cannot tear, and the writes of one record are
// ordered so that each intermediate state reads as the old record, the new one, or the new
// one with its value cut short at a character boundary before the page end. A delete moves
// later records up one by one, so a kill in the middle of one leaves a record twice (both
// copies with the key's own value), or a record with an empty key (a key emptied before its
// record was replaced), never a key with a value that was not its own; an append cut short
// leaves a trailing fragment that check reports and the next write drops. The data is drawn
// from a seeded PRNG; only the moment of each kill varies.
import { closeSync, constants, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  KEY_FIELD_BYTES,
  RECORD_BYTES,
  VALUE_FIELD_OFFSET,
  decodeUtf8,
  encodeUtf8,
  utf8BoundaryAtOrBefore,
} from "@hyperv-kvp/kvp-core";
import { HvStatus } from "@hyperv-kvp/hyperv-sim";
import { PAGE_BYTES, lockFile, tryLockFile } from "@hyperv-kvp/pool-file";
import { expect, it } from "vitest";
import {
  describeWithRealDaemon,
  expectExit,
  expectWholeRecords,
  kvpAsync,
  pairs,
  poolFile,
  type RunningKvp,
  readPoolBytes,
  seededRandom,
  sleep,
  startKvp,
  startRealHost,
  tempDir,
  whole,
} from "./interop-support.js";

const ITERATIONS = 40;
const INITIAL_RECORDS = 150;

interface Pair {
  key: string;
  value: string;
}

const ALPHABET = ["a", "b", "é", "ß", "€", "中", "😀", "🚀", " "];

/** A value within both the host's 1022 UTF-16 units and the record's 2047 bytes. */
function drawValue(random: () => number, tag: string): string {
  // Mostly long values, so records are rewritten across the page boundaries inside them.
  const targetBytes = random() < 0.25 ? Math.floor(random() * 100) : 1000 + Math.floor(random() * 1040);
  let value = `${tag}:`;
  let bytes = encodeUtf8(value).length;
  let units = value.length;
  for (;;) {
    const c = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
    const b = encodeUtf8(c).length;
    if (bytes + b > Math.min(targetBytes, 2047) || units + c.length > 1022) return value;
    value += c;
    bytes += b;
    units += c.length;
  }
}

/** The value a record at `index` reads as when a kill caught pool-file's provisional cut of `value`. */
function provisionalCut(value: string, index: number): string | undefined {
  const split = PAGE_BYTES - ((index * RECORD_BYTES) % PAGE_BYTES);
  if (split >= RECORD_BYTES || split <= KEY_FIELD_BYTES) return undefined;
  const room = split - VALUE_FIELD_OFFSET - 1;
  const bytes = encodeUtf8(value);
  if (bytes.length <= room) return undefined;
  return decodeUtf8(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, room))).text;
}

/** Upsert as the daemon and kvp-pool do it: the first record with the key changes, else append. */
function applySet(pool: Pair[], batch: readonly Pair[]): Pair[] {
  const next = pool.map((r) => ({ ...r }));
  for (const r of batch) {
    const hit = next.find((p) => p.key === r.key);
    if (hit) hit.value = r.value;
    else next.push({ ...r });
  }
  return next;
}

function applyDelete(pool: Pair[], key: string): Pair[] {
  const at = pool.findIndex((p) => p.key === key);
  return at < 0 ? pool : [...pool.slice(0, at), ...pool.slice(at + 1)];
}

/** Records that are not the first with their key, or have an empty key: what a killed delete may leave. */
function anomalies(pool: readonly Pair[]): number {
  const seen = new Set<string>();
  let count = 0;
  for (const r of pool) {
    if (r.key === "" || seen.has(r.key)) count++;
    seen.add(r.key);
  }
  return count;
}

/** How long after taking the lock a gated run is killed, at most, in milliseconds. */
const KILL_WINDOW_MS = 4;

/**
 * Starts kvp-pool while this process holds the pool's write lock, releases it once the
 * process is (probably) waiting for it, and returns as soon as the process has the lock plus
 * `delayMs` (busy-waited: timers are too coarse). Our probes take and drop the lock within
 * microseconds, so they hardly delay the process.
 */
async function startBehindLock(dir: string, args: readonly string[], delayMs: number): Promise<RunningKvp> {
  const fd = openSync(poolFile(dir, 1), constants.O_RDWR);
  try {
    const lock = await lockFile(fd, "write", { timeoutMs: 5000 });
    const run = startKvp(dir, ["--timeout", "20s", ...args]);
    try {
      // Long enough for node to start and reach its lock wait; not critical either way.
      await sleep(120);
    } finally {
      lock.release();
    }
    const deadline = performance.now() + 2000;
    while (performance.now() < deadline && run.child.exitCode === null) {
      const probe = tryLockFile(fd, "write");
      if (probe === undefined) break;
      probe.release();
    }
    const until = performance.now() + delayMs;
    while (performance.now() < until) {
      // Busy wait.
    }
    return run;
  } finally {
    closeSync(fd);
  }
}

const same = (a: readonly Pair[], b: readonly Pair[]) => JSON.stringify(pairs(a)) === JSON.stringify(pairs(b));

describeWithRealDaemon("kvp-pool killed mid-write beside the real hv_kvp_daemon", () => {
  it(`${ITERATIONS} SIGKILLed set/delete batches leave whole records, old-or-new values and a usable store`, async () => {
    const random = seededRandom(0x6b76_7030);
    const host = await startRealHost();
    const dir = host.poolDir;
    const work = tempDir("crash");
    /** Every value ever handed to a writer, by key. */
    const written = new Map<string, Set<string>>();
    const anyWritten = new Set<string>();
    const remember = (batch: readonly Pair[]) => {
      for (const { key, value } of batch) {
        if (!written.has(key)) written.set(key, new Set());
        written.get(key)!.add(value);
        anyWritten.add(value);
      }
    };
    let fresh = 0;
    const newKey = () => `key-${String(fresh++).padStart(4, "0")}-${"é".repeat(fresh % 5)}`;

    const initial = Array.from({ length: INITIAL_RECORDS }, () => {
      const key = newKey();
      return { key, value: drawValue(random, key) };
    });
    remember(initial);
    const seedFile = join(work, "seed.json");
    writeFileSync(seedFile, JSON.stringify(Object.fromEntries(initial.map((r) => [r.key, r.value]))));
    expectExit(await kvpAsync(dir, ["set", "--from-file", seedFile]), 0);
    let model: Pair[] = initial;
    const outcomes = { completed: 0, before: 0, after: 0, between: 0 };
    const leftovers = { cutValues: 0, duplicates: 0, emptyKeys: 0, fragments: 0 };

    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const context = `iteration ${iteration}`;
      // The operation: a big batch (changes to a third of the keys, some appends) or a delete
      // near the front, which moves nearly every record.
      let args: string[];
      let expected: Pair[];
      const isDelete = random() < 0.4 && model.length > 10;
      if (isDelete) {
        const candidates = model.slice(0, 10).filter((r) => r.key !== "");
        const key = candidates[Math.floor(random() * candidates.length)]!.key;
        args = ["delete", key];
        expected = applyDelete(model, key);
      } else {
        const keys = [...new Set(model.map((r) => r.key).filter((k) => k !== ""))];
        const batch: Pair[] = keys
          .filter(() => random() < 0.35)
          .map((key) => ({ key, value: drawValue(random, `${key}@${iteration}`) }));
        for (let n = Math.floor(random() * 4); n > 0; n--) {
          const key = newKey();
          batch.push({ key, value: drawValue(random, key) });
        }
        remember(batch);
        const file = join(work, `batch-${iteration}.json`);
        writeFileSync(file, JSON.stringify(Object.fromEntries(batch.map((r) => [r.key, r.value]))));
        args = ["set", "--from-file", file];
        expected = applySet(model, batch);
      }

      // Kill it. A random delay after the start would mostly miss the few milliseconds of
      // writing, so two times in three we hold the pool's lock while the process starts,
      // release it, spin until the process has the lock, and kill it a random fraction of
      // a few milliseconds later: inside its reads and writes.
      const gated = iteration % 3 !== 2;
      const run = gated
        ? await startBehindLock(dir, args, random() * KILL_WINDOW_MS)
        : startKvp(dir, ["--timeout", "20s", ...args]);
      if (!gated) await sleep(random() * 200);
      run.child.kill("SIGKILL");
      const result = await run.done;

      // Whatever happened: whole, terminated, valid records (and perhaps a fragment).
      const bytes = readPoolBytes(dir, 1);
      const { records, fragment } = expectWholeRecords(bytes);
      const now = pairs(records);
      const firstIndex = new Map<string, number>();
      for (const [i, r] of records.entries()) if (!firstIndex.has(r.key)) firstIndex.set(r.key, i);
      for (const [i, r] of records.entries()) {
        const cuts = (values: Iterable<string>) => [...values].map((v) => provisionalCut(v, i));
        if (r.key === "") {
          // A key emptied before its record was replaced: left only by a killed delete.
          leftovers.emptyKeys++;
          expect(anyWritten.has(r.value) || cuts(anyWritten).includes(r.value), `${context}: record ${i}`).toBe(true);
          continue;
        }
        // Every record, the first with its key (what lookups find) or a leftover copy: a value
        // some writer wrote for this key, or its provisional cut.
        const mine = written.get(r.key);
        expect(mine, `${context}: unknown key ${r.key} at ${i}`).toBeDefined();
        const exact = mine!.has(r.value);
        const ok = exact || cuts(mine!).includes(r.value);
        expect(ok, `${context}: record ${i} ${r.key} = ${r.value.slice(0, 60)}… was never written for it`).toBe(true);
        if (!exact) leftovers.cutValues++;
        if (firstIndex.get(r.key) !== i) leftovers.duplicates++;
      }
      expect(anomalies(now), `${context}: duplicates appear only after a killed delete`).toBeLessThanOrEqual(
        anomalies(model) + (isDelete && result.signal === "SIGKILL" ? 1 : 0),
      );
      if (fragment > 0) {
        expect(isDelete, `${context}: only a cut-short append leaves a fragment`).toBe(false);
        leftovers.fragments++;
      }

      if (result.signal === null) {
        // It finished before the kill: exactly the expected state.
        expectExit(result, 0);
        expect(now, context).toEqual(pairs(expected));
        expect(fragment).toBe(0);
        outcomes.completed++;
      } else {
        expect(result.signal).toBe("SIGKILL");
        if (same(now, model) && fragment === 0) outcomes.before++;
        else if (same(now, expected) && fragment === 0) outcomes.after++;
        else outcomes.between++;
      }
      model = now;
      // What is there now is the "old" value of the next run, cut values included.
      remember(now);

      // check agrees: no errors; at most a fragment, duplicates, empty keys.
      const check = await kvpAsync(dir, ["check", "--json"]);
      expect(check.status === 0 || check.status === 1, `${context}: check exit ${check.status}: ${check.stderr}`).toBe(
        true,
      );
      const report = JSON.parse(check.stdout)[0].report;
      expect(report.errors, context).toBe(0);
      for (const d of report.diagnostics) {
        expect(["trailing-fragment", "duplicate-key", "empty-key", "garbage-after-nul"], context).toContain(d.code);
      }
      expect(report.trailingBytes).toBe(fragment);

      // The host reads it all through the real daemon (which ignores a fragment).
      const seen = await host.enumerate(1);
      expect(seen.status, context).toBe(HvStatus.CONT);
      expect(seen.records, context).toEqual(whole(model));

      // And the store stays usable: a set (which drops any fragment) and a get.
      const probe = `probe ${iteration} ✓`;
      expectExit(await kvpAsync(dir, ["set", "probe", probe]), 0);
      expect(expectExit(await kvpAsync(dir, ["get", "probe"]), 0).stdout).toBe(`${probe}\n`);
      remember([{ key: "probe", value: probe }]);
      model = applySet(model, [{ key: "probe", value: probe }]);
      expect(readPoolBytes(dir, 1).length, context).toBe(model.length * RECORD_BYTES);
    }

    const seen = await host.enumerate(1);
    expect(seen.records).toEqual(whole(model));
    // How the kills fell (timing varies from run to run; reported, not asserted).
    console.info(
      `crash test: ${ITERATIONS} runs: ${outcomes.completed} finished before the kill, killed ${outcomes.before} before writing, ` +
        `${outcomes.after} after writing, ${outcomes.between} in between; left behind: ${leftovers.cutValues} cut values, ` +
        `${leftovers.duplicates} duplicates, ${leftovers.emptyKeys} emptied keys, ${leftovers.fragments} fragments (counted after each kill)`,
    );
  }, 90_000);
});
