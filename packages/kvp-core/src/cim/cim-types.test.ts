/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CIM_TYPES,
  CimDateTime,
  type CimScalarType,
  formatCimReal,
  formatCimValue,
  isCimName,
  isCimType,
  parseCimValue,
} from "./cim-types.js";
import { scalarType, valuesOf } from "../../test-support/cim/arbitraries.js";
import { thrown } from "@hyperv-kvp/test-support";
import { KvpError } from "../errors.js";

describe("parseCimValue: text → value", () => {
  it.each<[CimScalarType, string, unknown]>([
    ["boolean", "TRUE", true],
    ["boolean", "false", false],
    ["boolean", " True\n", true],
    ["boolean", "1", true],
    ["string", " keeps  spaces \n", " keeps  spaces \n"],
    ["string", "", ""],
    ["char16", "x", "x"],
    ["char16", "\r", "\r"],
    ["uint8", "255", 255],
    ["uint8", "0x0F", 15],
    ["sint8", "-128", -128],
    ["uint16", " 2 ", 2],
    ["uint16", "+00002", 2],
    ["sint32", "-2147483648", -2147483648],
    ["uint32", "4294967295", 4294967295],
    ["uint64", "18446744073709551615", 18446744073709551615n],
    ["uint64", "0xFFFFFFFFFFFFFFFF", 18446744073709551615n],
    ["sint64", "-9223372036854775808", -9223372036854775808n],
    ["sint64", "0", 0n],
    ["real64", "1.5", 1.5],
    ["real64", "-0.0", -0],
    ["real64", "1e3", 1000],
    ["real64", ".5", 0.5],
    ["real64", "INF", Number.POSITIVE_INFINITY],
    ["real64", "-inf", Number.NEGATIVE_INFINITY],
    ["real64", "NaN", Number.NaN],
    ["real32", "0.1", Math.fround(0.1)],
    ["real32", "3.4028235e38", Math.fround(3.4028235e38)],
    ["real32", "1e-46", 0],
  ])("%s %j", (type, text, value) => {
    expect(parseCimValue(type, text)).toEqual(value);
  });

  it.each<[CimScalarType, string, string]>([
    ["boolean", "yes", 'invalid CIM: value "yes" is not a boolean (TRUE or FALSE)'],
    ["char16", "ab", 'invalid CIM: value "ab" is not one char16 (one UTF-16 code unit, not a surrogate)'],
    ["char16", "😀", 'invalid CIM: value "😀" is not one char16 (one UTF-16 code unit, not a surrogate)'],
    ["char16", "", 'invalid CIM: value "" is not one char16 (one UTF-16 code unit, not a surrogate)'],
    ["uint8", "256", 'invalid CIM: value "256" is out of range for uint8 (0 to 255)'],
    ["uint8", "-1", 'invalid CIM: value "-1" is out of range for uint8 (0 to 255)'],
    ["uint16", "2.0", 'invalid CIM: value "2.0" is not a uint16'],
    ["uint16", "", 'invalid CIM: value "" is not a uint16'],
    [
      "sint64",
      "9223372036854775808",
      'invalid CIM: value "9223372036854775808" is out of range for sint64 (-9223372036854775808 to 9223372036854775807)',
    ],
    ["uint64", "1".repeat(60), `invalid CIM: value "${"1".repeat(45)}..." is not a uint64`],
    ["real64", "1e400", 'invalid CIM: value "1e400" is out of range for real64'],
    ["real32", "1e39", 'invalid CIM: value "1e39" is out of range for real32'],
    ["real64", "0x10", 'invalid CIM: value "0x10" is not a real64'],
    ["real64", "1,5", 'invalid CIM: value "1,5" is not a real64'],
    [
      "datetime",
      "2024",
      'invalid CIM: value "2024" is not a CIM datetime (yyyymmddhhmmss.mmmmmmsutc or ddddddddhhmmss.mmmmmm:000)',
    ],
  ])("%s %j is refused", (type, text, message) => {
    const error = thrown(() => parseCimValue(type, text), KvpError);
    expect(error.code).toBe("invalid-cim");
    expect(error.message).toBe(message);
  });
});

