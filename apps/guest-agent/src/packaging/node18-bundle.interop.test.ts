// The one-file bundles the .deb ships, on Debian 12's Node (18.20.4): the agent's end-to-end
// scenario with the BUILT dist/kvp-agent.cjs run by Node 18, against a simulated Hyper-V host
// in front of the REAL hv_kvp_daemon, with the CloudStack recipe (packaging/examples/cloudstack)
// as config and hook; and the BUILT kvp-pool bundle (apps/pool-tools/dist/kvp-pool.cjs) run
// by Node 18 against the same daemon: what it sets in pool 1 the host enumerates, what the
// host sends it gets, lists, checks and watches. The machine's own Node runs the same bundles
// in the apps' own tests and in deb-package.test.ts. Needs Node 18
// (scripts/fetch-node.mjs), hv_kvp_daemon and cc: missing, the tests fail (see
// test-support/packaging-support.ts).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { dirname, join } from "node:path";
import { type SimulatedHost, startSimulatedHost } from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { splitValue } from "@hyperv-kvp/kvp-core";
import { poolTarget, setRecords } from "@hyperv-kvp/pool-file";
import { waitFor } from "@hyperv-kvp/test-support";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { BOOT_ID_PATH } from "../context.js";
import { REPORT_KEYS, hookReportKey } from "../reporter.js";
import { STATE_FILES } from "../state-files.js";
import { VERSION } from "../version.js";
import {
  APP_DIR,
  BUNDLE,
  PACKAGING_DIR,
  type RunResult,
  builtPoolBundle,
  describeNeeding,
  obtainNode18,
  removeTempDirs,
  runAsync,
  tempDir,
} from "./test-support/packaging-support.js";

const NODE18_VERSION = "v18.20.4";
const USERDATA_KEY = "cloudstack-vm-userdata";
/** Real-shaped boot arguments (leading space and all), one of them quoted with shell syntax in it. */
const BOOT_ARGS = ` template=domP type=router name=r-1-VM zone=1 eth0ip=10.1.1.1 note="it's $(touch pwned)" disable_rp_filter=true`;

afterAll(removeTempDirs);

/**
 * APIs newer than Node 18 that esbuild's `target: "node18"` cannot lower (it rewrites syntax,
 * not library calls), with the Node version that brought them. A tripwire for code the
 * scenario below does not reach: property names survive minification, so a use shows up
 * as text in the bundle.
 */
const NEWER_APIS: readonly (readonly [text: string, since: string])[] = [
  [".toSorted(", "20"],
  [".toReversed(", "20"],
  [".toSpliced(", "20"],
  [".isWellFormed(", "20"],
  [".toWellFormed(", "20"],
  ["AbortSignal.any(", "20.3"],
  ["import.meta.dirname", "20.11"],
  ["import.meta.filename", "20.11"],
  ["Object.groupBy(", "21"],
  ["Map.groupBy(", "21"],
  ["Array.fromAsync(", "22"],
  ["Promise.withResolvers(", "22"],
  ["process.getBuiltinModule(", "22.3"],
  ["styleText(", "20.12"],
  [".union(", "22 (Set methods)"],
  [".intersection(", "22 (Set methods)"],
  [".symmetricDifference(", "22 (Set methods)"],
  [".isSubsetOf(", "22 (Set methods)"],
  ["Iterator.from(", "22"],
  ["Promise.try(", "22.10"],
  ["RegExp.escape(", "24"],
  ["Symbol.dispose", "24 (global; koffi's own optional use is outside the bundle)"],
  ["Float16Array", "24"],
];

describe("the bundles' Node 18 tripwire", () => {
  for (const [name, bundle] of [
    ["kvp-agent", () => BUNDLE],
    ["kvp-pool", builtPoolBundle],
  ] as const) {
    it(`${name}: calls no library API newer than Node 18`, () => {
      const text = readFileSync(bundle(), "utf8");
      const found = NEWER_APIS.filter(([api]) => text.includes(api)).map(([api, since]) => `${api} (Node ${since})`);
      expect(found, "Debian 12's nodejs is 18: these would throw there").toEqual([]);
    });
  }
});

