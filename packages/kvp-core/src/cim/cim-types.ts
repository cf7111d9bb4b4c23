/**
 * CIM types (DMTF DSP0004) and their exact conversion between CIM-XML text (DSP0201) and
 * JavaScript values: 64-bit integers as bigint, real32 as the float32 value it holds,
 * datetimes as their DSP0004 text with a parsed view beside it.
 */
import { KvpError } from "../errors.js";
import { assertXmlText, findInvalidXmlChar } from "./xml-text.js";

/** Every CIM type a property, key or qualifier can have (`reference` only as a property or key). */
export const CIM_TYPES = [
  "boolean",
  "string",
  "char16",
  "uint8",
  "sint8",
  "uint16",
  "sint16",
  "uint32",
  "sint32",
  "uint64",
  "sint64",
  "real32",
  "real64",
  "datetime",
  "reference",
] as const;

/** One CIM type name as CIM-XML spells it in TYPE attributes. */
export type CimType = (typeof CIM_TYPES)[number];
/** CIM types that CIM-XML writes in a TYPE attribute (the DTD's `%CIMType;`): all but reference. */
export type CimScalarType = Exclude<CimType, "reference">;
/** Integer types that fit a JS number exactly. */
export type CimSmallIntegerType = "uint8" | "sint8" | "uint16" | "sint16" | "uint32" | "sint32";
/** Integer types held as bigint. */
export type CimBigIntegerType = "uint64" | "sint64";
/** All integer types. */
export type CimIntegerType = CimSmallIntegerType | CimBigIntegerType;

/** The JS value that holds a value of CIM type `T`. */
export type CimValueOf<T extends CimType> = T extends "boolean"
  ? boolean
  : T extends "string" | "char16"
    ? string
    : T extends CimBigIntegerType
      ? bigint
      : T extends "datetime"
        ? CimDateTime
        : T extends "reference"
          ? CimInstancePath
          : number;

/** A value together with its CIM type, as a discriminated union on `type`. */
export type CimTypedValue = { [T in CimType]: { readonly type: T; readonly value: CimValueOf<T> } }[CimType];

/**
 * One key of an instance path. `name` is empty only for the single unnamed key of WMI's short
 * form (`Class="value"`, CIM-XML INSTANCENAME with a bare KEYVALUE).
 */
export type CimKeyBinding = { readonly name: string } & CimTypedValue;

/**
 * The name of one CIM instance: a WMI object path, a CIM-XML INSTANCEPATH/LOCALINSTANCEPATH/
 * INSTANCENAME, or a WS-Management endpoint reference all map to this.
 */
export interface CimInstancePath {
  /** Server name (`HOST` in `\\HOST\root\cimv2:…`); absent for a local path. */
  readonly host?: string;
  /** Namespace with `/` between segments (`root/virtualization/v2`); absent for a bare name. */
  readonly namespace?: string;
  /** Class name, e.g. `Msvm_ComputerSystem`. */
  readonly className: string;
  /** Key bindings in the order given; none for a singleton (`Class=@`). */
  readonly keys: readonly CimKeyBinding[];
}

// DSP0004 identifier: a letter, "_" or U+0080-U+FFEF, then those or digits.
const CIM_NAME = /^[A-Za-z_\u0080-\uFFEF][A-Za-z0-9_\u0080-\uFFEF]*$/;

/**
 * True when `name` is a DSP0004 identifier (class, property, qualifier and key names):
 * a letter, `_` or a character from U+0080 to U+FFEF, then those or digits. `__proto__` and
 * `constructor` are identifiers like any other: names are data, never object keys.
 */
export function isCimName(name: string): boolean {
  return typeof name === "string" && CIM_NAME.test(name) && findInvalidXmlChar(name) < 0;
}

/** True when `name` is a CIM type name (exact spelling; CIM-XML writes them in lower case). */
export function isCimType(name: string): name is CimType {
  return (CIM_TYPES as readonly string[]).includes(name);
}

/** True for the integer types. */
export function isCimIntegerType(type: CimType): type is CimIntegerType {
  return type in INTEGER_RANGES;
}

const INTEGER_RANGES: Readonly<Record<CimIntegerType, readonly [bigint, bigint]>> = {
  uint8: [0n, 255n],
  sint8: [-128n, 127n],
  uint16: [0n, 65535n],
  sint16: [-32768n, 32767n],
  uint32: [0n, 4294967295n],
  sint32: [-2147483648n, 2147483647n],
  uint64: [0n, 18446744073709551615n],
  sint64: [-9223372036854775808n, 9223372036854775807n],
};

