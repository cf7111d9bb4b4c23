/// <reference types="node" />
// Test support only (excluded from the build): validates documents against DMTF's CIM-XML
// DTD with xmllint (Debian libxml2-utils). The DTD is kept in the repository, with DMTF's
// notice: test-support/fixtures/DSP0203_2.4.0.dtd. Whether xmllint is there is the shared
// tool policy's question (@hyperv-kvp/test-support/tools, XMLLINT).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DTD_NAME = "DSP0203_2.4.0.dtd";

/** Absolute path of the DTD (test-support/fixtures, see its NOTICE.md). */
export function findDtd(): string {
  return fileURLToPath(new URL(`../fixtures/${DTD_NAME}`, import.meta.url));
}

/**
 * Validates each document on its own (each is one file) against the DTD, many files per
 * xmllint run for speed. Returns the failures: index of the document and xmllint's words.
 */
export function validateAgainstDtd(
  documents: readonly string[],
): { index: number; document: string; output: string }[] {
  const dtd = findDtd();
  const dir = mkdtempSync(join(tmpdir(), "kvp-dtd-"));
  const failures: { index: number; document: string; output: string }[] = [];
  try {
    const files = documents.map((doc, i) => {
      const file = join(dir, `doc-${i}.xml`);
      writeFileSync(file, doc, "utf8");
      return file;
    });
    for (let start = 0; start < files.length; start += 200) {
      const batch = files.slice(start, start + 200);
      const run = spawnSync("xmllint", ["--noout", "--dtdvalid", dtd, ...batch], { encoding: "utf8" });
      if (run.error) throw run.error;
      if (run.status === 0) continue;
      for (let i = start; i < start + batch.length; i++) {
        const name = `doc-${i}.xml`;
        const lines = run.stderr.split("\n").filter((line) => line.includes(`/${name}`));
        if (lines.length > 0) failures.push({ index: i, document: documents[i]!, output: lines.join("\n") });
      }
      if (failures.length === 0) throw new Error(`xmllint failed without naming a file:\n${run.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failures;
}
