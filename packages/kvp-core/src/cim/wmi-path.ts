/**
 * WMI object paths (`\\HOST\root\virtualization\v2:Msvm_ComputerSystem.CreationClassName=
 * "Msvm_ComputerSystem",Name="…"`), their WS-Management endpoint-reference form (ResourceURI +
 * SelectorSet: docs/ws-management.md#message-shapes) and WQL string literals. All three map to
 * one {@link CimInstancePath}.
 */
import { KvpError } from "../errors.js";
import {
  type CimInstancePath,
  type CimKeyBinding,
  formatCimReal,
  formatCimValue,
  isCimIntegerType,
  isCimName,
  quoteForMessage,
} from "./cim-types.js";
import { assertXmlText } from "./xml-text.js";

/** Resource URI prefix of WMI classes over WS-Management; the namespace and class follow. */
export const WMI_RESOURCE_URI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";
/** Resource URI prefix of DMTF CIM classes; their namespace is the `__cimnamespace` selector. */
export const CIM_SCHEMA_URI_PREFIX = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
/** WS-Addressing's anonymous address, which Hyper-V puts in the EPRs it returns. */
export const WSA_ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

function pathError(text: string, at: number, message: string): KvpError {
  return new KvpError("invalid-path", `invalid WMI path: ${message} at character ${at} of ${quoteForMessage(text)}`);
}

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r";
}

/** Reads a quoted string at `at` (which holds the quote); returns the text and the index after it. */
function readQuoted(text: string, at: number): { value: string; end: number } {
  const quote = text[at];
  let value = "";
  for (let i = at + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (ch === "\\") {
      const next = text[i + 1];
      // WMI escapes only backslash and the quotes; `\n` and the like are not escapes, and
      // reading `C:\dir` as `C:dir` would silently change a key.
      if (next !== "\\" && next !== '"' && next !== "'") throw pathError(text, i, `unknown escape \\${next ?? ""}`);
      value += next;
      i++;
    } else {
      value += ch;
    }
  }
  throw pathError(text, at, "unterminated string");
}

const NUMBER =
  /[+-]?(?:0[xX][0-9A-Fa-f]{1,16}|[0-9]{1,20}(?:\.[0-9]{1,30})?(?:[eE][+-]?[0-9]{1,3})?|\.[0-9]{1,30}(?:[eE][+-]?[0-9]{1,3})?)/y;
const WORD = /[A-Za-z_\u0080-\uFFEF][A-Za-z0-9_\u0080-\uFFEF]*/y;

function readWord(text: string, at: number): string | undefined {
  WORD.lastIndex = at;
  return WORD.exec(text)?.[0];
}

/** Reads one key value at `at`; returns the binding (with `name`) and the index after it. */
function readKeyValue(text: string, at: number, name: string): { key: CimKeyBinding; end: number } {
  const ch = text[at];
  if (ch === '"' || ch === "'") {
    const { value, end } = readQuoted(text, at);
    return { key: { name, type: "string", value }, end };
  }
  NUMBER.lastIndex = at;
  const number = NUMBER.exec(text)?.[0];
  if (number !== undefined) {
    const end = at + number.length;
    if (/^[+-]?(?:[0-9]+|0[xX][0-9A-Fa-f]+)$/.test(number)) {
      const negative = number.startsWith("-");
      const digits = number.replace(/^[+-]/, "");
      const magnitude = BigInt(digits);
      const value = negative ? -magnitude : magnitude;
      if (negative ? value < -(2n ** 63n) : value >= 2n ** 64n)
        throw pathError(text, at, `number ${number} does not fit 64 bits`);
      return { key: negative ? { name, type: "sint64", value } : { name, type: "uint64", value }, end };
    }
    return { key: { name, type: "real64", value: Number(number) }, end };
  }
  const word = readWord(text, at);
  if (word !== undefined && (word.toUpperCase() === "TRUE" || word.toUpperCase() === "FALSE")) {
    return { key: { name, type: "boolean", value: word.toUpperCase() === "TRUE" }, end: at + word.length };
  }
  throw pathError(text, at, "expected a quoted string, a number, TRUE or FALSE");
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (isSpace(text[i])) i++;
  return i;
}

