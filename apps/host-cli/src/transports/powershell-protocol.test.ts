import {
  type CimInstance,
  type CimInstancePath,
  decodeKvpItems,
  encodeKvpItem,
  jobFromInstance,
} from "@hyperv-kvp/kvp-core/cim";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { TransportError } from "../transport-error.js";
import {
  MAX_INSTANCE_DEPTH,
  MAX_INSTANCE_PROPERTIES,
  MAX_PATH_KEYS,
  PROTOCOL_VERSION,
  enumerateRequest,
  invokeRequest,
  readAnswer,
  readHello,
  readInstance,
  readInstances,
  readMethodResult,
  readPath,
  toBridgePath,
} from "./powershell-protocol.js";

const VM_PATH: CimInstancePath = {
  namespace: "root/virtualization/v2",
  className: "Msvm_ComputerSystem",
  keys: [
    { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
    { name: "Name", type: "string", value: "GUID" },
  ],
};

const text = (instance: CimInstance, name: string) => instance.properties.find((p) => p.name === name)?.value;

describe("readHello", () => {
  it("reads the hello of Windows PowerShell and of pwsh", () => {
    expect(
      readHello({
        bridge: "kvp-host-bridge",
        protocol: PROTOCOL_VERSION,
        psVersion: "5.1.22621.4249",
        psEdition: "Desktop",
        pid: 4242,
      }),
    ).toEqual({
      bridge: "kvp-host-bridge",
      protocol: 2,
      psVersion: "5.1.22621.4249",
      psEdition: "Desktop",
      pid: 4242,
    });
    expect(readHello({ bridge: "kvp-host-bridge", protocol: 2 })).toEqual({
      bridge: "kvp-host-bridge",
      protocol: 2,
      psVersion: "",
      psEdition: "",
    });
  });

  it.each([
    ["not an object", [1], "unreadable"],
    ["another program", { bridge: "other", protocol: 2 }, "unreadable"],
    ["no version", { bridge: "kvp-host-bridge" }, "unreadable"],
    ["a version as text", { bridge: "kvp-host-bridge", protocol: "2" }, "unreadable"],
    ["protocol 1 (a bridge of an older release)", { bridge: "kvp-host-bridge", protocol: 1 }, "unavailable"],
    ["another version", { bridge: "kvp-host-bridge", protocol: 3 }, "unavailable"],
  ])("refuses %s", (_, value, code) => {
    expect(thrown(() => readHello(value), TransportError).code).toBe(code);
  });
});

describe("requests", () => {
  it("write paths with keys by name, enumerations of both kinds, and arguments in their order", () => {
    expect(toBridgePath(VM_PATH)).toEqual({
      namespace: "root/virtualization/v2",
      className: "Msvm_ComputerSystem",
      keys: { CreationClassName: "Msvm_ComputerSystem", Name: "GUID" },
    });
    expect(
      enumerateRequest({ namespace: "root/virtualization/v2", className: "Msvm_VirtualSystemManagementService" }),
    ).toEqual({
      op: "enumerate",
      namespace: "root/virtualization/v2",
      className: "Msvm_VirtualSystemManagementService",
    });
    expect(
      enumerateRequest({
        source: VM_PATH,
        assocClass: "Msvm_SettingsDefineState",
        resultClass: "Msvm_VirtualSystemSettingData",
      }),
    ).toEqual({
      op: "enumerate",
      source: toBridgePath(VM_PATH),
      assocClass: "Msvm_SettingsDefineState",
      resultClass: "Msvm_VirtualSystemSettingData",
    });
    const request = invokeRequest(
      { namespace: "root/virtualization/v2", className: "Msvm_VirtualSystemManagementService", keys: [] },
      "AddKvpItems",
      new Map<string, string | string[] | CimInstancePath>([
        ["TargetSystem", VM_PATH],
        ["DataItems", ["<INSTANCE/>"]],
      ]),
    );
    expect(JSON.stringify(request)).toBe(
      '{"op":"invoke","path":{"namespace":"root/virtualization/v2","className":"Msvm_VirtualSystemManagementService","keys":{}},"method":"AddKvpItems","arguments":{"TargetSystem":{"path":{"namespace":"root/virtualization/v2","className":"Msvm_ComputerSystem","keys":{"CreationClassName":"Msvm_ComputerSystem","Name":"GUID"}}},"DataItems":["<INSTANCE/>"]}}',
    );
  });

  it("a key named __proto__ stays a key, and a path needs a namespace and text keys", () => {
    const path = toBridgePath({
      namespace: "root/virtualization/v2",
      className: "C",
      keys: [{ name: "__proto__", type: "string", value: "x" }],
    });
    expect(JSON.stringify(path.keys)).toBe('{"__proto__":"x"}');
    expect(thrown(() => toBridgePath({ className: "C", keys: [] }), TransportError).code).toBe("config");
    expect(
      thrown(
        () =>
          toBridgePath({
            namespace: "root/virtualization/v2",
            className: "C",
            keys: [{ name: "N", type: "uint32", value: 1 }],
          }),
        TransportError,
      ).code,
    ).toBe("config");
  });
});

describe("readAnswer", () => {
  it("reads a result", () => {
    expect(readAnswer({ id: 3, ok: true, result: [] }, 3)).toEqual({ ok: true, result: [] });
    expect(readAnswer({ id: 3, ok: true, result: null }, 3)).toEqual({ ok: true, result: null });
  });

  it("reads a failure, with an unknown kind as internal", () => {
    expect(
      readAnswer(
        {
          id: 3,
          ok: false,
          error: {
            kind: "cim",
            message: "Invalid query",
            nativeErrorCode: "InvalidQuery",
            hresult: -2147217385,
            exceptionType: "X",
          },
        },
        3,
      ),
    ).toEqual({
      ok: false,
      failure: {
        kind: "cim",
        message: "Invalid query",
        nativeErrorCode: "InvalidQuery",
        hresult: -2147217385,
        exceptionType: "X",
      },
    });
    expect(readAnswer({ id: null, ok: false, error: { kind: "novel", message: "m", hresult: "0x1" } }, 3)).toEqual({
      ok: false,
      failure: { kind: "internal", message: "m" },
    });
  });

  it.each([
    ["another id", { id: 4, ok: true, result: [] }],
    ["a null id on success", { id: null, ok: true, result: [] }],
    ["no result", { id: 3, ok: true }],
    ["ok as text", { id: 3, ok: "true", result: [] }],
    ["a failure without message", { id: 3, ok: false, error: { kind: "cim" } }],
    ["a failure with another id", { id: 9, ok: false, error: { kind: "cim", message: "m" } }],
    ["an array", [{ id: 3, ok: true, result: [] }]],
  ])("refuses %s", (_, value) => {
    expect(thrown(() => readAnswer(value, 3), TransportError).code).toBe("unreadable");
  });

  it("only reads own properties", () => {
    const inherited = Object.create({ ok: true, result: [] }) as Record<string, unknown>;
    inherited["id"] = 3;
    expect(thrown(() => readAnswer(inherited, 3), TransportError).code).toBe("unreadable");
  });
});

describe("instances", () => {
  it("reads the JSON Windows PowerShell 5.1 writes (\\u003c escapes, one-element arrays as arrays), every value as text", () => {
    const item = encodeKvpItem({ name: "FullyQualifiedDomainName", data: "web01.example.test", source: "intrinsic" });
    // ConvertTo-Json in 5.1 escapes <, >, ' and & as \uXXXX.
    const escaped = JSON.stringify(item).replace(
      /[<>'&]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    const line = `{"id":1,"ok":true,"result":[{"className":"Msvm_KvpExchangeComponent","properties":{"Caption":"Key-Value Pair Exchange","GuestIntrinsicExchangeItems":[${escaped}],"GuestExchangeItems":null,"OperationalStatus":[2],"EnabledState":2,"Healthy":true,"InstallDate":"2024-05-01T10:00:00.0000000+02:00","TimeOfLastStateChange":null}}]}`;
    const answer = readAnswer(JSON.parse(line), 1);
    if (!answer.ok) throw new Error("expected ok");
    const [component] = readInstances(answer.result);
    expect(decodeKvpItems(text(component!, "GuestIntrinsicExchangeItems") as string[]).items).toMatchObject([
      { name: "FullyQualifiedDomainName", data: "web01.example.test" },
    ]);
    expect(component!.properties).toContainEqual({ name: "GuestExchangeItems", type: "string", value: null });
    expect(component!.properties).toContainEqual({
      name: "OperationalStatus",
      type: "string",
      array: true,
      value: ["2"],
    });
    expect(text(component!, "EnabledState")).toBe("2");
    expect(text(component!, "Healthy")).toBe("true");
  });

  it("leaves embedded instances inside an instance out, after checking them", () => {
    const instance = readInstance({
      className: "Msvm_Error",
      properties: { Message: "m", Embedded: { className: "Inner", properties: { X: [1, "2"] } } },
    });
    expect(instance).toEqual({
      className: "Msvm_Error",
      properties: [{ name: "Message", type: "string", value: "m" }],
    });
  });

  it("keeps hostile property names as data (no prototype pollution)", () => {
    const instance = readInstance(
      JSON.parse('{"className":"C","properties":{"__proto__":"p","constructor":"c","Name":"n"}}') as unknown,
    );
    expect(instance.properties.map((p) => p.name)).toEqual(["__proto__", "constructor", "Name"]);
    expect(({} as Record<string, unknown>)["p"]).toBeUndefined();
  });

  it("limits nesting, properties and shapes", () => {
    let deep: unknown = { className: "C", properties: {} };
    for (let i = 0; i <= MAX_INSTANCE_DEPTH; i++) deep = { className: "C", properties: { P: deep } };
    expect(thrown(() => readInstance(deep), TransportError).code).toBe("unreadable");
    const many = Object.fromEntries(Array.from({ length: MAX_INSTANCE_PROPERTIES + 1 }, (_, i) => [`P${i}`, i]));
    expect(thrown(() => readInstance({ className: "C", properties: many }), TransportError).code).toBe("unreadable");
    expect(thrown(() => readInstance({ className: "C", properties: { P: [[1]] } }), TransportError).code).toBe(
      "unreadable",
    );
    expect(
      thrown(() => readInstance({ className: "C", properties: { P: Number.POSITIVE_INFINITY } }), TransportError).code,
    ).toBe("unreadable");
    expect(thrown(() => readInstance({ className: 1, properties: {} }), TransportError).code).toBe("unreadable");
    expect(thrown(() => readInstance({ className: "C", properties: [] }), TransportError).code).toBe("unreadable");
    expect(thrown(() => readInstances({}), TransportError).code).toBe("unreadable");
  });

  it("a job instance, numbers or text, reads as a WmiJob", () => {
    for (const properties of [
      {
        InstanceID: "J",
        JobState: 10,
        ErrorCode: 32768,
        PercentComplete: 100,
        ErrorDescription: "d",
        DeleteOnCompletion: false,
      },
      {
        InstanceID: "J",
        JobState: "10",
        ErrorCode: "32768",
        PercentComplete: "100",
        ErrorDescription: "d",
        DeleteOnCompletion: "false",
      },
    ]) {
      expect(jobFromInstance(readInstance({ className: "Msvm_ConcreteJob", properties }))).toEqual({
        instanceId: "J",
        jobState: 10,
        errorCode: 32768,
        percentComplete: 100,
        errorDescription: "d",
      });
    }
  });
});

describe("paths", () => {
  it("reads a path; a namespace with backslashes is written with slashes", () => {
    expect(readPath({ namespace: "root\\virtualization\\v2", className: "C", keys: { A: "1" } })).toEqual({
      namespace: "root/virtualization/v2",
      className: "C",
      keys: [{ name: "A", type: "string", value: "1" }],
    });
  });

  it.each([
    ["no keys", { namespace: "n", className: "C" }],
    ["a key that is not text", { namespace: "n", className: "C", keys: { A: 1 } }],
    ["a key that is not a name", { namespace: "n", className: "C", keys: { "A B": "1" } }],
    ["a class that is not a name", { namespace: "n", className: "C;D", keys: { A: "1" } }],
    [
      "too many keys",
      {
        namespace: "n",
        className: "C",
        keys: Object.fromEntries(Array.from({ length: MAX_PATH_KEYS + 1 }, (_, i) => [`K${i}`, "v"])),
      },
    ],
  ])("refuses %s", (_, value) => {
    expect(thrown(() => readPath(value), TransportError).code).toBe("unreadable");
  });
});

describe("method results", () => {
  it("read the ReturnValue and every output: a Job as the instance of its keys, embedded errors as text or instances", () => {
    const result = readMethodResult({
      returnValue: 4096,
      outputs: {
        Job: { className: "Msvm_ConcreteJob", properties: { InstanceID: "J" } },
        Errors: ["<INSTANCE/>", { className: "Msvm_Error", properties: { Message: "m" } }, null],
        Note: 7,
      },
    });
    expect(result.returnValue).toBe(4096);
    expect(result.outputs.get("Job")).toEqual({
      className: "Msvm_ConcreteJob",
      properties: [{ name: "InstanceID", type: "string", value: "J" }],
    });
    expect(result.outputs.get("Errors")).toEqual([
      "<INSTANCE/>",
      { className: "Msvm_Error", properties: [{ name: "Message", type: "string", value: "m" }] },
    ]);
    expect(result.outputs.get("Note")).toBe("7");
    expect(readMethodResult({ returnValue: 0 })).toEqual({ returnValue: 0, outputs: new Map() });
  });

  it.each([
    ["no ReturnValue", { outputs: {} }],
    ["a ReturnValue as text", { returnValue: "4096" }],
    ["outputs that are not an object", { returnValue: 0, outputs: [] }],
    ["not an object", [0]],
  ])("refuse %s", (_, value) => {
    expect(thrown(() => readMethodResult(value), TransportError).code).toBe("unreadable");
  });
});
