// CALL-COUNT benchmark of `kvp-host set` on the IN-MEMORY TEST DOUBLE host
// (src/test-support/memory-host.ts), not on Hyper-V and not on the simulator: it counts the
// WMI operations kvp-host makes for 1, 128 and 1,000 new items, against a naive baseline that
// makes one AddKvpItems call per item (as Microsoft's samples do). Wall time printed here is
// in-process and says nothing about a real host; the wall-time figure against
// `hyperv-sim serve` comes later. Run: node bench/set-bench.mjs (or pnpm --filter
// @hyperv-kvp/host-cli bench). The TypeScript sources are bundled in memory with esbuild.
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
      'export { MemoryHostTestDouble } from "./src/test-support/memory-host.ts";',
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
const { applyBatches, writeItems, batchesOf, resolveVm, MemoryHostTestDouble } = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`
);

const VM = "11111111-2222-3333-4444-555555555555";
const noWait = { sleep: async () => {} };

function freshHost() {
  const host = new MemoryHostTestDouble({ jobPolls: 0 });
  host.addVm(VM, "bench");
  return host;
}

const rows = [];
for (const n of [1, 128, 1000]) {
  const records = Array.from({ length: n }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
  const batched = freshHost();
  let start = performance.now();
  await writeItems(batched, "bench", records, { mode: "upsert", ...noWait });
  const batchedMs = performance.now() - start;

  const naive = freshHost();
  start = performance.now();
  const vm = await resolveVm(naive, "bench");
  for (const record of records) await applyBatches(naive, vm, batchesOf("AddKvpItems", [record], 1), noWait);
  const naiveMs = performance.now() - start;
  rows.push({ items: n, kvpHost: batched.calls.snapshot(), kvpHostTotal: batched.calls.total, naiveTotal: naive.calls.total, kvpHostMs: +batchedMs.toFixed(1), naiveMs: +naiveMs.toFixed(1) });
}

console.log("kvp-host set: WMI calls on the in-memory test double (synchronous jobs); not a real host\n");
for (const r of rows) {
  const detail = Object.entries(r.kvpHost).map(([k, v]) => `${v} × ${k}`).join(", ");
  console.log(`${String(r.items).padStart(5)} items: kvp-host ${r.kvpHostTotal} calls (${detail}); naive one-per-call ${r.naiveTotal} calls`);
}
console.log(`\n${JSON.stringify(rows)}`);
