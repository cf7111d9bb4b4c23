/// <reference types="node" />
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { KvpError } from "../errors.js";
import { fromCimXml } from "./from-cim-xml.js";
import { toCimXml } from "./to-cim-xml.js";
import {
  JOB_STATES,
  KVP_COMPONENT_STATUS,
  RETURN_CODES,
  type WmiError,
  decodeWmiErrors,
  decodeWmiJob,
  describeJobFailure,
  describeReturnCode,
  describeWmiError,
  errorFromInstance,
  isJobFinished,
  isJobSuccessful,
  jobFromInstance,
  jobStateName,
} from "./wmi-error.js";

const FAILED_JOB =
  '<INSTANCE CLASSNAME="Msvm_ConcreteJob">' +
  '<PROPERTY NAME="Caption" TYPE="string"><VALUE>Adding KVP items</VALUE></PROPERTY>' +
  '<PROPERTY NAME="ErrorCode" TYPE="uint16"><VALUE>32773</VALUE></PROPERTY>' +
  '<PROPERTY NAME="ErrorDescription" TYPE="string"><VALUE>The key already exists.\r\n</VALUE></PROPERTY>' +
  '<PROPERTY NAME="ErrorSummaryDescription" TYPE="string"><VALUE>The key already exists.</VALUE></PROPERTY>' +
  '<PROPERTY NAME="InstanceID" TYPE="string"><VALUE>6A4E0B2C-0000-4000-8000-000000000001</VALUE></PROPERTY>' +
  '<PROPERTY NAME="JobState" TYPE="uint16"><VALUE>10</VALUE></PROPERTY>' +
  '<PROPERTY NAME="JobStatus" TYPE="string"><VALUE>Exception</VALUE></PROPERTY>' +
  '<PROPERTY NAME="PercentComplete" TYPE="uint16"><VALUE>100</VALUE></PROPERTY>' +
  '<PROPERTY NAME="StartTime" TYPE="datetime"><VALUE>20240131120000.000000-000</VALUE></PROPERTY>' +
  "</INSTANCE>";

const MSVM_ERROR =
  '<INSTANCE CLASSNAME="Msvm_Error">' +
  '<PROPERTY NAME="CIMStatusCode" TYPE="uint32"><VALUE>11</VALUE></PROPERTY>' +
  '<PROPERTY NAME="ErrorType" TYPE="uint16"><VALUE>4</VALUE></PROPERTY>' +
  "<PROPERTY NAME=\"Message\" TYPE=\"string\"><VALUE>'web01' failed to add KVP items: an item with key 'Role' already exists. (Virtual machine ID 7E7B2B4A)</VALUE></PROPERTY>" +
  '<PROPERTY.ARRAY NAME="MessageArguments" TYPE="string"><VALUE.ARRAY><VALUE>web01</VALUE><VALUE>Role</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>' +
  '<PROPERTY NAME="MessageID" TYPE="string"><VALUE>12345</VALUE></PROPERTY>' +
  '<PROPERTY NAME="OwningEntity" TYPE="string"><VALUE>Microsoft-Windows-Hyper-V-VMMS</VALUE></PROPERTY>' +
  '<PROPERTY NAME="PerceivedSeverity" TYPE="uint16"><VALUE>5</VALUE></PROPERTY>' +
  '<PROPERTY.ARRAY NAME="RecommendedActions" TYPE="string"><VALUE.ARRAY><VALUE>Use ModifyKvpItems.</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>' +
  "</INSTANCE>";

describe("tables", () => {
  it("has Hyper-V's documented numbers", () => {
    expect(Object.keys(RETURN_CODES).map(Number)).toEqual([
      0, 4096, 32768, 32769, 32770, 32771, 32772, 32773, 32774, 32775, 32776, 32777, 32778,
    ]);
    expect(Object.keys(JOB_STATES).map(Number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 32768]);
    expect(KVP_COMPONENT_STATUS[12]).toBe("No contact (no guest service)");
  });

  it.each([
    [0, "0 (completed)"],
    [4096, "4096 (job started)"],
    [32773, "32773 (invalid parameter)"],
    [32778, "32778 (out of memory)"],
    [5, "5 (unknown return code)"],
  ])("describeReturnCode(%d)", (code, text) => {
    expect(describeReturnCode(code)).toBe(text);
  });

  it.each([
    [4, "Running", false, false],
    [7, "Completed", true, true],
    [10, "Exception", true, false],
    [11, "Service", false, false],
    [32768, "Completed with Warnings", true, true],
    [99, "unknown state 99", false, false],
  ])("JobState %d is %s", (state, name, finished, ok) => {
    expect(jobStateName(state)).toBe(name);
    expect(isJobFinished(state)).toBe(finished);
    expect(isJobSuccessful(state)).toBe(ok);
  });

  it("does not find inherited names", () => {
    expect(jobStateName(Number("constructor"))).toBe("unknown state NaN");
  });
});

