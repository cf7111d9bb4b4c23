// Interop: a value longer than the host receives whole, set with `kvp-pool set --chunk`,
// reaches the host through the real hv_kvp_daemon as parts that are each whole (never cut by
// the kernel's 1022-unit limit, never invalid UTF-8, so the enumeration runs to the end), in
// order, and `kvp-pool get` reassembles it; and a chunked value the host sends part by part
// (one SET, one daemon rewrite of pool 0, at a time) is one change in `kvp-pool watch`.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { HOST_MAX_VALUE_UNITS, splitValue } from "@hyperv-kvp/kvp-core";
import { HvStatus } from "@hyperv-kvp/hyperv-sim";
import { waitFor } from "@hyperv-kvp/test-support";
import { expect, it } from "vitest";
import {
  describeWithRealDaemon,
  expectExit,
  expectWholeRecords,
  kvpAsync,
  readPoolBytes,
  startKvp,
  startRealHost,
  whole,
} from "./interop-support.js";

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
      expect((await host.enumerate(1)).records).toEqual(
        whole([
          { key: "before", value: "1" },
          { key: "after", value: "2" },
        ]),
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "watch reports a chunked value the host sends one part at a time as one change of its key, never a part",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const value = "Grüße aus Köln 🚀 ".repeat(150); // 2,700 UTF-16 units: three parts
      const parts = splitValue("userdata", value);
      expect(parts.length).toBe(3);
      const watch = startKvp(dir, ["watch", "--pool", "external", "--json"]);
      let stdout = "";
      let stderr = "";
      watch.child.stdout?.on("data", (s: string) => (stdout += s));
      watch.child.stderr?.on("data", (s: string) => (stderr += s));
      const events = () =>
        stdout
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line));
      await waitFor(() => stderr.includes("watching"), "the watch to start");

      // The first part alone: a note, no event.
      expect(await host.set(0, parts[0]!.key, parts[0]!.value)).toBe(HvStatus.OK);
      await waitFor(() => stderr.includes("are missing"), "the note on the missing parts");
      expect(stderr).toMatch(
        /kvp-pool: note: pool 0: "userdata" is split into 3 parts but part\(s\) 2, 3 are missing \(record 0\); until its parts are whole or all gone, watch reports no change of "userdata"\n/,
      );
      for (const part of parts.slice(1)) expect(await host.set(0, part.key, part.value)).toBe(HvStatus.OK);
      await waitFor(() => events().length === 1, "the reassembled value");
      expect(events()).toEqual([
        {
          time: expect.any(String),
          pool: 0,
          poolName: "external",
          type: "added",
          key: "userdata",
          value,
          index: 0,
          parts: 3,
        },
      ]);

      // The host removes the items one by one: one removal, when the last part is gone.
      for (const part of parts) expect(await host.delete(0, part.key)).toBe(HvStatus.OK);
      await waitFor(() => events().length === 2, "the removal");
      expect(events()[1]).toMatchObject({ pool: 0, type: "removed", key: "userdata", previous: value, index: 0 });
      watch.child.kill("SIGTERM");
      expect((await watch.done).status).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