/** Text of at most 48 characters, JSON-quoted, so hostile input cannot flood or garble a message. */
export function quoteForMessage(text: string): string {
  return JSON.stringify(text.length > 48 ? `${text.slice(0, 45)}...` : text);
}

function cimError(what: string, message: string): KvpError {
  return new KvpError("invalid-cim", `invalid CIM: ${what} ${message}`);
}

/** Strips the XML whitespace around a number or boolean (XML Schema collapses it too). */
function trimXmlSpace(text: string): string {
  return /^[ \t\r\n]|[ \t\r\n]$/.test(text) ? text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "") : text;
}

// Decimal or hexadecimal, optionally signed; 1 to 40 digits keeps BigInt() cheap on hostile input.
const INTEGER_TEXT = /^([+-]?)(?:([0-9]{1,40})|0[xX]([0-9A-Fa-f]{1,32}))$/;
// DSP0004 realValue, relaxed the way every CIM server's reader is: digits on either side of
// the point may be missing (not both), and the point itself is optional.
const REAL_TEXT = /^[+-]?(?:[0-9]{1,400}(?:\.[0-9]{0,400})?|\.[0-9]{1,400})(?:[eE][+-]?[0-9]{1,5})?$/;

/**
 * Reads an integer of CIM type `type` from CIM-XML text (decimal or `0x` hexadecimal).
 * @throws {KvpError} `invalid-cim` for other text or a value out of the type's range.
 */
export function parseCimInteger<T extends CimIntegerType>(type: T, text: string, what = "value"): CimValueOf<T> {
  const trimmed = trimXmlSpace(text);
  const [min, max] = INTEGER_RANGES[type];
  // The common case (small decimals, e.g. Source "2") without BigInt.
  if (/^[0-9]{1,15}$/.test(trimmed) && !(type === "uint64" || type === "sint64")) {
    const value = Number(trimmed);
    if (value <= Number(max)) return value as CimValueOf<T>;
  }
  const match = INTEGER_TEXT.exec(trimmed);
  if (match === null) throw cimError(what, `${quoteForMessage(text)} is not a ${type}`);
  const magnitude = match[2] !== undefined ? BigInt(match[2]) : BigInt(`0x${match[3]}`);
  const value = match[1] === "-" ? -magnitude : magnitude;
  if (value < min || value > max)
    throw cimError(what, `${quoteForMessage(text)} is out of range for ${type} (${min} to ${max})`);
  return (type === "uint64" || type === "sint64" ? value : Number(value)) as CimValueOf<T>;
}

/**
 * Reads a real32 or real64. Accepts DSP0004 reals (with or without a point or exponent) and
 * XML Schema's `INF`, `-INF`, `NaN` (any case). A real32 is rounded to the nearest float32,
 * so the result always satisfies `Math.fround(x) === x`.
 * @throws {KvpError} `invalid-cim` for other text and for finite text too large for the type.
 */
export function parseCimReal(type: "real32" | "real64", text: string, what = "value"): number {
  const trimmed = trimXmlSpace(text);
  let value: number;
  const special = trimmed.toUpperCase();
  if (special === "INF" || special === "+INF") value = Number.POSITIVE_INFINITY;
  else if (special === "-INF") value = Number.NEGATIVE_INFINITY;
  else if (special === "NAN") value = Number.NaN;
  else {
    if (!REAL_TEXT.test(trimmed)) throw cimError(what, `${quoteForMessage(text)} is not a ${type}`);
    value = Number(trimmed);
    if (type === "real32") value = Math.fround(value);
    if (!Number.isFinite(value)) throw cimError(what, `${quoteForMessage(text)} is out of range for ${type}`);
  }
  return type === "real32" ? Math.fround(value) : value;
}

/**
 * Writes a real in DSP0004 form (always with a point: `1.0`, `-0.0`, `1.5e-7`, `1.0e+21`) or
 * `INF`/`-INF`/`NaN`. real64 uses JS's shortest round-trip digits; real32 the fewest digits
 * that read back (through {@link parseCimReal}) as the same float32, so `0.1` stored as
 * real32 writes `0.1`, not `0.10000000149011612`.
 */
