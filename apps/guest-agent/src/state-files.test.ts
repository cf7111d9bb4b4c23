import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "./config.js";
import {
  mapToJson,
  readStringMap,
  removeStaleTempFiles,
  renderEnvFile,
  writeEnvFile,
  writeFileAtomic,
  writeJsonMap,
} from "./state-files.js";

const dir = mkdtempSync(join(tmpdir(), "kvp-agent-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRICKY = ["plain", "it's", "$HOME `id` $(id) \\n", 'a"b', "two\nlines", " spaces ", "", "'''", "é中😀"];

it("host.env round-trips every value through `sh -c '. file'`", () => {
  const items = new Map(TRICKY.map((v, i) => [`K${i}`, v]));
  items.set("not-a-name", "x");
  items.set("1starts_with_digit", "x");
  const { text, skipped } = renderEnvFile(items, "kvp_");
  expect(skipped).toEqual(["not-a-name"]);
  const file = join(dir, "host.env");
  writeFileSync(file, text);
  const script = `. "${file}"; ${TRICKY.map((_, i) => `printf '%s\\0' "$kvp_K${i}"`).join("; ")}`;
  const result = spawnSync("sh", ["-c", script], { encoding: "utf8", env: {} });
  expect(result.stderr).toBe("");
  expect(result.stdout.split("\0").slice(0, -1)).toEqual(TRICKY);
});

/** Host keys that name the toolkit's, the shells', the loader's and tools' own variables. */
const HOSTILE_KEYS = new Map([
  ["AGENT_NODE", "/bin/rm"],
  ["POOL_NODE", "/bin/rm"],
  ["POOL_DIR", "/tmp/elsewhere"],
  ["DEBUG", "1"],
  ["DECODED_ENV", "/tmp/evil.env"],
  ["PATH", "/tmp/evil"],
  ["LD_PRELOAD", "/tmp/evil.so"],
  ["PS4", "$(touch pwned-ps4)"],
  ["BASH_ENV", "/tmp/evil.sh"],
  ["ENV", "/tmp/evil.sh"],
  ["IFS", "/"],
  ["NODE_OPTIONS", "--require /tmp/evil.js"],
  ["http_proxy", "http://evil:3128"],
  ["HTTPS_PROXY", "http://evil:3128"],
  ["history", "x"],
  ["options", "x"],
  ["role", "web"],
]);

/** The environment `shell` ends with after `set -a; . file` (`file` absent: before), and its stderr. */
function environmentAfter(shell: readonly string[], file: string | undefined, cwd: string) {
  const source = file === undefined ? "" : `set -a; . "${file}" || exit 9; set +a; `;
  // set -x: PS4 is expanded, command substitutions included, before every traced command.
  const script = `${source}set -x; : traced; set +x; /usr/bin/env -0`;
  const result = spawnSync(shell[0]!, [...shell.slice(1), "-c", script], {
    encoding: "utf8",
    env: { PATH: "/usr/bin:/bin", HOME: cwd },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  expect(result.status, result.stderr).toBe(0);
  const env = new Map<string, string>();
  for (const entry of result.stdout.split("\0").slice(0, -1)) {
    const at = entry.indexOf("=");
    env.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return env;
}

it.each([["/bin/sh"], ["/bin/bash", "--norc", "--noprofile"]])(
  "with %s, `set -a; . host.env` of hostile keys under the default prefix assigns nothing outside it and runs nothing",
  (...shell) => {
    const prefix = validateConfig({}, "default").envPrefix;
    const cwd = mkdtempSync(join(dir, "hostile-"));
    const { text } = renderEnvFile(HOSTILE_KEYS, prefix);
    const file = join(cwd, "host.env");
    writeFileSync(file, text);
    const before = environmentAfter(shell, undefined, cwd);
    const after = environmentAfter(shell, file, cwd);
    const changed = [...after].filter(([name, value]) => before.get(name) !== value).map(([name]) => name);
    expect(changed.length).toBeGreaterThan(0);
    for (const name of changed) {
      expect(name.startsWith(prefix), name).toBe(true);
      expect(name, "a name the host chose must have a lower-case letter").toMatch(/[a-z]/);
    }
    expect(after.get(`${prefix}role`)).toBe("web");
    expect(existsSync(join(cwd, "pwned-ps4"))).toBe(false);
  },
);

it("whatever the prefix, host.env never names a system, shell or tool variable", () => {
  for (const prefix of ["", "KVP_", "LD_", "h"]) {
    const { text, skipped } = renderEnvFile(HOSTILE_KEYS, prefix);
    const names = text
      .split("\n")
      .filter((line) => /^[A-Za-z_]/.test(line))
      .map((line) => line.slice(0, line.indexOf("=")));
    for (const name of names) expect(name, `prefix ${JSON.stringify(prefix)}`).toMatch(/[a-z]/);
    expect(names).not.toContain("PATH");
    expect(names).not.toContain("LD_PRELOAD");
    expect(names).not.toContain("KVP_AGENT_NODE");
    expect(names).not.toContain("history");
    expect(names).not.toContain("http_proxy");
    if (prefix !== "h") expect(skipped).toEqual(expect.arrayContaining(["PS4", "AGENT_NODE", "PATH"]));
  }
});

it("leaves out a value holding a NUL, which no shell variable can hold and which upsets the shells' quoting", () => {
  // Pool values end at their first NUL, so none reaches here from a pool; any other caller's might.
  const { text, skipped } = renderEnvFile(
    new Map([
      ["a", "x\0'; touch pwned; '"],
      ["b", "ok"],
    ]),
    "kvp_",
  );
  expect(skipped).toEqual(["a"]);
  expect(text).not.toContain("kvp_a");
  expect(text).toContain("kvp_b='ok'\n");
});

it("writes atomically with the given mode, whatever the umask", () => {
  const file = join(dir, "host.json");
  const old = process.umask(0);
  try {
    writeFileAtomic(file, '{"a":"1"}\n', 0o600);
  } finally {
    process.umask(old);
  }
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, "utf8")).toBe('{"a":"1"}\n');
  expect(readStringMap(file)).toEqual(new Map([["a", "1"]]));
});

it("never reuses a leftover temporary file or follows a planted link", () => {
  const file = join(dir, "host.env");
  const temp = `${file}.tmp-${process.pid}`;
  // A leftover readable by everyone: its mode must not carry over to the secrets.
  writeFileSync(temp, "old");
  chmodSync(temp, 0o644);
  writeFileAtomic(file, "KVP_a='secret'\n", 0o600);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  // A link to somewhere else: that file must stay as it was.
  const victim = join(dir, "victim");
  writeFileSync(victim, "untouched");
  symlinkSync(victim, temp);
  writeFileAtomic(file, "KVP_a='new'\n", 0o600);
  expect(readFileSync(victim, "utf8")).toBe("untouched");
  expect(readFileSync(file, "utf8")).toBe("KVP_a='new'\n");
  expect(lstatSync(file).isSymbolicLink()).toBe(false);
  expect(existsSync(temp)).toBe(false);
});

it("a previous state file that is garbage reads as nothing", () => {
  const file = join(dir, "garbage.json");
  writeFileSync(file, "{not json");
  expect(readStringMap(file)).toBeUndefined();
  writeFileSync(file, '{"a":1}');
  expect(readStringMap(file)).toBeUndefined();
  expect(readStringMap(join(dir, "absent.json"))).toBeUndefined();
});

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid ?? 0;
}

it("removeStaleTempFiles removes a killed writer's temp files of our own naming, and nothing else", () => {
  const state = mkdtempSync(join(dir, "stale-"));
  const decoded = join(state, "decoded");
  mkdirSync(decoded);
  const dead = deadPid();
  const stale = [
    `host.json.tmp-${dead}`,
    `agent-status.json.tmp-${dead}`,
    `host.env.tmp-${dead}`,
    // This process is the one starting: nothing of its own is being written yet.
    `host-facts.json.tmp-${process.pid}`,
    `decoded/userdata.env.tmp-${dead}`,
  ];
  const kept = [
    "host.json",
    "decoded/userdata.env",
    // A live writer (another agent process, `once`) is mid-write.
    `host.json.tmp-${process.ppid}`,
    // Not our names.
    `notes.tmp-${dead}`,
    `host.json.tmp-x${dead}`,
    `decoded/userdata.txt.tmp-${dead}`,
  ];
  for (const name of [...stale, ...kept]) writeFileSync(join(state, name), "x");
  mkdirSync(join(state, `host-decoded.json.tmp-${dead}`));
  kept.push(`host-decoded.json.tmp-${dead}`);
  expect(removeStaleTempFiles(state).sort()).toEqual(stale.sort());
  for (const name of stale) expect(existsSync(join(state, name))).toBe(false);
  for (const name of kept) expect(existsSync(join(state, name))).toBe(true);
});

it("removeStaleTempFiles does not follow a decoded directory that is a link, and a missing state directory is nothing", () => {
  const state = mkdtempSync(join(dir, "stale-link-"));
  const elsewhere = mkdtempSync(join(dir, "elsewhere-"));
  const victim = join(elsewhere, `x.env.tmp-${deadPid()}`);
  writeFileSync(victim, "x");
  symlinkSync(elsewhere, join(state, "decoded"));
  expect(removeStaleTempFiles(state)).toEqual([]);
  expect(existsSync(victim)).toBe(true);
  expect(removeStaleTempFiles(join(dir, "absent"))).toEqual([]);
});

it("host.json and host.env written in pieces are the same bytes as their whole text, over many megabytes of multi-byte text", () => {
  const items = new Map<string, string>();
  // Pieces of every size around the writes' megabyte, UTF-8 of 1 to 4 bytes a character.
  for (let i = 0; i < 300; i++)
    items.set(`k${i}`, "aé中😀".repeat((i * 7919) % 3000) + (i % 50 === 0 ? "x".repeat(1 << 20) : ""));
  const json = join(dir, "big.json");
  const env = join(dir, "big.env");
  const jsonBytes = writeJsonMap(json, items, 0o600);
  const written = writeEnvFile(env, items, "kvp_", 0o600);
  expect(readFileSync(json, "utf8")).toBe(mapToJson(items));
  expect(jsonBytes).toBe(Buffer.byteLength(mapToJson(items)));
  expect(readFileSync(env, "utf8")).toBe(renderEnvFile(items, "kvp_").text);
  expect(written.bytes).toBe(statSync(env).size);
});

/** Inode and mtime: what tells a file left alone from one replaced by temp file + rename. */
function identity(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.ino}/${st.mtimeNs}`;
}

describe("unlessSame", () => {
  it("leaves a file that holds the bytes already as it is, and replaces one that differs", () => {
    const file = join(dir, "same.json");
    writeFileAtomic(file, '{"a":"1"}\n', 0o600);
    const before = identity(file);
    writeFileAtomic(file, '{"a":"1"}\n', 0o600, { unlessSame: true });
    expect(identity(file)).toBe(before);
    // Without the option the same bytes are written again: the check above can fail.
    writeFileAtomic(file, '{"a":"1"}\n', 0o600);
    const rewritten = identity(file);
    expect(rewritten).not.toBe(before);
    // Longer, shorter and changed content each replace the file.
    for (const text of ['{"a":"1"}\n\n', '{"a":"1"}', '{"a":"2"}\n', ""]) {
      const was = identity(file);
      writeFileAtomic(file, text, 0o600, { unlessSame: true });
      expect(readFileSync(file, "utf8")).toBe(text);
      expect(identity(file), JSON.stringify(text)).not.toBe(was);
    }
    expect(existsSync(`${file}.tmp-${process.pid}`)).toBe(false);
  });

  it("replaces a file with the same bytes but another mode, and a link instead of following it", () => {
    const file = join(dir, "mode.env");
    writeFileAtomic(file, "x\n", 0o600);
    chmodSync(file, 0o644);
    writeFileAtomic(file, "x\n", 0o600, { unlessSame: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const victim = join(dir, "mode-victim");
    writeFileSync(victim, "x\n");
    rmSync(file);
    symlinkSync(victim, file);
    writeFileAtomic(file, "x\n", 0o600, { unlessSame: true });
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(statSync(victim).mode & 0o777).not.toBe(0o600);
  });

  it("over megabytes, keeps an equal file and writes one that differs near its end with every byte right", () => {
    const items = new Map<string, string>();
    for (let i = 0; i < 40; i++) items.set(`k${i}`, "aé中😀".repeat(20_000 + i));
    const json = join(dir, "big-same.json");
    writeJsonMap(json, items, 0o600);
    const before = identity(json);
    expect(writeJsonMap(json, items, 0o600, { unlessSame: true })).toBe(statSync(json).size);
    expect(identity(json)).toBe(before);
    items.set("k39", `${items.get("k39")}!`);
    writeJsonMap(json, items, 0o600, { unlessSame: true });
    expect(identity(json)).not.toBe(before);
    expect(readFileSync(json, "utf8")).toBe(mapToJson(items));
    const env = join(dir, "big-same.env");
    writeEnvFile(env, items, "kvp_", 0o600);
    const envBefore = identity(env);
    expect(writeEnvFile(env, items, "kvp_", 0o600, { unlessSame: true }).bytes).toBe(statSync(env).size);
    expect(identity(env)).toBe(envBefore);
  });
});
