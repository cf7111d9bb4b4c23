/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CimInstancePath, CimKeyBinding } from "./cim-types.js";
import { xmlString } from "../../test-support/cim/arbitraries.js";
import {
  WSA_ANONYMOUS,
  type WsmanEpr,
  eprToPath,
  equalsIgnoreCase,
  formatWmiPath,
  parseWmiPath,
  pathToEpr,
  wmiPathEquals,
  wqlString,
} from "./wmi-path.js";
import { thrown } from "@hyperv-kvp/test-support";
import { KvpError } from "../errors.js";

const GUID = "7E7B2B4A-0C5E-4C3B-9D7A-1234567890AB";
const VM: CimInstancePath = {
  host: "HOST",
  namespace: "root/virtualization/v2",
  className: "Msvm_ComputerSystem",
  keys: [
    { name: "CreationClassName", type: "string", value: "Msvm_ComputerSystem" },
    { name: "Name", type: "string", value: GUID },
  ],
};
const VM_TEXT = `\\\\HOST\\root\\virtualization\\v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="${GUID}"`;

describe("parseWmiPath", () => {
  it.each<[string, string, CimInstancePath]>([
    ["Hyper-V's VM path", VM_TEXT, VM],
    [
      "forward slashes",
      `//HOST/root/virtualization/v2:Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='${GUID}'`,
      VM,
    ],
    [
      "mixed slashes",
      `\\\\HOST/root\\virtualization/v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem", Name = "${GUID}"`,
      VM,
    ],
    [
      "no server",
      `root\\virtualization\\v2:Msvm_ComputerSystem.Name="${GUID}"`,
      {
        namespace: "root/virtualization/v2",
        className: "Msvm_ComputerSystem",
        keys: [{ name: "Name", type: "string", value: GUID }],
      },
    ],
    [
      "no namespace",
      'Msvm_ConcreteJob.InstanceID="ABC"',
      { className: "Msvm_ConcreteJob", keys: [{ name: "InstanceID", type: "string", value: "ABC" }] },
    ],
    [
      "local server",
      '\\\\.\\root\\cimv2:Win32_Service.Name="x"',
      {
        host: ".",
        namespace: "root/cimv2",
        className: "Win32_Service",
        keys: [{ name: "Name", type: "string", value: "x" }],
      },
    ],
    [
      "escapes",
      String.raw`C.K="a\"b\\c:d.e=f,g'h"`,
      { className: "C", keys: [{ name: "K", type: "string", value: `a"b\\c:d.e=f,g'h` }] },
    ],
    [
      "single-quoted escapes",
      String.raw`C.K='it\'s "x"'`,
      { className: "C", keys: [{ name: "K", type: "string", value: `it's "x"` }] },
    ],
    [
      "numbers and booleans",
      "C.A=5,B=-7,C=0x1F,D=TRUE,E=false,F=1.5",
      {
        className: "C",
        keys: [
          { name: "A", type: "uint64", value: 5n },
          { name: "B", type: "sint64", value: -7n },
          { name: "C", type: "uint64", value: 31n },
          { name: "D", type: "boolean", value: true },
          { name: "E", type: "boolean", value: false },
          { name: "F", type: "real64", value: 1.5 },
        ],
      },
    ],
    ["singleton", "root:Setting=@", { namespace: "root", className: "Setting", keys: [] }],
    [
      "unnamed key",
      'Win32_LogicalDisk="C:"',
      { className: "Win32_LogicalDisk", keys: [{ name: "", type: "string", value: "C:" }] },
    ],
    ["surrounding whitespace", "  C.K=1  ", { className: "C", keys: [{ name: "K", type: "uint64", value: 1n }] }],
    [
      "__proto__ names are data",
      'ns:__proto__.constructor="x"',
      { namespace: "ns", className: "__proto__", keys: [{ name: "constructor", type: "string", value: "x" }] },
    ],
  ])("%s", (_, text, path) => {
    expect(parseWmiPath(text)).toEqual(path);
  });

  it.each<[string, string]>([
    ["", 'invalid WMI path: expected a class name at character 0 of ""'],
    [
      "Msvm_ComputerSystem",
      "invalid WMI path: expected '.Key=value' or '=@' after the class (a class path names no instance) at character 19 of \"Msvm_ComputerSystem\"",
    ],
    [
      '\\\\HOST\\C.K="x"',
      'invalid WMI path: a server part needs a namespace at character 7 of "\\\\\\\\HOST\\\\C.K=\\"x\\""',
    ],
    ["\\\\HOST", 'invalid WMI path: server part without a name and namespace at character 2 of "\\\\\\\\HOST"'],
    ['C.K="x', 'invalid WMI path: unterminated string at character 4 of "C.K=\\"x"'],
    [String.raw`C.K="C:\dir"`, 'invalid WMI path: unknown escape \\d at character 7 of "C.K=\\"C:\\\\dir\\""'],
    ['C.K="a",K="b"', 'invalid WMI path: key K given twice at character 8 of "C.K=\\"a\\",K=\\"b\\""'],
    ["C.K=yes", 'invalid WMI path: expected a quoted string, a number, TRUE or FALSE at character 4 of "C.K=yes"'],
    ['C.K="a" x', 'invalid WMI path: unexpected text after the keys at character 8 of "C.K=\\"a\\" x"'],
    [
      "C.K=99999999999999999999",
      'invalid WMI path: number 99999999999999999999 does not fit 64 bits at character 4 of "C.K=99999999999999999999"',
    ],
    ["root/:C=@", 'invalid WMI path: namespace segment "" is not a name at character 0 of "root/:C=@"'],
    ["C.=1", 'invalid WMI path: expected a key name at character 2 of "C.=1"'],
  ])("refuses %j", (text, message) => {
    const error = thrown(() => parseWmiPath(text), KvpError);
    expect(error.code).toBe("invalid-path");
    expect(error.message).toBe(message);
  });

  it("refuses very long text", () => {
    expect(thrown(() => parseWmiPath(`C.K="${"x".repeat(70_000)}"`), KvpError).code).toBe("limit-exceeded");
  });
});

