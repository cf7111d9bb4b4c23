import { decodeKvpItems, encodeKvpItem, jobFromInstance } from "@hyperv-kvp/kvp-core/cim";
import { describe, expect, it } from "vitest";
import { toCimInstance } from "./powershell.js";
import {
  MAX_EXTRA_CALLS,
  MAX_INSTANCE_DEPTH,
  MAX_INSTANCE_PROPERTIES,
  PowerShellBridgeError,
  booleanOf,
  integerOf,
  integersOf,
  isPowerShellBridgeError,
  propertyOf,
  readAnswer,
  readHello,
  readInstance,
  readInstances,
  readInvokeKvpResult,
  readJobErrorsResult,
  stringsOf,
  textOf,
} from "./powershell-protocol.js";

function codeOf(read: () => unknown): string | undefined {
  try {
    read();
  } catch (error) {
    if (isPowerShellBridgeError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe("readHello", () => {
  it("reads the hello of Windows PowerShell and of pwsh", () => {
    expect(
      readHello({
        bridge: "kvp-host-bridge",
        protocol: 1,
        psVersion: "5.1.22621.4249",
        psEdition: "Desktop",
        pid: 4242,
      }),
    ).toEqual({
      bridge: "kvp-host-bridge",
      protocol: 1,
      psVersion: "5.1.22621.4249",
      psEdition: "Desktop",
      pid: 4242,
    });
    expect(readHello({ bridge: "kvp-host-bridge", protocol: 1 })).toEqual({
      bridge: "kvp-host-bridge",
      protocol: 1,
      psVersion: "",
      psEdition: "",
    });
  });

  it.each([
    ["not an object", [1], "invalid-answer"],
    ["another program", { bridge: "other", protocol: 1 }, "invalid-answer"],
    ["no version", { bridge: "kvp-host-bridge" }, "invalid-answer"],
    ["a version as text", { bridge: "kvp-host-bridge", protocol: "1" }, "invalid-answer"],
    ["another version", { bridge: "kvp-host-bridge", protocol: 2 }, "version-mismatch"],
  ])("refuses %s", (_, value, code) => {
    expect(codeOf(() => readHello(value))).toBe(code);
  });
});

describe("readAnswer", () => {
  it("reads a result and the extra calls", () => {
    expect(readAnswer({ id: 3, ok: true, result: [], extraCalls: ["get Msvm_ComputerSystem"] }, 3)).toEqual({
      ok: true,
      result: [],
      extraCalls: ["get Msvm_ComputerSystem"],
    });
    expect(readAnswer({ id: 3, ok: true, result: null }, 3)).toEqual({ ok: true, result: null, extraCalls: [] });
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
      extraCalls: [],
    });
    expect(readAnswer({ id: null, ok: false, error: { kind: "novel", message: "m", hresult: "0x1" } }, 3)).toEqual({
      ok: false,
      failure: { kind: "internal", message: "m" },
      extraCalls: [],
    });
  });

  it.each([
    ["another id", { id: 4, ok: true, result: [] }],
    ["a null id on success", { id: null, ok: true, result: [] }],
    ["no result", { id: 3, ok: true }],
    ["ok as text", { id: 3, ok: "true", result: [] }],
    ["a failure without message", { id: 3, ok: false, error: { kind: "cim" } }],
    ["a failure with another id", { id: 9, ok: false, error: { kind: "cim", message: "m" } }],
    ["a bad call label", { id: 3, ok: true, result: [], extraCalls: ["rm -rf /"] }],
    [
      "too many call labels",
      { id: 3, ok: true, result: [], extraCalls: Array.from({ length: MAX_EXTRA_CALLS + 1 }, () => "get X") },
    ],
    ["an array", [{ id: 3, ok: true, result: [] }]],
  ])("refuses %s", (_, value) => {
    expect(codeOf(() => readAnswer(value, 3))).toBe("invalid-answer");
  });

  it("only reads own properties", () => {
    const inherited = Object.create({ ok: true, result: [] }) as Record<string, unknown>;
    inherited["id"] = 3;
    expect(codeOf(() => readAnswer(inherited, 3))).toBe("invalid-answer");
  });
});

describe("instances", () => {
  it("reads the JSON Windows PowerShell 5.1 writes (\\u003c escapes, one-element arrays as arrays)", () => {
    const item = encodeKvpItem({ name: "FullyQualifiedDomainName", data: "web01.example.test", source: "intrinsic" });
    // ConvertTo-Json in 5.1 escapes <, >, ' and & as \uXXXX.
    const escaped = JSON.stringify(item).replace(
      /[<>'&]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    const line = `{"id":1,"ok":true,"result":[{"className":"Msvm_KvpExchangeComponent","properties":{"Caption":"Key-Value Pair Exchange","GuestIntrinsicExchangeItems":[${escaped}],"GuestExchangeItems":null,"OperationalStatus":[2],"EnabledState":2,"InstallDate":"2024-05-01T10:00:00.0000000+02:00","TimeOfLastStateChange":null}}]}`;
    const answer = readAnswer(JSON.parse(line), 1);
    if (!answer.ok) throw new Error("expected ok");
    const [component] = readInstances(answer.result);
    expect(decodeKvpItems(stringsOf(propertyOf(component!, "GuestIntrinsicExchangeItems"), "x")).items).toMatchObject([
      { name: "FullyQualifiedDomainName", data: "web01.example.test" },
    ]);
    expect(stringsOf(propertyOf(component!, "GuestExchangeItems"), "x")).toEqual([]);
    expect(integersOf(propertyOf(component!, "OperationalStatus"))).toEqual([2]);
  });

  it("reads embedded instances and names properties ignoring case", () => {
    const instance = readInstance({
      className: "Msvm_Error",
      properties: { Message: "m", Embedded: { className: "Inner", properties: { X: [1, "2"] } } },
    });
    expect(textOf(propertyOf(instance, "message"))).toBe("m");
    const inner = propertyOf(instance, "Embedded");
    expect(inner).toMatchObject({ className: "Inner" });
    expect(propertyOf(instance, "Missing")).toBeUndefined();
  });

  it("limits nesting, properties and shapes", () => {
    let deep: unknown = { className: "C", properties: {} };
    for (let i = 0; i <= MAX_INSTANCE_DEPTH; i++) deep = { className: "C", properties: { P: deep } };
    expect(codeOf(() => readInstance(deep))).toBe("invalid-answer");
    const many = Object.fromEntries(Array.from({ length: MAX_INSTANCE_PROPERTIES + 1 }, (_, i) => [`P${i}`, i]));
    expect(codeOf(() => readInstance({ className: "C", properties: many }))).toBe("invalid-answer");
    expect(codeOf(() => readInstance({ className: "C", properties: { P: [[1]] } }))).toBe("invalid-answer");
    expect(codeOf(() => readInstance({ className: "C", properties: { P: Number.POSITIVE_INFINITY } }))).toBe(
      "invalid-answer",
    );
    expect(codeOf(() => readInstance({ className: 1, properties: {} }))).toBe("invalid-answer");
    expect(codeOf(() => readInstance({ className: "C", properties: [] }))).toBe("invalid-answer");
    expect(codeOf(() => readInstances({}))).toBe("invalid-answer");
  });

  it("reads values tolerantly: a lone string as a one-element array, numbers written as text", () => {
    expect(stringsOf("a", "x")).toEqual(["a"]);
    expect(codeOf(() => stringsOf([1] as never, "x"))).toBe("invalid-answer");
    expect(integersOf(["2", 6, "x", 1.5, " 12 "])).toEqual([2, 6, 12]);
    expect(integerOf("32768")).toBe(32768);
    expect(integerOf([2])).toBeUndefined();
    expect(booleanOf("True")).toBe(true);
    expect(booleanOf(false)).toBe(false);
    expect(booleanOf("yes")).toBeUndefined();
    expect(textOf(7)).toBe("7");
    expect(textOf(null)).toBeUndefined();
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
        Nested: { className: "X", properties: {} },
      },
      {
        InstanceID: "J",
        JobState: "10",
        ErrorCode: "32768",
        PercentComplete: "100",
        ErrorDescription: "d",
        DeleteOnCompletion: "false",
        Nested: null,
      },
    ]) {
      expect(jobFromInstance(toCimInstance(readInstance({ className: "Msvm_ConcreteJob", properties })))).toEqual({
        instanceId: "J",
        jobState: 10,
        errorCode: 32768,
        percentComplete: 100,
        errorDescription: "d",
      });
    }
  });
});

