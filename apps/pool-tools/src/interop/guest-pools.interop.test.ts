// Interop: what kvp-pool writes to pool 1 is what the host's ENUMERATE returns through the
// real daemon (and the kernel's UTF-16 conversion, emulated by hyperv-sim), and pool 2 as
// kvp-pool predicts it is what the real daemon synthesises.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { HvStatus } from "@hyperv-kvp/hyperv-sim";
import { expect, it } from "vitest";
import {
  describeWithRealDaemon,
  expectExit,
  kvp,
  listJson,
  pairs,
  readPoolBytes,
  startRealHost,
  tempDir,
  whole,
} from "./interop-support.js";

const TEST_TIMEOUT_MS = 60_000;
const bytes = (s: string) => new TextEncoder().encode(s).length;

describeWithRealDaemon("guest → host through the real hv_kvp_daemon", () => {
  it(
    "delivers non-ASCII text and keys and values exactly at the host-visible limits whole",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const records = [
        { key: "café", value: "crème brûlée à la carte" },
        { key: "price€", value: "€ 1 234,56" },
        { key: "東京都", value: "日本語のテキスト、中文，한국어" },
        { key: "rocket🚀", value: "🚀 👩‍💻 🏳️‍🌈 𝄞 😀" },
        { key: "empty", value: "" },
        { key: "spaces and = signs", value: "a=b; c = d" },
        // 254 UTF-16 units of key in 1-, 2- and 4-byte characters (the last: 127 surrogate pairs).
        { key: "K".repeat(254), value: "ascii key at the limit" },
        { key: "é".repeat(254), value: "two-byte key at the limit" },
        { key: "🔑".repeat(127), value: "surrogate-pair key at the limit" },
        // 1022 units of value; 511 emoji are 2044 bytes, just inside the 2047-byte field.
        { key: "value-ascii", value: "v".repeat(1022) },
        { key: "value-2byte", value: "ü".repeat(1022) },
        { key: "value-emoji", value: "😀".repeat(511) },
        { key: "value-euro", value: "€".repeat(682) },
      ];
      expect(bytes("🔑".repeat(127))).toBe(508);
      expect(bytes("😀".repeat(511))).toBe(2044);
      for (const { key, value } of records) expectExit(kvp(dir, ["set", key, value]), 0);

      const seen = await host.enumerate(1);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toEqual(whole(records));
      expect(pairs(listJson(dir, 1))).toEqual(records);
      expectExit(kvp(dir, ["check"]), 0);

      // One unit more than the host receives whole is refused (usage, exit 2) and writes nothing.
      const before = readPoolBytes(dir, 1);
      for (const [key, value] of [
        ["K".repeat(255), "x"],
        ["🔑".repeat(127) + "k", "x"],
        ["long-value", "v".repeat(1023)],
        ["long-emoji", "😀".repeat(511) + "x"],
      ] as const) {
        const refused = expectExit(kvp(dir, ["set", key, value]), 2);
        expect(refused.stderr).toMatch(/^kvp-pool: .*UTF-16/);
        expect(refused.stderr).toMatch(/--wire-limits/);
      }
      expect(readPoolBytes(dir, 1)).toEqual(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "with --wire-limits stores 511/2047 bytes, which the host receives cut at 254/1022 units exactly as the kernel cuts them",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const cases = [
        // [key, value, what the host receives]
        { key: "k".repeat(511), value: "511-byte key", host: { key: "k".repeat(254), value: "511-byte key" } },
        { key: "ascii-2047", value: "v".repeat(2047), host: { key: "ascii-2047", value: "v".repeat(1022) } },
        {
          key: "two-byte-2047",
          value: `${"é".repeat(1023)}x`,
          host: { key: "two-byte-2047", value: "é".repeat(1022) },
        },
        // A surrogate pair that would straddle the cut is dropped whole: 253 units, not 254.
        {
          key: `a${"🚀".repeat(127)}`,
          value: "pair at the key cut",
          host: { key: `a${"🚀".repeat(126)}`, value: "pair at the key cut" },
        },
        {
          key: "pair-at-value-cut",
          value: `${"x".repeat(1021)}🚀tail`,
          host: { key: "pair-at-value-cut", value: "x".repeat(1021) },
        },
      ];
      for (const c of cases) {
        expect(bytes(c.key)).toBeLessThanOrEqual(511);
        expect(bytes(c.value)).toBeLessThanOrEqual(2047);
        // Without --wire-limits kvp-pool refuses what the host would get cut.
        const refused = expectExit(kvp(dir, ["set", c.key, c.value]), 2);
        expect(refused.stderr).toMatch(/^kvp-pool: /);
      }
      expect(readPoolBytes(dir, 1).length).toBe(0);
      for (const c of cases) expectExit(kvp(dir, ["set", "--wire-limits", c.key, c.value]), 0);

      // Stored whole…
      expect(pairs(listJson(dir, 1))).toEqual(cases.map(({ key, value }) => ({ key, value })));
      // …received cut.
      const seen = await host.enumerate(1);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toEqual(cases.map((c) => ({ ...c.host, truncated: true })));
      // check predicts each cut.
      const check = expectExit(kvp(dir, ["check", "--json"]), 1);
      const report = JSON.parse(check.stdout)[0].report;
      expect(report.errors).toBe(0);
      const truncations = report.diagnostics
        .filter((d: { code: string }) => d.code.startsWith("host-truncated"))
        .map((d: { index: number; code: string }) => [d.index, d.code]);
      expect(truncations).toEqual([
        [0, "host-truncated-key"],
        [1, "host-truncated-value"],
        [2, "host-truncated-value"],
        [3, "host-truncated-key"],
        [4, "host-truncated-value"],
      ]);

      // Past the record's own limits even --wire-limits refuses (a field must keep a NUL).
      expectExit(kvp(dir, ["set", "--wire-limits", "k".repeat(512), "x"]), 2);
      expectExit(kvp(dir, ["set", "--wire-limits", "big", "v".repeat(2048)]), 2);
      expectExit(kvp(dir, ["set", "--wire-limits", "big", "€".repeat(683)]), 2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "set --from-file of many pairs arrives key for key, in order, and a second batch modifies in place",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const work = tempDir("batch");
      const first = Array.from({ length: 300 }, (_, i) => ({
        key: `batch-${String(i).padStart(3, "0")}`,
        value: `${i} ${"é€😀".repeat(i % 40)} end`,
      }));
      const file = join(work, "batch.env");
      writeFileSync(file, `# generated\n${first.map((r) => `${r.key}=${r.value}`).join("\r\n")}\n`);
      const done = JSON.parse(expectExit(kvp(dir, ["set", "--from-file", file, "--json"]), 0).stdout);
      expect(done).toHaveLength(300);
      expect(done.every((o: { action: string }) => o.action === "appended")).toBe(true);

      let seen = await host.enumerate(1);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toEqual(whole(first));

      // A JSON batch on stdin: every tenth key changed (shorter and longer), three new ones.
      const changes: Record<string, string> = {};
      for (let i = 0; i < 300; i += 10)
        changes[`batch-${String(i).padStart(3, "0")}`] = i % 20 ? "short" : "longer ✓ ".repeat(50);
      Object.assign(changes, { "new-1": "one", "new-2": "two\nlines" });
      // "__proto__" is an ordinary key to kvp-pool (no prototype pollution); spelled out in the
      // JSON text, since no object literal can carry it as an own property.
      const json = `${JSON.stringify(changes).slice(0, -1)},"__proto__":"plain key"}`;
      expectExit(kvp(dir, ["set", "--from-file", "-"], { input: json }), 0);
      const expected = [
        ...first.map((r) => (r.key in changes ? { key: r.key, value: changes[r.key]! } : r)),
        { key: "new-1", value: "one" },
        { key: "new-2", value: "two\nlines" },
        { key: "__proto__", value: "plain key" },
      ];
      seen = await host.enumerate(1);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toEqual(whole(expected));
      expect(pairs(listJson(dir, "guest"))).toEqual(expected);
      expectExit(kvp(dir, ["check"]), 0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "list --pool auto shows what the real daemon synthesises for pool 2: same keys, order and values",
    async () => {
      const host = await startRealHost();
      const seen = await host.enumerate(2);
      expect(seen.status).toBe(HvStatus.CONT);
      expect(seen.records).toHaveLength(10);
      const listed = listJson(host.poolDir, "auto");
      expect(listed.every((r) => r.pool === 2 && r.synthesized === true)).toBe(true);
      expect(pairs(listed)).toEqual(pairs(seen.records));
      expect(seen.records.every((r) => !r.truncated)).toBe(true);
      // The file itself stays empty: the daemon never writes pool 2.
      expect(readPoolBytes(host.poolDir, 2).length).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