describe("formatWmiPath", () => {
  it.each<[string, CimInstancePath, string]>([
    ["Hyper-V's VM path", VM, VM_TEXT],
    ["escapes", { className: "C", keys: [{ name: "K", type: "string", value: 'a"b\\c' }] }, String.raw`C.K="a\"b\\c"`],
    ["singleton", { namespace: "root/cimv2", className: "S", keys: [] }, "root\\cimv2:S=@"],
    ["unnamed key", { className: "D", keys: [{ name: "", type: "string", value: "C:" }] }, 'D="C:"'],
    [
      "typed keys",
      {
        className: "C",
        keys: [
          { name: "A", type: "uint16", value: 5 },
          { name: "B", type: "boolean", value: true },
          { name: "R", type: "real32", value: 0.5 },
          { name: "S", type: "sint64", value: -1n },
        ],
      },
      "C.A=5,B=TRUE,R=0.5,S=-1",
    ],
    [
      "a reference key",
      {
        className: "Assoc",
        keys: [
          {
            name: "Antecedent",
            type: "reference",
            value: { namespace: "root", className: "X", keys: [{ name: "N", type: "string", value: 'q"' }] },
          },
        ],
      },
      String.raw`Assoc.Antecedent="root:X.N=\"q\\\"\""`,
    ],
  ])("%s", (_, path, text) => {
    expect(formatWmiPath(path)).toBe(text);
  });

  it("writes forward slashes when asked", () => {
    expect(formatWmiPath(VM, { separator: "/" })).toBe(
      `//HOST/root/virtualization/v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="${GUID}"`,
    );
  });

  it.each<[string, CimInstancePath, string, string]>([
    [
      "host without namespace",
      { host: "H", className: "C", keys: [] },
      "invalid-path",
      "invalid WMI path: a host needs a namespace",
    ],
    ["bad class", { className: "a.b", keys: [] }, "invalid-path", 'invalid WMI path: class "a.b" is not a CIM name'],
    [
      "bad host",
      { host: "a\\b", namespace: "root", className: "C", keys: [] },
      "invalid-path",
      'invalid WMI path: host "a\\\\b" is not a server name',
    ],
    [
      "unnamed key beside others",
      {
        className: "C",
        keys: [
          { name: "", type: "string", value: "x" },
          { name: "K", type: "string", value: "y" },
        ],
      },
      "invalid-path",
      "invalid WMI path: an unnamed key must be the only key",
    ],
    [
      "duplicate key",
      {
        className: "C",
        keys: [
          { name: "K", type: "string", value: "x" },
          { name: "k", type: "string", value: "y" },
        ],
      },
      "invalid-path",
      "invalid WMI path: key k given twice",
    ],
    [
      "control character",
      { className: "C", keys: [{ name: "K", type: "string", value: "a\u0000" }] },
      "invalid-text",
      "invalid text: key K has U+0000 at character 1, which XML 1.0 cannot carry",
    ],
    [
      "wrong value type",
      { className: "C", keys: [{ name: "K", type: "uint8", value: 300 }] },
      "invalid-cim",
      "invalid CIM: key K 300 is out of range for uint8",
    ],
  ])("refuses %s", (_, path, code, message) => {
    const error = thrown(() => formatWmiPath(path), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it("round-trips generated paths (string, boolean and 64-bit integer keys)", () => {
    const key: fc.Arbitrary<Omit<CimKeyBinding, "name">> = fc.oneof(
      xmlString.map((value) => ({ type: "string" as const, value })),
      fc.boolean().map((value) => ({ type: "boolean" as const, value })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type: "uint64" as const, value })),
      fc.bigInt({ min: -(2n ** 63n), max: -1n }).map((value) => ({ type: "sint64" as const, value })),
    );
    const path = fc
      .record(
        {
          host: fc.constantFrom("HOST", "hv-01.example.test", "."),
          namespace: fc
            .array(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/), { minLength: 1, maxLength: 3 })
            .map((s) => s.join("/")),
          className: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/),
          keys: fc
            .uniqueArray(fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/), key), {
              maxLength: 4,
              selector: ([n]) => n.toUpperCase(),
            })
            .map((pairs) => pairs.map(([name, k]) => ({ name, ...k }) as CimKeyBinding)),
        },
        { requiredKeys: ["className", "keys"] },
      )
      .filter((p) => p.host === undefined || p.namespace !== undefined);
    fc.assert(
      fc.property(path, fc.constantFrom<"\\" | "/">("\\", "/"), (p, separator) => {
        expect(parseWmiPath(formatWmiPath(p, { separator }))).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });
});