describe("results", () => {
  it("invokeKvp", () => {
    expect(readInvokeKvpResult({ returnValue: 0, job: null })).toEqual({ returnValue: 0, job: null });
    expect(readInvokeKvpResult({ returnValue: 4096, job: { className: "Msvm_ConcreteJob", instanceId: "J" } })).toEqual(
      { returnValue: 4096, job: { className: "Msvm_ConcreteJob", instanceId: "J" } },
    );
    expect(codeOf(() => readInvokeKvpResult({ returnValue: 4096, job: { instanceId: "J" } }))).toBe("invalid-answer");
    expect(codeOf(() => readInvokeKvpResult({ job: null }))).toBe("invalid-answer");
  });

  it("jobErrors: strings and instances", () => {
    expect(
      readJobErrorsResult({ returnValue: 0, errors: ["<INSTANCE/>", { className: "Msvm_Error", properties: {} }] }),
    ).toEqual({
      returnValue: 0,
      errors: ["<INSTANCE/>", { className: "Msvm_Error", properties: new Map() }],
    });
    expect(readJobErrorsResult({ returnValue: null, errors: [] })).toEqual({ returnValue: null, errors: [] });
    expect(codeOf(() => readJobErrorsResult({ returnValue: 0 }))).toBe("invalid-answer");
  });
});

it("PowerShellBridgeError carries its code and the bridge's failure", () => {
  const error = new PowerShellBridgeError("host-error", "m", { kind: "cim", message: "x" });
  expect(isPowerShellBridgeError(error, "host-error")).toBe(true);
  expect(isPowerShellBridgeError(error, "timeout")).toBe(false);
  expect(isPowerShellBridgeError(new Error("m"))).toBe(false);
  expect(error.failure).toEqual({ kind: "cim", message: "x" });
});
