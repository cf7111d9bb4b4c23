/// <reference types="node" />
// Test support only (excluded from the build): one CIM instance with every kind of property,
// qualifier and reference, and its exact CIM-XML, shared by the writer's and reader's tests.
import type { CimInstance } from "../../src/cim/cim-instance.js";
import { CimDateTime, type CimInstancePath } from "../../src/cim/cim-types.js";

/** A full instance path: host, namespace, class and two string keys. */
const VM_PATH: CimInstancePath = {
  host: "HV01",
  namespace: "root/virtualization/v2",
  className: "Msvm_ComputerSystem",
  keys: [
    { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
    { name: "Name", type: "string", value: "7E7B2B4A-0C5E-4C3B-9D7A-1234567890AB" },
  ],
};

/** Every CIM type, arrays, NULLs, an embedded object, references and qualifiers. */
export const EVERYTHING: CimInstance = {
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

/** {@link EVERYTHING} as toCimXml writes it, byte for byte. */
export const EVERYTHING_XML =
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
