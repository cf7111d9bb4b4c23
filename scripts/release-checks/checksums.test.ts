import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectedArtifacts, releaseDir, releaseVersion } from "./support.js";

describe("the release directory", () => {
  it("holds every artifact of this version, and nothing else", () => {
    const expected = Object.values(expectedArtifacts(releaseVersion())).flat();
    const present = readdirSync(releaseDir()).filter((name) => name !== "SHA256SUMS");
    expect(present.sort()).toEqual([...expected].sort());
  });

  it("has a SHA256SUMS that sha256sum -c accepts, covering every file", () => {
    const sums = readFileSync(join(releaseDir(), "SHA256SUMS"), "utf8");
    const listed = sums
      .trim()
      .split("\n")
      .map((line) => line.replace(/^[0-9a-f]{64} {2}/, ""));
    expect(listed.sort()).toEqual(
      readdirSync(releaseDir())
        .filter((name) => name !== "SHA256SUMS")
        .sort(),
    );
    const check = spawnSync("sha256sum", ["--check", "--strict", "SHA256SUMS"], {
      cwd: releaseDir(),
      encoding: "utf8",
    });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});
