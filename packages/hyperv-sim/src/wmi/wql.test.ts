import type { WsmanInstance, WsmanValue } from "@hyperv-kvp/wsman";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { isSimError } from "../errors.js";
import { V2_RESOURCE_URI } from "./wmi-classes.js";
import { MAX_WQL_CONDITIONS, matchesConditions, parseWql, parseWqlStatement } from "./wql.js";

const GUID_A = "11111111-1111-4111-8111-111111111111";
const GUID_B = "22222222-2222-4222-8222-222222222222";

describe("parseWql", () => {
  it.each([
    ["SELECT * FROM Msvm_ComputerSystem", "Msvm_ComputerSystem", []],
    [
      'select * from Msvm_ComputerSystem where ElementName="web01"',
      "Msvm_ComputerSystem",
      [{ property: "ElementName", value: "web01" }],
    ],
    [
      "SELECT * FROM C WHERE A = 'x' AND B=\"y\"",
      "C",
      [
        { property: "A", value: "x" },
        { property: "B", value: "y" },
      ],
    ],
    ['SELECT * FROM C WHERE A="a\\"b\\\\c\\\'d"', "C", [{ property: "A", value: "a\"b\\c'd" }]],
    ["SELECT * FROM C WHERE A='it''s'", undefined, undefined],
    ["SELECT * FROM C WHERE EnabledState = 2", "C", [{ property: "EnabledState", value: "2" }]],
    ["  SELECT\t*\nFROM C  ", "C", []],
  ] as const)("%s", (query, className, conditions) => {
    if (className === undefined) {
      expect(() => parseWql(query)).toThrow(/invalid WQL query/);
      return;
    }
    expect(parseWql(query)).toEqual({ className, conditions });
  });

  it.each([
    "",
    "SELECT Name FROM C",
    "SELECT * FROM",
    "SELECT * FROM C WHERE",
    "SELECT * FROM C WHERE A",
    "SELECT * FROM C WHERE A = ",
    "SELECT * FROM C WHERE A = 'x' OR B = 'y'",
    "SELECT * FROM C WHERE A LIKE 'x%'",
    "SELECT * FROM C WHERE A <> 'x'",
    "SELECT * FROM C WHERE A = 'unterminated",
    "SELECT * FROM C WHERE A = 'bad \\n escape'",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'}",
    "SELECT * FROM C; DROP",
    "SELECT * FROM C WHERE A = 'x' AND",
    "SELECT * FROM C WHERE A = B",
    `SELECT * FROM C WHERE ${"A".repeat(5000)} = 'x'`,
    `SELECT * FROM C WHERE ${Array.from({ length: MAX_WQL_CONDITIONS + 1 }, (_, i) => `P${i} = '1'`).join(" AND ")}`,
  ])("refuses %j", (query) => {
    const error = thrown(() => parseWql(query));
    expect(isSimError(error, "invalid-argument")).toBe(true);
    expect((error as Error).message).toMatch(/^invalid WQL query: /);
  });

  it("never treats __proto__ specially", () => {
    expect(parseWql("SELECT * FROM __proto__ WHERE __proto__ = 'x'").conditions).toEqual([
      { property: "__proto__", value: "x" },
    ]);
  });
});

describe("parseWqlStatement", () => {
  const GUID = "11111111-1111-4111-8111-111111111111";

  it("parses the two ASSOCIATORS OF forms kvp-host sends (libvirt's route to the KVP setting data)", () => {
    expect(
      parseWqlStatement(
        `ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="${GUID}"} WHERE AssocClass=Msvm_SettingsDefineState ResultClass=Msvm_VirtualSystemSettingData`,
      ),
    ).toEqual({
      kind: "associators",
      sourceClass: "Msvm_ComputerSystem",
      sourceKeys: [
        { property: "CreationClassName", value: "Msvm_ComputerSystem" },
        { property: "Name", value: GUID },
      ],
      assocClass: "Msvm_SettingsDefineState",
      resultClass: "Msvm_VirtualSystemSettingData",
    });
    expect(
      parseWqlStatement(
        `associators of { Msvm_VirtualSystemSettingData.InstanceID = "Microsoft:${GUID}" } where ResultClass = Msvm_KvpExchangeComponentSettingData AssocClass = Msvm_VirtualSystemSettingDataComponent`,
      ),
    ).toEqual({
      kind: "associators",
      sourceClass: "Msvm_VirtualSystemSettingData",
      sourceKeys: [{ property: "InstanceID", value: `Microsoft:${GUID}` }],
      assocClass: "Msvm_VirtualSystemSettingDataComponent",
      resultClass: "Msvm_KvpExchangeComponentSettingData",
    });
  });

  it("still parses SELECT", () => {
    expect(parseWqlStatement("SELECT * FROM C WHERE A='x'")).toEqual({
      kind: "select",
      className: "C",
      conditions: [{ property: "A", value: "x" }],
    });
  });

  it.each([
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'}",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE AssocClass=A",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE ResultClass=R",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE AssocClass=A ResultClass=R Role=Dependent",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE AssocClass=A AssocClass=A ResultClass=R",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE AssocClass=A ResultClass=R ClassDefsOnly",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x' WHERE AssocClass=A ResultClass=R",
    "ASSOCIATORS OF {Msvm_ComputerSystem} WHERE AssocClass=A ResultClass=R",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name=x} WHERE AssocClass=A ResultClass=R",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x',} WHERE AssocClass=A ResultClass=R",
    "ASSOCIATORS OF {\\\\host\\root:Msvm_ComputerSystem.Name='x'} WHERE AssocClass=A ResultClass=R",
    "ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE AssocClass='A' ResultClass=R",
    "REFERENCES OF {Msvm_ComputerSystem.Name='x'} WHERE ResultClass=R",
    "SELECT * FROM C WHERE A = {",
    `ASSOCIATORS OF {C.${Array.from({ length: MAX_WQL_CONDITIONS + 1 }, (_, i) => `K${i}='1'`).join(",")}} WHERE AssocClass=A ResultClass=R`,
  ])("refuses %j", (query) => {
    expect(() => parseWqlStatement(query)).toThrow(/^invalid WQL query: /);
  });
});

describe("matchesConditions", () => {
  it("compares properties ignoring case, refuses unknown and array properties", () => {
    const c: WsmanInstance = {
      resourceUri: `${V2_RESOURCE_URI}/Msvm_KvpExchangeComponent`,
      className: "Msvm_KvpExchangeComponent",
      properties: new Map<string, WsmanValue>([
        ["SystemName", GUID_A],
        ["GuestExchangeItems", []],
      ]),
    };
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
});
