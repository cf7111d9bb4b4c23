// LATENCY benchmark of `kvp-host set … --wait KEY=VALUE`: from the moment the guest's write of
// the awaited value is done to the moment the command returns. Against packages/hyperv-sim's
// WMI host in this process (its BUILT dist), over loopback HTTPS with NTLM, the VM backed by
// the REAL hv_kvp_daemon; the BUILT kvp-host bundle runs as a child process and the guest
// answers with the BUILT kvp-pool bundle (pool 1), as a hook or the agent would. Each run
// waits a random part of the interval before answering, so answers fall anywhere between two
// reads. Loopback, one machine: not a real Hyper-V host's latency; the figure is dominated by
// the reading interval (expect about half of it, plus one read and the process's exit).
//
// Run: node apps/host-cli/bench/wait-bench.mjs [--runs 20] [--interval 2s,200ms] after
// `pnpm exec turbo run build`. Prints one JSON row per interval: p50, p90, p99, max in ms.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { makeSelfSignedCertificate, startWmiHost } from "@hyperv-kvp/hyperv-sim";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "20" }, interval: { type: "string", default: "2s,200ms" } },
});
const runs = Number(values.runs);
const intervals = values.interval.split(",");

const KVP_HOST = fileURLToPath(new URL("../dist/kvp-host.cjs", import.meta.url));
const KVP_POOL = fileURLToPath(new URL("../../pool-tools/dist/kvp-pool.cjs", import.meta.url));
// Without NODE_EXTRA_CA_CERTS: set on these machines, it slows every node start (here the
// guest's kvp-pool, whose exit starts the clock, and kvp-host's own start, which is not timed).
const env = { ...process.env, NODE_EXTRA_CA_CERTS: undefined, KVP_HOST_PASSWORD: "bench-Pa55" };

function node(script, args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : (error.code ?? -1), stdout, stderr, at: performance.now() }),
    );
  });
}

function ms(text) {
  const m = /^(\d+)(ms|s)$/.exec(text);
  if (!m) throw new Error(`--interval: ${text}: write 2s or 200ms`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const cert = makeSelfSignedCertificate();
const host = await startWmiHost({
  vms: ["web01"],
  daemon: "real",
  https: { key: cert.key, cert: cert.cert },
  users: { Administrator: env.KVP_HOST_PASSWORD },
});
const poolDir = host.vms[0].poolDir;
const hostPool = () =>
  new Map(
    decodePool(new Uint8Array(readFileSync(join(poolDir, poolFileName(0))))).records.map((r) => [r.key, r.value]),
  );

try {
  for (const interval of intervals) {
    const latencies = [];
    for (let i = 0; i < runs; i++) {
      const token = `${interval}-${i}`;
      const child = node(KVP_HOST, [
        ...["--endpoint", host.endpoint, "--user", "Administrator", "--ca", cert.certPath],
        ...["set", "web01", `bench/config=${token}`, "--wait", `bench/applied=${token}`, "--interval", interval],
      ]);
      // The set has reached the guest (through the daemon): the command is now waiting.
      while (hostPool().get("bench/config") !== token) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.random() * ms(interval)));
      const wrote = await node(KVP_POOL, ["--dir", poolDir, "set", "bench/applied", token]);
      if (wrote.code !== 0) throw new Error(`kvp-pool set failed: ${wrote.stderr}`);
      const done = await child;
      if (done.code !== 0) throw new Error(`kvp-host set --wait failed (${done.code}): ${done.stderr}`);
      latencies.push(done.at - wrote.at);
    }
    const sorted = latencies.sort((a, b) => a - b);
    const round = (x) => Math.round(x);
    console.log(
      JSON.stringify({
        figure: "kvp-host set --wait: guest write done -> command returned (ms)",
        interval,
        runs,
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted.at(-1)),
      }),
    );
  }
} finally {
  await host.close();
  (await import("node:fs")).rmSync(cert.dir, { recursive: true, force: true });
}
