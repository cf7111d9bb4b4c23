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
import { afterAll, expect, it } from "vitest";
import { isEnvName, readStringMap, removeStaleTempFiles, renderEnvFile, writeFileAtomic } from "./state-files.js";

const dir = mkdtempSync(join(tmpdir(), "kvp-agent-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRICKY = ["plain", "it's", "$HOME `id` $(id) \\n", 'a"b', "two\nlines", " spaces ", "", "'''", "é中😀"];

it("host.env round-trips every value through `sh -c '. file'`", () => {
  const items = new Map(TRICKY.map((v, i) => [`K${i}`, v]));
  items.set("not-a-name", "x");
  items.set("1starts_with_digit", "x");
  const { text, skipped } = renderEnvFile(items, "KVP_");
  expect(skipped).toEqual(["not-a-name"]);
  expect(renderEnvFile(items, "").skipped).toEqual(["not-a-name", "1starts_with_digit"]);
  const file = join(dir, "host.env");
  writeFileSync(file, text);
  const script = `. "${file}"; ${TRICKY.map((_, i) => `printf '%s\\0' "$KVP_K${i}"`).join("; ")}`;
  const result = spawnSync("sh", ["-c", script], { encoding: "utf8", env: {} });
  expect(result.stderr).toBe("");
  expect(result.stdout.split("\0").slice(0, -1)).toEqual(TRICKY);
});

it("names", () => {
  expect(isEnvName("KVP_a1")).toBe(true);
  expect(isEnvName("a-b")).toBe(false);
  expect(isEnvName("")).toBe(false);
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
