import { spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DECODED_ENV_DIR,
  MAX_DECODED_ENV_KEY,
  type DecodedEnvPlan,
  decodedEnvFileName,
  dirModeFor,
  planDecodedEnv,
  syncDecodedEnvDir,
} from "./decoded-env.js";
import { decodeValue } from "./decoders.js";

const dir = mkdtempSync(join(tmpdir(), "kvp-agent-decoded-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The plan of `key` = `raw` under `decoder`, which must give one. */
function plan(decoder: "pairs" | "json" | "cmdline", raw: string, prefix = "", key = "userdata"): DecodedEnvPlan {
  const result = planDecodedEnv(key, decodeValue(decoder, raw), prefix);
  if (result === undefined) throw new Error("no plan");
  return result;
}

/**
 * Sources `file` with `shell` in an empty environment, from inside `cwd`, and returns each
 * of `names` as the shell then holds it (NUL-separated on the way out, so newlines survive).
 */
function sourceWith(
  shell: readonly string[],
  file: string,
  names: readonly string[],
  cwd: string,
): { values: string[]; stderr: string; status: number | null } {
  // The loop variable is upper-case, which no decoded env file may assign.
  const script = `. "$1" || exit 9; shift; for NAME in "$@"; do eval "printf '%s\\0' \\"\\$$NAME\\""; done`;
  // stdin closed: bash reads ~/.bashrc when stdin is a socket (as if started by sshd).
  const result = spawnSync(shell[0]!, [...shell.slice(1), "-c", script, "sh", file, ...names], {
    encoding: "utf8",
    env: {},
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { values: result.stdout.split("\0").slice(0, -1), stderr: result.stderr, status: result.status };
}

describe("sourcing a decoded env file runs nothing and gives back every value exactly", () => {
  // Each tries to run `touch pwned-N` in the shell's directory, or to end the quoting early.
  const HOSTILE = [
    "plain",
    "it's",
    "'''",
    `'; touch pwned-1; '`,
    "$(touch pwned-2)",
    "`touch pwned-3`",
    '"$(touch pwned-4)"',
    "'$(touch pwned-5)'",
    "\\'; touch pwned-6; echo \\'",
    "line one\ntouch pwned-7\n",
    "\n'\n$(touch pwned-8)\n'",
    "${IFS}$HOME ${PATH:-x} $$ $0 !! \\n \\\\",
    "tab\tcr\r end",
    "é中😀 ünï",
    "",
    " spaces ",
    "a=b;c",
  ];

  const shells = [["/bin/sh"], ["/bin/bash", "--norc", "--noprofile"]];
  it.each(shells)("with %s: hostile values", (...shell) => {
    const cwd = mkdtempSync(join(dir, "sh-"));
    // JSON members, since the pairs decoder would split these values at ';' (pairs below).
    const members = Object.fromEntries(HOSTILE.map((v, i) => [`v${i}`, v]));
    const p = plan("json", JSON.stringify(members));
    expect(p.skipped).toEqual([]);
    expect(p.variables).toEqual(HOSTILE.map((_, i) => `v${i}`));
    const file = join(cwd, "userdata.env");
    writeFileSync(file, p.text!);
    const result = sourceWith(shell, file, p.variables, cwd);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.values).toEqual(HOSTILE);
    expect(readdirSync(cwd).filter((n) => n.startsWith("pwned"))).toEqual([]);
  });

  it.each(shells)("with %s: CloudStack pairs, numbers and booleans", (...shell) => {
    const cwd = mkdtempSync(join(dir, "sh-"));
    const pairs = plan(
      "pairs",
      "type=router;name=r-1-VM;eth0ip=10.1.1.1;msg=it's `touch pwned` $(touch pwned);eth0mask=255.255.255.0",
    );
    expect(pairs.variables).toEqual(["type", "name", "eth0ip", "msg", "eth0mask"]);
    writeFileSync(join(cwd, "a.env"), pairs.text!);
    expect(sourceWith(shell, join(cwd, "a.env"), pairs.variables, cwd).values).toEqual([
      "router",
      "r-1-VM",
      "10.1.1.1",
      "it's `touch pwned` $(touch pwned)",
      "255.255.255.0",
    ]);
    const json = plan("json", '{"n":1.50,"neg":-2,"big":1e21,"t":true,"f":false}');
    writeFileSync(join(cwd, "b.env"), json.text!);
    expect(sourceWith(shell, join(cwd, "b.env"), json.variables, cwd).values).toEqual([
      "1.5",
      "-2",
      "1e+21",
      "true",
      "false",
    ]);
    expect(existsSync(join(cwd, "pwned"))).toBe(false);
  });
});

/** Field names that are the system's, a shell's, the loader's, kvp-agent's or a tool's. */
const HOSTILE_FIELDS: Record<string, string> = {
  PATH: "/tmp/evil",
  PS4: "$(touch pwned-ps4)",
  IFS: "/",
  ENV: "/tmp/evil.sh",
  BASH_ENV: "/tmp/evil.sh",
  LD_PRELOAD: "/tmp/evil.so",
  NODE_OPTIONS: "--require /tmp/evil.js",
  KVP_AGENT_NODE: "/bin/rm",
  KVP_POOL_DIR: "/tmp/elsewhere",
  path: "/tmp/evil",
  history: "x",
  options: "x",
  http_proxy: "http://evil:3128",
  no_proxy: "*",
  npm_config_script_shell: "/tmp/evil",
  eth0ip: "10.1.1.1",
};

/** The environment `shell` ends with after `set -a; . file` (no file: before), tracing one command. */
function environmentAfter(shell: readonly string[], file: string | undefined, cwd: string): Map<string, string> {
  const source = file === undefined ? "" : `set -a; . "${file}" || exit 9; set +a; `;
  const result = spawnSync(shell[0]!, [...shell.slice(1), "-c", `${source}set -x; : traced; set +x; /usr/bin/env -0`], {
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin", HOME: cwd },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  expect(result.status, result.stderr).toBe(0);
  return new Map(
    result.stdout
      .split("\0")
      .slice(0, -1)
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)] as const),
  );
}

describe("`set -a; . decoded/KEY.env` of hostile field names assigns only the planned names", () => {
  it.each([["/bin/sh"], ["/bin/bash", "--norc", "--noprofile"]])("with %s", (...shell) => {
    const cwd = mkdtempSync(join(dir, "names-"));
    const p = plan("json", JSON.stringify(HOSTILE_FIELDS));
    expect(p.variables).toEqual(["eth0ip"]);
    writeFileSync(join(cwd, "userdata.env"), p.text!);
    const before = environmentAfter(shell, undefined, cwd);
    const after = environmentAfter(shell, join(cwd, "userdata.env"), cwd);
    expect([...after].filter(([name, value]) => before.get(name) !== value)).toEqual([["eth0ip", "10.1.1.1"]]);
    expect(existsSync(join(cwd, "pwned-ps4"))).toBe(false);
  });
});

describe("planDecodedEnv", () => {
  it("writes the header and one quoted line per field, in field order", () => {
    expect(plan("pairs", "type=router;eth0ip=10.1.1.1").text).toBe(
      "# Written by kvp-agent from Hyper-V KVP pool 0 key userdata (decoder pairs); do not edit (rewritten at every change).\n" +
        "type='router'\neth0ip='10.1.1.1'\n",
    );
  });

  it("leaves out, never renames, fields that are not safe shell names; renaming could collide", () => {
    const p = plan(
      "pairs",
      "eth-0=dash;eth_0=underscore;1a=x;PATH=/tmp/evil;IFS=x;PS4=$(id);LD_PRELOAD=/x.so;_=x;path=/tmp;fpath=/tmp;__proto__=p;Mixed=ok",
    );
    expect(p.variables).toEqual(["eth_0", "__proto__", "Mixed"]);
    expect(p.text).toContain("eth_0='underscore'\n");
    expect(p.text).not.toContain("dash");
    expect(p.skipped.map((s) => s.field)).toEqual([
      "eth-0",
      "1a",
      "PATH",
      "IFS",
      "PS4",
      "LD_PRELOAD",
      "_",
      "path",
      "fpath",
    ]);
    expect(p.skipped[0]!.reason).toBe("not a shell variable name");
    expect(p.skipped[2]!.reason).toMatch(/^no lower-case letter/);
    expect(p.skipped[7]!.reason).toBe("special to zsh");
  });

  it("leaves out zsh's module parameters and the proxy variables tools read, in any case", () => {
    const p = plan(
      "pairs",
      "history=x;options=x;dirstack=x;functions=x;mapfile=x;http_proxy=http://evil;https_proxy=x;no_proxy=*;Ftp_Proxy=x;HTTPS_PROXY=x;npm_config_script_shell=/tmp/x;proxy_vm=2",
    );
    expect(p.variables).toEqual(["proxy_vm"]);
    expect(Object.fromEntries(p.skipped.map((s) => [s.field, s.reason]))).toEqual({
      history: "special to zsh",
      options: "special to zsh",
      dirstack: "special to zsh",
      functions: "special to zsh",
      mapfile: "special to zsh",
      http_proxy: expect.stringMatching(/proxy/),
      https_proxy: expect.stringMatching(/proxy/),
      no_proxy: expect.stringMatching(/proxy/),
      Ftp_Proxy: expect.stringMatching(/proxy/),
      HTTPS_PROXY: expect.stringMatching(/lower-case/),
      npm_config_script_shell: expect.stringMatching(/npm/),
    });
  });

  it("applies the rules to the name with its prefix", () => {
    const lower = plan("pairs", "PATH=x;eth0ip=y", "cs_");
    expect(lower.variables).toEqual(["cs_PATH", "cs_eth0ip"]);
    const upper = plan("pairs", "IP=x;eth0ip=y;a-b=z", "CS_");
    expect(upper.variables).toEqual(["CS_eth0ip"]);
    expect(upper.skipped).toEqual([
      { field: "IP", reason: expect.stringMatching(/^as "CS_IP": no lower-case letter/) },
      { field: "a-b", reason: 'as "CS_a-b": not a shell variable name' },
    ]);
  });

  it("json: top-level strings, finite numbers and booleans; the rest is left out with why", () => {
    const p = plan(
      "json",
      '{"s":"x","n":2,"b":false,"o":{"x":1},"a":[1],"z":null,"nul":"a\\u0000b","lone":"\\ud800","ok":"\\ud83d\\ude00","inf":1e400}',
    );
    expect(p.variables).toEqual(["s", "n", "b", "ok"]);
    expect(p.skipped).toEqual([
      { field: "o", reason: "an object, not a string, number or boolean" },
      { field: "a", reason: "an array, not a string, number or boolean" },
      { field: "z", reason: "null, not a string, number or boolean" },
      { field: "nul", reason: "holds a NUL character, which shell variables cannot" },
      { field: "lone", reason: "not well-formed Unicode (a lone surrogate)" },
      { field: "inf", reason: "not a finite number" },
    ]);
  });

  it("a JSON value that is not an object, or a key that is no plain file name, gets no file", () => {
    expect(plan("json", "[1,2]")).toMatchObject({
      file: null,
      reason: "the JSON value is not an object",
      variables: [],
    });
    expect(plan("json", '"text"').file).toBeNull();
    expect(plan("pairs", "a=1", "", "vm/config")).toMatchObject({
      file: null,
      reason: expect.stringMatching(/not a plain file name/),
    });
  });

  it("cmdline: every argument as a field, a bare name as true, quoted values without their quotes", () => {
    const result = plan(
      "cmdline",
      ' type=router name=r-1-VM "msg=a b" disable_rp_filter ETH0=x eth-1=y',
      "",
      "cloudstack-vm-userdata",
    );
    expect(result.text).toBe(
      "# Written by kvp-agent from Hyper-V KVP pool 0 key cloudstack-vm-userdata (decoder cmdline); do not edit (rewritten at every change).\n" +
        "type='router'\nname='r-1-VM'\nmsg='a b'\ndisable_rp_filter='true'\n",
    );
    expect(result.skipped.map((s) => s.field)).toEqual(["ETH0", "eth-1"]);
  });

  it("raw, base64 and failed decodes get no plan at all", () => {
    expect(planDecodedEnv("k", decodeValue("raw", "a=1"), "")).toBeUndefined();
    expect(planDecodedEnv("k", decodeValue("base64", "aGk="), "")).toBeUndefined();
    expect(planDecodedEnv("k", decodeValue("pairs", "oops"), "")).toBeUndefined();
    expect(planDecodedEnv("k", decodeValue("json", "{"), "")).toBeUndefined();
    expect(planDecodedEnv("k", decodeValue("cmdline", "a=\0"), "")).toBeUndefined();
  });

  it("an empty payload gives a file with only the header", () => {
    expect(plan("pairs", "")).toMatchObject({ file: "userdata.env", variables: [], skipped: [] });
  });
});

describe("names", () => {
  it.each([
    ["cloudstack-vm-userdata", "cloudstack-vm-userdata.env"],
    ["vm.config_2", "vm.config_2.env"],
    ["A", "A.env"],
    ["x".repeat(MAX_DECODED_ENV_KEY), `${"x".repeat(MAX_DECODED_ENV_KEY)}.env`],
    ["x".repeat(MAX_DECODED_ENV_KEY + 1), undefined],
    [".", undefined],
    ["..", undefined],
    [".hidden", undefined],
    ["-dash", undefined],
    ["a/b", undefined],
    ["../etc/passwd", undefined],
    ["é", undefined],
    ["a b", undefined],
    ["", undefined],
  ])("file name of %j is %j", (key, name) => {
    expect(decodedEnvFileName(key)).toBe(name);
  });

  it.each([
    [0o600, 0o700],
    [0o640, 0o750],
    [0o644, 0o755],
    [0o400, 0o500],
  ])("directory mode for files of %o is %o", (file, directory) => {
    expect(dirModeFor(file)).toBe(directory);
  });
});

describe("syncDecodedEnvDir", () => {
  const plans = (...keys: string[]) => keys.map((key) => planDecodedEnv(key, decodeValue("pairs", `k=${key}`), "")!);

  it("writes each file with the mode whatever the umask, in a directory only the owner can enter", () => {
    const state = mkdtempSync(join(dir, "state-"));
    const old = process.umask(0);
    try {
      syncDecodedEnvDir(state, plans("a", "b"), 0o600);
    } finally {
      process.umask(old);
    }
    const decoded = join(state, DECODED_ENV_DIR);
    expect(statSync(decoded).mode & 0o777).toBe(0o700);
    expect(readdirSync(decoded).sort()).toEqual(["a.env", "b.env"]);
    for (const f of ["a.env", "b.env"]) expect(statSync(join(decoded, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(decoded, "a.env"), "utf8")).toContain("k='a'\n");
  });

  it("removes the files of keys no longer planned, and nothing else", () => {
    const state = mkdtempSync(join(dir, "state-"));
    syncDecodedEnvDir(state, plans("a", "b", "c"), 0o600);
    const decoded = join(state, DECODED_ENV_DIR);
    writeFileSync(join(decoded, "README"), "admin's note");
    mkdirSync(join(decoded, "sub.env"));
    const victim = join(state, "victim");
    writeFileSync(victim, "untouched");
    symlinkSync(victim, join(decoded, "link.env"));
    syncDecodedEnvDir(state, [...plans("b"), planDecodedEnv("vm/x", decodeValue("pairs", "k=1"), "")!], 0o600);
    expect(readdirSync(decoded).sort()).toEqual(["README", "b.env", "sub.env"]);
    expect(readFileSync(victim, "utf8")).toBe("untouched");
    syncDecodedEnvDir(state, [], 0o600);
    expect(readdirSync(decoded).sort()).toEqual(["README", "sub.env"]);
  });

  it("refuses a decoded directory that is a symlink, writing and removing nothing through it", () => {
    const state = mkdtempSync(join(dir, "state-"));
    const elsewhere = mkdtempSync(join(dir, "elsewhere-"));
    writeFileSync(join(elsewhere, "victim.env"), "untouched");
    symlinkSync(elsewhere, join(state, DECODED_ENV_DIR));
    expect(() => syncDecodedEnvDir(state, plans("a"), 0o600)).toThrow(/is not a directory/);
    expect(readdirSync(elsewhere)).toEqual(["victim.env"]);
    expect(lstatSync(join(state, DECODED_ENV_DIR)).isSymbolicLink()).toBe(true);
  });
});