describe("formatCimValue: value → text", () => {
  it.each<[CimScalarType, unknown, string]>([
    ["boolean", true, "TRUE"],
    ["boolean", false, "FALSE"],
    ["string", "a<b", "a<b"],
    ["uint16", 2, "2"],
    ["sint8", -0, "0"],
    ["uint64", 18446744073709551615n, "18446744073709551615"],
    ["sint64", -5n, "-5"],
    ["real64", 1, "1.0"],
    ["real64", -0, "-0.0"],
    ["real64", 0.1, "0.1"],
    ["real64", 1e21, "1.0e+21"],
    ["real64", 1.5e-7, "1.5e-7"],
    ["real64", 5e-324, "5.0e-324"],
    ["real64", Number.NaN, "NaN"],
    ["real64", Number.NEGATIVE_INFINITY, "-INF"],
    ["real32", Math.fround(0.1), "0.1"],
    ["real32", Math.fround(3.4028234663852886e38), "3.4028235e+38"],
    ["real32", Math.fround(1.1754943508222875e-38), "1.1754944e-38"],
    ["real32", 16777216, "16777216.0"],
    ["datetime", CimDateTime.parse("20240131120000.000000+060"), "20240131120000.000000+060"],
  ])("%s %s", (type, value, text) => {
    expect(formatCimValue(type, value)).toBe(text);
  });

  it.each<[CimScalarType, unknown, string, string]>([
    ["uint8", 256, "invalid-cim", "invalid CIM: value 256 is out of range for uint8"],
    ["uint8", 1.5, "invalid-cim", "invalid CIM: value is not an integer (uint8)"],
    ["uint32", 1n, "invalid-cim", "invalid CIM: value is not an integer (uint32)"],
    ["uint64", 1, "invalid-cim", "invalid CIM: value is not a bigint (uint64)"],
    ["sint64", 2n ** 63n, "invalid-cim", "invalid CIM: value 9223372036854775808 is out of range for sint64"],
    ["real32", 0.1, "invalid-cim", "invalid CIM: value 0.1 is not exactly a real32 (round it with Math.fround first)"],
    ["real64", "1", "invalid-cim", "invalid CIM: value is not a number (real64)"],
    ["char16", "ab", "invalid-cim", "invalid CIM: value is not one char16 (a string of one UTF-16 unit)"],
    ["char16", "\uD800", "invalid-text", "invalid text: value has U+D800 at character 0, which XML 1.0 cannot carry"],
    ["string", "a\u0000", "invalid-text", "invalid text: value has U+0000 at character 1, which XML 1.0 cannot carry"],
    ["datetime", "20240131120000.000000+060", "invalid-cim", "invalid CIM: value is not a CimDateTime"],
    ["boolean", "TRUE", "invalid-cim", "invalid CIM: value is not a boolean"],
  ])("%s %s is refused", (type, value, code, message) => {
    const error = thrown(() => formatCimValue(type, value), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it("round-trips every type exactly (value → text → value)", () => {
    fc.assert(
      fc.property(
        scalarType.chain((type) => valuesOf[type].map((value) => ({ type, value }))),
        ({ type, value }) => {
          expect(parseCimValue(type, formatCimValue(type, value))).toEqual(value);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("writes the shortest real32 text that reads back", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = formatCimReal("real32", value);
        expect(Object.is(Math.fround(Number(text)), value)).toBe(true);
        const digits = text
          .replace(/^-/, "")
          .replace(/e.*$/, "")
          .replace(".", "")
          .replace(/^0+/, "")
          .replace(/0+$/, "");
        expect(digits.length).toBeLessThanOrEqual(9);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("CimDateTime", () => {
  it("parses timestamps with a view", () => {
    const t = CimDateTime.parse("20240229235959.123456-300");
    expect(t.kind).toBe("timestamp");
    expect(t.view()).toEqual({
      kind: "timestamp",
      year: 2024,
      month: 2,
      day: 29,
      hour: 23,
      minute: 59,
      second: 59,
      microsecond: 123456,
      utcOffsetMinutes: -300,
    });
    expect(t.toDate()?.toISOString()).toBe("2024-03-01T04:59:59.123Z");
    expect(String(t)).toBe("20240229235959.123456-300");
    expect(JSON.stringify({ t })).toBe('{"t":"20240229235959.123456-300"}');
  });

  it("parses intervals with a view and total", () => {
    const i = CimDateTime.parse("00000001020304.000005:000");
    expect(i.view()).toEqual({
      kind: "interval",
      days: 1,
      hours: 2,
      minutes: 3,
      seconds: 4,
      microseconds: 5,
      totalMicroseconds: 93_784_000_005n,
    });
    expect(i.toDate()).toBeUndefined();
    expect(CimDateTime.fromMicroseconds(93_784_000_005n).text).toBe("00000001020304.000005:000");
  });

  it("keeps asterisks (insignificant digits) and shows them as undefined fields", () => {
    const t = CimDateTime.parse("2024013112****.******+000");
    expect(t.view()).toMatchObject({
      year: 2024,
      month: 1,
      day: 31,
      hour: 12,
      minute: undefined,
      second: undefined,
      microsecond: undefined,
    });
    expect(t.toDate()).toBeUndefined();
    const i = CimDateTime.parse("00000001******.******:000");
    expect(i.view()).toMatchObject({ days: 1, hours: undefined, totalMicroseconds: undefined });
  });

  it("builds timestamps from dates at an offset", () => {
    const date = new Date("2024-01-31T12:34:56.789Z");
    expect(CimDateTime.fromDate(date).text).toBe("20240131123456.789000+000");
    expect(CimDateTime.fromDate(date, 60).text).toBe("20240131133456.789000+060");
    expect(CimDateTime.fromDate(date, -480).text).toBe("20240131043456.789000-480");
    expect(CimDateTime.fromDate(date, -480).toDate()?.getTime()).toBe(date.getTime());
    expect(CimDateTime.fromDate(new Date("0005-03-04T00:00:00Z")).text).toBe("00050304000000.000000+000");
  });

  it.each([
    ["20241301000000.000000+000", "month"],
    ["20230229000000.000000+000", "day"],
    ["20240100000000.000000+000", "day"],
    ["20240101240000.000000+000", "hour"],
    ["20240101006000.000000+000", "minute"],
    ["20240101000060.000000+000", "second"],
    ["00000000240000.000000:000", "hours"],
  ])("refuses %s (bad %s)", (text, field) => {
    expect(thrown(() => CimDateTime.parse(text), KvpError).message).toBe(
      `invalid CIM: datetime "${text}" has an invalid ${field}`,
    );
  });

  it.each([
    "2024*131120000.000000+000",
    "20240131120000.000000+0600",
    "20240131120000,000000+000",
    "20240131120000.000000:001",
    "20240131120000.000000 000",
  ])("refuses the malformed %s", (text) => {
    expect(thrown(() => CimDateTime.parse(text), KvpError).code).toBe("invalid-cim");
  });

  it("refuses offsets, years and intervals out of range", () => {
    expect(thrown(() => CimDateTime.fromDate(new Date(0), 1000), KvpError).message).toBe(
      "invalid CIM: datetime offset 1000 is not whole minutes within ±999",
    );
    expect(thrown(() => CimDateTime.fromDate(new Date("+010000-01-01T00:00:00Z")), KvpError).message).toBe(
      "invalid CIM: datetime date is invalid or outside years 0 to 9999",
    );
    expect(thrown(() => CimDateTime.fromMicroseconds(-1n), KvpError).code).toBe("invalid-cim");
  });
});

describe("names and types", () => {
  it.each([
    ["Msvm_ComputerSystem", true],
    ["_x1", true],
    ["__proto__", true],
    ["constructor", true],
    ["Ünïcødé", true],
    ["1abc", false],
    ["", false],
    ["a-b", false],
    ["a b", false],
    ["a.b", false],
  ])("isCimName(%j) is %s", (name, ok) => {
    expect(isCimName(name)).toBe(ok);
  });

  it("knows exactly the DSP0004 types", () => {
    expect(CIM_TYPES).toHaveLength(15);
    expect(isCimType("uint16")).toBe(true);
    expect(isCimType("UINT16")).toBe(false);
    expect(isCimType("__proto__")).toBe(false);
  });
});