describe("wmiPathEquals", () => {
  it.each<[string, string, string, boolean]>([
    ["same", VM_TEXT, VM_TEXT, true],
    ["case of everything but nothing else", VM_TEXT, VM_TEXT.toLowerCase(), true],
    [
      "slashes and key order",
      VM_TEXT,
      `//host/ROOT/virtualization/v2:msvm_computersystem.Name="${GUID.toLowerCase()}",creationclassname="MSVM_COMPUTERSYSTEM"`,
      true,
    ],
    ["other GUID", VM_TEXT, VM_TEXT.replace('AB"', 'AC"'), false],
    ["other host", VM_TEXT, VM_TEXT.replace("HOST", "HOST2"), false],
    ["host vs no host", VM_TEXT, VM_TEXT.replace("\\\\HOST\\", ""), false],
    ["missing key", VM_TEXT, `\\\\HOST\\root\\virtualization\\v2:Msvm_ComputerSystem.Name="${GUID}"`, false],
    ['5 and "5"', "C.K=5", 'C.K="5"', true],
    ["TRUE and true", "C.K=TRUE", "C.K=true", true],
    ["5 and 6", "C.K=5", "C.K=6", false],
    ["reference written as a string", String.raw`A.R="root:X.N=\"q\""`, String.raw`a.r="ROOT:x.n=\"q\""`, true],
  ])("%s", (_, a, b, equal) => {
    expect(wmiPathEquals(parseWmiPath(a), parseWmiPath(b))).toBe(equal);
    expect(wmiPathEquals(parseWmiPath(b), parseWmiPath(a))).toBe(equal);
  });

  it("can ignore the host", () => {
    expect(wmiPathEquals(VM, { ...VM, host: "other" }, { ignoreHost: true })).toBe(true);
    const { host: _, ...local } = VM;
    expect(wmiPathEquals(VM, local, { ignoreHost: true })).toBe(true);
  });

  it("compares references structurally", () => {
    const ref = (value: string): CimInstancePath => ({
      className: "A",
      keys: [{ name: "R", type: "reference", value: { className: "X", keys: [{ name: "N", type: "string", value }] } }],
    });
    expect(wmiPathEquals(ref("q"), ref("Q"))).toBe(true);
    expect(wmiPathEquals(ref("q"), ref("r"))).toBe(false);
    expect(wmiPathEquals(ref("q"), parseWmiPath('A.R="X.N=\\"q\\""'))).toBe(true);
    expect(wmiPathEquals(ref("q"), parseWmiPath('A.R="not a path"'))).toBe(false);
  });

  it("ignores case like Windows, not by changing lengths", () => {
    expect(equalsIgnoreCase("straße", "STRASSE")).toBe(false);
    expect(equalsIgnoreCase("Ärger", "äRGER")).toBe(true);
    expect(equalsIgnoreCase("ß", "ß")).toBe(true);
  });
});

