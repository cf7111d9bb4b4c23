// Benchmark of CIM-XML reading and writing (docs/wmi-and-cim.md#reading-cim-xml; figures: the
// root README's Figures): parse a 128-item GuestIntrinsicExchangeItems array and emit 128 items
// (the per-call maximum of AddKvpItems), in items per second, against a plain fast-xml-parser
// parse of the same 128 strings as the baseline, in one process (alternating runs, medians).
// Target: our typed parse within 2x of the bare parse. Nothing here is a pass/fail test.
//
// Run after `cd packages/kvp-core && pnpm build`: `node scripts/bench-cim.mjs [--json]`.
//
//   decode  decodeKvpItems() of 128 Hyper-V-shaped items vs XMLParser.parse() of each string
//   full    the same through the full parser (the items with an XML declaration in front,
//           which the fast path leaves to the hardened parser) vs the same baseline
//   encode  encodeKvpItem() x128, shown beside the same bare parse for scale only
//   hostile parseXml() of ~1 MB pathological inputs (the hardened parser's linear-time claim,
//           which the unit tests do not time) vs a bare parse of 1 MB of plain text
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { decodeKvpItems, encodeKvpItem, parseXml } from "../packages/kvp-core/dist/cim/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
// fast-xml-parser is kvp-core's dependency, not the root's: load the copy kvp-core uses.
const require = createRequire(join(root, "packages/kvp-core/package.json"));
const fxpDir = dirname(dirname(require.resolve("fast-xml-parser")));
const { XMLParser } = await import(pathToFileURL(join(fxpDir, "src/fxp.js")).href);

const ITEMS = 128;
const REPEAT = 20; // batches per timed sample, so one sample is well above timer resolution
const SAMPLES = 41;

// Pool 2's keys (docs/pool-files.md#pool-2-items) with realistic values, repeated with a suffix up to 128 items.
const INTRINSIC = [
  ["FullyQualifiedDomainName", "web01.example.test"],
  ["IntegrationServicesVersion", "3.1"],
  ["NetworkAddressIPv4", "192.0.2.10;198.51.100.7"],
  ["NetworkAddressIPv6", "2001:db8::10;fe80::215:5dff:fe01:2"],
  ["OSBuildNumber", "6.1.0-18-amd64"],
  ["OSName", "Debian GNU/Linux 12 (bookworm)"],
  ["OSMajorVersion", "6"],
  ["OSMinorVersion", "1"],
  ["OSVersion", "6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) & more"],
  ["ProcessorArchitecture", "9"],
];
const items = Array.from({ length: ITEMS }, (_, i) => {
  const [name, data] = INTRINSIC[i % INTRINSIC.length];
  return { name: i < INTRINSIC.length ? name : `${name}_${i}`, data, source: "intrinsic" };
});
const xmls = items.map((i) => encodeKvpItem(i));
const withDeclaration = xmls.map((x) => `<?xml version="1.0"?>${x}`);

// The baseline: one reused parser that keeps attributes (without them a KVP item's NAME
// attributes, and so its meaning, are lost); values parsed as fast-xml-parser does by default.
const bare = new XMLParser({ ignoreAttributes: false });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Alternates baseline and subject so drift in machine load hits both alike; ms per batch. */
function pair(baseline, subject) {
  for (let i = 0; i < 200; i++) {
    baseline();
    subject();
  }
  const a = [];
  const b = [];
  for (let s = 0; s < SAMPLES; s++) {
    let t0 = performance.now();
    for (let r = 0; r < REPEAT; r++) baseline();
    a.push((performance.now() - t0) / REPEAT);
    t0 = performance.now();
    for (let r = 0; r < REPEAT; r++) subject();
    b.push((performance.now() - t0) / REPEAT);
  }
  return [median(a), median(b)];
}

function check(result) {
  if (result.errors.length > 0 || result.items.length !== ITEMS)
    throw new Error(`decode failed: ${result.errors[0]?.error.message}`);
  return result;
}
check(decodeKvpItems(xmls));
check(decodeKvpItems(withDeclaration));