export function formatCimReal(type: "real32" | "real64", value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "INF";
  if (value === Number.NEGATIVE_INFINITY) return "-INF";
  let shortest = value;
  if (type === "real32") {
    for (let digits = 1; digits <= 9; digits++) {
      const candidate = Number(value.toPrecision(digits));
      if (Object.is(Math.fround(candidate), value)) {
        shortest = candidate;
        break;
      }
    }
  }
  const text = Object.is(shortest, -0) ? "-0" : String(shortest);
  const e = text.indexOf("e");
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? "" : text.slice(e);
  return (mantissa.includes(".") ? mantissa : `${mantissa}.0`) + exponent;
}

/**
 * Reads a CIM boolean: `TRUE` or `FALSE` in any case (DSP0201), also `1`/`0` as XML Schema
 * allows and some producers write.
 * @throws {KvpError} `invalid-cim` for anything else.
 */
export function parseCimBoolean(text: string, what = "value"): boolean {
  const trimmed = trimXmlSpace(text).toLowerCase();
  if (trimmed === "true" || trimmed === "1") return true;
  if (trimmed === "false" || trimmed === "0") return false;
  throw cimError(what, `${quoteForMessage(text)} is not a boolean (TRUE or FALSE)`);
}

/**
 * Reads a value of scalar CIM type `type` from the text of a VALUE or KEYVALUE element.
 * Strings are kept exactly; numbers and booleans may have surrounding whitespace.
 * @param what names the value in error messages, e.g. `property "Source"`.
 * @throws {KvpError} `invalid-cim` when the text is not a value of that type.
 */
export function parseCimValue<T extends CimScalarType>(type: T, text: string, what = "value"): CimValueOf<T> {
  switch (type) {
    case "string":
      return text as CimValueOf<T>;
    case "boolean":
      return parseCimBoolean(text, what) as CimValueOf<T>;
    case "char16":
      if (text.length !== 1 || (text.charCodeAt(0) >= 0xd800 && text.charCodeAt(0) <= 0xdfff)) {
        throw cimError(what, `${quoteForMessage(text)} is not one char16 (one UTF-16 code unit, not a surrogate)`);
      }
      return text as CimValueOf<T>;
    case "real32":
    case "real64":
      return parseCimReal(type, text, what) as CimValueOf<T>;
    case "datetime":
      return CimDateTime.parse(trimXmlSpace(text), what) as CimValueOf<T>;
    default:
      if (isCimIntegerType(type)) return parseCimInteger(type, text, what) as CimValueOf<T>;
      throw cimError(what, `has unknown type ${quoteForMessage(type)}`);
  }
}

/**
 * Writes a value of scalar CIM type `type` as CIM-XML text (not yet XML-escaped), checking
 * that the JS value fits the type exactly: an integer in range, a bigint for 64-bit types,
 * a float32 value for real32, one UTF-16 unit for char16, a {@link CimDateTime} for datetime.
 * @throws {KvpError} `invalid-cim` for a value that does not fit; `invalid-text` for a string
 *   XML 1.0 cannot carry.
 */
export function formatCimValue(type: CimScalarType, value: unknown, what = "value"): string {
  switch (type) {
    case "string":
      if (typeof value !== "string") throw cimError(what, "is not a string");
      assertXmlText(value, what);
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw cimError(what, "is not a boolean");
      return value ? "TRUE" : "FALSE";
    case "char16":
      if (typeof value !== "string" || value.length !== 1)
        throw cimError(what, "is not one char16 (a string of one UTF-16 unit)");
      if (findInvalidXmlChar(value) >= 0) assertXmlText(value, what);
      return value;
    case "real32":
    case "real64":
      if (typeof value !== "number") throw cimError(what, `is not a number (${type})`);
      if (type === "real32" && !Number.isNaN(value) && Math.fround(value) !== value) {
        throw cimError(what, `${value} is not exactly a real32 (round it with Math.fround first)`);
      }
      return formatCimReal(type, value);
    case "datetime":
      if (!(value instanceof CimDateTime)) throw cimError(what, "is not a CimDateTime");
      return value.text;
    default: {
      if (!isCimIntegerType(type)) throw cimError(what, `has unknown type ${quoteForMessage(String(type))}`);
      const [min, max] = INTEGER_RANGES[type];
      if (type === "uint64" || type === "sint64") {
        if (typeof value !== "bigint") throw cimError(what, `is not a bigint (${type})`);
        if (value < min || value > max) throw cimError(what, `${value} is out of range for ${type}`);
        return value.toString();
      }
      if (typeof value !== "number" || !Number.isInteger(value)) throw cimError(what, `is not an integer (${type})`);
      if (value < Number(min) || value > Number(max)) throw cimError(what, `${value} is out of range for ${type}`);
      return String(value === 0 ? 0 : value);
    }
  }
}

