// PowerShellCimClient, with no PowerShell here: the process handling and the protocol are
// tested with tiny fake bridges (`node -e` scripts that misbehave on purpose), and kvp-host's
// Hyper-V logic over it end to end with the stand-in (src/test-support/powershell-stand-in.ts,
// a separate process speaking the same protocol on top of hyperv-sim over WS-Management),
// compared with the same logic over WsmanCimClient against the same simulated host.
import { readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type SelfSignedCertificate,
  type WmiHost,
  makeSelfSignedCertificate,
  startWmiHost,
} from "@hyperv-kvp/hyperv-sim";
import { realDaemonPolicy, standInForMissingDaemon } from "@hyperv-kvp/hyperv-sim/test-support";
import { type KvpRecord, decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { encodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import { WsmanClient } from "@hyperv-kvp/wsman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isHostCliError } from "../host-error.js";
import { list } from "../commands/list.js";
import { status } from "../commands/status.js";
import { vms } from "../commands/vms.js";
import { removeItems, writeItems } from "../commands/write.js";
import { HYPERV_NAMESPACES, HyperVWmi, vmPath } from "../hyperv-wmi.js";
import { waitForJob } from "../jobs.js";
import { bundleStandIn } from "../test-support/bundle-stand-in.js";
import { isTransportError } from "../transport-error.js";
import { defaultTransportKind } from "../transport.js";
import { allVmsQuery, vmsByNameQuery } from "../wql.js";
import {
  type PowerShellCimClient,
  type PowerShellClientOptions,
  bridgeArguments,
  bridgeEnvironment,
  bridgeScriptPath,
  openPowerShellClient,
} from "./powershell.js";
import { asciiJson } from "./powershell-bridge.js";
import { PROTOCOL_VERSION } from "./powershell-protocol.js";
import { WsmanCimClient } from "./wsman.js";

const VM = "11111111-2222-3333-4444-555555555555";
const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A fake bridge: `node -e` with helpers — `send(value)` writes a JSON line (a string as is),
 * `hello(extra)` the hello line, `onRequest(fn)` calls fn(request, rawLine) for each line.
 */
function fake(body: string, options: Omit<PowerShellClientOptions, "command" | "args"> = {}): PowerShellClientOptions {
  const prelude = `
    const send = (v) => process.stdout.write((typeof v === "string" ? v : JSON.stringify(v)) + "\\n");
    const hello = (extra = {}) => send({ bridge: "kvp-host-bridge", protocol: ${PROTOCOL_VERSION}, psVersion: "5.1.fake", psEdition: "Desktop", pid: process.pid, ...extra });
    const onRequest = (fn) => require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => fn(JSON.parse(line), line));
  `;
  return {
    command: process.execPath,
    args: ["-e", `${prelude}\n${body}`],
    requestTimeoutMs: 20_000,
    startTimeoutMs: 20_000,
    ...options,
  };
}

/** A fake that answers every request with `answer(request, line)` (an object: {ok, result|error, …}). */
function answering(
  answer: string,
  options: Omit<PowerShellClientOptions, "command" | "args"> = {},
): PowerShellClientOptions {
  return fake(`hello(); onRequest((req, line) => send({ id: req.id, ...(${answer})(req, line) }));`, options);
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

/** kvp-host's Hyper-V logic over a PowerShell client, with the client's own view at hand. */
class BridgedWmi extends HyperVWmi {
  constructor(
    readonly bridge: PowerShellCimClient,
    namespace?: typeof HYPERV_NAMESPACES.cluster,
  ) {
    super(bridge, namespace === undefined ? {} : { namespace });
  }
  get hello() {
    return this.bridge.hello;
  }
  get exited() {
    return this.bridge.exited;
  }
  get stderrLines() {
    return this.bridge.stderrLines;
  }
}

async function openBridged(
  options: PowerShellClientOptions,
  namespace?: typeof HYPERV_NAMESPACES.cluster,
): Promise<BridgedWmi> {
  return new BridgedWmi(await openPowerShellClient(options), namespace);
}

const ALL = allVmsQuery();

describe("PowerShellCimClient with fake bridges", () => {
  it("reads the hello, sends requests as ASCII JSON lines with the namespace, and reads instances", async () => {
    const t = await openBridged(
      answering(`(req, line) => ({ ok: true, result: [{ className: "Msvm_ComputerSystem", properties: {
          Name: "${VM}", ElementName: req.namespace + "|" + req.wql + "|" + /^[\\x00-\\x7f]*$/.test(line), EnabledState: 2, OperationalStatus: [2] } }] })`),
    );
    try {
      expect(t.hello).toMatchObject({
        bridge: "kvp-host-bridge",
        protocol: 2,
        psVersion: "5.1.fake",
        psEdition: "Desktop",
      });
      const found = await t.queryVms(vmsByNameQuery("wéb☃"));
      expect(found).toEqual([
        { id: VM, name: `root/virtualization/v2|${vmsByNameQuery("wéb☃")}|true`, enabledState: 2 },
      ]);
      expect(t.calls.snapshot()).toEqual({ "query Msvm_ComputerSystem": 1 });
    } finally {
      t.close();
      await t.exited;
    }
  });

  it("sends the cluster namespace when asked, as data", async () => {
    const t = await openBridged(
      answering(
        `(req) => ({ ok: true, result: [{ className: "Msvm_ComputerSystem", properties: { Name: "${VM}", ElementName: req.namespace } }] })`,
      ),
      HYPERV_NAMESPACES.cluster,
    );
    try {
      expect(t.namespace).toBe("root/HyperVCluster/v2");
      expect(await t.queryVms("SELECT * FROM Msvm_ComputerSystem")).toEqual([
        { id: VM, name: "root/HyperVCluster/v2" },
      ]);
    } finally {
      t.close();
    }
  });

  it("maps every operation onto the protocol, one request per call, counted as over WS-Management", async () => {
    const item = encodeKvpItem({ name: "a", data: "<1>", source: "guest" });
    const error =
      '<INSTANCE CLASSNAME="Msvm_Error"><PROPERTY NAME="Message" TYPE="string"><VALUE>The key exists.</VALUE></PROPERTY></INSTANCE>';
    const log = join(await mkdtemp(join(tmpdir(), "kvp-bridge-requests-")), "requests");
    const t = await openBridged(
      answering(`(req, line) => {
        require("node:fs").appendFileSync(${JSON.stringify(log)}, line + "\\n");
        switch (req.op) {
          case "query":
            return { ok: true, result: [{ className: "Msvm_KvpExchangeComponent",
              properties: { GuestExchangeItems: [${JSON.stringify(item)}], GuestIntrinsicExchangeItems: null, OperationalStatus: [2, 6], StatusDescriptions: ["OK"] } }] };
          case "enumerate":
            if (req.className === "Msvm_VirtualSystemManagementService") return { ok: true, result: [{ className: req.className,
              properties: { CreationClassName: req.className, Name: "vmms", SystemCreationClassName: "Msvm_ComputerSystem", SystemName: "HV01", EnabledState: 2 } }] };
            if (req.resultClass === "Msvm_VirtualSystemSettingData") return { ok: true, result: [{ className: req.resultClass, properties: { InstanceID: "Microsoft:${VM}" } }] };
            return { ok: true, result: [{ className: req.resultClass, properties: { HostExchangeItems: [], HostOnlyItems: [${JSON.stringify(item)}], DisableHostKVPItems: false } }] };
          case "invoke":
            if (req.method === "GetErrorEx") return { ok: true, result: { returnValue: 0, outputs: { Errors: [${JSON.stringify(error)},
              { className: "Msvm_Error", properties: { Message: req.path.className + " " + req.path.keys.InstanceID, CIMStatusCode: 1, MessageArguments: ["x"] } }] } } };
            return { ok: true, result: { returnValue: 4096, outputs: { Job: { className: "Msvm_ConcreteJob",
              properties: { InstanceID: "JOB-" + req.method + "-" + req.arguments.TargetSystem.path.keys.Name + "-" + req.arguments.DataItems.length } } } } };
          case "get":
            return { ok: true, result: { className: req.path.className, properties: { InstanceID: req.path.keys.InstanceID, JobState: 10, ErrorCode: 32768, ErrorDescription: "failed", PercentComplete: 100 } } };
        }
      }`),
    );
    try {
      expect(await t.getKvpComponent(VM)).toEqual({
        guestItems: [item],
        intrinsicItems: [],
        operationalStatus: [2, 6],
        statusDescriptions: ["OK"],
      });
      expect(await t.getKvpSettingData(VM)).toEqual({
        hostItems: [],
        hostOnlyItems: [item],
        disableHostKvpItems: false,
      });
      // The realized settings' InstanceID is cached, as over WS-Management.
      await t.getKvpSettingData(VM);
      const result = await t.invokeKvpMethod("AddKvpItems", VM, [item, item]);
      expect(result).toEqual({ returnValue: 4096, jobId: `JOB-AddKvpItems-${VM}-2` });
      expect(await t.getJob(result.jobId!)).toMatchObject({
        instanceId: result.jobId,
        jobState: 10,
        errorCode: 32768,
        errorDescription: "failed",
      });
      expect(await t.getJobErrors(result.jobId!)).toMatchObject([
        { className: "Msvm_Error", message: "The key exists." },
        {
          className: "Msvm_Error",
          message: `Msvm_ConcreteJob ${result.jobId}`,
          cimStatusCode: 1,
          messageArguments: ["x"],
        },
      ]);
      expect(t.calls.snapshot()).toEqual({
        "query Msvm_KvpExchangeComponent": 1,
        "enumerate Msvm_VirtualSystemSettingData": 1,
        "enumerate Msvm_KvpExchangeComponentSettingData": 2,
        "enumerate Msvm_VirtualSystemManagementService": 1,
        "invoke AddKvpItems": 1,
        "get Msvm_ConcreteJob": 1,
        "invoke GetErrorEx": 1,
      });
      // One request line per call, in the protocol's generic terms.
      const requests = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(requests.map((r) => r["op"])).toEqual([
        "query",
        "enumerate",
        "enumerate",
        "enumerate",
        "enumerate",
        "invoke",
        "get",
        "invoke",
      ]);
      const vmKeys = { CreationClassName: "Msvm_ComputerSystem", Name: VM };
      expect(requests[0]).toEqual({
        id: 1,
        op: "query",
        namespace: "root/virtualization/v2",
        wql: `SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName="${VM}"`,
      });
      expect(requests[1]).toEqual({
        id: 2,
        op: "enumerate",
        source: { namespace: "root/virtualization/v2", className: "Msvm_ComputerSystem", keys: vmKeys },
        assocClass: "Msvm_SettingsDefineState",
        resultClass: "Msvm_VirtualSystemSettingData",
      });
      expect(requests[5]).toEqual({
        id: 6,
        op: "invoke",
        path: {
          namespace: "root/virtualization/v2",
          className: "Msvm_VirtualSystemManagementService",
          keys: {
            CreationClassName: "Msvm_VirtualSystemManagementService",
            Name: "vmms",
            SystemCreationClassName: "Msvm_ComputerSystem",
            SystemName: "HV01",
          },
        },
        method: "AddKvpItems",
        arguments: {
          TargetSystem: {
            path: { namespace: "root/virtualization/v2", className: "Msvm_ComputerSystem", keys: vmKeys },
          },
          DataItems: [item, item],
        },
      });
      expect(requests[6]).toEqual({
        id: 7,
        op: "get",
        path: {
          namespace: "root/virtualization/v2",
          className: "Msvm_ConcreteJob",
          keys: { InstanceID: result.jobId },
        },
      });
      expect(requests[7]).toMatchObject({ op: "invoke", method: "GetErrorEx", arguments: {} });
    } finally {
      t.close();
      rmSync(join(log, ".."), { recursive: true, force: true });
    }
  });

  it("queues concurrent calls: one request at a time, each answer to its caller", async () => {
    const t = await openBridged(
      fake(`hello(); let busy = false; onRequest((req) => {
        if (busy) { process.stderr.write("two requests at once\\n"); process.exit(9); }
        busy = true;
        setTimeout(() => { busy = false; send({ id: req.id, ok: true, result: [{ className: "Msvm_ComputerSystem", properties: { Name: req.wql, ElementName: "" } }] }); }, 5);
      });`),
    );
    try {
      const results = await Promise.all(["A", "B", "C"].map((wql) => t.queryVms(wql)));
      expect(results.map((r) => r[0]!.id)).toEqual(["A", "B", "C"]);
    } finally {
      t.close();
    }
  });

  it("throws a host error with the CIM details and goes on working", async () => {
    const t = await openBridged(
      answering(`(req) => req.op === "get"
        ? { ok: false, error: { kind: "not-found", message: "Not found\\r\\n", nativeErrorCode: "NotFound", hresult: -2147217406, exceptionType: "Microsoft.Management.Infrastructure.CimException" } }
        : req.wql === "denied" ? { ok: false, error: { kind: "access-denied", message: "Access denied", nativeErrorCode: "AccessDenied", hresult: -2147217405 } }
        : { ok: true, result: [] }`),
    );
    try {
      const error = await rejection(t.getJob("JOB-9"));
      expect(isTransportError(error, "host-error")).toBe(true);
      expect(error.message).toBe("get Msvm_ConcreteJob failed on the host: Not found (NotFound, HRESULT 0x80041002)");
      expect(isTransportError(error) && error.hostError).toEqual({ kind: "not-found", code: "NotFound" });
      const denied = await rejection(t.queryVms("denied"));
      expect(denied.message).toMatch(
        /Access denied \(AccessDenied, HRESULT 0x80041003\); run kvp-host as an administrator/,
      );
      expect(isTransportError(denied) && denied.hostError?.kind).toBe("access-denied");
      expect(await t.queryVms("SELECT * FROM Msvm_ComputerSystem")).toEqual([]);
    } finally {
      t.close();
    }
  });

  it("takes a failure with id null (a request the bridge could not read) as the answer", async () => {
    const t = await openBridged(
      fake(
        `hello(); onRequest(() => send({ id: null, ok: false, error: { kind: "invalid-request", message: "invalid request: not JSON" } }));`,
      ),
    );
    try {
      const error = await rejection(t.queryVms("x"));
      expect(error.code).toBe("host-error");
      expect(error.message).toMatch(/invalid request: not JSON/);
    } finally {
      t.close();
    }
  });

  it("tolerates CRLF line ends, a BOM before the hello and blank lines", async () => {
    const t = await openBridged(
      fake(`process.stdout.write("\\ufeff" + JSON.stringify({ bridge: "kvp-host-bridge", protocol: ${PROTOCOL_VERSION}, psVersion: "7.4.6", psEdition: "Core" }) + "\\r\\n\\r\\n");
        onRequest((req) => process.stdout.write(JSON.stringify({ id: req.id, ok: true, result: [] }) + "\\r\\n"));`),
    );
    try {
      expect(t.hello.psEdition).toBe("Core");
      expect(await t.queryVms("x")).toEqual([]);
    } finally {
      t.close();
    }
  });

  it("keeps hostile property names as data (no prototype pollution)", async () => {
    const t = await openBridged(
      answering(`(req) => ({ ok: true, result: JSON.parse(req.wql === "object"
        ? '[{"className":"Msvm_ComputerSystem","properties":{"__proto__":{"polluted":1},"Name":"${VM}"}}]'
        : '[{"className":"Msvm_ComputerSystem","properties":{"__proto__":"p","constructor":"c","Name":"${VM}","ElementName":"x"},"__proto__":{"polluted":1}}]') })`),
    );
    try {
      expect(await t.queryVms("strings")).toEqual([{ id: VM, name: "x" }]);
      // An object where a value belongs is not an instance: refused, and nothing leaks.
      expect((await rejection(t.queryVms("object"))).message).toMatch(
        /Msvm_ComputerSystem\.__proto__ is not an instance/,
      );
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    } finally {
      t.close();
    }
  });

  it("passes standard error on, line by line, and keeps its last lines", async () => {
    const seen: string[] = [];
    const t = await openBridged({
      ...fake(
        `process.stderr.write("WARNING: first\\r\\nsecond"); hello(); onRequest((req) => { process.stderr.write(" half\\n"); send({ id: req.id, ok: true, result: [] }); });`,
      ),
      onStderr: (line) => seen.push(line),
    });
    try {
      await t.queryVms("x");
      expect(seen).toEqual(["WARNING: first", "second half"]);
      expect(t.stderrLines).toEqual(["WARNING: first", "second half"]);
    } finally {
      t.close();
    }
  });

  describe("failures", () => {
    it("PowerShell missing (ENOENT): says so and points at WS-Management", async () => {
      const error = await rejection(
        openBridged({ command: join(tmpdir(), "no-such-dir", "powershell.exe"), args: [] }),
      );
      expect(isTransportError(error, "unavailable")).toBe(true);
      expect(error.message).toMatch(
        /^PowerShell not found: .*powershell\.exe .*ENOENT.*; install it, or reach the host over WS-Management \(--host or --endpoint\)$/,
      );
    });

    it("the bridge exits before its hello: the exit code and its stderr's last lines", async () => {
      const error = await rejection(
        openBridged(
          fake(
            `process.stderr.write("Import-Module : The specified module 'CimCmdlets' was not loaded\\nsecond line\\n"); process.exit(3);`,
          ),
        ),
      );
      expect(error.code).toBe("lost");
      expect(error.message).toBe(
        "the PowerShell bridge exited with code 3 before answering its hello; its stderr ends: Import-Module : The specified module 'CimCmdlets' was not loaded | second line",
      );
    });

    it("a program that exits before the hello without a word (Wine's stub powershell.exe exits 0): it did not run the script, and what would work", async () => {
      const error = await rejection(openBridged(fake("process.exit(0);")));
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe(
        `${process.execPath} exited with code 0 before the bridge's hello, with nothing on stderr: it did not run the bridge script (Wine's stub powershell.exe does that); ` +
          "kvp-host needs Windows PowerShell 5.1 or PowerShell 7 (--pwsh), or another executable in $KVP_HOST_POWERSHELL, or reach the host over WS-Management (--host or --endpoint)",
      );
    });

    it("the bridge dies in the middle of a request: names the request and stderr; the next call starts a new bridge", async () => {
      const t = await openBridged(
        fake(
          `hello(); onRequest(() => { process.stderr.write("Get-CimInstance : Invalid namespace\\n"); process.exit(5); });`,
        ),
      );
      const error = await rejection(t.queryVms(ALL));
      expect(error.code).toBe("lost");
      expect(error.message).toBe(
        "the PowerShell bridge exited with code 5 before answering query Msvm_ComputerSystem; its stderr ends: Get-CimInstance : Invalid namespace",
      );
      await t.exited;
      // A new bridge (this fake dies again), not the first one's error once more.
      const again = await rejection(t.getKvpComponent(VM));
      expect(again).not.toBe(error);
      expect(again.message).toMatch(
        /^the PowerShell bridge exited with code 5 before answering query Msvm_KvpExchangeComponent;/,
      );
    });

    /** A fake that misbehaves on its first request ever (across restarts), then answers every query with one VM. */
    async function failingOnce(misbehave: string): Promise<{ options: PowerShellClientOptions; cleanup: () => void }> {
      const dir = await mkdtemp(join(tmpdir(), "kvp-bridge-"));
      const marker = JSON.stringify(join(dir, "first-request-seen"));
      const script = `hello();
        onRequest((req) => {
          const fs = require("node:fs");
          if (!fs.existsSync(${marker})) { fs.writeFileSync(${marker}, ""); ${misbehave}; return; }
          send({ id: req.id, ok: true, result: [{ className: "Msvm_ComputerSystem", properties: { Name: "${VM}", ElementName: "web01", EnabledState: 2 } }] });
        });`;
      return {
        options: { ...fake(script), requestTimeoutMs: 500 },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    }

    it.each([
      ["exits", `process.exit(5)`, "lost"],
      ["hangs past the timeout", `process.stderr.write("stuck in WMI\\n")`, "timeout"],
      ["writes garbage", `send("not json")`, "unreadable"],
    ])(
      "a bridge that %s fails that request only: the next call gets a new bridge, which answers",
      async (_what, misbehave, code) => {
        const { options, cleanup } = await failingOnce(misbehave);
        const t = await openBridged(options);
        try {
          const first = t.hello.pid;
          expect((await rejection(t.queryVms("x"))).code).toBe(code);
          expect(await t.queryVms("y")).toEqual([{ id: VM, name: "web01", enabledState: 2 }]);
          expect(t.hello.pid).not.toBe(first);
          expect(await t.queryVms("z")).toHaveLength(1);
          expect(t.calls.of("query Msvm_ComputerSystem")).toBe(3);
        } finally {
          t.close();
          cleanup();
        }
      },
    );

    it("after close() a failed bridge is not started again", async () => {
      const { options, cleanup } = await failingOnce("process.exit(5)");
      const t = await openBridged(options);
      try {
        expect((await rejection(t.queryVms("x"))).code).toBe("lost");
        t.close();
        // A new bridge would answer; the closed client must not start one.
        expect((await rejection(t.queryVms("y"))).code).toBe("lost");
      } finally {
        cleanup();
      }
    });

    it("a garbled line (not JSON): quoted in the error, and the bridge is stopped", async () => {
      const t = await openBridged(
        fake(`hello(); onRequest(() => send("Get-CimInstance : \\u001b[31mAccess denied"));`),
      );
      const error = await rejection(t.queryVms(ALL));
      expect(isTransportError(error, "unreadable")).toBe(true);
      expect(error.message).toBe(
        'the PowerShell bridge wrote a line that is not JSON (answering query Msvm_ComputerSystem): "Get-CimInstance :  [31mAccess denied"; it was stopped',
      );
      await t.exited;
      t.close();
    });

    it("a line that is not UTF-8", async () => {
      const t = await openBridged(
        fake(`hello(); onRequest(() => process.stdout.write(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])));`),
      );
      const error = await rejection(t.queryVms("x"));
      expect(error.code).toBe("unreadable");
      expect(error.message).toMatch(/not UTF-8/);
      t.close();
    });

    it("a line over the limit, even before its end arrives", async () => {
      const t = await openBridged({
        ...fake(`hello(); onRequest(() => process.stdout.write("x".repeat(5000)));`),
        maxLineBytes: 1000,
      });
      const error = await rejection(t.queryVms(ALL));
      expect(isTransportError(error, "unreadable")).toBe(true);
      expect(error.message).toBe(
        "the PowerShell bridge wrote a line longer than 1000 bytes (answering query Msvm_ComputerSystem); it was stopped",
      );
      await t.exited;
    });

    it("no answer in time: a timeout naming the request, and the bridge is stopped", async () => {
      const t = await openBridged({
        ...fake(`hello(); onRequest(() => process.stderr.write("stuck in WMI\\n"));`),
        requestTimeoutMs: 200,
      });
      const error = await rejection(t.getJob("JOB-1"));
      expect(isTransportError(error, "timeout")).toBe(true);
      expect(error.message).toMatch(
        /^the PowerShell bridge did not answer get Msvm_ConcreteJob within 0\.2 s(; its stderr ends: stuck in WMI)?; it was stopped$/,
      );
      await t.exited;
    });

    it("no hello in time", async () => {
      const error = await rejection(openBridged({ ...fake(`setInterval(() => {}, 1000);`), startTimeoutMs: 200 }));
      expect(error.code).toBe("timeout");
      expect(error.message).toMatch(/did not start within 0\.2 s/);
    });

    it("a hello of another protocol version", async () => {
      const error = await rejection(openBridged(fake(`hello({ protocol: 1 });`)));
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe(
        "the PowerShell bridge speaks protocol 1, kvp-host speaks 2: the script and kvp-host are from different releases",
      );
    });

    it("a first line that is not the hello", async () => {
      const error = await rejection(openBridged(fake(`send({ id: 1, ok: true, result: [] });`)));
      expect(error.code).toBe("unreadable");
    });

    it("an answer to another request, and one nobody asked for", async () => {
      const t = await openBridged(fake(`hello(); onRequest((req) => send({ id: req.id + 1, ok: true, result: [] }));`));
      expect((await rejection(t.queryVms("x"))).message).toMatch(/answer for request 2 while waiting for 1/);
      const u = await openBridged(fake(`hello(); send({ id: 7, ok: true, result: [] }); onRequest(() => {});`));
      expect((await rejection(u.queryVms("x"))).code).toBe("unreadable");
      t.close();
      u.close();
    });

    it("results of the wrong shape", async () => {
      const t = await openBridged(
        answering(`(req) => req.op === "query" ? { ok: true, result: req.wql === "obj" ? {} : [{ className: "Msvm_ComputerSystem", properties: { ElementName: "no Name" } }] }
          : req.op === "enumerate" ? { ok: true, result: [{ className: "Msvm_VirtualSystemManagementService",
              properties: { CreationClassName: "c", Name: "n", SystemCreationClassName: "s", SystemName: "h" } }] }
          : { ok: true, result: { returnValue: "4096" } }`),
      );
      try {
        expect((await rejection(t.queryVms("obj"))).message).toMatch(/a query result is not an array/);
        expect((await rejection(t.queryVms("x"))).message).toMatch(/has no Name/);
        expect((await rejection(t.invokeKvpMethod("AddKvpItems", VM, []))).message).toMatch(
          /an invoke result has no ReturnValue/,
        );
      } finally {
        t.close();
      }
    });
  });

  it("close() ends the bridge through end of input; pending and later calls fail with closed", async () => {
    const t = await openBridged(
      fake(
        `hello(); onRequest(() => {}); process.stdin.on("end", () => { process.stderr.write("bye\\n"); process.exit(0); });`,
      ),
    );
    const pending = t.queryVms("x");
    t.close();
    expect((await rejection(pending)).code).toBe("closed");
    await t.exited;
    expect(t.stderrLines).toEqual(["bye"]);
    expect((await rejection(t.queryVms("y"))).code).toBe("closed");
    t.close();
  });
});

describe("how the bridge is started", () => {
  it("runs the script with no profile, non-interactive, execution policy Bypass", () => {
    expect(bridgeArguments("C:\\kvp\\dist\\powershell\\kvp-host-bridge.ps1")).toEqual([
      "-NoLogo",
      "-NoProfile",
      "-NonInteractive",
      "-ExecutionPolicy",
      "Bypass",
      "-File",
      "C:\\kvp\\dist\\powershell\\kvp-host-bridge.ps1",
    ]);
  });

  it("finds the script beside the bundle, or in the package from sources", () => {
    expect(bridgeScriptPath("file:///opt/kvp/dist/kvp-host.cjs", true)).toBe(
      "/opt/kvp/dist/powershell/kvp-host-bridge.ps1",
    );
    expect(bridgeScriptPath()).toBe(join(APP_DIR, "powershell", "kvp-host-bridge.ps1"));
  });

  it("the build ships the script in dist/powershell/ (package.json files names it)", () => {
    // The project's vitest globalSetup ran build.mjs. What the npm tarball holds is checked
    // by the release checks (scripts/release-checks/npm-packages.test.ts).
    expect(readFileSync(join(APP_DIR, "dist", "powershell", "kvp-host-bridge.ps1"), "utf8")).toBe(
      readFileSync(bridgeScriptPath(), "utf8"),
    );
    const pkg = JSON.parse(readFileSync(join(APP_DIR, "package.json"), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("dist/powershell/kvp-host-bridge.ps1");
  });

  it("drops PSModulePath (any case) from the environment", () => {
    expect(bridgeEnvironment({ Path: "C:\\Windows", PSModulePath: "C:\\pwsh\\Modules", psmodulepath: "x" })).toEqual({
      Path: "C:\\Windows",
    });
  });

  it("defaults to PowerShell on Windows and WS-Management elsewhere", () => {
    expect(defaultTransportKind("win32")).toBe("powershell");
    expect(defaultTransportKind("linux")).toBe("wsman");
  });

  it("escapes every non-ASCII character of a request", () => {
    expect(asciiJson({ wql: 'ElementName="wéb☃😀"' })).toBe(
      '{"wql":"ElementName=\\"w\\u00e9b\\u2603\\ud83d\\ude00\\""}',
    );
    expect(JSON.parse(asciiJson({ wql: "wéb☃😀\u007f" }))).toEqual({ wql: "wéb☃😀\u007f" });
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: the stand-in over hyperv-sim, compared with the WS-Management transport.

const USER = "Administrator";
const PASSWORD = "Ps-Stand-1n!";
const policy = realDaemonPolicy();

describe("HyperVWmi through the PowerShell stand-in vs through WS-Management, against hyperv-sim's WMI host (real hv_kvp_daemon)", () => {
  if (standInForMissingDaemon(policy)) return;

  let cert: SelfSignedCertificate;
  let host: WmiHost;
  let dir: string;
  let ps: BridgedWmi;
  let ws: HyperVWmi;
  const stderr: string[] = [];
  const guidOf = (name: string) => host.vms.find((v) => v.name === name)!.guid;
  const pool0 = (name: string) =>
    new Map(
      decodePool(
        new Uint8Array(readFileSync(join(host.vms.find((v) => v.name === name)!.poolDir, poolFileName(0)))),
      ).records.map((r) => [r.key, r.value]),
    );
  /** A result with the VM of each side replaced, so the two sides compare. */
  const sameVm = <T extends { vm: unknown }>(result: T) => ({ ...result, vm: "VM" });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kvp-ps-stand-in-"));
    await bundleStandIn(join(dir, "powershell-stand-in.cjs"));
    cert = makeSelfSignedCertificate();
    host = await startWmiHost({
      vms: ["web01", "ps01", "ws01"],
      daemon: "real",
      https: { key: cert.key, cert: cert.cert },
      users: { [USER]: PASSWORD },
    });
    ps = await openBridged({
      command: process.execPath,
      args: [join(dir, "powershell-stand-in.cjs")],
      env: {
        ...process.env,
        KVP_STAND_IN_ENDPOINT: host.endpoint,
        KVP_STAND_IN_USER: USER,
        KVP_STAND_IN_PASSWORD: PASSWORD,
        KVP_STAND_IN_CA: cert.certPath,
      },
      onStderr: (line) => stderr.push(line),
    });
    ws = new HyperVWmi(
      new WsmanCimClient(
        new WsmanClient({
          endpoint: host.endpoint,
          auth: { kind: "ntlm", user: USER, password: PASSWORD },
          ca: cert.cert,
        }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    ps?.close();
    ws?.close();
    await ps?.exited;
    await host?.close();
    if (cert !== undefined) rmSync(cert.dir, { recursive: true, force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("the stand-in says hello like the script", () => {
    expect(ps.hello).toMatchObject({ bridge: "kvp-host-bridge", protocol: 2, psVersion: "stand-in" });
  });

  it("vms: the same VMs", async () => {
    const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    const fromPs = byId(await vms(ps));
    expect(fromPs).toEqual(byId(await vms(ws)));
    expect(fromPs.map((v) => v.name).sort()).toEqual(["ps01", "web01", "ws01"]);
  });

  it("list and status of one VM: the same items and health", async () => {
    expect(await list(ps, "web01")).toEqual(await list(ws, "web01"));
    const s = await status(ps, "web01");
    expect(s).toEqual(await status(ws, "web01"));
    expect(s).toMatchObject({ component: true, operationalStatus: 2, ok: true });
  });

  // 127 plain items and one value of 3,000 characters stored in 3 parts: 130 items, 2 calls.
  const big = Array.from({ length: 3000 }, (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).join("");
  const records: KvpRecord[] = [
    ...Array.from({ length: 127 }, (_, i) => ({ key: `bulk${i}`, value: `value ${i} ✓` })),
    { key: "Big", value: big },
  ];

  it("set of 130 items with --chunk: the same report, and the items land in the guest", async () => {
    const fromPs = await writeItems(ps, "ps01", records, { mode: "upsert", chunk: true });
    const fromWs = await writeItems(ws, "ws01", records, { mode: "upsert", chunk: true });
    expect(sameVm(fromPs)).toEqual(sameVm(fromWs));
    expect(fromPs.added).toHaveLength(130);
    expect(fromPs.methodCalls).toBe(2);
    const guest = pool0("ps01");
    expect(guest.get("bulk126")).toBe("value 126 ✓");
    expect(["Big#1/3", "Big#2/3", "Big#3/3"].map((k) => guest.get(k)).join("")).toBe(big);
    expect(pool0("ps01")).toEqual(pool0("ws01"));
  });

  it("list --source host: the same items, the chunked value reassembled", async () => {
    const fromPs = await list(ps, "ps01", { source: "host" });
    expect(sameVm(fromPs)).toEqual(sameVm(await list(ws, "ws01", { source: "host" })));
    expect(fromPs.items.find((i) => i.key === "Big")).toEqual({ source: "host", key: "Big", value: big, parts: 3 });
    // Each side reads the other's VM the same way too.
    expect(await list(ps, "ws01", { source: "host" })).toEqual(await list(ws, "ws01", { source: "host" }));
    expect(await list(ws, "ps01", { source: "host" })).toEqual(await list(ps, "ps01", { source: "host" }));
  });

  it("set again with one changed value: one ModifyKvpItems on each side", async () => {
    const changed = records.map((r) => (r.key === "bulk0" ? { ...r, value: "changed" } : r));
    const fromPs = await writeItems(ps, "ps01", changed, { mode: "upsert", chunk: true });
    expect(sameVm(fromPs)).toEqual(sameVm(await writeItems(ws, "ws01", changed, { mode: "upsert", chunk: true })));
    expect(fromPs).toMatchObject({ added: [], modified: ["bulk0"], methodCalls: 1 });
  });

  it("add of an existing key is refused the same way, before any call", async () => {
    const outcome = async (t: HyperVWmi, vm: string) => {
      const error = await rejection(writeItems(t, vm, [{ key: "bulk1", value: "x" }], { mode: "add" }));
      expect(isHostCliError(error, "refused")).toBe(true);
      return error.message.replace(vm, "VM").replace(guidOf(vm), "GUID");
    };
    expect(await outcome(ps, "ps01")).toBe(await outcome(ws, "ws01"));
  });

  it("a job that fails on an existing key: the same return value, job state, error code and GetErrorEx errors", async () => {
    const outcome = async (t: HyperVWmi, vm: string) => {
      const item = encodeKvpItem({ name: "bulk2", data: "again", source: "host" });
      const call = await t.invokeKvpMethod("AddKvpItems", guidOf(vm), [item]);
      expect(call.returnValue).toBe(4096);
      const waited = await waitForJob(t, call.jobId!);
      const errors = await t.getJobErrors(call.jobId!);
      const scrub = <T>(value: T): T =>
        JSON.parse(
          JSON.stringify(value)
            .replaceAll(call.jobId!, "JOB")
            .replaceAll(guidOf(vm), "GUID")
            .replaceAll(`"${vm}"`, '"VM"')
            .replaceAll(`\\"${vm}\\"`, '\\"VM\\"'),
        );
      return scrub({
        returnValue: call.returnValue,
        finished: waited.finished,
        jobState: waited.job.jobState,
        errorCode: waited.job.errorCode,
        errorDescription: waited.job.errorDescription,
        errors,
      });
    };
    const fromPs = await outcome(ps, "ps01");
    expect(fromPs).toEqual(await outcome(ws, "ws01"));
    expect(fromPs.finished).toBe(true);
    expect(fromPs.jobState).not.toBe(7);
    expect(fromPs.errors.length).toBeGreaterThan(0);
    expect(pool0("ps01").get("bulk2")).toBe("value 2 ✓");
  });

  it("remove: the same report, gone from the guest", async () => {
    const fromPs = await removeItems(ps, "ps01", ["bulk3", "Big"]);
    expect(sameVm(fromPs)).toEqual(sameVm(await removeItems(ws, "ws01", ["bulk3", "Big"])));
    expect(fromPs.removed).toEqual(["bulk3", "Big#1/3", "Big#2/3", "Big#3/3"]);
    expect(pool0("ps01").has("bulk3")).toBe(false);
    expect(pool0("ps01")).toEqual(pool0("ws01"));
  });

  it("a failure from the host is the same error through either transport", async () => {
    const missing = await rejection(ps.getJob("NO-SUCH-JOB"));
    expect(missing.message).toMatch(
      /^get Msvm_ConcreteJob failed on the host: Not found \(NotFound, HRESULT 0x80041002\)$/,
    );
    const missingWs = await rejection(ws.getJob("NO-SUCH-JOB"));
    for (const error of [missing, missingWs]) {
      expect(isTransportError(error, "host-error")).toBe(true);
      expect(isTransportError(error) && error.hostError?.kind).toBe("not-found");
    }
    // The bridge refuses a class kvp-host does not use before asking WMI; WS-Management's
    // simulator refuses it as an unknown class: either way an invalid request.
    const badQuery = await rejection(ps.queryVms("SELECT * FROM Msvm_NoSuchClass"));
    expect(badQuery.message).toBe(
      "query Msvm_NoSuchClass failed on the host: invalid request: query of Msvm_NoSuchClass is not allowed",
    );
    for (const error of [badQuery, await rejection(ws.queryVms("SELECT * FROM Msvm_NoSuchClass"))])
      expect(isTransportError(error) && error.hostError?.kind).toBe("invalid-request");
    // The bridge goes on after a failure.
    expect((await vms(ps)).length).toBe(3);
    expect((await vms(ws)).length).toBe(3);
  });

  it("the bridge does only what its allow-list names", async () => {
    const bridge = ps.bridge;
    const ns = HYPERV_NAMESPACES.host;
    const refusals = [
      bridge.query(ns, 'SELECT * FROM Msvm_ComputerSystem WHERE ElementName="a" OR ElementName="b"'),
      bridge.query("root/cimv2", "SELECT * FROM Msvm_ComputerSystem"),
      bridge.enumerate({ namespace: ns, className: "Msvm_ComputerSystem" }),
      bridge.enumerate({
        source: vmPath(guidOf("web01")),
        assocClass: "Msvm_SystemDevice",
        resultClass: "Msvm_KvpExchangeComponent",
      }),
      bridge.get(vmPath(guidOf("web01"))),
      bridge.invoke(vmPath(guidOf("web01")), "RequestStateChange", new Map([["RequestedState", "3"]])),
      bridge.invoke(
        {
          namespace: ns,
          className: "Msvm_VirtualSystemManagementService",
          keys: [{ name: "Name", type: "string", value: "vmms" }],
        },
        "AddKvpItems",
        new Map([["DataItems", ["<INSTANCE/>"]]]),
      ),
    ];
    const messages: string[] = [];
    for (const refusal of refusals) {
      const error = await rejection(refusal);
      expect(isTransportError(error) && error.hostError?.kind, error.message).toBe("invalid-request");
      messages.push(error.message.replace(/^.* failed on the host: /, ""));
    }
    expect(messages).toEqual([
      "invalid request: WQL must be SELECT * FROM a class with equality conditions",
      "invalid request: namespace 'root/cimv2' is not one kvp-host uses",
      "invalid request: enumeration of Msvm_ComputerSystem is not allowed",
      "invalid request: association Msvm_ComputerSystem/Msvm_SystemDevice/Msvm_KvpExchangeComponent is not allowed",
      "invalid request: get of Msvm_ComputerSystem is not allowed",
      "invalid request: method Msvm_ComputerSystem.RequestStateChange is not allowed",
      "invalid request: AddKvpItems takes TargetSystem, DataItems",
    ]);
    // Nothing of that reached the host: the VM still runs and has no new items.
    expect(host.model.findVm(guidOf("web01"))?.running).toBe(true);
  });

  it("calls: the same labels and counts through either transport (job polls aside, which follow each job's pace)", () => {
    const { "get Msvm_ConcreteJob": pj, ...p } = ps.calls.snapshot();
    const { "get Msvm_ConcreteJob": wj, ...w } = ws.calls.snapshot();
    expect(pj).toBeGreaterThan(0);
    expect(wj).toBeGreaterThan(0);
    expect(p).toEqual(w);
    expect(p["invoke AddKvpItems"]).toBeGreaterThan(0);
    expect(stderr).toEqual([]);
  });
});
