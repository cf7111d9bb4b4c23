// CALL-COUNT benchmark of `kvp-host set` against packages/hyperv-sim's WMI host IN THIS
// PROCESS (its in-process client: SOAP without HTTP; each guest the simulator's TypeScript
// model of hv_kvp_daemon; every job finished before the next request), not on Hyper-V: it
// counts the calls kvp-host's Hyper-V logic makes through its CIM client for 1, 128 and 1,000
// new items — the same count whichever transport carries them — against a naive baseline
// that makes one AddKvpItems call per item (as Microsoft's samples do). Wall time printed
// here says nothing about a real host; the wall-time figure comes with --sim. Run: node
// bench/set-bench.mjs (or pnpm --filter @hyperv-kvp/host-cli bench) after `pnpm exec turbo
// run build` (the simulator runs from its built dist); kvp-host's TypeScript sources are
// bundled in memory with esbuild.
//
// --sim: ALSO measures wall time and calls against packages/hyperv-sim's WMI host (its BUILT
// dist: run `pnpm exec turbo run build` first), in this process, over loopback HTTPS with NTLM
// (kvp-host's default), every VM backed by the REAL hv_kvp_daemon, jobs polled as the CLI
// polls them (every 50 ms for two seconds, then backing off). kvp-host's batched upsert vs
// one AddKvpItems per item, each on a fresh empty VM. Loopback, one machine: not a real Hyper-V host's latency.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const bundled = await build({
  stdin: {
    contents: [
      'export { applyBatches } from "./src/apply.ts";',
      'export { writeItems } from "./src/commands/write.ts";',
      'export { batchesOf } from "./src/plan.ts";',
      'export { resolveVm } from "./src/resolve-vm.ts";',
      'export { HyperVWmi } from "./src/hyperv-wmi.ts";',
      'export { WsmanCimClient } from "./src/transports/wsman.ts";',
      'export { WsmanClient } from "@hyperv-kvp/wsman";',
    ].join("\n"),
    resolveDir: appDir,
    loader: "ts",
  },
  bundle: true,
  write: false,
  format: "esm",
  platform: "node",
  conditions: ["@hyperv-kvp/source"],
  logLevel: "warning",
});
const { applyBatches, writeItems, batchesOf, resolveVm, HyperVWmi, WsmanCimClient, WsmanClient } = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`
);
// The simulator from its BUILT dist (it finds its C shim beside itself): run a build first.
const { startInProcessWmiHost, startWmiHost } = await import("@hyperv-kvp/hyperv-sim");

const noWait = { sleep: async () => {} };
const sizes = [1, 128, 1000];

const inProcess = await startInProcessWmiHost({
  vms: sizes.flatMap((n) => [`batched-${n}`, `naive-${n}`]),
  daemon: "model",
  sendHostFacts: false,
});
const connect = () => new HyperVWmi(new WsmanCimClient(inProcess.client({ beforeRequest: () => inProcess.settle() })));
const rows = [];
try {
  for (const n of sizes) {
    const records = Array.from({ length: n }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
    const batched = connect();
    let start = performance.now();
    await writeItems(batched, `batched-${n}`, records, { mode: "upsert", ...noWait });
    const batchedMs = performance.now() - start;

    const naive = connect();
    start = performance.now();
    const vm = await resolveVm(naive, `naive-${n}`);
    for (const record of records) await applyBatches(naive, vm, batchesOf("AddKvpItems", [record], 1), noWait);
    const naiveMs = performance.now() - start;
    rows.push({
      items: n,
      kvpHost: batched.calls.snapshot(),
      kvpHostTotal: batched.calls.total,
      naiveTotal: naive.calls.total,
      kvpHostMs: +batchedMs.toFixed(1),
      naiveMs: +naiveMs.toFixed(1),
    });
  }
} finally {
  await inProcess.close();
}

console.log(
  "kvp-host set: calls through the CIM client, against hyperv-sim in process (every job finished before it is read); not a real host\n",
);
for (const r of rows) {
  const detail = Object.entries(r.kvpHost)
    .map(([k, v]) => `${v} × ${k}`)
    .join(", ");
  console.log(
    `${String(r.items).padStart(5)} items: kvp-host ${r.kvpHostTotal} calls (${detail}); naive one-per-call ${r.naiveTotal} calls`,
  );
}
console.log(`\n${JSON.stringify(rows)}`);

if (process.argv.includes("--sim")) await simBench();

async function simBench() {
  // openssl makes the certificate; no process start is timed here, so NODE_EXTRA_CA_CERTS (which
  // slows every node start on these machines) does not touch the figures.
  const { execFileSync } = await import("node:child_process");
  const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "kvp-host-bench-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "pipe" },
  );
  const cert = readFileSync(join(dir, "cert.pem"), "utf8");
  const password = "bench-Pa55";
  const host = await startWmiHost({
    vms: sizes.flatMap((n) => [`batched-${n}`, `naive-${n}`]),
    daemon: "real",
    https: { key: readFileSync(join(dir, "key.pem"), "utf8"), cert },
    users: { Administrator: password },
  });
  const connect = () =>
    new HyperVWmi(
      new WsmanCimClient(
        new WsmanClient({
          endpoint: host.endpoint,
          ca: cert,
          auth: { kind: "ntlm", user: "Administrator", password },
          timeoutMs: 60_000,
        }),
      ),
    );
  const simRows = [];
  try {
    for (const n of sizes) {
      const records = Array.from({ length: n }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
      const batched = connect();
      let start = performance.now();
      await writeItems(batched, `batched-${n}`, records, { mode: "upsert" });
      const batchedMs = performance.now() - start;
      batched.close();

      const naive = connect();
      start = performance.now();
      const vm = await resolveVm(naive, `naive-${n}`);
      for (const record of records) await applyBatches(naive, vm, batchesOf("AddKvpItems", [record], 1), {});
      const naiveMs = performance.now() - start;
      naive.close();
      simRows.push({
        items: n,
        kvpHost: batched.calls.snapshot(),
        kvpHostTotal: batched.calls.total,
        naiveTotal: naive.calls.total,
        kvpHostMs: Math.round(batchedMs),
        naiveMs: Math.round(naiveMs),
      });
    }
  } finally {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    "\nkvp-host set against hyperv-sim (loopback HTTPS, NTLM, real hv_kvp_daemon; WS-Management calls incl. job polls)\n",
  );
  for (const r of simRows) {
    console.log(
      `${String(r.items).padStart(5)} items: kvp-host ${r.kvpHostTotal} calls in ${r.kvpHostMs} ms; naive one-per-call ${r.naiveTotal} calls in ${r.naiveMs} ms; naive/kvp-host ${(r.naiveMs / r.kvpHostMs).toFixed(1)}× time, ${(r.naiveTotal / r.kvpHostTotal).toFixed(1)}× calls`,
    );
  }
  console.log(`\n${JSON.stringify(simRows)}`);
}