const parseBare = (list) => () => {
  for (const x of list) bare.parse(x);
};
const rows = [];
{
  const [baseMs, ms] = pair(parseBare(xmls), () => check(decodeKvpItems(xmls)));
  rows.push({ figure: "decodeKvpItems, 128 intrinsic items (Hyper-V shape: fast path)", baseMs, ms });
}
{
  const [baseMs, ms] = pair(parseBare(withDeclaration), () => check(decodeKvpItems(withDeclaration)));
  rows.push({ figure: "decodeKvpItems, 128 items through the full hardened parser", baseMs, ms });
}
{
  const [baseMs, ms] = pair(parseBare(xmls), () => {
    for (const item of items) encodeKvpItem(item);
  });
  rows.push({ figure: "encodeKvpItem x128", baseMs, ms });
}

const perSecond = (ms) => Math.round((ITEMS * 1000) / ms);
if (process.argv.includes("--json")) {
  console.log(
    JSON.stringify(
      rows.map((r) => ({
        ...r,
        itemsPerSecond: perSecond(r.ms),
        baselineItemsPerSecond: perSecond(r.baseMs),
        ratio: r.ms / r.baseMs,
      })),
      null,
      2,
    ),
  );
} else {
  console.log(
    `node ${process.version}, ${new Date().toISOString()}, ${ITEMS} items per batch, medians of ${SAMPLES} samples`,
  );
  console.log(
    `baseline: fast-xml-parser XMLParser({ ignoreAttributes: false }).parse() of each string, ${perSecond(rows[0].baseMs).toLocaleString("en")} items/s`,
  );
  for (const r of rows) {
    console.log(
      `\n${r.figure}\n  ${perSecond(r.ms).toLocaleString("en")} items/s (${r.ms.toFixed(3)} ms per 128) vs bare parse ${perSecond(r.baseMs).toLocaleString("en")} items/s (${r.baseMs.toFixed(3)} ms)\n  time ratio ${(r.ms / r.baseMs).toFixed(2)}x the bare parse${r.figure.startsWith("decode") ? "  (target: within 2x)" : ""}`,
    );
  }
}

// Hostile input: each ~1 MB pathological document through parseXml (refused or parsed), timed
// against a bare fast-xml-parser parse of a plain 1 MB text document in the same run. A
// quadratic path would show as a ratio in the hundreds.
{
  const size = 1_000_000;
  const cases = [
    ["entities", `<a>${"&amp;".repeat(size / 5)}</a>`],
    ["'<' run", `<a>${"<".repeat(size)}</a>`],
    ["']]' run", `<a>${"]]".repeat(size / 2)}</a>`],
    ["comment dashes", `<a><!--${"-".repeat(size)}--></a>`],
    ["unclosed CDATA", `<a><![CDATA[${"]".repeat(size)}`],
    ["attribute refs", `<a b="${"&lt;".repeat(size / 4)}"/>`],
    ["huge attribute name", `<a ${"b".repeat(size)}="1"/>`],
    ["deep then wide", `${"<a>".repeat(31)}${"<b/>".repeat(60_000)}`],
    ["100,000-deep nesting", "<a>".repeat(100_000) + "</a>".repeat(100_000)],
    ["bare '&'", "&".repeat(size)],
  ];
  const plain = `<a>${"x".repeat(size)}</a>`;
  const once = (fn) => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  const tryParse = (xml) => {
    try {
      parseXml(xml);
    } catch {}
  };
  const hostile = [];
  for (const [name, xml] of cases) {
    const base = [];
    const subject = [];
    for (let i = 0; i < 7; i++) {
      base.push(once(() => bare.parse(plain)));
      subject.push(once(() => tryParse(xml)));
    }
    hostile.push({ name, ms: median(subject), baseMs: median(base) });
  }
  if (process.argv.includes("--json")) console.log(JSON.stringify({ hostile }, null, 2));
  else {
    console.log("\nparseXml of ~1 MB hostile documents vs bare parse of 1 MB of text (medians of 7)");
    for (const h of hostile)
      console.log(
        `  ${h.name.padEnd(22)} ${h.ms.toFixed(1).padStart(7)} ms  vs ${h.baseMs.toFixed(1).padStart(6)} ms  ${(h.ms / h.baseMs).toFixed(2)}x`,
      );
  }
}
