// PowerShellCimClient, with no PowerShell here: the process handling and the protocol are
// tested with tiny fake bridges (`node -e` scripts that misbehave on purpose); kvp-host's
// Hyper-V logic over it end to end with the stand-in is powershell.interop.test.ts.
import { readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeKvpItem } from "@hyperv-kvp/kvp-core/cim";
import { thrownAsync } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { HYPERV_NAMESPACES } from "../hyperv-wmi.js";
import { openBridged } from "../test-support/bridged-wmi.js";
import { TransportError, isTransportError } from "../transport-error.js";
import { defaultTransportKind } from "../transport.js";
import { allVmsQuery, vmsByNameQuery } from "../wql.js";
import { type PowerShellClientOptions, bridgeArguments, bridgeEnvironment, bridgeScriptPath } from "./powershell.js";
import { asciiJson } from "./powershell-bridge.js";
import { PROTOCOL_VERSION } from "./powershell-protocol.js";

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
      const error = await thrownAsync(t.getJob("JOB-9"), TransportError);
      expect(isTransportError(error, "host-error")).toBe(true);
      expect(error.message).toBe("get Msvm_ConcreteJob failed on the host: Not found (NotFound, HRESULT 0x80041002)");
      expect(isTransportError(error) && error.hostError).toEqual({ kind: "not-found", code: "NotFound" });
      const denied = await thrownAsync(t.queryVms("denied"), TransportError);
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
      const error = await thrownAsync(t.queryVms("x"), TransportError);
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
      expect((await thrownAsync(t.queryVms("object"), TransportError)).message).toMatch(
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
      const error = await thrownAsync(
        openBridged({ command: join(tmpdir(), "no-such-dir", "powershell.exe"), args: [] }),
        TransportError,
      );
      expect(isTransportError(error, "unavailable")).toBe(true);
      expect(error.message).toMatch(
        /^PowerShell not found: .*powershell\.exe .*ENOENT.*; install it, or reach the host over WS-Management \(--host or --endpoint\)$/,
      );
    });

    it("the bridge exits before its hello: the exit code and its stderr's last lines", async () => {
      const error = await thrownAsync(
        openBridged(
          fake(
            `process.stderr.write("Import-Module : The specified module 'CimCmdlets' was not loaded\\nsecond line\\n"); process.exit(3);`,
          ),
        ),
        TransportError,
      );
      expect(error.code).toBe("lost");
      expect(error.message).toBe(
        "the PowerShell bridge exited with code 3 before answering its hello; its stderr ends: Import-Module : The specified module 'CimCmdlets' was not loaded | second line",
      );
    });

    it("a program that exits before the hello without a word (Wine's stub powershell.exe exits 0): it did not run the script, and what would work", async () => {
      const error = await thrownAsync(openBridged(fake("process.exit(0);")), TransportError);
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
      const error = await thrownAsync(t.queryVms(ALL), TransportError);
      expect(error.code).toBe("lost");
      expect(error.message).toBe(
        "the PowerShell bridge exited with code 5 before answering query Msvm_ComputerSystem; its stderr ends: Get-CimInstance : Invalid namespace",
      );
      await t.exited;
      // A new bridge (this fake dies again), not the first one's error once more.
      const again = await thrownAsync(t.getKvpComponent(VM), TransportError);
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
          expect((await thrownAsync(t.queryVms("x"), TransportError)).code).toBe(code);
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
        expect((await thrownAsync(t.queryVms("x"), TransportError)).code).toBe("lost");
        t.close();
        // A new bridge would answer; the closed client must not start one.
        expect((await thrownAsync(t.queryVms("y"), TransportError)).code).toBe("lost");
      } finally {
        cleanup();
      }
    });

    it("a garbled line (not JSON): quoted in the error, and the bridge is stopped", async () => {
      const t = await openBridged(
        fake(`hello(); onRequest(() => send("Get-CimInstance : \\u001b[31mAccess denied"));`),
      );
      const error = await thrownAsync(t.queryVms(ALL), TransportError);
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
      const error = await thrownAsync(t.queryVms("x"), TransportError);
      expect(error.code).toBe("unreadable");
      expect(error.message).toMatch(/not UTF-8/);
      t.close();
    });

    it("a line over the limit, even before its end arrives", async () => {
      const t = await openBridged({
        ...fake(`hello(); onRequest(() => process.stdout.write("x".repeat(5000)));`),
        maxLineBytes: 1000,
      });
      const error = await thrownAsync(t.queryVms(ALL), TransportError);
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
      const error = await thrownAsync(t.getJob("JOB-1"), TransportError);
      expect(isTransportError(error, "timeout")).toBe(true);
      expect(error.message).toMatch(
        /^the PowerShell bridge did not answer get Msvm_ConcreteJob within 0\.2 s(; its stderr ends: stuck in WMI)?; it was stopped$/,
      );
      await t.exited;
    });

    it("no hello in time", async () => {
      const error = await thrownAsync(
        openBridged({ ...fake(`setInterval(() => {}, 1000);`), startTimeoutMs: 200 }),
        TransportError,
      );
      expect(error.code).toBe("timeout");
      expect(error.message).toMatch(/did not start within 0\.2 s/);
    });

    it("a hello of another protocol version", async () => {
      const error = await thrownAsync(openBridged(fake(`hello({ protocol: 1 });`)), TransportError);
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe(
        "the PowerShell bridge speaks protocol 1, kvp-host speaks 2: the script and kvp-host are from different releases",
      );
    });

    it("a first line that is not the hello", async () => {
      const error = await thrownAsync(openBridged(fake(`send({ id: 1, ok: true, result: [] });`)), TransportError);
      expect(error.code).toBe("unreadable");
    });

    it("an answer to another request, and one nobody asked for", async () => {
      const t = await openBridged(fake(`hello(); onRequest((req) => send({ id: req.id + 1, ok: true, result: [] }));`));
      expect((await thrownAsync(t.queryVms("x"), TransportError)).message).toMatch(
        /answer for request 2 while waiting for 1/,
      );
      const u = await openBridged(fake(`hello(); send({ id: 7, ok: true, result: [] }); onRequest(() => {});`));
      expect((await thrownAsync(u.queryVms("x"), TransportError)).code).toBe("unreadable");
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
        expect((await thrownAsync(t.queryVms("obj"), TransportError)).message).toMatch(
          /a query result is not an array/,
        );
        expect((await thrownAsync(t.queryVms("x"), TransportError)).message).toMatch(/has no Name/);
        expect((await thrownAsync(t.invokeKvpMethod("AddKvpItems", VM, []), TransportError)).message).toMatch(
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
    expect((await thrownAsync(pending, TransportError)).code).toBe("closed");
    await t.exited;
    expect(t.stderrLines).toEqual(["bye"]);
    expect((await thrownAsync(t.queryVms("y"), TransportError)).code).toBe("closed");
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
  // The allow-list and the executable's path: powershell-executable.test.ts.

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
