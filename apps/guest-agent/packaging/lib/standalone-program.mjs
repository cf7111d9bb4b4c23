// The program of kvp-agent-standalone: one CommonJS bundle holding both tools
// (standalone/multi-call.cjs picks one by the name it is called as), made into a Node single
// executable by scripts/lib/sea.mjs, then proven to run from a staged package tree.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { withBundleAsAsset } from "../../../../scripts/lib/cached-launcher.mjs";
import { buildSea } from "../../../../scripts/lib/sea.mjs";
import { LAYOUT, PACKAGING_DIR } from "./project.mjs";

/** The executable's asset holding each tool's bundle (see withBundleAsAsset). */
const BUNDLE_ASSETS = { "kvp-agent-bundle": "kvp-agent.cjs", "kvp-pool-bundle": "kvp-pool.cjs" };

/**
 * Bundles standalone/multi-call.cjs with the two built launchers into `out`, and writes each
 * launcher's bundle beside it as the executable's asset. The built files go in as they are
 * (what the kvp-agent package runs), each launcher wrapped as a module that runs only when
 * required, its bundle read from the asset (esbuild drops comments, the launchers' carriers
 * among them).
 * @param {{ agent: string, pool: string }} bundles
 * @param {string} out
 * @returns {Promise<Record<string, string>>} the assets: name → file
 */
export async function bundleMultiCall(bundles, out) {
  const assets = {};
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
            namespace: "built-bundle",
            pluginData: { asset: BUNDLE_ASSETS[args.path] },
          }));
          b.onLoad({ filter: /.*/, namespace: "built-bundle" }, (args) => {
            const { asset } = args.pluginData;
            const { launcher, bundle } = withBundleAsAsset(readFileSync(args.path, "utf8"), asset);
            const file = join(dirname(out), asset);
            writeFileSync(file, bundle);
            assets[asset] = file;
            return { contents: launcher, loader: "js", resolveDir: dirname(args.path) };
          });
        },
      },
    ],
  });
  return assets;
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
    const assets = await bundleMultiCall(bundles, bundle);
    return await buildSea({ bundle, target: `linux-${target.node}`, out, assets, execArgv: STANDALONE_NODE_ARGS });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `kvp-pool get` of the staged tree takes the pool lock through the kvp-lock addon beside the
 * executable and never loads koffi (koffi's ~4-5 ms is what the addon saves at every start).
 * The dynamic loader's own account (LD_DEBUG=files, on stderr) says which shared objects the
 * program opened, under qemu-user too.
 * @param {string} stage
 * @param {string[]} wrap
 * @param {string} pools a pool directory holding the record `build-check`
 * @throws {Error} naming what was loaded instead.
 */
function checkLockAddonLoaded(stage, wrap, pools) {
  const [file, ...pre] = [...wrap, join(stage, LAYOUT.bin, "kvp-pool")];
  const result = spawnSync(file, [...pre, "--dir", pools, "get", "build-check"], {
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LD_DEBUG: "files" },
    timeout: 120_000,
  });
  if (result.error || result.status !== 0)
    throw new Error(`the staged kvp-pool get under LD_DEBUG=files failed: ${result.error?.message ?? result.stderr}`);
  // "opening file=…" is written once a dlopen has succeeded (a missing file gets no such line).
  const addons = [...result.stderr.matchAll(/opening file=(\S+\.node) \[0\]; direct_opencount/g)].map(
    (m) => m[1] ?? "",
  );
  if (
    !addons.some((path) => /\/kvp-lock\.linux-[a-z0-9]+\.node$/.test(path)) ||
    addons.some((path) => /koffi/.test(path))
  )
    throw new Error(
      `the staged kvp-pool get must take the lock through the kvp-lock addon beside the executable, without koffi; it loaded: ${addons.join(", ") || "no addon"}`,
    );
}

/**
 * Runs the executable of a staged tree as users do, through /usr/bin/kvp-agent and
 * /usr/bin/kvp-pool: both print their help, and kvp-pool writes and reads a record in
 * scratch pool files, which takes the daemon-compatible lock through the kvp-lock addon beside
 * the executable (and loads no koffi for it). `wrap` runs it under an emulator (qemu-aarch64 -L SYSROOT) for another CPU.
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
    checkLockAddonLoaded(stage, wrap, pools);
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