/**
 * Reads a WMI object path. Accepted: an optional server part (`\\HOST\` or `//HOST/`),
 * an optional namespace (`root\virtualization\v2:` with either slash), a class, then
 * `.Key=value,…`, `=value` (one unnamed key) or `=@` (a singleton). Values: strings in
 * double or single quotes with `\\`, `\"` and `\'` escapes, integers (decimal or 0x hex;
 * uint64, or sint64 when negative), reals (real64), TRUE/FALSE. Whitespace around `=` and
 * `,` is allowed. A reference key arrives as a string: read it with parseWmiPath again.
 * @throws {KvpError} `invalid-path`, naming the character where reading stopped;
 *   `limit-exceeded` for text over 65,536 characters.
 */
export function parseWmiPath(text: string): CimInstancePath {
  if (typeof text !== "string") throw new KvpError("invalid-path", "invalid WMI path: not a string");
  if (text.length > 65_536)
    throw new KvpError("limit-exceeded", `WMI path too long: ${text.length} characters, limit 65536`);
  let i = skipSpace(text, 0);
  let host: string | undefined;
  if ((text[i] === "\\" || text[i] === "/") && (text[i + 1] === "\\" || text[i + 1] === "/")) {
    const start = i + 2;
    let end = start;
    while (end < text.length && text[end] !== "\\" && text[end] !== "/") end++;
    host = text.slice(start, end);
    if (host === "" || end >= text.length) throw pathError(text, start, "server part without a name and namespace");
    i = end + 1;
  }
  // The namespace ends at the first ':' before any '.', '=' or quote: namespace segments are
  // names, while key values may contain ':' themselves.
  let namespace: string | undefined;
  const stop = text.slice(i).search(/[:.="']/);
  if (stop >= 0 && text[i + stop] === ":") {
    const segments = text.slice(i, i + stop).split(/[\\/]/);
    for (const segment of segments) {
      if (!isCimName(segment)) throw pathError(text, i, `namespace segment ${quoteForMessage(segment)} is not a name`);
    }
    namespace = segments.join("/");
    i += stop + 1;
  } else if (host !== undefined) {
    throw pathError(text, i, "a server part needs a namespace");
  }
  const className = readWord(text, i);
  if (className === undefined) throw pathError(text, i, "expected a class name");
  i += className.length;
  i = skipSpace(text, i);
  const keys: CimKeyBinding[] = [];
  if (text[i] === "=") {
    i = skipSpace(text, i + 1);
    if (text[i] === "@") {
      i++;
    } else {
      const { key, end } = readKeyValue(text, i, "");
      keys.push(key);
      i = end;
    }
  } else if (text[i] === ".") {
    i++;
    const seen = new Set<string>();
    for (;;) {
      i = skipSpace(text, i);
      const name = readWord(text, i);
      if (name === undefined) throw pathError(text, i, "expected a key name");
      if (seen.has(name.toUpperCase())) throw pathError(text, i, `key ${name} given twice`);
      seen.add(name.toUpperCase());
      i = skipSpace(text, i + name.length);
      if (text[i] !== "=") throw pathError(text, i, `expected '=' after key ${name}`);
      const { key, end } = readKeyValue(text, skipSpace(text, i + 1), name);
      keys.push(key);
      i = skipSpace(text, end);
      if (text[i] !== ",") break;
      i++;
    }
  } else {
    throw pathError(text, i, "expected '.Key=value' or '=@' after the class (a class path names no instance)");
  }
  i = skipSpace(text, i);
  if (i !== text.length) throw pathError(text, i, "unexpected text after the keys");
  const path: { -readonly [K in keyof CimInstancePath]: CimInstancePath[K] } = { className, keys };
  if (host !== undefined) path.host = host;
  if (namespace !== undefined) path.namespace = namespace;
  return path;
}

function formatError(message: string): KvpError {
  return new KvpError("invalid-path", `invalid WMI path: ${message}`);
}

/** `"…"` with backslash and double quote escaped, as WMI paths and WQL write strings. */
function quoteString(value: string, what: string): string {
  assertXmlText(value, what);
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

function formatKeyValue(key: CimKeyBinding, options: FormatWmiPathOptions, what: string): string {
  switch (key.type) {
    case "string":
    case "char16":
    case "datetime":
      return quoteString(formatCimValue(key.type, key.value, what), what);
    case "boolean":
      return formatCimValue("boolean", key.value, what);
    case "reference":
      return quoteString(formatWmiPath(key.value, options), what);
    case "real32":
    case "real64":
      formatCimValue(key.type, key.value, what);
      return formatCimReal(key.type, key.value);
    default:
      if (!isCimIntegerType(key.type))
        throw formatError(`${what} has type ${quoteForMessage(String((key as { type: unknown }).type))}`);
      return formatCimValue(key.type, key.value, what);
  }
}

/** Options of {@link formatWmiPath}. */
export interface FormatWmiPathOptions {
  /** Separator of the server part and namespace segments: `\` (default, as Windows writes) or `/`. */
  readonly separator?: "\\" | "/";
}

/**
 * Writes `path` as a WMI object path: `\\HOST\ns\ns:Class.Key="v",…`, `Class=@` for a
 * singleton, `Class="v"` for one unnamed key. Strings are double-quoted with `\` and `"`
 * escaped; a reference key is its own path written as a string.
 * @throws {KvpError} `invalid-path` for a host without a namespace, names that are not CIM
 *   names, or an unnamed key beside others; `invalid-cim` for key values that do not fit their
 *   type; `invalid-text` for characters XML 1.0 cannot carry (WMI paths travel inside XML).
 */
export function formatWmiPath(path: CimInstancePath, options: FormatWmiPathOptions = {}): string {
  const sep = options.separator ?? "\\";
  if (sep !== "\\" && sep !== "/") throw formatError(`separator ${quoteForMessage(String(sep))} is not \\ or /`);
  if (!isCimName(path.className))
    throw formatError(`class ${quoteForMessage(String(path.className))} is not a CIM name`);
  let out = "";
  if (path.host !== undefined) {
    if (path.host === "" || /[\\/:]/.test(path.host))
      throw formatError(`host ${quoteForMessage(path.host)} is not a server name`);
    if (path.namespace === undefined) throw formatError("a host needs a namespace");
    assertXmlText(path.host, "host");
    out += sep + sep + path.host + sep;
  }
  if (path.namespace !== undefined) {
    const segments = path.namespace.split("/");
    for (const segment of segments) {
      if (!isCimName(segment)) throw formatError(`namespace segment ${quoteForMessage(segment)} is not a name`);
    }
    out += `${segments.join(sep)}:`;
  }
  out += path.className;
  if (path.keys.length === 0) return `${out}=@`;
  const first = path.keys[0]!;
  if (first.name === "") {
    if (path.keys.length !== 1) throw formatError("an unnamed key must be the only key");
    return `${out}=${formatKeyValue(first, options, "unnamed key")}`;
  }
  const seen = new Set<string>();
  const parts = path.keys.map((key) => {
    if (!isCimName(key.name)) throw formatError(`key ${quoteForMessage(String(key.name))} is not a CIM name`);
    if (seen.has(key.name.toUpperCase())) throw formatError(`key ${key.name} given twice`);
    seen.add(key.name.toUpperCase());
    return `${key.name}=${formatKeyValue(key, options, `key ${key.name}`)}`;
  });
  return `${out}.${parts.join(",")}`;
}

/** Upper case one code point at a time where that keeps its length, like Windows' ordinal ignore-case. */
function foldCase(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text)) return text.toUpperCase();
  let out = "";
  for (const ch of text) {
    const upper = ch.toUpperCase();
    out += upper.length === ch.length ? upper : ch;
  }
  return out;
}

/** Compares two names or values ignoring case, the way WMI compares class, key and namespace names. */
export function equalsIgnoreCase(a: string, b: string): boolean {
  return a === b || (a.length === b.length && foldCase(a) === foldCase(b));
}

/** Options of {@link wmiPathEquals}. */
export interface WmiPathEqualsOptions {
  /** Ignore the server part (default false: a path with a host differs from one without). */
  readonly ignoreHost?: boolean;
}

function keyText(key: CimKeyBinding): string {
  switch (key.type) {
    case "string":
    case "char16":
      return key.value;
    case "datetime":
      return key.value.text;
    case "boolean":
      return key.value ? "TRUE" : "FALSE";
    case "real32":
    case "real64":
      return formatCimReal(key.type, key.value);
    case "reference":
      return formatWmiPath(key.value);
    default:
      return String(key.value);
  }
}

function keyValuesEqual(a: CimKeyBinding, b: CimKeyBinding, options: WmiPathEqualsOptions): boolean {
  if (a.type === "reference" || b.type === "reference") {
    const toPath = (k: CimKeyBinding): CimInstancePath | undefined => {
      if (k.type === "reference") return k.value;
      if (k.type !== "string") return undefined;
      try {
        return parseWmiPath(k.value);
      } catch {
        return undefined;
      }
    };
    const pa = toPath(a);
    const pb = toPath(b);
    return pa !== undefined && pb !== undefined && wmiPathEquals(pa, pb, options);
  }
  // WMI converts a key value to the key's type before comparing, so 5, "5" and 5n are one key.
  return equalsIgnoreCase(keyText(a), keyText(b));
}

/**
 * True when `a` and `b` name the same instance as WMI sees it: host, namespace, class and
 * key names compared ignoring case; keys in any order; key values compared ignoring case
 * after writing each as text (WMI coerces values to the key's type, and Windows compares
 * strings such as VM GUIDs ignoring case); reference keys compared as paths.
 */
export function wmiPathEquals(a: CimInstancePath, b: CimInstancePath, options: WmiPathEqualsOptions = {}): boolean {
  if (!options.ignoreHost) {
    if ((a.host === undefined) !== (b.host === undefined)) return false;
    if (a.host !== undefined && b.host !== undefined && !equalsIgnoreCase(a.host, b.host)) return false;
  }
  if ((a.namespace === undefined) !== (b.namespace === undefined)) return false;
  if (a.namespace !== undefined && b.namespace !== undefined && !equalsIgnoreCase(a.namespace, b.namespace))
    return false;
  if (!equalsIgnoreCase(a.className, b.className) || a.keys.length !== b.keys.length) return false;
  return a.keys.every((ka) => {
    const kb = b.keys.find((k) => equalsIgnoreCase(k.name, ka.name));
    return kb !== undefined && keyValuesEqual(ka, kb, options);
  });
}

// ---------------------------------------------------------------------------------------
// WS-Management endpoint references

/** One selector of a SelectorSet: text, or an endpoint reference for a reference key. */
export interface WsmanSelector {
  readonly name: string;
  readonly value: string | WsmanEpr;
}

/** A WS-Management endpoint reference: Address, ResourceURI and SelectorSet. */
export interface WsmanEpr {
  /** wsa:Address; {@link WSA_ANONYMOUS} in what Hyper-V returns. */
  readonly address: string;
  /** wsman:ResourceURI, e.g. `…/wmi/root/virtualization/v2/Msvm_ComputerSystem`. */
  readonly resourceUri: string;
  /** wsman:SelectorSet, in order. */
  readonly selectors: readonly WsmanSelector[];
}

/** Options of {@link pathToEpr}. */
export interface PathToEprOptions {
  /** wsa:Address to put in the reference (and in nested ones); default {@link WSA_ANONYMOUS}. */
  readonly address?: string;
}

function selectorText(key: CimKeyBinding, what: string): string {
  switch (key.type) {
    case "boolean":
      // xs:boolean spelling, as WinRM writes booleans.
      return key.value ? "true" : "false";
    case "string":
    case "char16":
      assertXmlText(key.value, what);
      return key.value;
    default:
      return keyText(key);
  }
}

/**
 * The endpoint reference of `path` for WMI over WS-Management: ResourceURI
 * `http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<Class>` and one selector per
 * key, a reference key becoming a nested endpoint reference. The host is not part of an EPR
 * (it is the endpoint you send to) and is dropped.
 * @throws {KvpError} `invalid-path` for a path without a namespace or with an unnamed key.
 */
export function pathToEpr(path: CimInstancePath, options: PathToEprOptions = {}): WsmanEpr {
  if (path.namespace === undefined)
    throw formatError(`${path.className} has no namespace, which the resource URI needs`);
  // formatWmiPath validates names, namespace and values in one place.
  formatWmiPath({ namespace: path.namespace, className: path.className, keys: path.keys });
  const selectors = path.keys.map((key): WsmanSelector => {
    if (key.name === "") throw formatError("a selector needs a key name (the unnamed short form has none)");
    return {
      name: key.name,
      value: key.type === "reference" ? pathToEpr(key.value, options) : selectorText(key, `key ${key.name}`),
    };
  });
  return {
    address: options.address ?? WSA_ANONYMOUS,
    resourceUri: `${WMI_RESOURCE_URI_PREFIX}${path.namespace}/${path.className}`,
    selectors,
  };
}

/**
 * The instance path an endpoint reference names. Reads WMI resource URIs
 * (`…/wsman/1/wmi/<namespace>/<Class>`) and DMTF ones (`…/cim-schema/2/<Class>` with an
 * optional `__cimnamespace` selector). Selector values become string keys (a SelectorSet
 * carries no types) and nested references become reference keys.
 * @throws {KvpError} `invalid-path` for another URI, a wildcard class, or bad selector names.
 */
export function eprToPath(epr: WsmanEpr): CimInstancePath {
  return eprToPathAt(epr, 0);
}

function eprToPathAt(epr: WsmanEpr, depth: number): CimInstancePath {
  if (depth > 8) throw formatError("endpoint references nested more than 8 deep");
  const uri = String(epr.resourceUri);
  let namespace: string | undefined;
  let className: string;
  if (uri.toLowerCase().startsWith(WMI_RESOURCE_URI_PREFIX)) {
    const rest = uri.slice(WMI_RESOURCE_URI_PREFIX.length).split("/");
    className = rest.pop() ?? "";
    if (rest.length > 0) namespace = rest.join("/");
  } else if (uri.toLowerCase().startsWith(CIM_SCHEMA_URI_PREFIX)) {
    className = uri.slice(CIM_SCHEMA_URI_PREFIX.length);
  } else {
    throw formatError(`resource URI ${quoteForMessage(uri)} is not a WMI or CIM class URI`);
  }
  const keys: CimKeyBinding[] = [];
  const seen = new Set<string>();
  for (const selector of epr.selectors) {
    if (selector.name === "__cimnamespace" && typeof selector.value === "string") {
      namespace = selector.value.replace(/\\/g, "/");
      continue;
    }
    if (!isCimName(selector.name))
      throw formatError(`selector ${quoteForMessage(String(selector.name))} is not a CIM name`);
    if (seen.has(selector.name.toUpperCase())) throw formatError(`selector ${selector.name} given twice`);
    seen.add(selector.name.toUpperCase());
    keys.push(
      typeof selector.value === "string"
        ? { name: selector.name, type: "string", value: selector.value }
        : { name: selector.name, type: "reference", value: eprToPathAt(selector.value, depth + 1) },
    );
  }
  const path: { -readonly [K in keyof CimInstancePath]: CimInstancePath[K] } = { className, keys };
  if (namespace !== undefined) path.namespace = namespace;
  // Validates class and namespace names (a "*" enumeration URI fails here).
  formatWmiPath(path);
  return path;
}

/**
 * `value` as a WQL string literal for `WHERE ElementName=…`: double-quoted, with backslash
 * and double quote escaped by a backslash, so no value can end the literal early.
 * @throws {KvpError} `invalid-text` for characters XML 1.0 cannot carry (WQL travels in XML
 *   over WS-Management, and no VM name contains them).
 */
export function wqlString(value: string): string {
  if (typeof value !== "string") throw new KvpError("invalid-text", "invalid text: WQL value is not a string");
  return quoteString(value, "WQL string");
}