describe("endpoint references", () => {
  const VM_EPR: WsmanEpr = {
    address: WSA_ANONYMOUS,
    resourceUri: "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem",
    selectors: [
      { name: "CreationClassName", value: "Msvm_ComputerSystem" },
      { name: "Name", value: GUID },
    ],
  };

  it("turns a VM path into Hyper-V's EPR (the host is the endpoint, not part of the EPR)", () => {
    expect(pathToEpr(VM)).toEqual(VM_EPR);
    expect(pathToEpr(VM, { address: "https://hv01:5986/wsman" }).address).toBe("https://hv01:5986/wsman");
  });

  it("turns the EPR back into the path", () => {
    const { host: _, ...local } = VM;
    expect(eprToPath(VM_EPR)).toEqual(local);
  });

  it("writes typed keys as selector text and references as nested EPRs", () => {
    const path: CimInstancePath = {
      namespace: "root/virtualization/v2",
      className: "Msvm_Assoc",
      keys: [
        { name: "Flag", type: "boolean", value: true },
        { name: "Count", type: "uint64", value: 12n },
        {
          name: "Target",
          type: "reference",
          value: {
            namespace: "root/virtualization/v2",
            className: "Msvm_ConcreteJob",
            keys: [{ name: "InstanceID", type: "string", value: "J1" }],
          },
        },
      ],
    };
    const epr = pathToEpr(path);
    expect(epr.selectors).toEqual([
      { name: "Flag", value: "true" },
      { name: "Count", value: "12" },
      {
        name: "Target",
        value: {
          address: WSA_ANONYMOUS,
          resourceUri: "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ConcreteJob",
          selectors: [{ name: "InstanceID", value: "J1" }],
        },
      },
    ]);
    expect(wmiPathEquals(eprToPath(epr), path)).toBe(true);
  });

  it("reads DMTF resource URIs with __cimnamespace", () => {
    expect(
      eprToPath({
        address: WSA_ANONYMOUS,
        resourceUri: "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem",
        selectors: [
          { name: "__cimnamespace", value: "root\\virtualization\\v2" },
          { name: "Name", value: "x" },
        ],
      }),
    ).toEqual({
      namespace: "root/virtualization/v2",
      className: "CIM_ComputerSystem",
      keys: [{ name: "Name", type: "string", value: "x" }],
    });
  });

  it.each<[string, () => unknown, string]>([
    [
      "a path without namespace",
      () => pathToEpr({ className: "C", keys: [] }),
      "invalid WMI path: C has no namespace, which the resource URI needs",
    ],
    [
      "an unnamed key",
      () => pathToEpr({ namespace: "root", className: "C", keys: [{ name: "", type: "string", value: "x" }] }),
      "invalid WMI path: a selector needs a key name (the unnamed short form has none)",
    ],
    [
      "a foreign URI",
      () => eprToPath({ address: WSA_ANONYMOUS, resourceUri: "http://example.test/x", selectors: [] }),
      'invalid WMI path: resource URI "http://example.test/x" is not a WMI or CIM class URI',
    ],
    [
      "a wildcard class",
      () =>
        eprToPath({
          address: WSA_ANONYMOUS,
          resourceUri: "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*",
          selectors: [],
        }),
      'invalid WMI path: class "*" is not a CIM name',
    ],
    [
      "a bad selector",
      () => eprToPath({ ...VM_EPR, selectors: [{ name: "a b", value: "x" }] }),
      'invalid WMI path: selector "a b" is not a CIM name',
    ],
    [
      "a duplicate selector",
      () =>
        eprToPath({
          ...VM_EPR,
          selectors: [
            { name: "N", value: "x" },
            { name: "n", value: "y" },
          ],
        }),
      "invalid WMI path: selector n given twice",
    ],
  ])("refuses %s", (_, fn, message) => {
    const error = thrown(fn, KvpError);
    expect(error.code).toBe("invalid-path");
    expect(error.message).toBe(message);
  });

  it("stops deeply nested EPRs", () => {
    let epr: WsmanEpr = VM_EPR;
    for (let i = 0; i < 20; i++) epr = { ...VM_EPR, selectors: [{ name: "R", value: epr }] };
    expect(thrown(() => eprToPath(epr), KvpError).message).toBe(
      "invalid WMI path: endpoint references nested more than 8 deep",
    );
  });
});

describe("wqlString", () => {
  it.each([
    ["web01", '"web01"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["C:\\VMs", '"C:\\\\VMs"'],
    ["it's", '"it\'s"'],
    ['\\" OR 1=1 --', '"\\\\\\" OR 1=1 --"'],
    ["", '""'],
  ])("%j → %s", (value, literal) => {
    expect(wqlString(value)).toBe(literal);
  });

  it("can never be closed early", () => {
    fc.assert(
      fc.property(xmlString, (value) => {
        const literal = wqlString(value);
        // Walk the literal as WQL does: the only unescaped quote is the last character.
        let i = 1;
        let decoded = "";
        while (i < literal.length - 1) {
          const ch = literal[i]!;
          expect(ch).not.toBe('"');
          if (ch === "\\") {
            decoded += literal[i + 1];
            i += 2;
          } else {
            decoded += ch;
            i++;
          }
        }
        expect(i).toBe(literal.length - 1);
        expect(decoded).toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses characters XML cannot carry", () => {
    const error = thrown(() => wqlString("vm\u0000"), KvpError);
    expect(error.code).toBe("invalid-text");
    expect(error.message).toBe("invalid text: WQL string has U+0000 at character 2, which XML 1.0 cannot carry");
  });
});
