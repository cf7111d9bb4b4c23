// Interop: pool files no well-behaved writer produces. kvp-pool list/get/check answer with
// clear diagnostics and documented exit codes, never a stack trace, in bounded memory; what
// check predicts the host will see is what the host sees through the real daemon; and after
// check --repair the host reads everything again.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { RECORD_BYTES, encodeRecord } from "@hyperv-kvp/kvp-core";
import { HvStatus, type SimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { concatBytes, rawRecord } from "@hyperv-kvp/test-support";
import { expect, it } from "vitest";
import {
  type RunResult,
  describeWithRealDaemon,
  expectCleanStderr,
  expectExit,
  kvp,
  listJson,
  pairs,
  poolFile,
  readPoolBytes,
  seededRandom,
  startRealHost,
  tempDir,
  whole,
} from "./interop-support.js";

const TEST_TIMEOUT_MS = 30_000;

interface CheckJson {
  pool: number;
  report: {
    records: number;
    trailingBytes: number;
    visibleToHost: number;
    errors: number;
    warnings: number;
    diagnostics: { code: string; severity: string; index: number; count?: number }[];
    omitted?: Record<string, number>;
  };
  repairs?: { action: string; index: number }[];
}

function checkJson(
  dir: string,
  extra: string[] = [],
): { result: RunResult; report: CheckJson["report"]; repairs: CheckJson["repairs"] } {
  const result = kvp(dir, ["check", "--json", ...extra]);
  expect([0, 1], `check exit; stderr: ${result.stderr}`).toContain(result.status);
  expectCleanStderr(result.stderr);
  const [one] = JSON.parse(result.stdout) as CheckJson[];
  return { result, report: one!.report, repairs: one!.repairs };
}

/**
 * What check says the host will get is what it gets through the real daemon: the records up
 * to the first it cannot convert, then HV_E_FAIL (or all of them and the normal end).
 */
async function expectHostAsPredicted(host: SimulatedHost): Promise<void> {
  const { report } = checkJson(host.poolDir);
  const seen = await host.enumerate(1);
  expect(seen.records).toHaveLength(report.visibleToHost);
  expect(seen.status).toBe(report.visibleToHost < report.records ? HvStatus.FAIL : HvStatus.CONT);
}

/** Human output must be terminal-safe: no control characters but newlines. */
function expectPrintable(text: string): void {
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
}

describeWithRealDaemon("hostile pool files, for kvp-pool and the real hv_kvp_daemon", () => {
  it(
    "a truncated file: the trailing fragment is ignored by all, reported by check and dropped by the next write",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const t3 = encodeRecord({ key: "t3", value: "v3" });
      writeFileSync(poolFile(dir, 1), concatBytes(rawRecord("t1", "v1"), rawRecord("t2", "v2"), t3.subarray(0, 1000)));

      expect(pairs(listJson(dir, 1))).toEqual([
        { key: "t1", value: "v1" },
        { key: "t2", value: "v2" },
      ]);
      const people = expectExit(kvp(dir, ["list", "--pool", "1"]), 0);
      expect(people.stderr).toMatch(
        /^kvp-pool: note: pool 1: 1000 trailing bytes after the last whole record were ignored/,
      );
      expect(expectExit(kvp(dir, ["get", "t2"]), 0).stdout).toBe("v2\n");
      expect(expectExit(kvp(dir, ["get", "t3"]), 1).stderr).toMatch(/^kvp-pool: no key "t3" in pool 1/);
      const { result, report } = checkJson(dir);
      expect(result.status).toBe(1);
      expect(report).toMatchObject({ records: 2, trailingBytes: 1000, errors: 0, warnings: 1 });
      expect(report.diagnostics).toEqual([
        expect.objectContaining({ code: "trailing-fragment", index: 2, count: 1000 }),
      ]);
      const seen = await host.enumerate(1);
      expect(seen).toEqual({
        records: whole([
          { key: "t1", value: "v1" },
          { key: "t2", value: "v2" },
        ]),
        status: HvStatus.CONT,
        complete: true,
      });

      expectExit(kvp(dir, ["set", "t3", "v3"]), 0);
      expect(readPoolBytes(dir, 1).length).toBe(3 * RECORD_BYTES);
      expectExit(kvp(dir, ["check"]), 0);
      expect((await host.enumerate(1)).records.map((r) => r.key)).toEqual(["t1", "t2", "t3"]);

      // Less than one record: nothing to list, a fragment to report.
      writeFileSync(poolFile(dir, 1), t3.subarray(0, 100));
      expect(listJson(dir, 1)).toEqual([]);
      expect(checkJson(dir).report).toMatchObject({ records: 0, trailingBytes: 100, warnings: 1 });
      expect(await host.enumerate(1)).toMatchObject({ records: [], status: HvStatus.CONT });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "random bytes: listed with invalid text marked, checked with located errors, the host stopping where check says; repairable",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const random = seededRandom(0x0bad_f11e);
      const noise = Uint8Array.from({ length: 3 * RECORD_BYTES + 57 }, () => Math.floor(random() * 256));
      writeFileSync(poolFile(dir, 1), noise);

      const listed = listJson(dir, 1);
      expect(listed).toHaveLength(3);
      expect(listed.some((r) => r.validUtf8 === false)).toBe(true);
      const people = expectExit(kvp(dir, ["list", "--pool", "1"]), 0);
      expectPrintable(people.stdout);
      expect(expectExit(kvp(dir, ["get", "absent"]), 1).stderr).toMatch(/^kvp-pool: no key "absent"/);
      const { result, report } = checkJson(dir);
      expect(result.status).toBe(1);
      expect(report.errors).toBeGreaterThan(0);
      expect(report.trailingBytes).toBe(57);
      const human = kvp(dir, ["check"]);
      expect(human.status).toBe(1);
      expectPrintable(human.stdout);
      await expectHostAsPredicted(host);

      const repaired = checkJson(dir, ["--repair"]);
      expect(repaired.repairs!.length).toBeGreaterThan(0);
      expect(repaired.report.errors).toBe(0);
      const after = listJson(dir, 1);
      expect(after).toHaveLength(3);
      expect(after.every((r) => r.validUtf8 === undefined)).toBe(true);
      const seen = await host.enumerate(1);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toHaveLength(3);
      // What the host gets is the repaired text, cut only where the host cuts.
      for (const [i, r] of seen.records.entries()) {
        expect(after[i]!.key.startsWith(r.key) && after[i]!.value.startsWith(r.value)).toBe(true);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "invalid UTF-8 (stray byte, overlong, surrogate, cut character): check predicts the host's stop, repair lets it through",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const bytes = (...b: number[]) => Uint8Array.from(b);
      writeFileSync(
        poolFile(dir, 1),
        concatBytes(
          rawRecord("good", "1"),
          rawRecord("stray", bytes(0x66, 0xff, 0x67)),
          rawRecord("overlong", bytes(0xc0, 0xaf)),
          rawRecord("surrogate", bytes(0xed, 0xa0, 0x80)),
          rawRecord("cut", bytes(0x41, 0xe2, 0x82)),
          rawRecord("later", "3"),
        ),
      );
      const listed = listJson(dir, 1);
      expect(listed.map((r) => [r.key, r.validUtf8 ?? true])).toEqual([
        ["good", true],
        ["stray", false],
        ["overlong", false],
        ["surrogate", false],
        ["cut", false],
        ["later", true],
      ]);
      expect(listed[1]!.value).toBe("f\uFFFDg");
      expect(expectExit(kvp(dir, ["get", "later"]), 0).stdout).toBe("3\n");
      const { report } = checkJson(dir);
      expect(report.visibleToHost).toBe(1);
      expect(report.diagnostics.filter((d) => d.code === "invalid-utf8").map((d) => [d.index, d.severity])).toEqual([
        [1, "error"],
        [2, "error"],
        [3, "error"],
        [4, "error"],
      ]);
      expect(report.diagnostics).toContainEqual(
        expect.objectContaining({ code: "hidden-from-host", index: 2, count: 4 }),
      );
      const seen = await host.enumerate(1);
      expect(seen).toEqual({ records: whole([{ key: "good", value: "1" }]), status: HvStatus.FAIL, complete: false });
      await expectHostAsPredicted(host);

      const repaired = checkJson(dir, ["--repair"]);
      expect(repaired.repairs!.map((r) => [r.action, r.index])).toEqual([
        ["replaced-invalid-utf8", 1],
        ["replaced-invalid-utf8", 2],
        ["replaced-invalid-utf8", 3],
        ["replaced-invalid-utf8", 4],
      ]);
      expect(repaired.result.status).toBe(0);
      const after = await host.enumerate(1);
      expect(after.status).toBe(HvStatus.CONT);
      expect(after.records.map((r) => r.key)).toEqual(["good", "stray", "overlong", "surrogate", "cut", "later"]);
      expect(after.records.map((r) => r.value)).toEqual(pairs(listJson(dir, 1)).map((r) => r.value));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "fields without a NUL: reported as errors; the host's strlen runs on and is cut; repair ends them",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const open = new Uint8Array(RECORD_BYTES);
      open.fill(0x4b, 0, 512); // "K" × 512, no NUL
      open.fill(0x56, 512); // "V" × 2048, no NUL
      writeFileSync(poolFile(dir, 1), concatBytes(open, rawRecord("ok", "1")));

      const listed = listJson(dir, 1);
      expect(listed.map((r) => [r.key.length, r.value.length])).toEqual([
        [512, 2048],
        [2, 1],
      ]);
      expect(expectExit(kvp(dir, ["get", "ok"]), 0).stdout).toBe("1\n");
      const { report } = checkJson(dir);
      expect(report.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual([
        "unterminated-key",
        "unterminated-value",
      ]);
      const seen = await host.enumerate(1);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toEqual([
        { key: "K".repeat(254), value: "V".repeat(1022), truncated: true },
        { key: "ok", value: "1", truncated: false },
      ]);
      await expectHostAsPredicted(host);

      const repaired = checkJson(dir, ["--repair"]);
      expect(repaired.repairs!.map((r) => r.action)).toEqual(["terminated-field"]);
      expect(repaired.report.errors).toBe(0);
      expect(pairs(listJson(dir, 1))).toEqual([
        { key: "K".repeat(511), value: "V".repeat(2047) },
        { key: "ok", value: "1" },
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an all-zero record is not a deletion: listed and enumerated with an empty name, warned about, removed by repair",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      writeFileSync(poolFile(dir, 1), concatBytes(new Uint8Array(RECORD_BYTES), rawRecord("after", "1")));
      expect(pairs(listJson(dir, 1))).toEqual([
        { key: "", value: "" },
        { key: "after", value: "1" },
      ]);
      expect(expectExit(kvp(dir, ["get", "after"]), 0).stdout).toBe("1\n");
      const { result, report } = checkJson(dir);
      expect(result.status).toBe(1);
      expect(report.diagnostics).toEqual([
        expect.objectContaining({ code: "empty-key", severity: "warning", index: 0 }),
      ]);
      expect(kvp(dir, ["check"]).stdout).toMatch(/not a deletion/);
      expect((await host.enumerate(1)).records).toEqual(
        whole([
          { key: "", value: "" },
          { key: "after", value: "1" },
        ]),
      );

      expect(checkJson(dir, ["--repair"]).repairs!.map((r) => r.action)).toEqual(["removed-empty-record"]);
      expect((await host.enumerate(1)).records).toEqual(whole([{ key: "after", value: "1" }]));
    },
    TEST_TIMEOUT_MS,
  );

  it("a 100 MB pool: get and check answer in bounded memory (peak RSS, getrusage), and the daemon reads the same records", async () => {
    const host = await startRealHost();
    const dir = host.poolDir;
    const work = tempDir("big");
    // Peak RSS of a kvp-pool process: getrusage(RUSAGE_SELF).ru_maxrss, as /usr/bin/time -f %M
    // reports it, read by a preloaded script as the process exits; needs nothing installed.
    const probe = join(work, "peak-rss.cjs");
    writeFileSync(
      probe,
      'process.on("exit", () => require("node:fs").writeFileSync(process.env.KVP_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)));\n',
    );
    const rssFile = join(work, "rss");
    // Peak RSS includes V8's young-generation slack (up to 3 × 16 MiB of garbage not yet
    // collected), which depends on allocation rate, not on what is kept. The growth check
    // runs node with a 1 MiB semi-space so that it measures what the command retains; the
    // size check runs node as users do.
    const measured = (args: string[], retainedOnly = false) => {
      const nodeArgs = ["--require", probe, ...(retainedOnly ? ["--max-semi-space-size=1"] : [])];
      const result = kvp(dir, args, { nodeArgs, env: { KVP_TEST_RSS_FILE: rssFile } });
      return { result, peakKiB: Number(readFileSync(rssFile, "utf8")) };
    };

    // Baseline: the same commands on a one-record pool.
    writeFileSync(poolFile(dir, 1), rawRecord("first", "1"));
    const baseline = Math.max(measured(["get", "first"], true).peakKiB, measured(["check"], true).peakKiB);

    // 40,960 records = 100 MiB: one at each end, all-zero (sparse, where the file system
    // allows) in between, so check has 40,958 findings to make and get must scan to the end.
    const size = 100 * 1024 * 1024;
    expect(size % RECORD_BYTES).toBe(0);
    const fd = openSync(poolFile(dir, 1), "w");
    try {
      writeSync(fd, rawRecord("first", "1"), 0, RECORD_BYTES, 0);
      writeSync(fd, rawRecord("needle", "found it"), 0, RECORD_BYTES, size - RECORD_BYTES);
    } finally {
      closeSync(fd);
    }

    const needle = measured(["get", "needle"]);
    expect(expectExit(needle.result, 0).stdout).toBe("found it\n");
    const check = measured(["check"]);
    expectExit(check.result, 1);

    // Bounded: what these retain stays well below the file's size (reading it whole would
    // add at least 100 MiB), and even with V8's slack the whole process stays below it.
    const fileKiB = size / 1024;
    for (const [what, args, run] of [
      ["get", ["get", "needle"], needle],
      ["check", ["check"], check],
    ] as const) {
      const retained = measured([...args], true);
      expect(
        retained.peakKiB - baseline,
        `${what}: peak ${retained.peakKiB} KiB, baseline ${baseline} KiB`,
      ).toBeLessThan(fileKiB / 4);
      expect(run.peakKiB, `${what}: peak ${run.peakKiB} KiB`).toBeLessThan(fileKiB);
    }
    // check lists a bounded number of findings and counts the rest.
    expect(check.result.stdout).toMatch(
      /^pool 1: not listed, only counted \(more of the same kind\): 39958 empty-key$/m,
    );
    expect(check.result.stdout).toMatch(/40960 record\(s\), 0 error\(s\), 40958 warning\(s\)$/m);
    expectExit(kvp(dir, ["get", "absent"]), 1);

    // The real daemon reads the same file: the first records, and the needle at the very end.
    const seen = await host.enumerate(1, 2);
    expect(seen.records).toEqual(
      whole([
        { key: "first", value: "1" },
        { key: "", value: "" },
      ]),
    );
    expect((await host.get(1, "needle")).status).toBe(HvStatus.OK);
    expect((await host.get(1, "absent")).status).toBe(HvStatus.CONT);
  }, 60_000);

  it(
    "not a pool file at all: a directory, a FIFO or a missing file gives exit 3 and one line, at once",
    () => {
      const dir = tempDir("odd");
      for (const n of [0, 2, 3, 4]) writeFileSync(join(dir, `.kvp_pool_${n}`), "");
      mkdirSync(join(dir, ".kvp_pool_1"));
      for (const args of [["list", "--pool", "1"], ["get", "k"], ["check"], ["set", "k", "v"]]) {
        const result = expectExit(kvp(dir, args), 3);
        expect(`${result.stderr}${result.stdout}`).toMatch(/not a regular file \(a directory\)|EISDIR/);
      }
      rmSync(join(dir, ".kvp_pool_1"), { recursive: true });
      // Opening a FIFO waits for a writer: kvp-pool must not (it used to hang here for good).
      expect(spawnSync("mkfifo", [join(dir, ".kvp_pool_1")]).status).toBe(0);
      for (const args of [["list", "--pool", "1"], ["get", "k"], ["check"], ["set", "k", "v"]]) {
        const result = expectExit(kvp(dir, args), 3);
        expect(`${result.stderr}${result.stdout}`).toMatch(/not a regular file \(a FIFO\)/);
      }
      rmSync(join(dir, ".kvp_pool_1"));
      for (const args of [
        ["list", "--pool", "1"],
        ["get", "k"],
      ]) {
        const result = expectExit(kvp(dir, args), 3);
        expect(result.stderr).toMatch(/^kvp-pool: \S*\.kvp_pool_1 does not exist: hv_kvp_daemon seems absent/);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
