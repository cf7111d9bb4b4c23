import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getProperty } from "./cim-instance.js";
import { fromCimXml } from "./from-cim-xml.js";
import { toCimXml } from "./to-cim-xml.js";
import { instance } from "../../test-support/cim/arbitraries.js";
import { EVERYTHING, EVERYTHING_XML } from "../../test-support/cim/everything.js";
import { thrown } from "@hyperv-kvp/test-support";
import { KvpError } from "../errors.js";

describe("fromCimXml: exact text", () => {
  it("reads it back to the same model", () => {
    expect(fromCimXml(EVERYTHING_XML)).toEqual(EVERYTHING);
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
    const error = thrown(() => fromCimXml(xml), KvpError);
    expect(error.code).toBe("invalid-cim");
    expect(error.message).toBe(message);
  });

  it("passes XML errors through with their codes", () => {
    expect(thrown(() => fromCimXml("<INSTANCE CLASSNAME='X'>"), KvpError).code).toBe("invalid-xml");
    expect(
      thrown(() => fromCimXml("<INSTANCE CLASSNAME='X'/>", { limits: { maxInputChars: 10 } }), KvpError).code,
    ).toBe("limit-exceeded");
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