/** The parsed fields of a DSP0004 timestamp; a field written with asterisks is undefined. */
export interface CimTimestampView {
  readonly kind: "timestamp";
  readonly year: number | undefined;
  readonly month: number | undefined;
  readonly day: number | undefined;
  readonly hour: number | undefined;
  readonly minute: number | undefined;
  readonly second: number | undefined;
  readonly microsecond: number | undefined;
  /** Minutes east of UTC (`+060` is 60, `-300` is -300). */
  readonly utcOffsetMinutes: number;
}

/** The parsed fields of a DSP0004 interval; a field written with asterisks is undefined. */
export interface CimIntervalView {
  readonly kind: "interval";
  readonly days: number | undefined;
  readonly hours: number | undefined;
  readonly minutes: number | undefined;
  readonly seconds: number | undefined;
  readonly microseconds: number | undefined;
  /** The whole interval in microseconds, when no field is asterisked. */
  readonly totalMicroseconds: bigint | undefined;
}

// yyyymmddhhmmss.mmmmmmsutc and ddddddddhhmmss.mmmmmm:000 (DSP0004 5.2.4), digits or '*'.
const DATETIME_TEXT = /^[0-9*]{14}\.[0-9*]{6}(?:[+-][0-9]{3}|:000)$/;

function field(text: string, from: number, to: number): number | undefined {
  const part = text.slice(from, to);
  return part.includes("*") ? undefined : Number(part);
}

