// Interop: what the host writes (pools 0 and 3), as kvp-pool shows it.
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons) and cc for its LD_PRELOAD
// shim; runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { RECORD_BYTES, VALUE_FIELD_OFFSET } from "@hyperv-kvp/kvp-core";
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
} from "./interop-support.js";

const utf8 = new TextEncoder();
const TEST_TIMEOUT_MS = 30_000;

describeWithRealDaemon("host → guest through the real hv_kvp_daemon", () => {
  it(
    "shows the host's SETs on pool 0 exactly, after a shortened value and after a DELETE",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      const items = [
        { key: "Role", value: "web" },
        { key: "Grüße", value: "aus Köln" },
        { key: "日本語", value: "東京 €5 🚀" },
        { key: "emoji🚀", value: "👩‍💻🏳️‍🌈" },
        { key: "empty", value: "" },
        { key: "last", value: "z" },
      ];
      for (const { key, value } of items) expect(await host.set(0, key, value)).toBe(HvStatus.OK);
      expect(pairs(listJson(dir, 0))).toEqual(items);

      // Modify lengthens then shortens: the daemon copies only strlen+1 bytes, so the file
      // keeps the old value's tail after the new NUL.
      const longer = "a-much-longer-value-for-role";
      expect(await host.set(0, "Role", longer)).toBe(HvStatus.OK);
      expect(await host.set(0, "Role", "db")).toBe(HvStatus.OK);
      const field = readPoolBytes(dir, 0).subarray(VALUE_FIELD_OFFSET, RECORD_BYTES);
      expect(Array.from(field.subarray(0, 3))).toEqual(Array.from(utf8.encode("db\0")));
      // "db\0" then the rest of the longer value and its NUL: "db\0uch-longer-value-for-role\0".
      expect(new TextDecoder().decode(field.subarray(3, longer.length + 1))).toBe(`${longer.slice(3)}\0`);
      const afterShorten = items.map((r) => (r.key === "Role" ? { ...r, value: "db" } : r));
      expect(pairs(listJson(dir, 0))).toEqual(afterShorten);
      expect(expectExit(kvp(dir, ["get", "Role", "--pool", "0"]), 0).stdout).toBe("db\n");
      // The tail is harmless: check says so only with --verbose (a note), and finds nothing wrong.
      const check = JSON.parse(expectExit(kvp(dir, ["check", "--pool", "0", "--json"]), 0).stdout);
      expect(check[0].report).toMatchObject({ records: items.length, errors: 0, warnings: 0 });
      expect(check[0].report.diagnostics).toContainEqual(
        expect.objectContaining({ index: 0, code: "garbage-after-nul" }),
      );

      // DELETE in the middle: the daemon shifts the later records up, order kept.
      expect(await host.delete(0, "Grüße")).toBe(HvStatus.OK);
      expect(await host.delete(0, "absent")).toBe(HvStatus.CONT);
      const afterDelete = afterShorten.filter((r) => r.key !== "Grüße");
      expect(pairs(listJson(dir, 0))).toEqual(afterDelete);
      expect(expectExit(kvp(dir, ["get", "日本語", "--pool", "external"]), 0).stdout).toBe("東京 €5 🚀\n");
      const absent = expectExit(kvp(dir, ["get", "Grüße", "--pool", "0"]), 1);
      expect(absent.stderr).toMatch(/^kvp-pool: no key "Grüße" in pool 0/);
      // Deleting the first and the last record too.
      expect(await host.delete(0, "Role")).toBe(HvStatus.OK);
      expect(await host.delete(0, "last")).toBe(HvStatus.OK);
      expect(pairs(listJson(dir, 0))).toEqual(afterDelete.filter((r) => r.key !== "Role" && r.key !== "last"));
      expect(readPoolBytes(dir, 0).length).toBe(3 * RECORD_BYTES);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "shows the host facts of pool 3 in order",
    async () => {
      const host = await startRealHost();
      const facts = await host.sendHostFacts({ VirtualMachineName: "web01 (prod) – Zürich", HostName: "HV-NODE-07" });
      const listed = listJson(host.poolDir, 3);
      expect(pairs(listed)).toEqual(facts);
      expect(listed.every((r) => r.pool === 3 && r.poolName === "auto-external")).toBe(true);
      expect(listed.map((r) => r.index)).toEqual(facts.map((_, i) => i));
      expect(expectExit(kvp(host.poolDir, ["get", "VirtualMachineName", "--pool", "auto-external"]), 0).stdout).toBe(
        "web01 (prod) – Zürich\n",
      );
      // Facts sent again (the guest service restarted) modify in place: same order, no duplicates.
      await host.sendHostFacts({ VirtualMachineName: "web01" });
      const resent = facts.map((f) =>
        f.key === "VirtualMachineName"
          ? { ...f, value: "web01" }
          : f.key === "HostName"
            ? { ...f, value: "HV-HOST01" }
            : f,
      );
      expect(pairs(listJson(host.poolDir, 3))).toEqual(resent);
      expectExit(kvp(host.poolDir, ["check", "--pool", "3"]), 0);
    },
    TEST_TIMEOUT_MS,
  );
});
