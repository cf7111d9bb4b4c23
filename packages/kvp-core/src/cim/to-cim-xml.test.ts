/// <reference types="node" />
import { describe, expect, it } from "vitest";
import type { CimInstance } from "./cim-instance.js";
import type { CimInstancePath } from "./cim-types.js";
import { instancePathToCimXml, toCimXml } from "./to-cim-xml.js";
import { EVERYTHING, EVERYTHING_XML } from "../../test-support/cim/everything.js";
import { thrown } from "@hyperv-kvp/test-support";
import { KvpError } from "../errors.js";

describe("toCimXml: exact text", () => {
  it("writes every kind of property exactly", () => {
    expect(toCimXml(EVERYTHING)).toBe(EVERYTHING_XML);
  });

  it.each<[string, CimInstancePath, string]>([
    [
      "INSTANCENAME",
      { className: "C", keys: [{ name: "K", type: "uint32", value: 5 }] },
      '<INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="K"><KEYVALUE VALUETYPE="numeric" TYPE="uint32">5</KEYVALUE></KEYBINDING></INSTANCENAME>',
    ],
    [
      "LOCALINSTANCEPATH",
      { namespace: "root/cimv2", className: "C", keys: [{ name: "B", type: "boolean", value: false }] },
      '<LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="B"><KEYVALUE VALUETYPE="boolean" TYPE="boolean">FALSE</KEYVALUE></KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH>',
    ],
    ["singleton", { className: "S", keys: [] }, '<INSTANCENAME CLASSNAME="S"></INSTANCENAME>'],
    [
      "unnamed key",
      { className: "S", keys: [{ name: "", type: "string", value: "x" }] },
      '<INSTANCENAME CLASSNAME="S"><KEYVALUE VALUETYPE="string" TYPE="string">x</KEYVALUE></INSTANCENAME>',
    ],
  ])("writes %s", (_, path, xml) => {
    expect(instancePathToCimXml(path)).toBe(xml);
  });
});

describe("toCimXml: refuses what it cannot write exactly", () => {
  it.each<[string, CimInstance, string, string]>([
    [
      "bad class name",
      { className: "a b", properties: [] },
      "invalid-cim",
      'invalid CIM: class "a b" is not a CIM name',
    ],
    [
      "duplicate property",
      {
        className: "X",
        properties: [
          { name: "a", type: "string", value: null },
          { name: "A", type: "string", value: null },
        ],
      },
      "invalid-cim",
      'invalid CIM: property "A" appears twice',
    ],
    [
      "value of the wrong type",
      { className: "X", properties: [{ name: "n", type: "uint8", value: "1" as unknown as number }] },
      "invalid-cim",
      'invalid CIM: property "n" is not an integer (uint8)',
    ],
    [
      "control character",
      { className: "X", properties: [{ name: "s", type: "string", value: "a\u0001" }] },
      "invalid-text",
      'invalid text: property "s" has U+0001 at character 1, which XML 1.0 cannot carry',
    ],
    [
      "array element",
      { className: "X", properties: [{ name: "a", type: "sint8", array: true, value: [1, 200] }] },
      "invalid-cim",
      'invalid CIM: property "a"[1] 200 is out of range for sint8',
    ],
    [
      "host without namespace",
      {
        className: "X",
        properties: [{ name: "r", type: "reference", value: { host: "h", className: "C", keys: [] } }],
      },
      "invalid-cim",
      'invalid CIM: property "r" names a host but no namespace',
    ],
    [
      "unknown type",
      { className: "X", properties: [{ name: "t", type: "int" as "uint8", value: 1 }] },
      "invalid-cim",
      'invalid CIM: property "t" has type "int", not a CIM type',
    ],
  ])("%s", (_, inst, code, message) => {
    const error = thrown(() => toCimXml(inst), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });
});