describeNeeding(
  "the bundles on Node 18 (Debian 12's nodejs)",
  () => {
    const node = obtainNode18();
    return node.ok ? undefined : node.reason;
  },
  () => {
    const node18 = () => {
      const node = obtainNode18();
      if (!node.ok) throw new Error(node.reason);
      return node.path;
    };

    it(`is ${NODE18_VERSION} and loads koffi 3.3 (prebuilt binary) from beside each bundle`, async () => {
      // Resolved from the bundle's path, as the bundle does; then a real call through it.
      const probe = [
        'const k = require("node:module").createRequire(process.argv[1])("koffi");',
        'const getpid = k.load(null).func("int getpid()");',
        "console.log(JSON.stringify({ node: process.version, napi: process.versions.napi, koffi: k.version, pid: getpid() === process.pid }));",
      ].join("\n");
      // koffi's exports map hides its package.json from require; read the file itself.
      const koffiVersion = (
        JSON.parse(readFileSync(join(APP_DIR, "node_modules/koffi/package.json"), "utf8")) as { version: string }
      ).version;
      expect(koffiVersion).toMatch(/^3\.3\./);
      for (const bundle of [BUNDLE, builtPoolBundle()]) {
        const result = expectExit(await runAsync(node18(), ["-e", probe, bundle]), 0);
        expect(JSON.parse(result.stdout), bundle).toEqual({
          node: NODE18_VERSION,
          napi: expect.any(String),
          koffi: koffiVersion,
          pid: true,
        });
      }
    });

    it("loads the kvp-lock addon (Node-API, built once for every Node) from beside each bundle, and its calls answer", async () => {
      // flock on a descriptor that is not open: EBADF as an errno value, not an exception.
      const probe = [
        "const m = { exports: {} };",
        "process.dlopen(m, process.argv[1]);",
        "console.log(JSON.stringify({ node: process.version, flock: m.exports.flock(-1, 8) }));",
      ].join("\n");
      for (const bundle of [BUNDLE, builtPoolBundle()]) {
        const addon = join(dirname(bundle), `kvp-lock.linux-${process.arch}.node`);
        const result = expectExit(await runAsync(node18(), ["-e", probe, addon]), 0);
        expect(JSON.parse(result.stdout), bundle).toEqual({ node: NODE18_VERSION, flock: osConstants.errno.EBADF });
      }
    });

    describe("against the real hv_kvp_daemon", () => {
      const policy = realDaemonPolicy();
      if (standInForMissingTools(policy)) return;

      let host: SimulatedHost | undefined;
      let work: string;
      let stateDir: string;
      let vmRoot: string;
      let config: string;
      beforeEach(() => {
        work = tempDir("node18");
        stateDir = join(work, "state");
        vmRoot = join(work, "vm");
        // The example hook and config, as the root README ("Shipping kvp-agent in VM
        // templates") installs them; the hook configures a scratch root instead of this machine.
        mkdirSync(join(work, "sbin"));
        const hook = join(work, "sbin", "kvp-cloudstack-hook");
        copyFileSync(join(PACKAGING_DIR, "examples/cloudstack/kvp-cloudstack-hook"), hook);
        const example = JSON.parse(readFileSync(join(PACKAGING_DIR, "examples/cloudstack/config.json"), "utf8")) as {
          hooks: { command: string[] }[];
        };
        expect(example.hooks[0]!.command).toEqual(["/usr/local/sbin/kvp-cloudstack-hook"]);
        example.hooks[0]!.command = [hook, vmRoot];
        config = join(work, "config.json");
        writeFileSync(config, JSON.stringify(example));
      });
      afterEach(async () => {
        await host?.close();
        host = undefined;
      });

      const startHost = async () => {
        host = await startSimulatedHost({ daemon: "real" });
        expect(host.daemon).toBe("real");
        return host;
      };
      const agentArgs = (command: string, h: SimulatedHost) => [
        BUNDLE,
        command,
        "--config",
        config,
        "--dir",
        h.poolDir,
        "--state-dir",
        stateDir,
      ];
      const readState = (name: keyof typeof STATE_FILES) => readFileSync(join(stateDir, STATE_FILES[name]), "utf8");
      const pool1 = async (h: SimulatedHost) => {
        const { records, complete } = await h.enumerate(1);
        expect(complete, "ENUMERATE of pool 1 ended normally").toBe(true);
        for (const r of records) expect(r.truncated, r.key).toBe(false);
        return new Map(records.map((r) => [r.key, r.value]));
      };

      it("once: the host's user data becomes host.json/host.env and decoded/KEY.env, the hook configures the VM, the host sees the status; forget clears it", async () => {
        const h = await startHost();
        await h.sendHostFacts();
        await h.set(0, USERDATA_KEY, BOOT_ARGS);
        await h.set(0, "Role", "web");

        const result = expectExit(await runAsync(node18(), agentArgs("once", h)), 0);
        expect(result.stdout).toMatch(/^stopped: 2 item\(s\), \d+ fact\(s\)\n$/);

        expect(JSON.parse(readState("host"))).toEqual({
          [USERDATA_KEY]: BOOT_ARGS,
          Role: "web",
        });
        // The user-data key is no variable name: host.json has it, host.env leaves it out.
        expect(readState("env").split("\n").slice(1)).toEqual(["kvp_Role='web'", ""]);
        expect(JSON.parse(readState("decoded"))).toEqual({
          [USERDATA_KEY]: {
            decoder: "cmdline",
            ok: true,
            value: {
              template: "domP",
              type: "router",
              name: "r-1-VM",
              zone: "1",
              eth0ip: "10.1.1.1",
              note: "it's $(touch pwned)",
              disable_rp_filter: "true",
            },
          },
        });
        // What a boot script in the template does: source the decoded file and use the fields.
        const sourced = spawnSync(
          "/bin/sh",
          [
            "-c",
            `. "${join(stateDir, "decoded", `${USERDATA_KEY}.env`)}" && printf '%s|%s|%s|%s' "$type" "$name" "$eth0ip" "$note"`,
          ],
          {
            encoding: "utf8",
            cwd: work,
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        expect(sourced.stderr).toBe("");
        expect(sourced.stdout).toBe("router|r-1-VM|10.1.1.1|it's $(touch pwned)");
        expect(existsSync(join(work, "pwned"))).toBe(false);
        // The hook wrote the system VM's cmdline: the arguments as one line, as its scripts read them.
        expect(readFileSync(join(vmRoot, "var/cache/cloud/cmdline"), "utf8")).toBe(`${BOOT_ARGS.trim()}\n`);

        const seen = await pool1(h);
        expect([...seen.keys()].sort()).toEqual(
          [
            REPORT_KEYS.status,
            REPORT_KEYS.detail,
            REPORT_KEYS.version,
            REPORT_KEYS.bootId,
            REPORT_KEYS.harvestedAt,
            hookReportKey("cloudstack"),
          ].sort(),
        );
        expect(seen.get(REPORT_KEYS.status)).toBe("stopped");
        expect(seen.get(REPORT_KEYS.detail)).toBe("");
        expect(seen.get(REPORT_KEYS.version)).toBe(VERSION);
        expect(seen.get(REPORT_KEYS.bootId)).toBe(readFileSync(BOOT_ID_PATH, "utf8").trim());
        expect(Number.isNaN(Date.parse(seen.get(REPORT_KEYS.harvestedAt) ?? ""))).toBe(false);
        expect(JSON.parse(seen.get(hookReportKey("cloudstack")) ?? "null")).toMatchObject({
          event: "added",
          key: USERDATA_KEY,
          exit: 0,
        });

        // The agent is removed: under Node 18, forget leaves the host only the other writer's record.
        await setRecords(poolTarget(1, h.poolDir), [{ key: "other-writer", value: "kept" }]);
        const forgot = expectExit(await runAsync(node18(), agentArgs("forget", h)), 0);
        expect(forgot.stdout).toMatch(/^removed 6 record\(s\) from .*\.kvp_pool_1: kvp-agent\//);
        expect([...(await pool1(h)).entries()]).toEqual([["other-writer", "kept"]]);
      });

      it("run: a change the host makes reaches the hook; SIGTERM reports stopped and exits 0", async () => {
        const h = await startHost();
        await h.sendHostFacts();
        await h.set(0, USERDATA_KEY, " type=router name=r-1-VM");
        const child = spawn(node18(), agentArgs("run", h), { stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          child.once("exit", (code, signal) => resolve({ code, signal })),
        );
        try {
          const cmdline = join(vmRoot, "var/cache/cloud/cmdline");
          const written = () => (existsSync(cmdline) ? readFileSync(cmdline, "utf8") : "");
          await waitFor(() => written() === "type=router name=r-1-VM\n", "the hook's first run");
          await waitFor(async () => (await pool1(h)).get(REPORT_KEYS.status) === "ready", "status ready in pool 1");

          await h.set(0, USERDATA_KEY, " type=router name=r-2-VM");
          await waitFor(() => written() === "type=router name=r-2-VM\n", "the hook's run for the change");
          await waitFor(
            async () =>
              (JSON.parse((await pool1(h)).get(hookReportKey("cloudstack")) ?? "{}") as { event?: string }).event ===
              "changed",
            "the changed hook result in pool 1",
          );
        } finally {
          child.kill("SIGTERM");
        }
        expect(await exited, stderr).toEqual({ code: 0, signal: null });
        expect((await pool1(h)).get(REPORT_KEYS.status)).toBe("stopped");
        expect(stderr).not.toMatch(/internal error|^\s{4}at /m);
      });

      it("kvp-pool: what it sets in pool 1 the host enumerates; it gets, lists, checks and watches what the host and the daemon hold; delete", async () => {
        const h = await startHost();
        await h.sendHostFacts({ HostName: "hv-01" });
        await h.set(0, "Role", "web");
        const kvpPool = async (args: readonly string[], status: number) =>
          expectExit(await runAsync(node18(), [builtPoolBundle(), "--dir", h.poolDir, ...args]), status, "kvp-pool");

        // One short value, and one longer than the host receives whole, stored as parts.
        const report = "é".repeat(1500);
        await kvpPool(["set", "ReadyState", "ready — prêt"], 0);
        await kvpPool(["set", "--chunk", "report", report], 0);
        const parts = splitValue("report", report);
        expect(parts.map((r) => r.key)).toEqual(["report#1/2", "report#2/2"]);
        expect([...(await pool1(h)).entries()]).toEqual([
          ["ReadyState", "ready — prêt"],
          ...parts.map((r) => [r.key, r.value]),
        ]);

        expect((await kvpPool(["get", "ReadyState"], 0)).stdout).toBe("ready — prêt\n");
        expect((await kvpPool(["get", "report"], 0)).stdout).toBe(`${report}\n`);
        expect((await kvpPool(["get", "Role", "--pool", "external"], 0)).stdout).toBe("web\n");
        expect((await kvpPool(["get", "HostName", "--pool", "auto-external"], 0)).stdout).toBe("hv-01\n");
        expect((await kvpPool(["get", "Missing"], 1)).stderr).toMatch(/^kvp-pool: /);

        // Every pool, pool 2 as the daemon synthesises it for the host.
        const listed = JSON.parse((await kvpPool(["list", "--json"], 0)).stdout) as {
          pool: number;
          key: string;
          value: string;
          parts?: number;
        }[];
        const inPool = (pool: number) => listed.filter((r) => r.pool === pool).map((r) => [r.key, r.value, r.parts]);
        expect(inPool(0)).toEqual([["Role", "web", undefined]]);
        expect(inPool(1)).toEqual([
          ["ReadyState", "ready — prêt", undefined],
          ["report", report, 2],
        ]);
        expect(inPool(3)).toContainEqual(["HostName", "hv-01", undefined]);
        const synthesised = await h.enumerate(2);
        expect(synthesised.complete).toBe(true);
        expect(listed.filter((r) => r.pool === 2).map((r) => [r.key, r.value])).toEqual(
          synthesised.records.map((r) => [r.key, r.value]),
        );
        await kvpPool(["check", "--all-pools"], 0);

        // watch sees the host change and remove its item, one NDJSON line each; SIGTERM ends it with 0.
        const watch = spawn(
          node18(),
          [builtPoolBundle(), "--dir", h.poolDir, "watch", "--pool", "external", "--json"],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        watch.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
        watch.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          watch.once("close", (code, signal) => resolve({ code, signal })),
        );
        const events = () =>
          stdout
            .split("\n")
            .filter((line) => line !== "")
            .map((line) => JSON.parse(line) as { type: string; key: string; value?: string; previous?: string });
        try {
          await waitFor(() => stderr.includes("watching"), "the watch to start");
          await h.set(0, "Role", "db");
          await waitFor(() => events().length >= 1, "the change of Role");
          await h.delete(0, "Role");
          await waitFor(() => events().length >= 2, "the removal of Role");
        } finally {
          watch.kill("SIGTERM");
        }
        expect(await exited, stderr).toEqual({ code: 0, signal: null });
        expect(events().map(({ type, key, value, previous }) => ({ type, key, value, previous }))).toEqual([
          { type: "changed", key: "Role", value: "db", previous: "web" },
          { type: "removed", key: "Role", value: undefined, previous: "db" },
        ]);
        for (const line of stderr.split("\n")) if (line !== "") expect(line).toMatch(/^kvp-pool: /);

        // delete takes every part of a chunked value; the host no longer sees what was deleted.
        await kvpPool(["delete", "report"], 0);
        expect([...(await pool1(h)).entries()]).toEqual([["ReadyState", "ready — prêt"]]);
        await kvpPool(["delete", "ReadyState"], 0);
        expect([...(await pool1(h)).entries()]).toEqual([]);
        await kvpPool(["get", "ReadyState"], 1);
      });
    });
  },
);

/** Asserts a run exited with `status`, its stderr made of `tool`'s own lines; returns it. */
function expectExit(result: RunResult, status: number, tool: "kvp-agent" | "kvp-pool" = "kvp-agent"): RunResult {
  expect(result.signal, `killed by a signal; stderr: ${result.stderr}`).toBeNull();
  expect(result.status, `exit status; stderr: ${result.stderr}`).toBe(status);
  for (const line of result.stderr.split("\n")) if (line !== "") expect(line.startsWith(`${tool}: `), line).toBe(true);
  return result;
}