function daysInMonth(year: number | undefined, month: number): number {
  if (month === 2) {
    if (year === undefined) return 29;
    return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * A CIM datetime: a timestamp (`20240131120000.000000+060`) or an interval
 * (`00000001020304.000000:000`). It keeps its DSP0004 text exactly, so it converts back
 * without loss (precision, offset and asterisks included), and offers a parsed view.
 */
export class CimDateTime {
  /** The 25-character DSP0004 text. */
  readonly text: string;
  /** `timestamp` (a point in time) or `interval` (a duration). */
  readonly kind: "timestamp" | "interval";

  private constructor(text: string, kind: "timestamp" | "interval") {
    this.text = text;
    this.kind = kind;
  }

  /**
   * Checks and wraps DSP0004 text. Asterisks (insignificant digits) may only end the digits,
   * e.g. `2024013112****.******+000`; field ranges are checked where digits are given.
   * @throws {KvpError} `invalid-cim` for anything else.
   */
  static parse(text: string, what = "datetime"): CimDateTime {
    if (typeof text !== "string" || !DATETIME_TEXT.test(text)) {
      throw cimError(
        what,
        `${quoteForMessage(String(text))} is not a CIM datetime (yyyymmddhhmmss.mmmmmmsutc or ddddddddhhmmss.mmmmmm:000)`,
      );
    }
    const digits = text.slice(0, 14) + text.slice(15, 21);
    const star = digits.indexOf("*");
    if (star >= 0 && !/^\**$/.test(digits.slice(star))) {
      throw cimError(what, `${quoteForMessage(text)}: asterisks may only replace the last digits`);
    }
    const kind = text[21] === ":" ? "interval" : "timestamp";
    const dateTime = new CimDateTime(text, kind);
    const view = dateTime.view();
    const bad = (name: string) => cimError(what, `${quoteForMessage(text)} has an invalid ${name}`);
    if (view.kind === "timestamp") {
      if (view.month !== undefined && (view.month < 1 || view.month > 12)) throw bad("month");
      if (view.day !== undefined && (view.day < 1 || view.day > daysInMonth(view.year, view.month ?? 1)))
        throw bad("day");
      if (view.hour !== undefined && view.hour > 23) throw bad("hour");
      if (view.minute !== undefined && view.minute > 59) throw bad("minute");
      if (view.second !== undefined && view.second > 59) throw bad("second");
    } else {
      if (view.hours !== undefined && view.hours > 23) throw bad("hours");
      if (view.minutes !== undefined && view.minutes > 59) throw bad("minutes");
      if (view.seconds !== undefined && view.seconds > 59) throw bad("seconds");
    }
    return dateTime;
  }

  /**
   * The timestamp of `date` as seen at `utcOffsetMinutes` east of UTC (default 0), with
   * millisecond precision (the last three microsecond digits are 0).
   * @throws {KvpError} `invalid-cim` for an invalid date, a year outside 0–9999 or an offset past ±999.
   */
  static fromDate(date: Date, utcOffsetMinutes = 0): CimDateTime {
    if (!Number.isInteger(utcOffsetMinutes) || Math.abs(utcOffsetMinutes) > 999) {
      throw cimError("datetime", `offset ${utcOffsetMinutes} is not whole minutes within ±999`);
    }
    const shifted = new Date(date.getTime() + utcOffsetMinutes * 60_000);
    const year = shifted.getUTCFullYear();
    if (Number.isNaN(year) || year < 0 || year > 9999)
      throw cimError("datetime", "date is invalid or outside years 0 to 9999");
    const pad = (n: number, width: number) => String(n).padStart(width, "0");
    const text =
      pad(year, 4) +
      pad(shifted.getUTCMonth() + 1, 2) +
      pad(shifted.getUTCDate(), 2) +
      pad(shifted.getUTCHours(), 2) +
      pad(shifted.getUTCMinutes(), 2) +
      pad(shifted.getUTCSeconds(), 2) +
      `.${pad(shifted.getUTCMilliseconds() * 1000, 6)}` +
      (utcOffsetMinutes < 0 ? "-" : "+") +
      pad(Math.abs(utcOffsetMinutes), 3);
    return new CimDateTime(text, "timestamp");
  }

  /**
   * The interval of `totalMicroseconds` (a whole number ≥ 0, at most 99,999,999 days).
   * @throws {KvpError} `invalid-cim` outside that range.
   */
  static fromMicroseconds(totalMicroseconds: bigint): CimDateTime {
    const perDay = 86_400_000_000n;
    if (typeof totalMicroseconds !== "bigint" || totalMicroseconds < 0n || totalMicroseconds >= 100_000_000n * perDay) {
      throw cimError("datetime", "interval must be 0 to 99999999 days in microseconds (bigint)");
    }
    const days = totalMicroseconds / perDay;
    let rest = totalMicroseconds % perDay;
    const hours = rest / 3_600_000_000n;
    rest %= 3_600_000_000n;
    const minutes = rest / 60_000_000n;
    rest %= 60_000_000n;
    const seconds = rest / 1_000_000n;
    const micro = rest % 1_000_000n;
    const pad = (n: bigint, width: number) => n.toString().padStart(width, "0");
    return new CimDateTime(
      `${pad(days, 8)}${pad(hours, 2)}${pad(minutes, 2)}${pad(seconds, 2)}.${pad(micro, 6)}:000`,
      "interval",
    );
  }

  /** The fields of the text; see {@link CimTimestampView} and {@link CimIntervalView}. */
  view(): CimTimestampView | CimIntervalView {
    const t = this.text;
    if (this.kind === "interval") {
      const days = field(t, 0, 8);
      const hours = field(t, 8, 10);
      const minutes = field(t, 10, 12);
      const seconds = field(t, 12, 14);
      const microseconds = field(t, 15, 21);
      const complete = !t.includes("*");
      return {
        kind: "interval",
        days,
        hours,
        minutes,
        seconds,
        microseconds,
        totalMicroseconds: complete
          ? ((BigInt(days ?? 0) * 24n + BigInt(hours ?? 0)) * 60n + BigInt(minutes ?? 0)) * 60_000_000n +
            BigInt(seconds ?? 0) * 1_000_000n +
            BigInt(microseconds ?? 0)
          : undefined,
      };
    }
    const offset = Number(t.slice(22, 25));
    return {
      kind: "timestamp",
      year: field(t, 0, 4),
      month: field(t, 4, 6),
      day: field(t, 6, 8),
      hour: field(t, 8, 10),
      minute: field(t, 10, 12),
      second: field(t, 12, 14),
      microsecond: field(t, 15, 21),
      utcOffsetMinutes: t[21] === "-" ? -offset : offset,
    };
  }

  /**
   * The instant of a fully specified timestamp (microseconds truncated to milliseconds);
   * undefined for an interval or a timestamp with asterisks.
   */
  toDate(): Date | undefined {
    const v = this.view();
    if (v.kind !== "timestamp" || this.text.includes("*")) return undefined;
    const date = new Date(0);
    date.setUTCFullYear(v.year!, v.month! - 1, v.day!);
    date.setUTCHours(v.hour!, v.minute!, v.second!, Math.floor(v.microsecond! / 1000));
    return new Date(date.getTime() - v.utcOffsetMinutes * 60_000);
  }

  /** The DSP0004 text. */
  toString(): string {
    return this.text;
  }

  /** The DSP0004 text, so JSON output shows the value as CIM writes it. */
  toJSON(): string {
    return this.text;
  }
}
