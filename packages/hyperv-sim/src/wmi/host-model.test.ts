import {
  type CimInstancePath,
  decodeKvpItem,
  decodeWmiErrors,
  describeJobFailure,
  encodeKvpItem,
  jobFromInstance,
  type KvpItem,
} from "@hyperv-kvp/kvp-core/cim";
import { type WsmanInstance, valueAsArray } from "@hyperv-kvp/wsman";
import { thrown } from "@hyperv-kvp/test-support";
import { beforeEach, describe, expect, it } from "vitest";
import { isSimError } from "../errors.js";
import {
  COMPONENT_STATUS,
  HostModel,
  JOB_STATE,
  type KvpMethod,
  RETURN_VALUES,
  V2_NAMESPACE,
  matchesConditions,
} from "./host-model.js";

const GUID_A = "11111111-1111-4111-8111-111111111111";
const GUID_B = "22222222-2222-4222-8222-222222222222";

function target(guid: string, className = "Msvm_ComputerSystem"): CimInstancePath {
  return {
    namespace: V2_NAMESPACE,
    className,
    keys: [
      { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
      { name: "Name", type: "string", value: guid },
    ],
  };
}

const item = (name: string, data = "", source: KvpItem["source"] = "host") => encodeKvpItem({ name, data, source });

function jobAsWmi(model: HostModel, id: string) {
  const instance = model.concreteJob(model.findJob(id)!);
  const text = (n: string) => instance.properties.get(n) as string;
  return {
    instanceId: text("InstanceID"),
    caption: text("Caption"),
    jobState: Number(text("JobState")),
    errorCode: Number(text("ErrorCode")),
    errorDescription: text("ErrorDescription"),
  };
}

describe("HostModel", () => {
  let model: HostModel;
  let clock: number;
  let ids: number;
  beforeEach(() => {
    clock = 1_000_000;
    ids = 0;
    model = new HostModel({
      now: () => clock,
      newGuid: () => `AAAAAAAA-0000-4000-8000-${String(++ids).padStart(12, "0")}`,
    });
    model.addVm("web01", GUID_A.toLowerCase());
    model.addVm("web01", GUID_B);
  });

  function run(method: KvpMethod, items: string[], guid = GUID_A) {
    const outcome = model.invokeKvpMethod(method, target(guid), items);
    if (outcome.kind === "job") model.finishJob(outcome.job.instanceId, outcome.failure);
    return outcome;
  }

  it("keeps VMs with the same name apart by GUID (upper case)", () => {
    expect(model.vms.map((v) => [v.name, v.guid])).toEqual([
      ["web01", GUID_A],
      ["web01", GUID_B],
    ]);
    expect(() => model.addVm("x", GUID_B.toLowerCase())).toThrow(/already used/);
    expect(() => model.addVm("x", "not-a-guid")).toThrow(/invalid VM GUID/);
    expect(() => model.addVm(" ")).toThrow(/invalid VM name/);
    const systems = model.computerSystems();
    expect(systems[0]!.properties.get("Caption")).toBe("Hosting Computer System");
    expect(systems.filter((s) => matchesConditions(s, [{ property: "elementname", value: "WEB01" }]))).toHaveLength(2);
  });

  it("AddKvpItems: starts a job, yields SET operations for Source 0, keeps Source 4 host-only", () => {
    const outcome = model.invokeKvpMethod("AddKvpItems", target(GUID_A), [
      item("Role", "web"),
      item("Secret", "s", "host-only"),
    ]);
    expect(outcome.kind).toBe("job");
    if (outcome.kind !== "job") return;
    expect(outcome.failure).toBeUndefined();
    expect(outcome.operations).toEqual([{ kind: "set", vmGuid: GUID_A, key: "Role", value: "web" }]);
    expect(model.findJob(outcome.job.instanceId)!.state).toBe(JOB_STATE.running);
    model.finishJob(outcome.job.instanceId);
    expect(jobAsWmi(model, outcome.job.instanceId)).toMatchObject({ jobState: 7, errorCode: 0 });
    const setting = model.kvpSettingData(model.findVm(GUID_A)!);
    expect(valueAsArray(setting.properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x))).toMatchObject([
      { name: "Role", data: "web", source: "host" },
    ]);
    expect(valueAsArray(setting.properties.get("HostOnlyItems")).map((x) => decodeKvpItem(x))).toMatchObject([
      { name: "Secret", data: "s", source: "host-only" },
    ]);
    // The other VM of the same name is untouched.
    expect(model.findVm(GUID_B)!.hostItems.size).toBe(0);
  });

  it("Add of an existing key fails the job and applies nothing of the batch", () => {
    run("AddKvpItems", [item("Role", "web")]);
    const outcome = run("AddKvpItems", [item("New", "1"), item("Role", "db")]);
    expect(outcome.kind === "job" && outcome.operations).toEqual([]);
    const id = outcome.kind === "job" ? outcome.job.instanceId : "";
    const job = jobAsWmi(model, id);
    expect(job.jobState).toBe(JOB_STATE.exception);
    expect(job.errorCode).toBe(32773);
    expect(job.errorDescription).toMatch(
      /"Role" already exists on virtual machine "web01".*No item of this call was applied/,
    );
    expect([...model.findVm(GUID_A)!.hostItems]).toEqual([["Role", "web"]]);
    const errors = decodeWmiErrors(model.jobErrors(model.findJob(id)!));
    expect(errors[0]).toMatchObject({ cimStatusCode: 11, message: job.errorDescription });
    expect(
      describeJobFailure(
        jobFromInstance({
          className: "Msvm_ConcreteJob",
          properties: [
            { name: "JobState", type: "uint16", value: 10 },
            { name: "ErrorCode", type: "uint16", value: 32773 },
            { name: "ErrorDescription", type: "string", value: job.errorDescription },
          ],
        }),
        errors,
      ),
    ).toMatch(/already exists/);
  });

  it("Add of the same key twice in one batch fails", () => {
    const outcome = run("AddKvpItems", [item("K", "1"), item("K", "2")]);
    expect(outcome.kind === "job" && outcome.failure?.description).toMatch(/already exists/);
    expect(model.findVm(GUID_A)!.hostItems.size).toBe(0);
  });

  it("Modify and Remove fail if any key is missing; Remove matches on Name only", () => {
    run("AddKvpItems", [item("A", "1"), item("B", "2")]);
    const modifyMissing = run("ModifyKvpItems", [item("A", "x"), item("C", "y")]);
    expect(modifyMissing.kind === "job" && modifyMissing.failure?.description).toMatch(/"C" does not exist/);
    expect(model.findVm(GUID_A)!.hostItems.get("A")).toBe("1");
    const modify = run("ModifyKvpItems", [item("A", "x")]);
    expect(modify.kind === "job" && modify.operations).toEqual([{ kind: "set", vmGuid: GUID_A, key: "A", value: "x" }]);
    const removeMissing = run("RemoveKvpItems", [item("A"), item("Z")]);
    expect(removeMissing.kind === "job" && removeMissing.failure?.cimStatusCode).toBe(6);
    const remove = run("RemoveKvpItems", [item("A", "whatever data")]);
    expect(remove.kind === "job" && remove.operations).toEqual([{ kind: "delete", vmGuid: GUID_A, key: "A" }]);
    expect([...model.findVm(GUID_A)!.hostItems.keys()]).toEqual(["B"]);
    // Keys are case-sensitive.
    const wrongCase = run("RemoveKvpItems", [item("b")]);
    expect(wrongCase.kind === "job" && wrongCase.failure).toBeTruthy();
  });

  it.each([
    [
      "129 items",
      () =>
        model.invokeKvpMethod(
          "AddKvpItems",
          target(GUID_A),
          Array.from({ length: 129 }, (_, i) => item(`k${i}`)),
        ),
      /at most 128/,
    ],
    ["no target", () => model.invokeKvpMethod("AddKvpItems", undefined, [item("a")]), /missing/],
    [
      "unknown VM",
      () => model.invokeKvpMethod("AddKvpItems", target("33333333-3333-4333-8333-333333333333"), [item("a")]),
      /names no virtual machine/,
    ],
    [
      "wrong class",
      () => model.invokeKvpMethod("AddKvpItems", target(GUID_A, "Msvm_ConcreteJob"), [item("a")]),
      /not a Msvm_ComputerSystem/,
    ],
    [
      "guest source",
      () => model.invokeKvpMethod("AddKvpItems", target(GUID_A), [item("a", "", "guest")]),
      /Source guest/,
    ],
    ["garbage item", () => model.invokeKvpMethod("AddKvpItems", target(GUID_A), ["<INSTANCE"]), /DataItems\[0\]/],
    [
      "empty name",
      () =>
        model.invokeKvpMethod("AddKvpItems", target(GUID_A), [
          '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>x</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE></VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY></INSTANCE>',
        ]),
      /DataItems\[0\]/,
    ],
  ] as const)("rejects %s with 32773 and no job", (_, call, reason) => {
    const outcome = call();
    expect(outcome).toMatchObject({ kind: "rejected", returnValue: RETURN_VALUES.invalidParameter });
    expect(outcome.kind === "rejected" && outcome.reason).toMatch(reason);
    expect(model.jobList).toHaveLength(0);
  });

  it("accepts exactly 128 items", () => {
    const outcome = run(
      "AddKvpItems",
      Array.from({ length: 128 }, (_, i) => item(`k${i}`, "v")),
    );
    expect(outcome.kind === "job" && outcome.operations.length).toBe(128);
  });

  it("forgets finished jobs after the retention time, keeps running ones", () => {
    const done = run("AddKvpItems", [item("a")]);
    const running = model.invokeKvpMethod("AddKvpItems", target(GUID_B), [item("b")]);
    const doneId = done.kind === "job" ? done.job.instanceId : "";
    const runningId = running.kind === "job" ? running.job.instanceId : "";
    expect(model.findJob(doneId.toLowerCase())).toBeDefined();
    clock += 5 * 60_000 + 1;
    expect(model.findJob(doneId)).toBeUndefined();
    expect(model.findJob(runningId)?.state).toBe(JOB_STATE.running);
    model.finishJob(runningId, { errorCode: 32768, description: "x", cimStatusCode: 1 });
    model.finishJob(runningId); // a finished job stays as it ended
    expect(model.findJob(runningId)?.state).toBe(JOB_STATE.exception);
    expect(model.jobErrors(model.findJob(runningId)!)).toHaveLength(1);
  });

  it("serves the component with guest items, and No contact when the daemon is stopped", () => {
    const vm = model.findVm(GUID_A)!;
    const component = model.kvpComponent(vm, [{ key: "g", value: "1" }], [{ key: "OSName", value: "Debian" }]);
    const p = component.properties;
    expect(p.get("SystemName")).toBe(GUID_A);
    expect(p.get("OperationalStatus")).toEqual([String(COMPONENT_STATUS.ok)]);
    expect(decodeKvpItem((p.get("GuestExchangeItems") as string[])[0]!)).toMatchObject({
      name: "g",
      data: "1",
      source: "guest",
    });
    expect(decodeKvpItem((p.get("GuestIntrinsicExchangeItems") as string[])[0]!)).toMatchObject({
      name: "OSName",
      source: "intrinsic",
    });
    vm.running = false;
    expect(model.kvpComponent(vm).properties.get("OperationalStatus")).toEqual(["12"]);
    expect(model.computerSystem(vm).properties.get("EnabledState")).toBe("3");
  });

  it("matchesConditions refuses unknown and array properties", () => {
    const c: WsmanInstance = model.kvpComponent(model.findVm(GUID_A)!);
    expect(matchesConditions(c, [{ property: "systemname", value: GUID_A.toLowerCase() }])).toBe(true);
    expect(matchesConditions(c, [{ property: "SystemName", value: GUID_B }])).toBe(false);
    expect(() => matchesConditions(c, [{ property: "Nope", value: "x" }])).toThrow(/has no property Nope/);
    expect(() => matchesConditions(c, [{ property: "GuestExchangeItems", value: "x" }])).toThrow(/array/);
    expect(
      isSimError(
        thrown(() => matchesConditions(c, [{ property: "__proto__", value: "x" }])),
        "invalid-argument",
      ),
    ).toBe(true);
  });

  it("answers the ASSOCIATORS OF route from a VM to its KVP setting data, and nothing else", () => {
    model.invokeKvpMethod("AddKvpItems", target(GUID_A), [item("Role", "web")]);
    const cs = {
      sourceClass: "msvm_computersystem",
      assocClass: "Msvm_SettingsDefineState",
      resultClass: "Msvm_VirtualSystemSettingData",
    };
    const [settings, ...more] = model.associators({
      ...cs,
      sourceKeys: [
        { property: "CreationClassName", value: "Msvm_ComputerSystem" },
        { property: "name", value: GUID_A.toLowerCase() },
      ],
    });
    expect(more).toEqual([]);
    expect(settings!.className).toBe("Msvm_VirtualSystemSettingData");
    expect(settings!.properties.get("InstanceID")).toBe(`Microsoft:${GUID_A}`);
    expect(settings!.properties.get("VirtualSystemType")).toBe("Microsoft:Hyper-V:System:Realized");
    const kvp = {
      sourceClass: "Msvm_VirtualSystemSettingData",
      assocClass: "Msvm_VirtualSystemSettingDataComponent",
      resultClass: "Msvm_KvpExchangeComponentSettingData",
    };
    const [data] = model.associators({
      ...kvp,
      sourceKeys: [{ property: "InstanceID", value: `Microsoft:${GUID_A}` }],
    });
    expect(valueAsArray(data!.properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x).name)).toEqual(["Role"]);
    // Paths that name no VM give nothing.
    expect(
      model.associators({
        ...cs,
        sourceKeys: [
          { property: "CreationClassName", value: "Msvm_ComputerSystem" },
          { property: "Name", value: "HV-HOST01" },
        ],
      }),
    ).toEqual([]);
    expect(model.associators({ ...kvp, sourceKeys: [{ property: "InstanceID", value: "Microsoft:nope" }] })).toEqual(
      [],
    );
    // Anything else is refused.
    for (const query of [
      { ...cs, sourceKeys: [{ property: "Name", value: GUID_A }] },
      {
        ...cs,
        sourceKeys: [
          { property: "Name", value: GUID_A },
          { property: "Name", value: GUID_A },
        ],
      },
      {
        ...cs,
        sourceKeys: [
          { property: "CreationClassName", value: "Msvm_ComputerSystem" },
          { property: "Name", value: GUID_A },
          { property: "X", value: "1" },
        ],
      },
      {
        ...cs,
        resultClass: "Msvm_KvpExchangeComponentSettingData",
        sourceKeys: [
          { property: "CreationClassName", value: "Msvm_ComputerSystem" },
          { property: "Name", value: GUID_A },
        ],
      },
      {
        ...kvp,
        assocClass: "Msvm_SettingsDefineState",
        sourceKeys: [{ property: "InstanceID", value: `Microsoft:${GUID_A}` }],
      },
      { ...kvp, sourceKeys: [{ property: "ElementName", value: "web01" }] },
    ]) {
      expect(() => model.associators(query)).toThrow(/^invalid WQL query: /);
    }
  });

  it("removeVm and adoptVm move a VM with its host items; adoptVm refuses a GUID in use", () => {
    run("AddKvpItems", [item("Role", "web"), item("Secret", "s", "host-only")]);
    const other = new HostModel({ hostName: "HV02" });
    const vm = model.removeVm(GUID_A.toLowerCase())!;
    expect(model.removeVm(GUID_A)).toBeUndefined();
    expect(model.vms.map((v) => v.guid)).toEqual([GUID_B]);
    expect(other.adoptVm(vm)).toBe(vm);
    expect(other.computerSystems().map((s) => s.properties.get("Name"))).toEqual(["HV02", GUID_A]);
    expect(
      valueAsArray(other.kvpSettingData(vm).properties.get("HostExchangeItems")).map((x) => decodeKvpItem(x).name),
    ).toEqual(["Role"]);
    expect(
      valueAsArray(other.kvpSettingData(vm).properties.get("HostOnlyItems")).map((x) => decodeKvpItem(x).name),
    ).toEqual(["Secret"]);
    expect(() => other.adoptVm(vm)).toThrow(/already used/);
    expect(() => other.adoptVm({ ...vm, guid: "nope" })).toThrow(/invalid VM GUID/);
  });
});
