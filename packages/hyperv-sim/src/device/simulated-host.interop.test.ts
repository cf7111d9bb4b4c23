import { closeSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { machine, release } from "node:os";
import { join } from "node:path";
import { POOLS, decodePool, encodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { lockFile } from "@hyperv-kvp/pool-file";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DaemonKind } from "./daemon-channel.js";
import { HvStatus } from "./device-message.js";
import { DEFAULT_HOST_FACTS } from "./host-facts.js";
import { ModelDaemon } from "./model-daemon.js";
import { type SimulatedHost, startSimulatedHost } from "./simulated-host.js";
import {
  type ExpectedPool,
  concatBytes,
  expectedPool,
  freshRecord,
  knownMismatches,
  knownRecord,
  rawRecord,
} from "@hyperv-kvp/test-support";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";

// One behaviour suite, run against Debian's real hv_kvp_daemon (under the LD_PRELOAD shim)
// and against the TypeScript model. Expected bytes below were first observed with the real
// daemon; the model must produce the same. A record slot that starts as fresh heap memory
// holds bytes nobody can predict (freshRecord marks them); every other byte is checked
// exactly, and the model must also know which bytes those are. Whole-file cross-checks of
// the two daemons after the same operations are in real-vs-model.test.ts.

const policy = realDaemonPolicy();

const AUTO_POOL_KEYS = [
  "FullyQualifiedDomainName",
  "IntegrationServicesVersion",
  "NetworkAddressIPv4",
  "NetworkAddressIPv6",
  "OSBuildNumber",
  "OSName",
  "OSMajorVersion",
  "OSMinorVersion",
  "OSVersion",
  "ProcessorArchitecture",
];

describe.each(["real", "model"] as const satisfies readonly DaemonKind[])(
  "SimulatedHost over the %s daemon",
  (kind) => {
    if (kind === "real" && standInForMissingTools(policy)) return;

    let host: SimulatedHost;
    const poolFile = (pool: number) => join(host.poolDir, poolFileName(pool as 0));
    const readPool = (pool: number) => new Uint8Array(readFileSync(poolFile(pool)));
    const expectPool = (pool: number, expected: ExpectedPool) => {
      expect(knownMismatches(readPool(pool), expected)).toEqual([]);
      if (host.channel instanceof ModelDaemon) {
        expect(host.channel.unknownBytes(pool as 0)).toEqual(expected.unknown);
      }
    };

    beforeEach(async () => {
      host = await startSimulatedHost({ daemon: kind });
    });
    afterEach(async () => {
      await host.close();
    });

    it("runs the daemon it was asked for", () => {
      expect(host.daemon).toBe(kind);
    });

    it("creates the five pool files, mode 0644, empty", () => {
      for (const pool of POOLS) {
        const info = statSync(poolFile(pool.number));
        expect(info.mode & 0o777).toBe(0o644 & ~process.umask());
        expect(info.size).toBe(0);
      }
    });

    it("writes a host SET on pool 0 to .kvp_pool_0 exactly", async () => {
      expect(await host.set(0, "alpha", "one")).toBe(HvStatus.OK);
      expect(await host.set(0, "beta", "two")).toBe(HvStatus.OK);
      const bytes = readPool(0);
      expect(decodePool(bytes).records.map((r) => [r.key, r.value])).toEqual([
        ["alpha", "one"],
        ["beta", "two"],
      ]);
      expectPool(0, expectedPool(freshRecord("alpha\0", "one\0"), freshRecord("beta\0", "two\0")));
    });

    it("stores the host's UTF-16 text as UTF-8", async () => {
      await host.set(0, "ключ", "значение ✓ 🚀");
      expect(decodePool(readPool(0)).records.map((r) => [r.key, r.value])).toEqual([["ключ", "значение ✓ 🚀"]]);
    });

    it("modifies in place and leaves the old tail after a shorter value's NUL", async () => {
      await host.set(0, "alpha", "a-long-value-here");
      await host.set(0, "beta", "b-value");
      await host.set(0, "alpha", "short");
      expectPool(0, expectedPool(freshRecord("alpha\0", "short\0-value-here\0"), freshRecord("beta\0", "b-value\0")));
      expect(decodePool(readPool(0)).records.map((r) => r.value)).toEqual(["short", "b-value"]);
    });

    it("DELETE shifts later records up, in order, copying strings over the old ones", async () => {
      await host.set(0, "first", "1");
      await host.set(0, "second-key", "second-value");
      await host.set(0, "third", "3");
      await host.set(0, "fourth", "four");
      expect(await host.delete(0, "second-key")).toBe(HvStatus.OK);
      const shifted = [
        freshRecord("first\0", "1\0"),
        freshRecord("third\0-key\0", "3\0cond-value\0"),
        freshRecord("fourth\0", "four\0"),
      ];
      expectPool(0, expectedPool(...shifted));
      // The slot freed at the end keeps its old bytes in the daemon's memory; the next new
      // record is copied over them.
      await host.set(0, "x", "y");
      expectPool(0, expectedPool(...shifted, freshRecord("x\0urth\0", "y\0ur\0")));
      expect(decodePool(readPool(0)).records.map((r) => r.key)).toEqual(["first", "third", "fourth", "x"]);
    });

    it("DELETE of a missing key answers HV_S_CONT and leaves the file alone", async () => {
      await host.set(0, "alpha", "1");
      const before = readPool(0);
      expect(await host.delete(0, "ALPHA")).toBe(HvStatus.CONT);
      expect(readPool(0)).toEqual(before);
    });

    it("matches keys exactly and case-sensitively, first match wins, duplicates stay", async () => {
      writeFileSync(
        poolFile(0),
        encodePool([
          { key: "Key", value: "1" },
          { key: "key", value: "2" },
          { key: "Key", value: "3" },
        ]),
      );
      await host.set(0, "Key", "x");
      expect(decodePool(readPool(0)).records.map((r) => [r.key, r.value])).toEqual([
        ["Key", "x"],
        ["key", "2"],
        ["Key", "3"],
      ]);
      await host.delete(0, "Key");
      expect(decodePool(readPool(0)).records.map((r) => [r.key, r.value])).toEqual([
        ["key", "2"],
        ["Key", "3"],
      ]);
    });

    it("re-reads the file before every operation and drops a trailing fragment, whose bytes leak into the next record", async () => {
      writeFileSync(poolFile(0), concatBytes(rawRecord("k1", "v1"), new Uint8Array(100).fill(0x41)));
      await host.set(0, "k2", "v2");
      expectPool(0, expectedPool(knownRecord("k1", "v1"), freshRecord(`k2\0${"A".repeat(97)}`, "v2\0")));
    });

    it("sends the host facts to pool 3", async () => {
      await host.sendHostFacts({ VirtualMachineName: "db02" });
      const records = decodePool(readPool(3)).records.map((r) => ({ key: r.key, value: r.value }));
      expect(records).toEqual(
        DEFAULT_HOST_FACTS.map((f) => (f.key === "VirtualMachineName" ? { ...f, value: "db02" } : f)),
      );
      expect(readPool(3).length).toBe(16 * 2560);
    });

    it("ENUMERATE of pool 1 returns what was written to .kvp_pool_1", async () => {
      const records = [
        { key: "Role", value: "web" },
        { key: "Grüße", value: "日本語 🚀" },
        { key: "empty", value: "" },
      ];
      writeFileSync(poolFile(1), encodePool(records));
      const result = await host.enumerate(1);
      expect(result.records).toEqual(records.map((r) => ({ ...r, truncated: false })));
      expect(result.status).toBe(HvStatus.CONT);
      expect(result.complete).toBe(true);
    });

    it("shows the host only the text before each NUL", async () => {
      writeFileSync(poolFile(1), rawRecord(new Uint8Array([0x6b, 0, 0xff, 0xfe, 0x80]), "v\0old tail"));
      expect((await host.enumerate(1)).records).toEqual([{ key: "k", value: "v", truncated: false }]);
    });

    it("stops the host's enumeration at a record with invalid UTF-8 (HV_E_FAIL)", async () => {
      writeFileSync(
        poolFile(1),
        concatBytes(
          rawRecord("good", "1"),
          rawRecord("bad", new Uint8Array([0x66, 0xff, 0x67])),
          rawRecord("later", "3"),
        ),
      );
      const result = await host.enumerate(1);
      expect(result.records.map((r) => r.key)).toEqual(["good"]);
      expect(result.status).toBe(HvStatus.FAIL);
      expect(result.complete).toBe(false);
    });

    it("truncates what the host sees at 254 key / 1022 value UTF-16 units", async () => {
      writeFileSync(
        poolFile(1),
        concatBytes(
          rawRecord("K".repeat(300), "v".repeat(1500)),
          // A supplementary character needs two units; with one left the kernel ends there.
          rawRecord("emoji", `${"x".repeat(1021)}🚀`),
          // Invalid UTF-8 past the cut is never looked at.
          rawRecord("late-bad", concatBytes(new TextEncoder().encode("w".repeat(1022)), new Uint8Array([0xff]))),
        ),
      );
      const result = await host.enumerate(1);
      expect(result.status).toBe(HvStatus.CONT);
      expect(result.records).toEqual([
        { key: "K".repeat(254), value: "v".repeat(1022), truncated: true },
        { key: "emoji", value: "x".repeat(1021), truncated: true },
        { key: "late-bad", value: "w".repeat(1022), truncated: true },
      ]);
    });

    it("enumerates an all-zero record as an empty name", async () => {
      writeFileSync(poolFile(1), concatBytes(new Uint8Array(2560), rawRecord("after", "1")));
      expect((await host.enumerate(1)).records.map((r) => [r.key, r.value])).toEqual([
        ["", ""],
        ["after", "1"],
      ]);
    });

    it("ENUMERATE of pool 2 returns the ten synthesised items in the daemon's order", async () => {
      const result = await host.enumerate(2);
      expect(result.status).toBe(HvStatus.CONT);
      expect(result.records.map((r) => r.key)).toEqual(AUTO_POOL_KEYS);
      const value = (key: string) => result.records.find((r) => r.key === key)?.value;
      expect(value("IntegrationServicesVersion")).toBe("3.1");
      expect(value("OSBuildNumber")).toBe(release());
      expect(value("OSVersion")).toBe(release().split("-")[0]);
      expect(value("ProcessorArchitecture")).toBe(machine());
      // The file itself stays empty.
      expect(readPool(2).length).toBe(0);
    });

    it("answers GET with the status but, as through a real kernel, an empty value", async () => {
      await host.set(0, "alpha", "one");
      expect(await host.get(0, "alpha")).toEqual({ status: HvStatus.OK, value: "", truncated: false });
      expect(await host.get(0, "beta")).toEqual({ status: HvStatus.CONT });
    });

    it("waits for a whole-file lock held on the pool before touching it", async () => {
      const fd = openSync(poolFile(0), "r+");
      try {
        const lock = await lockFile(fd, "write");
        let settled = false;
        const pending = host.set(0, "locked", "1").finally(() => {
          settled = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(settled).toBe(false);
        expect(readPool(0).length).toBe(0);
        lock.release();
        expect(await pending).toBe(HvStatus.OK);
        expect(decodePool(readPool(0)).records.map((r) => r.key)).toEqual(["locked"]);
      } finally {
        closeSync(fd);
      }
    });
  },
);
