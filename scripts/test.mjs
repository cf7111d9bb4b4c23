// The project's test command (README: `npm test`): typecheck and lint every package, check the
// public API reports (scripts/api-report.mjs), run every vitest project once (unit, interop and
// release: vitest.config.ts), then print one closing line `tests: N passed, N failed, N skipped`.
// `pnpm test:unit` is the quick subset that needs no tool beyond Node (vitest.unit.config.ts).
// Skipped tests never count as passing: under CI any skip fails the run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit" }).status ?? 1;

if (
  run("pnpm", ["exec", "turbo", "run", "typecheck", "lint", "lint:root", "api:check", "--output-logs=errors-only"]) !==
  0
) {
  console.error("test: typecheck or lint failed");
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "kvp-test-"));
const reportFile = join(dir, "vitest.json");
const status = run("pnpm", [
  "exec",
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportFile}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
let skipped = 0;
/** Test files that failed without a failing test: they did not load, or a hook failed. */
let brokenFiles = 0;
try {
  const report = JSON.parse(readFileSync(reportFile, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults ?? []) {
    if (file.status === "failed" && !(file.assertionResults ?? []).some((test) => test.status === "failed"))
      brokenFiles++;
  }
} catch {
  console.error("test: vitest wrote no readable report: the counts below are not the run's");
  brokenFiles = Math.max(brokenFiles, 1);
}
rmSync(dir, { recursive: true, force: true });

// The line counts tests; files that never ran their tests are said apart, not counted as tests.
const broken =
  brokenFiles > 0 ? `; ${brokenFiles} test file${brokenFiles === 1 ? "" : "s"} failed to run (see above)` : "";
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped${broken}`);
if (process.env.CI && skipped > 0) console.error("test: skipped tests fail the run under CI");
process.exit(status !== 0 || failed > 0 || brokenFiles > 0 || passed === 0 || (process.env.CI && skipped > 0) ? 1 : 0);
