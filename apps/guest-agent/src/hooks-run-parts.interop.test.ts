// hooks.d against the real run-parts (Debian's debianutils): the agent must pick exactly
// the files `run-parts --test DIR` would run, in the same order. Needs `run-parts`: without
// it the tests fail, unless KVP_ALLOW_NO_RUN_PARTS=1 outside CI (@hyperv-kvp/test-support/tools).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { type Tool, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { afterAll, expect, it } from "vitest";
import { listHookDir } from "./hooks.js";

const work = mkdtempSync(join(tmpdir(), "kvp-agent-run-parts-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** debianutils' run-parts, in its default mode (no --lsbsysinit, no --regex). */
const RUN_PARTS: Tool = {
  name: "run-parts",
  allowMissingEnv: "KVP_ALLOW_NO_RUN_PARTS",
  missing: () =>
    spawnSync("sh", ["-c", "command -v run-parts"], { encoding: "utf8" }).status === 0
      ? undefined
      : "run-parts is missing (apt-get install debianutils)",
};

/** Names an admin, a package manager or an editor leaves in a hooks directory. */
const NAMES = [
  "10-apply",
  "20_second",
  "99",
  "UPPER",
  "-dash",
  "_under",
  "apply.sh",
  "10-apply.disabled",
  "10-apply.bak",
  "10-apply.orig",
  "10-apply.ucf-dist",
  "10-apply.ucf-old",
  "10-apply.dpkg-old",
  "10-apply.dpkg-dist",
  "10-apply.dpkg-new",
  "10-apply.rpmsave",
  "10-apply.rpmnew",
  "10-apply~",
  "#10-apply#",
  ".10-apply.swp",
  ".hidden",
  "with space",
  "ünï",
  "a+b",
  "a:b",
  "a=b",
  "a@b",
];

describeNeeding("hooks.d, as run-parts picks", [RUN_PARTS], () => {
  it("picks exactly what `run-parts --test` runs, in its order", () => {
    const dir = join(work, "hooks.d");
    mkdirSync(dir);
    // Not writable by group or others, whatever the umask: the agent would run nothing from it.
    chmodSync(dir, 0o755);
    for (const name of NAMES) {
      writeFileSync(join(dir, name), "#!/bin/sh\nexit 0\n");
      chmodSync(join(dir, name), 0o755);
    }
    writeFileSync(join(dir, "not-executable"), "#!/bin/sh\n");
    mkdirSync(join(dir, "subdir"));
    symlinkSync(join(dir, "10-apply"), join(dir, "link"));
    const result = spawnSync("run-parts", ["--test", dir], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    const runParts = result.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => basename(line));
    expect(runParts.length).toBeGreaterThan(4);
    expect(listHookDir(dir, 1000).map((h) => h.name)).toEqual(runParts);
  });
});
