// Interop: a value longer than the host receives whole, set with `kvp-pool set --chunk`,
// reaches the host through the real hv_kvp_daemon as parts that are each whole (never cut by
// the kernel's 1022-unit limit, never invalid UTF-8, so the enumeration runs to the end), in
// order, and `kvp-pool get` reassembles it.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { HOST_MAX_VALUE_UNITS, splitValue } from "@hyperv-kvp/kvp-core";
import { HvStatus } from "@hyperv-kvp/hyperv-sim";
import { expect, it } from "vitest";
import { describeWithRealDaemon, expectExit, expectWholeRecords, kvpAsync, readPoolBytes, startRealHost, whole } from "./interop-support.js";

const TEST_TIMEOUT_MS = 60_000;

describeWithRealDaemon("chunked values through the real hv_kvp_daemon", () => {
  it(
    "delivers a 5000-character multibyte value as whole parts in order, and get reassembles it",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      // 1-, 2-, 3- and 4-byte characters (the emoji is a surrogate pair), 5000 characters:
      // 6000 UTF-16 units, 13,000 bytes, so the byte limit decides the cuts.
      const value = "aé€中😀".repeat(1000);
      expect([...value].length).toBe(5000);
      const parts = splitValue("report", value);
      expect(parts.length).toBe(7);

      expectExit(await kvpAsync(dir, ["set", "before", "1"]), 0);
      expectExit(await kvpAsync(dir, ["set", "--chunk", "report", value]), 0);
      expectExit(await kvpAsync(dir, ["set", "after", "2"]), 0);
      expectWholeRecords(readPoolBytes(dir, 1));

      const seen = await host.enumerate(1);
      // CONT after the last record: nothing stopped the enumeration early.
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toEqual(whole([{ key: "before", value: "1" }, ...parts, { key: "after", value: "2" }]));
      const received = seen.records.filter((r) => r.key.startsWith("report#"));
      expect(received.map((r) => r.key)).toEqual(Array.from({ length: 7 }, (_, i) => `report#${i + 1}/7`));
      for (const r of received) expect(r.value.length).toBeLessThanOrEqual(HOST_MAX_VALUE_UNITS);
      expect(received.map((r) => r.value).join("")).toBe(value);

      expect(expectExit(await kvpAsync(dir, ["get", "report"]), 0).stdout).toBe(`${value}\n`);
      expectExit(await kvpAsync(dir, ["check"]), 0);

      // Deleting the logical key removes every part; the host sees only the rest.
      expectExit(await kvpAsync(dir, ["delete", "report"]), 0);
      expect((await host.enumerate(1)).records).toEqual(whole([{ key: "before", value: "1" }, { key: "after", value: "2" }]));
    },
    TEST_TIMEOUT_MS,
  );
});
