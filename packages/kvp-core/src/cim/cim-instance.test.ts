/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CimInstance, fromCimXml, getProperty, instancePathToCimXml, toCimXml } from "./cim-instance.js";
import { CimDateTime, type CimInstancePath } from "./cim-types.js";
import { instance, instancePath } from "../../test-support/cim/arbitraries.js";
import { validateAgainstDtd, xmllintStatus } from "../../test-support/cim/xmllint.js";
import { catchKvpError } from "../../test-support/errors.js";

const VM_PATH: CimInstancePath = {
  host: "HV01",
  namespace: "root/virtualization/v2",
  className: "Msvm_ComputerSystem",
  keys: [
    { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
    { name: "Name", type: "string", value: "7E7B2B4A-0C5E-4C3B-9D7A-1234567890AB" },
  ],
};

const EVERYTHING: CimInstance = {
  className: "Test_Everything",
  lang: "en-US",
  qualifiers: [{ name: "Description", type: "string", value: "all of it", translatable: true }],
  properties: [
    { name: "B", type: "boolean", value: true },
    { name: "S", type: "string", value: 'a<b & "c" ]]> \r\n', propagated: true, classOrigin: "CIM_Thing" },
    { name: "C", type: "char16", value: "\t" },
    { name: "U8", type: "uint8", value: 255 },
    { name: "S64", type: "sint64", value: -9223372036854775808n },
    { name: "U64", type: "uint64", value: 18446744073709551615n },
    { name: "R32", type: "real32", value: Math.fround(0.1) },
    { name: "R64", type: "real64", value: -0 },
    { name: "D", type: "datetime", value: CimDateTime.parse("20240131120000.000000+060") },
    { name: "Null", type: "uint32", value: null },
    { name: "A", type: "uint16", array: true, value: [1, null, 3], arraySize: 3 },
    { name: "Empty", type: "string", array: true, value: [] },
    { name: "NullArray", type: "string", array: true, value: null },
    { name: "E", type: "string", value: '<INSTANCE CLASSNAME="Msvm_Error"></INSTANCE>', embeddedObject: "instance" },
    { name: "Ref", type: "reference", value: VM_PATH, referenceClass: "CIM_ComputerSystem" },
    { name: "NullRef", type: "reference", value: null },
    {
      name: "Q",
      type: "string",
      value: "q",
      qualifiers: [
        { name: "Key", type: "boolean", value: true, overridable: false },
        { name: "Values", type: "string", array: true, value: ["x", null] },
        { name: "Nothing", type: "sint32", value: null },
      ],
    },
  ],
};

const EVERYTHING_XML =
  '<INSTANCE CLASSNAME="Test_Everything" xml:lang="en-US">' +
  '<QUALIFIER NAME="Description" TYPE="string" TRANSLATABLE="true"><VALUE>all of it</VALUE></QUALIFIER>' +
  '<PROPERTY NAME="B" TYPE="boolean"><VALUE>TRUE</VALUE></PROPERTY>' +
  '<PROPERTY NAME="S" CLASSORIGIN="CIM_Thing" PROPAGATED="true" TYPE="string"><VALUE>a&lt;b &amp; "c" ]]&gt; &#13;\n</VALUE></PROPERTY>' +
  '<PROPERTY NAME="C" TYPE="char16"><VALUE>\t</VALUE></PROPERTY>' +
  '<PROPERTY NAME="U8" TYPE="uint8"><VALUE>255</VALUE></PROPERTY>' +
  '<PROPERTY NAME="S64" TYPE="sint64"><VALUE>-9223372036854775808</VALUE></PROPERTY>' +
  '<PROPERTY NAME="U64" TYPE="uint64"><VALUE>18446744073709551615</VALUE></PROPERTY>' +
  '<PROPERTY NAME="R32" TYPE="real32"><VALUE>0.1</VALUE></PROPERTY>' +
  '<PROPERTY NAME="R64" TYPE="real64"><VALUE>-0.0</VALUE></PROPERTY>' +
  '<PROPERTY NAME="D" TYPE="datetime"><VALUE>20240131120000.000000+060</VALUE></PROPERTY>' +
  '<PROPERTY NAME="Null" TYPE="uint32"></PROPERTY>' +
  '<PROPERTY.ARRAY NAME="A" TYPE="uint16" ARRAYSIZE="3"><VALUE.ARRAY><VALUE>1</VALUE><VALUE.NULL/><VALUE>3</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>' +
  '<PROPERTY.ARRAY NAME="Empty" TYPE="string"><VALUE.ARRAY></VALUE.ARRAY></PROPERTY.ARRAY>' +
  '<PROPERTY.ARRAY NAME="NullArray" TYPE="string"></PROPERTY.ARRAY>' +
  '<PROPERTY NAME="E" TYPE="string" EmbeddedObject="instance"><VALUE>&lt;INSTANCE CLASSNAME="Msvm_Error"&gt;&lt;/INSTANCE&gt;</VALUE></PROPERTY>' +
  '<PROPERTY.REFERENCE NAME="Ref" REFERENCECLASS="CIM_ComputerSystem"><VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>HV01</HOST>' +
  '<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="virtualization"/><NAMESPACE NAME="v2"/></LOCALNAMESPACEPATH></NAMESPACEPATH>' +
  '<INSTANCENAME CLASSNAME="Msvm_ComputerSystem"><KEYBINDING NAME="CreationClassName"><KEYVALUE VALUETYPE="string" TYPE="string">Msvm_ComputerSystem</KEYVALUE></KEYBINDING>' +
  '<KEYBINDING NAME="Name"><KEYVALUE VALUETYPE="string" TYPE="string">7E7B2B4A-0C5E-4C3B-9D7A-1234567890AB</KEYVALUE></KEYBINDING></INSTANCENAME></INSTANCEPATH></VALUE.REFERENCE></PROPERTY.REFERENCE>' +
  '<PROPERTY.REFERENCE NAME="NullRef"></PROPERTY.REFERENCE>' +
  '<PROPERTY NAME="Q" TYPE="string"><QUALIFIER NAME="Key" TYPE="boolean" OVERRIDABLE="false"><VALUE>TRUE</VALUE></QUALIFIER>' +
  '<QUALIFIER NAME="Values" TYPE="string"><VALUE.ARRAY><VALUE>x</VALUE><VALUE.NULL/></VALUE.ARRAY></QUALIFIER>' +
  '<QUALIFIER NAME="Nothing" TYPE="sint32"></QUALIFIER><VALUE>q</VALUE></PROPERTY>' +
  "</INSTANCE>";

describe("toCimXml / fromCimXml: exact text", () => {
  it("writes every kind of property exactly", () => {
    expect(toCimXml(EVERYTHING)).toBe(EVERYTHING_XML);
  });

  it("reads it back to the same model", () => {
    expect(fromCimXml(EVERYTHING_XML)).toEqual(EVERYTHING);
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

describe("fromCimXml: tolerant reading", () => {
  const one = (inner: string) => `<INSTANCE CLASSNAME="X">${inner}</INSTANCE>`;

  it.each<[string, string, unknown]>([
    [
      "PROPAGATED and TYPE in any case",
      '<PROPERTY NAME="p" PROPAGATED="TRUE" TYPE="UInt16"><VALUE>7</VALUE></PROPERTY>',
      { name: "p", type: "uint16", value: 7, propagated: true },
    ],
    [
      "VALUE.NULL in a PROPERTY",
      '<PROPERTY NAME="p" TYPE="string"><VALUE.NULL/></PROPERTY>',
      { name: "p", type: "string", value: null },
    ],
    [
      "EMBEDDEDOBJECT spelling",
      '<PROPERTY NAME="p" TYPE="string" EMBEDDEDOBJECT="object"></PROPERTY>',
      { name: "p", type: "string", value: null, embeddedObject: "object" },
    ],
    [
      "qualifier after the value",
      '<PROPERTY NAME="p" TYPE="string"><VALUE>v</VALUE><QUALIFIER NAME="q" TYPE="string"><VALUE>x</VALUE></QUALIFIER></PROPERTY>',
      { name: "p", type: "string", value: "v", qualifiers: [{ name: "q", type: "string", value: "x" }] },
    ],
    [
      "unreadable qualifier dropped",
      '<PROPERTY NAME="p" TYPE="string"><QUALIFIER NAME="q" TYPE="nonsense"><VALUE>x</VALUE></QUALIFIER><QUALIFIER NAME="r" TYPE="uint8"><VALUE>999</VALUE></QUALIFIER><VALUE>v</VALUE></PROPERTY>',
      { name: "p", type: "string", value: "v" },
    ],
    [
      "whitespace between elements",
      '\n  <PROPERTY NAME="p" TYPE="sint8">\n <VALUE> -3 </VALUE>\n</PROPERTY>\n',
      { name: "p", type: "sint8", value: -3 },
    ],
    [
      "unknown attributes ignored",
      '<PROPERTY NAME="p" TYPE="string" FOO="bar"><VALUE>v</VALUE></PROPERTY>',
      { name: "p", type: "string", value: "v" },
    ],
    [
      "untyped numeric key",
      '<PROPERTY.REFERENCE NAME="r"><VALUE.REFERENCE><INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="Id"><KEYVALUE VALUETYPE="numeric">-5</KEYVALUE></KEYBINDING><KEYBINDING NAME="N"><KEYVALUE>x</KEYVALUE></KEYBINDING></INSTANCENAME></VALUE.REFERENCE></PROPERTY.REFERENCE>',
      {
        name: "r",
        type: "reference",
        value: {
          className: "C",
          keys: [
            { name: "Id", type: "sint64", value: -5n },
            { name: "N", type: "string", value: "x" },
          ],
        },
      },
    ],
    [
      "__proto__ as a property name",
      '<PROPERTY NAME="__proto__" TYPE="string"><VALUE>x</VALUE></PROPERTY>',
      { name: "__proto__", type: "string", value: "x" },
    ],
  ])("%s", (_, inner, property) => {
    expect(fromCimXml(one(inner)).properties).toEqual([property]);
  });

  it("skips qualifiers when asked", () => {
    expect(fromCimXml(EVERYTHING_XML, { qualifiers: "skip" }).qualifiers).toBeUndefined();
    expect(getProperty(fromCimXml(EVERYTHING_XML, { qualifiers: "skip" }), "q")?.qualifiers).toBeUndefined();
  });

  it("finds properties ignoring case", () => {
    const inst = fromCimXml(EVERYTHING_XML);
    expect(getProperty(inst, "u64")?.value).toBe(18446744073709551615n);
    expect(getProperty(inst, "missing")).toBeUndefined();
  });

  it.each<[string, string, string]>([
    [
      "another root",
      "<CLASS NAME='X'/>",
      "invalid CIM: expected INSTANCE as the root element (<CLASS> at line 1, column 1)",
    ],
    ["no CLASSNAME", "<INSTANCE/>", "invalid CIM: missing CLASSNAME (<INSTANCE> at line 1, column 1)"],
    [
      "bad CLASSNAME",
      "<INSTANCE CLASSNAME='1x'/>",
      'invalid CIM: CLASSNAME "1x" is not a CIM name (<INSTANCE> at line 1, column 1)',
    ],
    ["no TYPE", one('<PROPERTY NAME="p"/>'), 'invalid CIM: property "p" has no TYPE (<PROPERTY> at line 1, column 25)'],
    [
      "reference TYPE on PROPERTY",
      one('<PROPERTY NAME="p" TYPE="reference"/>'),
      'invalid CIM: property "p" has TYPE "reference", not a CIM type (<PROPERTY> at line 1, column 25)',
    ],
    [
      "bad value",
      one('<PROPERTY NAME="p" TYPE="uint8"><VALUE>300</VALUE></PROPERTY>'),
      'invalid CIM: property "p" "300" is out of range for uint8 (0 to 255) (<VALUE> at line 1, column 57)',
    ],
    [
      "two values",
      one('<PROPERTY NAME="p" TYPE="string"><VALUE>a</VALUE><VALUE>b</VALUE></PROPERTY>'),
      'invalid CIM: property "p" has more than one value (<VALUE> at line 1, column 74)',
    ],
    [
      "duplicate property",
      one('<PROPERTY NAME="p" TYPE="string"/><PROPERTY NAME="P" TYPE="string"/>'),
      'invalid CIM: property "P" appears twice (<PROPERTY> at line 1, column 59)',
    ],
    [
      "unknown element",
      one("<METHOD NAME='m'/>"),
      "invalid CIM: unexpected <METHOD> in INSTANCE (<METHOD> at line 1, column 25)",
    ],
    [
      "text in INSTANCE",
      one("hello"),
      'invalid CIM: text "hello" where only elements belong (<INSTANCE> at line 1, column 1)',
    ],
    [
      "element in VALUE",
      one('<PROPERTY NAME="p" TYPE="string"><VALUE><b/></VALUE></PROPERTY>'),
      "invalid CIM: element <b> inside a text-only element (<VALUE> at line 1, column 58)",
    ],
    [
      "class reference",
      one('<PROPERTY.REFERENCE NAME="r"><VALUE.REFERENCE><CLASSNAME NAME="C"/></VALUE.REFERENCE></PROPERTY.REFERENCE>'),
      'invalid CIM: property "r" points to a class; only instance references are supported (<CLASSNAME> at line 1, column 71)',
    ],
    [
      "bad PROPAGATED",
      one('<PROPERTY NAME="p" TYPE="string" PROPAGATED="yes"/>'),
      'invalid CIM: PROPAGATED "yes" is not true or false (<PROPERTY> at line 1, column 25)',
    ],
    [
      "duplicate key",
      one(
        '<PROPERTY.REFERENCE NAME="r"><VALUE.REFERENCE><INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="k"><KEYVALUE>1</KEYVALUE></KEYBINDING><KEYBINDING NAME="K"><KEYVALUE>2</KEYVALUE></KEYBINDING></INSTANCENAME></VALUE.REFERENCE></PROPERTY.REFERENCE>',
      ),
      'invalid CIM: property "r" has key "K" twice (<KEYBINDING> at line 1, column 155)',
    ],
  ])("refuses %s", (_, xml, message) => {
    const error = catchKvpError(() => fromCimXml(xml));
    expect(error.code).toBe("invalid-cim");
    expect(error.message).toBe(message);
  });

  it("passes XML errors through with their codes", () => {
    expect(catchKvpError(() => fromCimXml("<INSTANCE CLASSNAME='X'>")).code).toBe("invalid-xml");
    expect(catchKvpError(() => fromCimXml("<INSTANCE CLASSNAME='X'/>", { limits: { maxInputChars: 10 } })).code).toBe(
      "limit-exceeded",
    );
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
    const error = catchKvpError(() => toCimXml(inst));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });
});

describe("round trips", () => {
  it("model → XML → model is the identity over generated instances", () => {
    fc.assert(
      fc.property(instance, (inst) => {
        expect(fromCimXml(toCimXml(inst))).toEqual(inst);
      }),
      { numRuns: 400 },
    );
  });

  it("XML → model → XML is stable for what we write", () => {
    fc.assert(
      fc.property(instance, (inst) => {
        const xml = toCimXml(inst);
        expect(toCimXml(fromCimXml(xml))).toBe(xml);
      }),
      { numRuns: 200 },
    );
  });
});

describe("DTD validation (xmllint --dtdvalid DSP0203_2.4.0.dtd)", () => {
  const status = xmllintStatus();
  it.runIf(status.run)("accepts everything toCimXml and instancePathToCimXml write", () => {
    const documents = [
      EVERYTHING_XML,
      ...fc.sample(instance, { numRuns: 300, seed: 42 }).map(toCimXml),
      ...fc.sample(instancePath(2), { numRuns: 100, seed: 7 }).map((p) => instancePathToCimXml(p)),
    ];
    expect(validateAgainstDtd(documents)).toEqual([]);
  });

  it.runIf(status.run)("is a real check: it rejects an invalid document", () => {
    const failures = validateAgainstDtd([
      '<INSTANCE CLASSNAME="X"><PROPERTY NAME="p" TYPE="reference"></PROPERTY></INSTANCE>',
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.output).toContain("TYPE");
  });
});
