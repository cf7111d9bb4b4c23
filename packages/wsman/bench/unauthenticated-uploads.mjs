#!/usr/bin/env node
// How much memory a WS-Management server (createWsmanServer, as hyperv-sim runs it) takes when
// strangers upload large bodies without credentials: N concurrent POSTs of SIZE bytes with no
// Authorization header, then the server's RSS before and after.
//
//   env -u NODE_EXTRA_CA_CERTS node packages/wsman/bench/unauthenticated-uploads.mjs [WSMAN_DIST_DIR] [N=200] [SIZE_MIB=4]
//
// WSMAN_DIST_DIR defaults to this package's dist/ (build it first: pnpm exec turbo run build
// --filter=@hyperv-kvp/wsman); pass another checkout's dist/ to compare.
import { spawn } from "node:child_process";
import http from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[2] === "--upload") {
  // The uploaders, in a process of their own so that only the server's memory is measured.
  const [, , , url, n, bytes] = process.argv;
  const body = Buffer.alloc(Number(bytes), 0x41);
  const outcomes = await Promise.all(
    Array.from(
      { length: Number(n) },
      () =>
        new Promise((done) => {
          const req = http.request(
            url,
            {
              method: "POST",
              headers: { "Content-Type": "application/soap+xml", "Content-Length": body.length },
              agent: false,
            },
            (res) => {
              res.resume();
              res.on("end", () => done(String(res.statusCode)));
            },
          );
          req.on("error", (e) => done(e.code ?? "error"));
          req.end(body);
        }),
    ),
  );
  const tally = {};
  for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
  process.stdout.write(JSON.stringify(tally));
  process.exit(0);
}
const dist = resolve(process.argv[2] ?? join(here, "..", "dist"));
const count = Number(process.argv[3] ?? 200);
const size = Number(process.argv[4] ?? 4) * 1024 * 1024;
const { createWsmanServer } = await import(pathToFileURL(join(dist, "index.js")).href);

const server = createWsmanServer({
  sealedHttp: true,
  users: { Administrator: "pw" },
  auth: ["ntlm"],
  handler: () => ({ kind: "enumerate", items: [] }),
});
const endpoint = new URL(await server.listen());
const mib = (n) => `${(n / 1024 / 1024).toFixed(0)} MB`;
globalThis.gc?.();
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const child = spawn(
  process.execPath,
  [fileURLToPath(import.meta.url), "--upload", endpoint.href, String(count), String(size)],
  // The uploader is timed by nothing but needs no extra CA file either: NODE_EXTRA_CA_CERTS,
  // set on these machines, only slows its start.
  { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_EXTRA_CA_CERTS: undefined } },
);
let answers = "";
child.stdout.on("data", (d) => (answers += d));
await new Promise((done) => child.on("close", done));
clearInterval(sampler);
console.log(
  `${count} unauthenticated uploads of ${mib(size)}: server RSS ${mib(before)} before, peak ${mib(peak)}; answers ${answers}`,
);
await server.close();