describe("reading jobs and errors", () => {
  it("reads an Msvm_ConcreteJob", () => {
    expect(decodeWmiJob(FAILED_JOB)).toEqual({
      instanceId: "6A4E0B2C-0000-4000-8000-000000000001",
      caption: "Adding KVP items",
      jobState: 10,
      jobStatus: "Exception",
      percentComplete: 100,
      errorCode: 32773,
      // A literal CRLF in XML text reads as LF (XML end-of-line handling).
      errorDescription: "The key already exists.\n",
      errorSummaryDescription: "The key already exists.",
    });
  });

  it("tolerates numbers with another type", () => {
    const job = jobFromInstance(
      fromCimXml(
        '<INSTANCE CLASSNAME="Msvm_ConcreteJob"><PROPERTY NAME="JobState" TYPE="string"><VALUE>7</VALUE></PROPERTY><PROPERTY NAME="ErrorCode" TYPE="uint32"><VALUE>0</VALUE></PROPERTY></INSTANCE>',
      ),
    );
    expect(job).toEqual({ jobState: 7, errorCode: 0 });
  });

  it("refuses a job without JobState", () => {
    const error = thrown(() => decodeWmiJob('<INSTANCE CLASSNAME="Msvm_ConcreteJob"></INSTANCE>'), KvpError);
    expect(error.code).toBe("invalid-cim");
    expect(error.message).toBe('invalid CIM: "Msvm_ConcreteJob" has no JobState');
  });

  it("reads Msvm_Error instances, keeping unreadable ones as explanations", () => {
    const [error, broken, notString] = decodeWmiErrors([MSVM_ERROR, "<INSTANCE", 7]);
    expect(error).toEqual({
      className: "Msvm_Error",
      message: "'web01' failed to add KVP items: an item with key 'Role' already exists. (Virtual machine ID 7E7B2B4A)",
      messageId: "12345",
      messageArguments: ["web01", "Role"],
      errorType: 4,
      perceivedSeverity: 5,
      recommendedActions: ["Use ModifyKvpItems."],
      owningEntity: "Microsoft-Windows-Hyper-V-VMMS",
      cimStatusCode: 11,
    });
    expect(broken?.message).toBe(
      "(unreadable error detail: invalid XML: unterminated start tag <INSTANCE> at line 1, column 1)",
    );
    expect(notString?.message).toBe("(unreadable error detail: invalid CIM: error entry is not a string)");
  });

  it("reads an Msvm_Error embedded as a string property (GetErrorEx's output)", () => {
    const outer = toCimXml({
      className: "__PARAMETERS",
      properties: [{ name: "Errors", type: "string", array: true, value: [MSVM_ERROR], embeddedObject: "instance" }],
    });
    const errors = fromCimXml(outer).properties[0]!.value as string[];
    expect(errorFromInstance(fromCimXml(errors[0]!)).messageId).toBe("12345");
  });
});

describe("describeJobFailure", () => {
  it("says what failed, once, with the error details", () => {
    const job = decodeWmiJob(FAILED_JOB);
    expect(describeJobFailure(job, decodeWmiErrors([MSVM_ERROR]))).toBe(
      'job "Adding KVP items" ended in state Exception (10): error 32773 (invalid parameter): The key already exists.: ' +
        "'web01' failed to add KVP items: an item with key 'Role' already exists. (Virtual machine ID 7E7B2B4A) [message ID 12345, CIM_ERR_ALREADY_EXISTS, Software Error]; recommended: Use ModifyKvpItems.",
    );
  });

  it.each<[string, Parameters<typeof describeJobFailure>[0], WmiError[], string]>([
    ["a bare job", { jobState: 8 }, [], "job ended in state Terminated (8)"],
    ["a running job", { jobState: 4, instanceId: "J1" }, [], 'job "J1" is in state Running (4)'],
    [
      "warnings",
      { jobState: 32768, elementName: "Modify" },
      [],
      'job "Modify" completed in state Completed with Warnings (32768)',
    ],
    [
      "control characters from the host",
      { jobState: 10, caption: "x\u001b[31mred", errorDescription: "line1\nline2\u009b2J" },
      [],
      'job "x [31mred" ended in state Exception (10): line1 line2 2J',
    ],
    [
      "an error that repeats the job's description",
      { jobState: 10, errorCode: 32768, errorDescription: "Failed." },
      [{ className: "Msvm_Error", message: "Failed.", messageId: "7", messageArguments: [], recommendedActions: [] }],
      "job ended in state Exception (10): error 32768 (failed): Failed. [message ID 7]",
    ],
    [
      "an error without a message",
      { jobState: 10 },
      [{ className: "Msvm_Error", messageArguments: [], recommendedActions: [] }],
      "job ended in state Exception (10): (no message)",
    ],
  ])("%s", (_, job, errors, text) => {
    expect(describeJobFailure(job, errors)).toBe(text);
  });

  it("describes one error on its own", () => {
    expect(
      describeWmiError({
        className: "Msvm_Error",
        message: "m",
        cimStatusCode: 99,
        messageArguments: [],
        recommendedActions: [],
      }),
    ).toBe("m [CIM status 99]");
  });
});
