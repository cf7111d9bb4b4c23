// Benchmark of NTLM message sealing (docs/ws-management.md#message-sealing-over-http): what
// NTLM message sealing over plain HTTP (a default WinRM's
// transport) costs per WS-Management request, against Basic over HTTPS (the transport before
// sealing existed), in one process, same operations, alternating between the transports so
// drift in machine load hits all alike. Two context rows split the cost: NTLM over HTTPS
// (TLS, no sealing) and NTLM unsealed over HTTP (a host with AllowUnencrypted=true).
// Nothing here is a pass/fail test; it prints numbers.
//
// Run after `pnpm -s build`: `node scripts/bench-wsman.mjs [--requests N] [--json]`.
//
//   get        one Get of Msvm_ComputerSystem (one HTTP exchange)
//   enumerate  WQL enumeration of Msvm_ComputerSystem: Enumerate + Pull (two exchanges)
//   connect    a new connection and the first Get on it (TCP, TLS or NTLM handshake, Get)
//
// Against hyperv-sim's WMI host with the TypeScript model of the daemon, on loopback: the
// figures are client + server CPU and loopback latency, not a real Hyper-V host's.
import { rmSync } from "node:fs";
import { makeSelfSignedCertificate, startWmiHost } from "../packages/hyperv-sim/dist/index.js";
import { WsmanClient } from "../packages/wsman/dist/index.js";

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
};
const REQUESTS = option("--requests", 200);
const CONNECTS = Math.max(10, Math.round(REQUESTS / 10));
const json = argv.includes("--json");
const V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2";
const USER = "Administrator";
const PASSWORD = "Bench-Pa55w.rd";

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const certificate = makeSelfSignedCertificate();
const users = { [USER]: PASSWORD };
const common = { vms: ["web01", "db01"], daemon: "model", users, sendHostFacts: false };
const hosts = [];
try {
  const httpsHost = await startWmiHost({ ...common, https: { key: certificate.key, cert: certificate.cert } });
  const sealedHost = await startWmiHost({ ...common, sealedHttp: true });
  const plainHost = await startWmiHost({ ...common, allowUnencrypted: true });
  hosts.push(httpsHost, sealedHost, plainHost);
  // Same VM names, different GUIDs per host: each client asks its own host for its first VM.
  const modes = [
    {
      name: "Basic over HTTPS",
      host: httpsHost,
      options: {
        endpoint: httpsHost.endpoint,
        ca: certificate.cert,
        auth: { kind: "basic", user: USER, password: PASSWORD },
      },
    },
    {
      name: "NTLM sealed over HTTP",
      host: sealedHost,
      options: { endpoint: sealedHost.endpoint, auth: { kind: "ntlm", user: USER, password: PASSWORD } },
    },
    {
      name: "NTLM over HTTPS",
      host: httpsHost,
      options: {
        endpoint: httpsHost.endpoint,
        ca: certificate.cert,
        auth: { kind: "ntlm", user: USER, password: PASSWORD },
      },
    },
    {
      name: "NTLM unsealed over HTTP",
      host: plainHost,
      options: {
        endpoint: plainHost.endpoint,
        allowUnencrypted: true,
        auth: { kind: "ntlm", user: USER, password: PASSWORD },
      },
    },
  ].map((m) => ({
    ...m,
    client: new WsmanClient(m.options),
    vm: m.host.vms[0].guid,
    times: { get: [], enumerate: [], connect: [] },
  }));

  const operations = {
    get: (m) => m.client.get(`${V2}/Msvm_ComputerSystem`, [{ name: "Name", value: m.vm }]),
    enumerate: (m) =>
      m.client.enumerate(`${V2}/*`, "SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'"),
    connect: (m) => {
      m.client.close();
      return operations.get(m);
    },
  };

  // Warm up: connections, JIT, the servers' code paths.
  for (let i = 0; i < 50; i++) {
    for (const m of modes) {
      await operations.get(m);
      await operations.enumerate(m);
    }
  }
  for (const op of ["get", "enumerate"]) {
    for (let i = 0; i < REQUESTS; i++) {
      for (const m of modes) {
        const t0 = performance.now();
        await operations[op](m);
        m.times[op].push(performance.now() - t0);
      }
    }
  }
  for (let i = 0; i < CONNECTS; i++) {
    for (const m of modes) {
      const t0 = performance.now();
      await operations.connect(m);
      m.times.connect.push(performance.now() - t0);
    }
  }
  for (const m of modes) m.client.close();

  const baseline = modes[0];
  const rows = [];
  for (const op of ["get", "enumerate", "connect"]) {
    for (const m of modes) {
      const median = percentile(m.times[op], 0.5);
      rows.push({
        operation: op,
        transport: m.name,
        samples: m.times[op].length,
        medianMs: Number(median.toFixed(3)),
        p95Ms: Number(percentile(m.times[op], 0.95).toFixed(3)),
        vsBasicHttps: Number((median / percentile(baseline.times[op], 0.5)).toFixed(2)),
      });
    }
  }
  const sealedConnections = sealedHost.server.connectionCount;
  if (json) {
    console.log(
      JSON.stringify(
        { requests: REQUESTS, connects: CONNECTS, node: process.version, rows, sealedConnections },
        null,
        2,
      ),
    );
  } else {
    console.log(
      `WS-Management per-request cost, hyperv-sim on loopback, ${REQUESTS} requests per operation and transport (connect: ${CONNECTS}), node ${process.version}\n`,
    );
    const head = ["operation", "transport", "median ms", "p95 ms", "× Basic/HTTPS"];
    const table = rows.map((r) => [
      r.operation,
      r.transport,
      r.medianMs.toFixed(3),
      r.p95Ms.toFixed(3),
      r.vsBasicHttps.toFixed(2),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    console.log(line(head));
    for (const r of table) console.log(line(r));
    console.log(
      `\n(the sealed HTTP host saw ${sealedConnections} TCP connections: one for all the get and enumerate requests, one per connect sample)`,
    );
  }
} finally {
  await Promise.allSettled(hosts.map((h) => h.close()));
  rmSync(certificate.dir, { recursive: true, force: true });
}
