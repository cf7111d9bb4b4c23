import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RECORD_BYTES, decodePool, encodeRecord } from "@hyperv-kvp/kvp-core";
import { PoolFileError } from "@hyperv-kvp/pool-file";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "./main.js";
import { makePoolDir, runCli } from "./test-support.js";

let cleanup = () => {};
afterEach(() => cleanup());

function pools(init: Parameters<typeof makePoolDir>[0] = {}) {
  const made = makePoolDir(init);
  cleanup = made.cleanup;
  return made.dir;
}

const records = (dir: string, n: number) =>
  decodePool(readFileSync(join(dir, `.kvp_pool_${n}`))).records.map((r) => [r.key, r.value]);

describe("kvp-pool list", () => {
  it("lists every pool with --json in file order, pool 2 synthesised", async () => {
    const dir = pools({
      0: [{ key: "from-host", value: "h" }],
      1: [
        { key: "b", value: "2" },
        { key: "a", value: "1" },
      ],
    });
    const { code, stdout } = await runCli(["--dir", dir, "list", "--json"]);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { pool: number; key: string; value: string; synthesized?: boolean }[];
    expect(rows.filter((r) => r.pool !== 2).map((r) => [r.pool, r.key, r.value])).toEqual([
      [0, "from-host", "h"],
      [1, "b", "2"],
      [1, "a", "1"],
    ]);
    const auto = rows.filter((r) => r.pool === 2);
    expect(auto.map((r) => r.key)).toEqual([
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
    ]);
    expect(auto.every((r) => r.synthesized === true)).toBe(true);
  });

  it("says pool 2 is synthesised, for people", async () => {
    const dir = pools();
    const { code, stdout, stderr } = await runCli(["--dir", dir, "list", "--pool", "auto"]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/synthesised by hv_kvp_daemon/);
    expect(stdout).toMatch(/^# pool 2 \(auto\), synthesised by the daemon\nFullyQualifiedDomainName = /);
  });

  it("escapes control characters for people and keeps them exact in JSON", async () => {
    const dir = pools({ 1: [{ key: "k", value: "line1\nline2\u001b[2J" }] });
    expect((await runCli(["--dir", dir, "list", "--pool", "1"])).stdout).toContain("k = line1\\nline2\\u001b[2J");
    expect(JSON.parse((await runCli(["--dir", dir, "list", "--pool", "1", "--json"])).stdout)[0].value).toBe(
      "line1\nline2\u001b[2J",
    );
  });

  it("still lists the other pools when pool 2 cannot be synthesised, says why on stderr and exits 3", async () => {
    const dir = pools({ 0: [{ key: "from-host", value: "h" }], 1: [{ key: "a", value: "1" }] });
    const run = async (args: string[]) => {
      let stdout = "";
      let stderr = "";
      const code = await main(["node", "kvp-pool", "--dir", dir, "list", ...args], {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: {},
        readStdin: async () => "",
        synthesizeAutoPool: () => {
          throw new PoolFileError("io", "cannot load the C library through koffi: no libc here");
        },
      });
      return { code, stdout, stderr };
    };
    const failure =
      "kvp-pool: pool 2 (auto): cannot tell what hv_kvp_daemon would send: cannot load the C library through koffi: no libc here\n";
    const json = await run(["--json"]);
    expect(json.code).toBe(3);
    expect(json.stderr).toBe(failure);
    expect(JSON.parse(json.stdout).map((r: { pool: number; key: string }) => [r.pool, r.key])).toEqual([
      [0, "from-host"],
      [1, "a"],
    ]);
    const text = await run([]);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe("# pool 0 (external)\nfrom-host = h\n\n# pool 1 (guest)\na = 1\n");
    // No "pool 2 is synthesised" note: nothing of pool 2 is shown.
    expect(text.stderr).toBe(failure);
    const alone = await run(["--pool", "auto"]);
    expect({ code: alone.code, stdout: alone.stdout, stderr: alone.stderr }).toEqual({
      code: 3,
      stdout: "",
      stderr: failure,
    });
  });

  it("treats any failure of pool 2's synthesis as pool 2's alone", async () => {
    const dir = pools({ 1: [{ key: "a", value: "1" }] });
    let stdout = "";
    let stderr = "";
    const code = await main(["node", "kvp-pool", "--dir", dir, "list", "--json"], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: {},
      readStdin: async () => "",
      synthesizeAutoPool: () => {
        throw new Error("getaddrinfo exploded");
      },
    });
    expect(code).toBe(3);
    expect(stderr).toBe("kvp-pool: pool 2 (auto): cannot tell what hv_kvp_daemon would send: getaddrinfo exploded\n");
    expect(JSON.parse(stdout).map((r: { key: string }) => r.key)).toEqual(["a"]);
  });

  it("exits 3 and says the daemon seems absent when the directory is missing", async () => {
    const dir = pools();
    const { code, stderr } = await runCli(["--dir", join(dir, "missing"), "list", "--pool", "1"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^kvp-pool: .*missing does not exist: hv_kvp_daemon seems absent/);
  });
});

describe("kvp-pool get", () => {
  it("prints the value from pool 1 by default and exits 1 when absent", async () => {
    const dir = pools({ 1: [{ key: "k", value: "v" }], 0: [{ key: "k", value: "host" }] });
    expect(await runCli(["--dir", dir, "get", "k"])).toEqual({ code: 0, stdout: "v\n", stderr: "" });
    expect((await runCli(["--dir", dir, "get", "k", "--pool", "external"])).stdout).toBe("host\n");
    const absent = await runCli(["--dir", dir, "get", "nope"]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^kvp-pool: no key "nope" in pool 1 \(guest\)/);
  });

  it("reads a value the daemon shortened, ignoring the old tail after the NUL", async () => {
    const dir = pools();
    const record = new Uint8Array(2560);
    record.set(new TextEncoder().encode("Hostname\0old"), 0);
    record.set(new TextEncoder().encode("short\0-longer-value"), 512);
    writeFileSync(join(dir, ".kvp_pool_0"), record);
    expect((await runCli(["--dir", dir, "get", "Hostname", "--pool", "0"])).stdout).toBe("short\n");
  });

  it("matches case-insensitively only when asked", async () => {
    const dir = pools({ 1: [{ key: "Key", value: "v" }] });
    expect((await runCli(["--dir", dir, "get", "key"])).code).toBe(1);
    expect((await runCli(["--dir", dir, "get", "key", "--ignore-case"])).stdout).toBe("v\n");
  });
});

describe("kvp-pool set", () => {
  it("upserts in pool 1", async () => {
    const dir = pools({ 1: [{ key: "a", value: "1" }] });
    expect((await runCli(["--dir", dir, "set", "a", "2"])).code).toBe(0);
    expect((await runCli(["--dir", dir, "set", "b", ""])).code).toBe(0);
    expect(records(dir, 1)).toEqual([
      ["a", "2"],
      ["b", ""],
    ]);
  });

  it("refuses values the host would get truncated, and allows them with --wire-limits", async () => {
    const dir = pools();
    const value = "é".repeat(1023);
    const refused = await runCli(["--dir", dir, "set", "k", value]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/1023 UTF-16 units, limit 1022; the host would see it truncated/);
    expect(records(dir, 1)).toEqual([]);
    expect((await runCli(["--dir", dir, "set", "k", value, "--wire-limits"])).code).toBe(0);
    expect(records(dir, 1)).toEqual([["k", value]]);
    const tooLong = await runCli(["--dir", dir, "set", "k", "é".repeat(1024), "--wire-limits"]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/longer than 2047 bytes \(2048\)/);
  });

  it("sets many pairs from a file or stdin under one lock, KEY=VALUE lines or JSON", async () => {
    const dir = pools();
    const file = join(dir, "pairs.env");
    writeFileSync(file, "# comment\r\nA=1\r\n\r\nB=x=y\r\n");
    expect((await runCli(["--dir", dir, "set", "--from-file", file])).code).toBe(0);
    const json = await runCli(["--dir", dir, "set", "--from-file", "-", "--json"], '{"B":"2","C":3,"__proto__":"p"}');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).map((o: { action: string }) => o.action)).toEqual([
      "modified",
      "appended",
      "appended",
    ]);
    expect(records(dir, 1)).toEqual([
      ["A", "1"],
      ["B", "2"],
      ["C", "3"],
      ["__proto__", "p"],
    ]);
  });

  it("treats bad command lines as usage errors with the help that fixes them", async () => {
    const dir = pools();
    const cases: [string[], RegExp][] = [
      [["set", "k"], /missing VALUE for "k"/],
      [["set"], /missing KEY and VALUE/],
      [["set", "k", "v", "--pool", "9"], /invalid pool: "9" \(use one of 0\|external/],
      [["set", "--from-file", join(dir, "absent.env")], /cannot read --from-file .*absent.env.*ENOENT/],
      [["get"], /missing required argument 'key'/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["--timeout", "soon", "get", "k"], /invalid --timeout "soon"/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(["--dir", dir, ...args]);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(message);
    }
  });

  it("refuses daemon-owned pools unless forced", async () => {
    const dir = pools();
    const refused = await runCli(["--dir", dir, "set", "k", "v", "--pool", "0"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to write: pool 0 \(external\)/);
    expect((await runCli(["--dir", dir, "set", "k", "v", "--pool", "0", "--force"])).code).toBe(0);
  });
});

describe("kvp-pool delete", () => {
  it("deletes the first match, or all, and exits 1 when absent", async () => {
    const dir = pools({
      1: [
        { key: "a", value: "1" },
        { key: "b", value: "2" },
        { key: "a", value: "3" },
      ],
    });
    expect((await runCli(["--dir", dir, "delete", "a"])).code).toBe(0);
    expect(records(dir, 1)).toEqual([
      ["b", "2"],
      ["a", "3"],
    ]);
    expect((await runCli(["--dir", dir, "delete", "zz"])).code).toBe(1);
    expect((await runCli(["--dir", dir, "delete", "a", "--all"])).code).toBe(0);
    expect(records(dir, 1)).toEqual([["b", "2"]]);
  });

  it("answers to remove as well, kvp-host's word for it", async () => {
    const dir = pools({ 1: [{ key: "a", value: "1" }] });
    expect((await runCli(["--dir", dir, "remove", "a", "--json"])).stdout).toMatch(/"key": "a"/);
    expect(records(dir, 1)).toEqual([]);
    expect((await runCli(["delete", "--help"])).stdout).toMatch(/^Usage: kvp-pool delete\|remove /);
  });
});

describe("kvp-pool check", () => {
  it("exits 0 on a clean pool and 1 with located findings, repairs on request", async () => {
    const dir = pools({ 1: [{ key: "a", value: "1" }] });
    expect((await runCli(["--dir", dir, "check"])).code).toBe(0);
    const bytes = readFileSync(join(dir, ".kvp_pool_1"));
    bytes[512] = 0xc3; // a lead byte with no continuation: invalid UTF-8
    writeFileSync(join(dir, ".kvp_pool_1"), Buffer.concat([bytes, Buffer.from(bytes), Buffer.alloc(7)]));
    const found = await runCli(["--dir", dir, "check"]);
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/pool 1 record 0 @512 "a": error invalid-utf8/);
    expect(found.stdout).toMatch(/pool 1 record 1 @2560 "a": warning duplicate-key/);
    expect(found.stdout).toMatch(/error hidden-from-host: 1 record\(s\) after the invalid UTF-8/);
    expect(found.stdout).toMatch(/warning trailing-fragment/);
    const repaired = await runCli(["--dir", dir, "check", "--repair", "--json"]);
    const [result] = JSON.parse(repaired.stdout);
    expect(result.repairs.map((r: { action: string }) => r.action)).toEqual([
      "replaced-invalid-utf8",
      "replaced-invalid-utf8",
      "dropped-fragment",
    ]);
    // The duplicate stays: only its writer knows which one is right.
    expect(result.report.diagnostics.map((d: { code: string }) => d.code)).toEqual(["duplicate-key"]);
    expect(repaired.code).toBe(1);
  });

  it("repairs a record with an empty key without renaming it, and calls it (empty key)", async () => {
    const dir = pools();
    const broken = new Uint8Array(RECORD_BYTES);
    broken[512] = 0xff; // empty key, value not valid UTF-8
    writeFileSync(join(dir, ".kvp_pool_1"), Buffer.concat([encodeRecord({ key: "a", value: "1" }), broken]));
    const repaired = await runCli(["--dir", dir, "check", "--repair"]);
    expect(repaired.stdout).toMatch(
      /^pool 1 record 1: repaired: replaced invalid UTF-8 in \(empty key\) with U\+FFFD, so the host enumerates past this record again$/m,
    );
    expect(repaired.stdout).toMatch(/^pool 1 record 1 @2560 "": warning empty-key: /m);
    expect(records(dir, 1)).toEqual([
      ["a", "1"],
      ["", "\ufffd"],
    ]);
  });

  it("lists a bounded number of findings per kind and counts the rest", async () => {
    const dir = pools();
    writeFileSync(join(dir, ".kvp_pool_1"), new Uint8Array(1003 * 2560)); // 1003 all-zero records
    const found = await runCli(["--dir", dir, "check"]);
    expect(found.code).toBe(1);
    expect(found.stdout.match(/warning empty-key/g)).toHaveLength(1000);
    expect(found.stdout).toMatch(/^pool 1: not listed, only counted \(more of the same kind\): 3 empty-key$/m);
    expect(found.stdout).toMatch(/1003 record\(s\), 0 error\(s\), 1003 warning\(s\)$/m);
    const [json] = JSON.parse((await runCli(["--dir", dir, "check", "--json"])).stdout);
    expect(json.report).toMatchObject({ warnings: 1003, omitted: { "empty-key": 3 } });
  });

  it("checks every pool with --all-pools", async () => {
    const dir = pools();
    const { code, stdout } = await runCli(["--dir", dir, "check", "--all-pools", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).map((c: { pool: number }) => c.pool)).toEqual([0, 1, 3, 4]);
  });
});

describe("errors", () => {
  it("with --json, a failure is also one error object on stdout, with kvp-pool's exit code", async () => {
    const dir = pools();
    const absent = await runCli(["--dir", dir, "get", "nope", "--json"]);
    expect(absent.code).toBe(1);
    expect(JSON.parse(absent.stdout)).toEqual({
      error: { code: "not-found", message: expect.stringMatching(/^no key "nope" in pool 1/), exitCode: 1 },
    });
    const refused = await runCli(["--dir", dir, "set", "k", "v", "--pool", "0", "--json"]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: "refused", exitCode: 2 });
  });

  it("reads --from-file as PowerShell writes it: UTF-16 with a BOM, the BOM not part of the first key", async () => {
    const dir = pools();
    const file = join(dir, "facts.env");
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("role=web\r\n", "utf16le")]));
    expect((await runCli(["--dir", dir, "set", "--from-file", file])).code).toBe(0);
    expect(records(dir, 1)).toEqual([["role", "web"]]);
  });

  it("an unexpected error is one line, without a stack trace", async () => {
    const dir = pools();
    let stderr = "";
    const code = await main(["node", "kvp-pool", "--dir", dir, "set", "--from-file", "-"], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
      env: {},
      readStdin: async () => {
        throw new TypeError("stdin exploded");
      },
    });
    expect(code).toBe(3);
    expect(stderr).toBe("kvp-pool: internal error: TypeError: stdin exploded\n");
  });
});

describe("help", () => {
  it("has examples and exit codes, and exits 0", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Exit codes: 0 ok, 1 not found \/ problems found, 2 usage, 3 IO or lock failure/);
    for (const command of ["list", "get", "set", "delete", "check", "watch"]) {
      const sub = await runCli([command, "--help"]);
      expect(sub.code, command).toBe(0);
      expect(sub.stdout, command).toContain(`kvp-pool ${command}`);
    }
  });
});
