// Interop: the pool lock works both ways between kvp-pool and the real daemon.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim, whose stall hook (KVP_SIM_STALL_FILE, hyperv-sim's `stallFile` option) keeps the
// daemon inside its lock; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { closeSync, constants, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HvStatus, RealDaemon, type SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { type LockMode, lockFile } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { expect, it } from "vitest";
import {
  describeWithRealDaemon,
  expectExit,
  kvp,
  kvpAsync,
  listJson,
  pairs,
  poolFile,
  sleep,
  startRealHost,
  tempDir,
  whole,
} from "./interop-support.js";

const TEST_TIMEOUT_MS = 30_000;
/** How long a request must stay pending while we hold the lock: long against a daemon's µs-scale turn. */
const STILL_PENDING_MS = 300;

function realDaemonOf(host: SimulatedHost): RealDaemon {
  if (!(host.channel instanceof RealDaemon)) throw new Error("expected the real daemon");
  return host.channel;
}

/** Tracks whether a promise has settled. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  return { promise: tracked, settled: () => settled };
}

describeWithRealDaemon("pool locks between kvp-pool and the real hv_kvp_daemon", () => {
  it.each(["write", "read"] as const satisfies readonly LockMode[])(
    "a host ENUMERATE of pool 1 waits while we hold a %s lock on .kvp_pool_1, and completes after release",
    async (mode) => {
      const host = await startRealHost();
      const dir = host.poolDir;
      expectExit(kvp(dir, ["set", "--from-file", "-"], { input: "a=1\nb=2\n" }), 0);
      // The daemon locks F_WRLCK for reads too, so even our read lock keeps it out.
      const fd = openSync(poolFile(dir, 1), mode === "write" ? constants.O_RDWR : constants.O_RDONLY);
      try {
        const lock = await lockFile(fd, mode, { timeoutMs: 5000 });
        const enumeration = track(host.enumerate(1));
        await sleep(STILL_PENDING_MS);
        expect(enumeration.settled()).toBe(false);
        lock.release();
        const seen = await enumeration.promise;
        expect(seen.status).toBe(HvStatus.CONT);
        expect(seen.records).toEqual(
          whole([
            { key: "a", value: "1" },
            { key: "b", value: "2" },
          ]),
        );
      } finally {
        closeSync(fd);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "kvp-pool gives up with exit 3 naming hv_kvp_daemon (pid and command) while the daemon holds its lock",
    async () => {
      const stallFile = join(tempDir("stall"), "stall");
      const host = await startRealHost({ real: { stallFile } });
      const daemon = realDaemonOf(host);
      const dir = host.poolDir;
      expectExit(kvp(dir, ["set", "before", "1"]), 0);

      // The daemon re-reads pool 1 under its lock for the host's ENUMERATE, and stalls there.
      writeFileSync(stallFile, "");
      const enumeration = track(host.enumerate(1));
      await waitFor(
        () => daemon.output.includes(`stalling in fopen(${poolFile(dir, 1)})`),
        "the daemon to stall in its lock",
      );

      const holder = new RegExp(`held by pid ${daemon.pid} \\(hv_kvp_daemon\\) with a POSIX fcntl lock`);
      const set = expectExit(await kvpAsync(dir, ["set", "--timeout", "300ms", "during", "2"]), 3);
      expect(set.stderr).toMatch(
        /^kvp-pool: pool 1 \(guest\) \S*\.kvp_pool_1 is locked: no write lock within 300 ms; /,
      );
      expect(set.stderr).toMatch(holder);
      // Readers are kept out too: the daemon's lock is exclusive even when it only reads.
      const get = expectExit(await kvpAsync(dir, ["--timeout", "300ms", "get", "before"]), 3);
      expect(get.stderr).toMatch(/^kvp-pool: pool 1 \(guest\) .* is locked: no read lock within 300 ms; /);
      expect(get.stderr).toMatch(holder);
      const check = expectExit(await kvpAsync(dir, ["check", "--timeout", "300ms"]), 3);
      expect(check.stdout).toMatch(holder);
      expect(enumeration.settled()).toBe(false);

      // Released: the host's enumeration completes, and kvp-pool gets in.
      rmSync(stallFile);
      const seen = await enumeration.promise;
      expect(seen.records).toEqual(whole([{ key: "before", value: "1" }]));
      expectExit(await kvpAsync(dir, ["set", "--timeout", "300ms", "after", "3"]), 0);
      expect(pairs(listJson(dir, 1))).toEqual([
        { key: "before", value: "1" },
        { key: "after", value: "3" },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a host SET on pool 0 stalled in the daemon's lock keeps kvp-pool list out of pool 0 only",
    async () => {
      const stallFile = join(tempDir("stall"), "stall");
      const host = await startRealHost({ real: { stallFile } });
      const daemon = realDaemonOf(host);
      const dir = host.poolDir;
      expectExit(kvp(dir, ["set", "guest-key", "g"]), 0);
      writeFileSync(stallFile, "");
      const set = track(host.set(0, "host-key", "h"));
      await waitFor(
        () => daemon.output.includes(`stalling in fopen(${poolFile(dir, 0)})`),
        "the daemon to stall in its lock",
      );

      // Pool 1 is not locked: kvp-pool reads and writes it while pool 0 is held.
      expectExit(await kvpAsync(dir, ["--timeout", "300ms", "set", "guest-key", "g2"]), 0);
      const listed = await kvpAsync(dir, ["--timeout", "300ms", "list", "--json"]);
      // Every other pool listed, pool 0 reported as locked: exit 3, one line naming the daemon.
      expect(listed.status).toBe(3);
      expect(listed.stderr).toMatch(
        new RegExp(`^kvp-pool: pool 0 \\(external\\) .* is locked: .*held by pid ${daemon.pid} \\(hv_kvp_daemon\\)`),
      );
      const records = JSON.parse(listed.stdout) as { pool: number; key: string; value: string }[];
      expect(records.filter((r) => r.pool === 1).map((r) => [r.key, r.value])).toEqual([["guest-key", "g2"]]);
      expect(records.some((r) => r.pool === 0)).toBe(false);

      rmSync(stallFile);
      expect(await set.promise).toBe(HvStatus.OK);
      expect(pairs(listJson(dir, 0))).toEqual([{ key: "host-key", value: "h" }]);
    },
    TEST_TIMEOUT_MS,
  );
});
