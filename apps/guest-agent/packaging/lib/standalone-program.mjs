// The program of kvp-agent-standalone: one CommonJS bundle holding both tools
// (standalone/multi-call.cjs picks one by the name it is called as), made into a Node single
// executable by scripts/lib/sea.mjs, then proven to run from a staged package tree.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { buildSea } from "../../../../scripts/lib/sea.mjs";
import { LAYOUT, PACKAGING_DIR } from "./project.mjs";

/**
 * Bundles standalone/multi-call.cjs with the two built bundles into `out`. The built files
 * go in as they are (what the kvp-agent package runs), each wrapped as a module that runs
 * only when required.
 * @param {{ agent: string, pool: string }} bundles
 * @param {string} out
 */
export async function bundleMultiCall(bundles, out) {
  await build({
    entryPoints: [join(PACKAGING_DIR, "standalone", "multi-call.cjs")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "cjs",
    // Node 22 runs it (the SEA's); the two bundles inside already target Node 18.
    target: "node22",
    logLevel: "warning",
    plugins: [
      {
        name: "built-bundles",
        setup(b) {
          b.onResolve({ filter: /^kvp-(agent|pool)-bundle$/ }, (args) => ({
            path: args.path === "kvp-agent-bundle" ? bundles.agent : bundles.pool,
          }));
        },
      },
    ],
  });
}

/**
 * Node options the executable starts with: the young generation capped as /usr/bin/kvp-agent
 * caps it for the node package (packaging/deb/kvp-agent says why). kvp-pool gets it too (one
 * executable); a one-shot command does not notice.
 */
export const STANDALONE_NODE_ARGS = ["--max-semi-space-size=1"];

/**
 * Builds the single executable for `target` from `bundles`.
 * @param {{ agent: string, pool: string }} bundles
 * @param {import("./targets.mjs").Target} target
 * @param {string} out the executable to write
 * @returns {Promise<{ path: string, bytes: number, node: string }>}
 */
export async function buildStandaloneExecutable(bundles, target, out) {
  const work = mkdtempSync(join(tmpdir(), "kvp-agent-standalone-"));
  try {
    const bundle = join(work, "kvp-agent-standalone.cjs");
    await bundleMultiCall(bundles, bundle);
    return await buildSea({ bundle, target: `linux-${target.node}`, out, execArgv: STANDALONE_NODE_ARGS });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs the executable of a staged tree as users do, through /usr/bin/kvp-agent and
 * /usr/bin/kvp-pool: both print their help, and kvp-pool writes and reads a record in
 * scratch pool files, which takes the daemon-compatible lock through the koffi beside the
 * executable. `wrap` runs it under an emulator (qemu-aarch64 -L SYSROOT) for another CPU.
 * @param {string} stage
 * @param {string[]} [wrap] a command to run the executable under
 * @throws {Error} with the program's output when a step fails.
 */
export function checkStandaloneRuns(stage, wrap = []) {
  const pools = mkdtempSync(join(tmpdir(), "kvp-agent-standalone-pools-"));
  try {
    for (const pool of [0, 1, 2, 3, 4]) writeFileSync(join(pools, `.kvp_pool_${pool}`), "");
    const exec = (name, args) => {
      const [file, ...pre] = [...wrap, join(stage, LAYOUT.bin, name)];
      const result = spawnSync(file, [...pre, ...args], {
        encoding: "utf8",
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
        timeout: 120_000,
      });
      if (result.error || result.status !== 0) {
        throw new Error(
          `the staged ${name} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${result.stderr.trim()}`,
        );
      }
      return result.stdout;
    };
    if (!exec("kvp-agent", ["--help"]).startsWith("Usage: kvp-agent"))
      throw new Error("the staged kvp-agent --help did not print kvp-agent's usage");
    if (!exec("kvp-pool", ["--help"]).startsWith("Usage: kvp-pool"))
      throw new Error("the staged kvp-pool --help did not print kvp-pool's usage");
    exec("kvp-pool", ["--dir", pools, "set", "build-check", "standalone"]);
    const got = exec("kvp-pool", ["--dir", pools, "get", "build-check"]);
    if (got !== "standalone\n")
      throw new Error(`the staged kvp-pool read back ${JSON.stringify(got)}, not "standalone"`);
    if (readFileSync(join(pools, ".kvp_pool_1")).length !== 2560)
      throw new Error("the staged kvp-pool did not write one record to pool 1");
    // Last (it writes its own records to pool 1): the service's start line names node's options: the executable's own must be there.
    const state = join(pools, "state");
    writeFileSync(join(pools, "config.json"), "{}\n");
    const [agentFile, ...agentPre] = [...wrap, join(stage, LAYOUT.bin, "kvp-agent")];
    const service = spawnSync(
      agentFile,
      [...agentPre, "--dir", pools, "--state-dir", state, "--config", join(pools, "config.json"), "run"],
      {
        encoding: "utf8",
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
        // It runs until stopped: SIGTERM ends it as systemd does.
        timeout: wrap.length > 0 ? 30_000 : 5_000,
        killSignal: "SIGTERM",
      },
    );
    const starting = service.stderr.split("\n").find((line) => line.includes("starting: "));
    if (starting === undefined || !STANDALONE_NODE_ARGS.every((arg) => starting.includes(arg)))
      throw new Error(
        `the staged kvp-agent run did not start with node's options ${STANDALONE_NODE_ARGS.join(" ")}: ${starting ?? service.stderr.trim()}`,
      );
  } finally {
    rmSync(pools, { recursive: true, force: true });
  }
}
