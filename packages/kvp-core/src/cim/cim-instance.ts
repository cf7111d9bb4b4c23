/**
 * A CIM instance as WMI and Hyper-V use it, and its CIM-XML form (DMTF DSP0201, DTD
 * DSP0203): INSTANCE with PROPERTY, PROPERTY.ARRAY and PROPERTY.REFERENCE, their values,
 * instance paths as references, and qualifiers. `toCimXml` writes what the DTD accepts;
 * `fromCimXml` reads tolerantly (any property order, qualifiers anywhere, VALUE.NULL in a
 * PROPERTY) but never guesses: what it cannot read exactly is a typed error with a location.
 */
import { KvpError } from "../errors.js";
import {
  type CimInstancePath,
  type CimKeyBinding,
  type CimScalarType,
  type CimValueOf,
  formatCimValue,
  isCimIntegerType,
  isCimName,
  isCimType,
  parseCimInteger,
  parseCimValue,
  quoteForMessage,
} from "./cim-types.js";
import { type XmlElement, type XmlLimits, describeLocation, parseXml } from "./xml-parse.js";
import { escapeXmlAttribute, escapeXmlText } from "./xml-text.js";

type ScalarProperty = {
  [T in CimScalarType]: { readonly type: T; readonly array?: false; readonly value: CimValueOf<T> | null };
}[CimScalarType];
type ArrayProperty = {
  [T in CimScalarType]: {
    readonly type: T;
    readonly array: true;
    readonly value: readonly (CimValueOf<T> | null)[] | null;
    /** ARRAYSIZE: the declared size of a fixed-size array. */
    readonly arraySize?: number;
  };
}[CimScalarType];

/** What every property can carry besides its value. */
export interface CimPropertyBase {
  /** Property name (a DSP0004 identifier; compared case-insensitively). */
  readonly name: string;
  /** PROPAGATED: true when the value comes from the class, as WMI marks inherited defaults. */
  readonly propagated?: boolean;
  /** CLASSORIGIN: the class that declares the property. */
  readonly classOrigin?: string;
  /** Qualifiers on the property, when kept. */
  readonly qualifiers?: readonly CimQualifier[];
}

/** Extras of string-typed (and other non-reference) properties. */
export interface CimValuePropertyExtras {
  /**
   * EmbeddedObject: the string value is itself CIM-XML (`instance`: an INSTANCE; `object`:
   * an INSTANCE or CLASS); read it with {@link fromCimXml}.
   */
  readonly embeddedObject?: "object" | "instance";
  /** xml:lang of the value. */
  readonly lang?: string;
}

/**
 * One property of an instance. `type` and `array` decide the JS type of `value`: see
 * {@link CimValueOf}; `null` is CIM's NULL (a PROPERTY without VALUE). A reference holds a
 * {@link CimInstancePath}; CIM-XML has no reference arrays in instances.
 */
export type CimProperty =
  | (CimPropertyBase & CimValuePropertyExtras & ScalarProperty)
  | (CimPropertyBase & CimValuePropertyExtras & ArrayProperty)
  | (CimPropertyBase & {
      readonly type: "reference";
      readonly array?: false;
      /** REFERENCECLASS: the class the reference must point to. */
      readonly referenceClass?: string;
      readonly value: CimInstancePath | null;
    });

/**
 * A qualifier, kept as written when it can be read, dropped when it cannot (never fatal).
 * CIM-XML's QUALIFIER has no ISARRAY, so a NULL qualifier always reads back as a scalar.
 */
export type CimQualifier = {
  readonly name: string;
  readonly propagated?: boolean;
  readonly overridable?: boolean;
  readonly toSubclass?: boolean;
  readonly toInstance?: boolean;
  readonly translatable?: boolean;
  readonly lang?: string;
} & (ScalarProperty | Omit<ArrayProperty, "arraySize">);

/** One CIM instance: its class, properties in document order and optional qualifiers. */
export interface CimInstance {
  /** CLASSNAME, e.g. `Msvm_KvpExchangeDataItem`. */
  readonly className: string;
  /** Properties in the order written; names are unique ignoring case. */
  readonly properties: readonly CimProperty[];
  /** Qualifiers on the instance, when kept. */
  readonly qualifiers?: readonly CimQualifier[];
  /** xml:lang of the instance. */
  readonly lang?: string;
}

/** Options of {@link fromCimXml}. */
export interface FromCimXmlOptions {
  /** Limits on the XML; defaults in {@link DEFAULT_XML_LIMITS}. */
  readonly limits?: XmlLimits;
  /** `keep` (default) reads qualifiers into the model; `skip` ignores them. Unreadable ones are always dropped. */
  readonly qualifiers?: "keep" | "skip";
}

/** The property named `name`, compared case-insensitively as CIM names are, or undefined. */
export function getProperty(instance: CimInstance, name: string): CimProperty | undefined {
  const upper = name.toUpperCase();
  return instance.properties.find((p) => p.name === name || p.name.toUpperCase() === upper);
}

// ---------------------------------------------------------------------------------------
// Writing

function cimError(message: string): KvpError {
  return new KvpError("invalid-cim", `invalid CIM: ${message}`);
}

function checkName(name: string, what: string): string {
  if (!isCimName(name)) throw cimError(`${what} ${quoteForMessage(String(name))} is not a CIM name`);
  return name;
}

// xml:lang is an NMTOKEN in the DTD.
function checkLang(lang: string, what: string): string {
  if (typeof lang !== "string" || !/^[A-Za-z0-9._:-]+$/.test(lang))
    throw cimError(`${what} xml:lang ${quoteForMessage(String(lang))} is not a language tag`);
  return lang;
}

function attribute(name: string, value: string | undefined, what: string): string {
  return value === undefined ? "" : ` ${name}="${escapeXmlAttribute(value, what)}"`;
}

function booleanAttribute(name: string, value: boolean | undefined): string {
  return value === undefined ? "" : ` ${name}="${value ? "true" : "false"}"`;
}

function scalarValueXml(type: CimScalarType, value: unknown, what: string): string {
  return `<VALUE>${escapeXmlText(formatCimValue(type, value, what), what)}</VALUE>`;
}

function valueArrayXml(type: CimScalarType, values: readonly unknown[], what: string): string {
  if (!Array.isArray(values)) throw cimError(`${what} is not an array`);
  let out = "<VALUE.ARRAY>";
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    out += item === null ? "<VALUE.NULL/>" : scalarValueXml(type, item, `${what}[${i}]`);
  }
  return `${out}</VALUE.ARRAY>`;
}

function checkScalarType(type: unknown, what: string): CimScalarType {
  if (typeof type !== "string" || !isCimType(type) || type === "reference") {
    throw cimError(`${what} has type ${quoteForMessage(String(type))}, not a CIM type`);
  }
  return type;
}

function qualifiersXml(qualifiers: readonly CimQualifier[] | undefined, what: string): string {
  if (qualifiers === undefined) return "";
  let out = "";
  for (const q of qualifiers) {
    const qWhat = `qualifier ${quoteForMessage(String(q.name))} of ${what}`;
    const type = checkScalarType(q.type, qWhat);
    out +=
      `<QUALIFIER NAME="${escapeXmlAttribute(checkName(q.name, "qualifier"), qWhat)}" TYPE="${type}"` +
      booleanAttribute("PROPAGATED", q.propagated) +
      booleanAttribute("OVERRIDABLE", q.overridable) +
      booleanAttribute("TOSUBCLASS", q.toSubclass) +
      booleanAttribute("TOINSTANCE", q.toInstance) +
      booleanAttribute("TRANSLATABLE", q.translatable) +
      (q.lang === undefined ? "" : ` xml:lang="${checkLang(q.lang, qWhat)}"`) +
      ">";
    if (q.value !== null)
      out += q.array ? valueArrayXml(type, q.value as readonly unknown[], qWhat) : scalarValueXml(type, q.value, qWhat);
    out += "</QUALIFIER>";
  }
  return out;
}

function keyValueXml(key: CimKeyBinding, what: string): string {
  if (key.type === "reference") return valueReferenceXml(key.value, what);
  const type = checkScalarType(key.type, what);
  const valueType =
    type === "boolean"
      ? "boolean"
      : isCimIntegerType(type) || type === "real32" || type === "real64"
        ? "numeric"
        : "string";
  return `<KEYVALUE VALUETYPE="${valueType}" TYPE="${type}">${escapeXmlText(formatCimValue(type, key.value, what), what)}</KEYVALUE>`;
}

function namespaceXml(namespace: string, what: string): string {
  let out = "<LOCALNAMESPACEPATH>";
  for (const segment of namespace.split("/")) {
    if (segment === "") throw cimError(`${what} has an empty namespace segment in ${quoteForMessage(namespace)}`);
    out += `<NAMESPACE NAME="${escapeXmlAttribute(segment, `namespace of ${what}`)}"/>`;
  }
  return `${out}</LOCALNAMESPACEPATH>`;
}

/**
 * The INSTANCENAME, LOCALINSTANCEPATH or INSTANCEPATH of `path` (by what it carries).
 * @throws {KvpError} `invalid-cim` for a host without a namespace, bad names or key values.
 */
export function instancePathToCimXml(path: CimInstancePath, what = "reference"): string {
  if (typeof path !== "object" || path === null) throw cimError(`${what} is not an instance path`);
  const className = checkName(path.className, `class of ${what}`);
  if (!Array.isArray(path.keys)) throw cimError(`${what} has no key list`);
  let name = `<INSTANCENAME CLASSNAME="${className}">`;
  const seen = new Set<string>();
  for (const key of path.keys) {
    const keyWhat = `key ${quoteForMessage(String(key.name))} of ${what}`;
    if (key.name === "") {
      if (path.keys.length !== 1) throw cimError(`${what} has an unnamed key beside others`);
      name += keyValueXml(key, keyWhat);
      continue;
    }
    const upper = checkName(key.name, "key").toUpperCase();
    if (seen.has(upper)) throw cimError(`${what} has key ${quoteForMessage(key.name)} twice`);
    seen.add(upper);
    name += `<KEYBINDING NAME="${key.name}">${keyValueXml(key, keyWhat)}</KEYBINDING>`;
  }
  name += "</INSTANCENAME>";
  if (path.namespace === undefined) {
    if (path.host !== undefined) throw cimError(`${what} names a host but no namespace`);
    return name;
  }
  const namespace = namespaceXml(path.namespace, what);
  if (path.host === undefined) return `<LOCALINSTANCEPATH>${namespace}${name}</LOCALINSTANCEPATH>`;
  if (path.host === "") throw cimError(`${what} has an empty host`);
  return `<INSTANCEPATH><NAMESPACEPATH><HOST>${escapeXmlText(path.host, `host of ${what}`)}</HOST>${namespace}</NAMESPACEPATH>${name}</INSTANCEPATH>`;
}

function valueReferenceXml(path: CimInstancePath, what: string): string {
  return `<VALUE.REFERENCE>${instancePathToCimXml(path, what)}</VALUE.REFERENCE>`;
}

function propertyXml(p: CimProperty): string {
  const what = `property ${quoteForMessage(String(p.name))}`;
  const head =
    ` NAME="${checkName(p.name, "property")}"` +
    attribute("CLASSORIGIN", p.classOrigin, `CLASSORIGIN of ${what}`) +
    booleanAttribute("PROPAGATED", p.propagated);
  const qualifiers = qualifiersXml(p.qualifiers, what);
  if (p.type === "reference") {
    if (p.array) throw cimError(`${what}: CIM-XML instances have no reference arrays`);
    const body = p.value === null ? "" : valueReferenceXml(p.value, what);
    return `<PROPERTY.REFERENCE${head}${attribute("REFERENCECLASS", p.referenceClass, `REFERENCECLASS of ${what}`)}>${qualifiers}${body}</PROPERTY.REFERENCE>`;
  }
  const type = checkScalarType(p.type, what);
  const tail =
    (p.embeddedObject === undefined
      ? ""
      : p.embeddedObject === "object" || p.embeddedObject === "instance"
        ? ` EmbeddedObject="${p.embeddedObject}"`
        : (() => {
            throw cimError(`${what} has EmbeddedObject ${quoteForMessage(String(p.embeddedObject))}`);
          })()) + (p.lang === undefined ? "" : ` xml:lang="${checkLang(p.lang, what)}"`);
  if (p.array) {
    const size = p.arraySize;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
      throw cimError(`${what} has ARRAYSIZE ${size}`);
    const body = p.value === null ? "" : valueArrayXml(type, p.value, what);
    return `<PROPERTY.ARRAY${head} TYPE="${type}"${size === undefined ? "" : ` ARRAYSIZE="${size}"`}${tail}>${qualifiers}${body}</PROPERTY.ARRAY>`;
  }
  const body = p.value === null ? "" : scalarValueXml(type, p.value, what);
  return `<PROPERTY${head} TYPE="${type}"${tail}>${qualifiers}${body}</PROPERTY>`;
}

/**
 * Writes `instance` as one CIM-XML INSTANCE element, the way WMI embeds instances in
 * strings: no XML declaration, no whitespace between elements, a NULL as an element without
 * VALUE. The result is valid against the DSP0203 DTD.
 * @throws {KvpError} `invalid-cim` for names that are not CIM names, duplicate properties or
 *   values that do not fit their type; `invalid-text` for text XML 1.0 cannot carry.
 */
export function toCimXml(instance: CimInstance): string {
  if (typeof instance !== "object" || instance === null) throw cimError("instance is not an object");
  let out =
    `<INSTANCE CLASSNAME="${checkName(instance.className, "class")}"` +
    (instance.lang === undefined ? "" : ` xml:lang="${checkLang(instance.lang, "instance")}"`) +
    ">";
  out += qualifiersXml(instance.qualifiers, `instance of ${instance.className}`);
  const seen = new Set<string>();
  for (const property of instance.properties) {
    const upper = String(property.name).toUpperCase();
    if (seen.has(upper)) throw cimError(`property ${quoteForMessage(property.name)} appears twice`);
    seen.add(upper);
    out += propertyXml(property);
  }
  return `${out}</INSTANCE>`;
}

// ---------------------------------------------------------------------------------------
// Reading

/** Where a reader is: the source text for locations and what to do with qualifiers. */
interface ReadContext {
  readonly source: string;
  readonly keepQualifiers: boolean;
}

function readError(ctx: ReadContext, element: XmlElement, message: string): KvpError {
  return new KvpError(
    "invalid-cim",
    `invalid CIM: ${message} (<${element.name}> at ${describeLocation(ctx.source, element.offset)})`,
  );
}

/** Child elements, refusing non-blank text: CIM-XML containers hold elements only. */
function elementChildren(ctx: ReadContext, element: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of element.children) {
    if (typeof child !== "string") out.push(child);
    else if (!/^[ \t\r\n]*$/.test(child))
      throw readError(ctx, element, `text ${quoteForMessage(child)} where only elements belong`);
  }
  return out;
}

/** The text of an element that holds text only (VALUE, KEYVALUE, HOST). */
function textOf(ctx: ReadContext, element: XmlElement): string {
  let text = "";
  for (const child of element.children) {
    if (typeof child !== "string") throw readError(ctx, element, `element <${child.name}> inside a text-only element`);
    text += child;
  }
  return text;
}

function requiredName(ctx: ReadContext, element: XmlElement, attributeName: string): string {
  const value = element.attributes.get(attributeName);
  if (value === undefined) throw readError(ctx, element, `missing ${attributeName}`);
  if (!isCimName(value)) throw readError(ctx, element, `${attributeName} ${quoteForMessage(value)} is not a CIM name`);
  return value;
}

function readBoolean(ctx: ReadContext, element: XmlElement, attributeName: string): boolean | undefined {
  const value = element.attributes.get(attributeName);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw readError(ctx, element, `${attributeName} ${quoteForMessage(value)} is not true or false`);
}

function readType(ctx: ReadContext, element: XmlElement, what: string): CimScalarType {
  const raw = element.attributes.get("TYPE");
  if (raw === undefined) throw readError(ctx, element, `${what} has no TYPE`);
  const type = raw.toLowerCase();
  if (!isCimType(type) || type === "reference")
    throw readError(ctx, element, `${what} has TYPE ${quoteForMessage(raw)}, not a CIM type`);
  return type;
}

/** Converts text, adding the element's location to a conversion error. */
function convert<T extends CimScalarType>(
  ctx: ReadContext,
  element: XmlElement,
  type: T,
  text: string,
  what: string,
): CimValueOf<T> {
  try {
    return parseCimValue(type, text, what);
  } catch (error) {
    if (error instanceof KvpError) throw readError(ctx, element, error.message.replace(/^invalid CIM: /, ""));
    throw error;
  }
}

/** VALUE (or VALUE.NULL) → a value or null; VALUE.ARRAY → an array. */
function readValue(ctx: ReadContext, element: XmlElement, type: CimScalarType, what: string): unknown {
  if (element.name === "VALUE.NULL") return null;
  if (element.name !== "VALUE") throw readError(ctx, element, `${what}: expected VALUE`);
  return convert(ctx, element, type, textOf(ctx, element), what);
}

function readValueArray(ctx: ReadContext, element: XmlElement, type: CimScalarType, what: string): unknown[] {
  if (element.name !== "VALUE.ARRAY") throw readError(ctx, element, `${what}: expected VALUE.ARRAY`);
  const children = elementChildren(ctx, element);
  return children.map((child, i) => readValue(ctx, child, type, `${what}[${i}]`));
}

function readQualifier(ctx: ReadContext, element: XmlElement): CimQualifier | undefined {
  try {
    const name = requiredName(ctx, element, "NAME");
    const what = `qualifier ${quoteForMessage(name)}`;
    const type = readType(ctx, element, what);
    const children = elementChildren(ctx, element);
    if (children.length > 1) throw readError(ctx, element, `${what} has more than one value`);
    const valueElement = children[0];
    const array = valueElement?.name === "VALUE.ARRAY";
    const value =
      valueElement === undefined
        ? null
        : array
          ? readValueArray(ctx, valueElement, type, what)
          : readValue(ctx, valueElement, type, what);
    const qualifier: Record<string, unknown> = { name, type };
    if (array) qualifier["array"] = true;
    qualifier["value"] = value;
    const flags = [
      ["propagated", "PROPAGATED"],
      ["overridable", "OVERRIDABLE"],
      ["toSubclass", "TOSUBCLASS"],
      ["toInstance", "TOINSTANCE"],
      ["translatable", "TRANSLATABLE"],
    ] as const;
    for (const [key, attributeName] of flags) {
      const flag = readBoolean(ctx, element, attributeName);
      if (flag !== undefined) qualifier[key] = flag;
    }
    const lang = element.attributes.get("xml:lang");
    if (lang !== undefined) qualifier["lang"] = lang;
    return qualifier as CimQualifier;
  } catch (error) {
    // Qualifiers are metadata: one we cannot read is dropped, never fatal to the instance.
    if (error instanceof KvpError) return undefined;
    throw error;
  }
}

function readNamespace(ctx: ReadContext, element: XmlElement): string {
  if (element.name !== "LOCALNAMESPACEPATH") throw readError(ctx, element, "expected LOCALNAMESPACEPATH");
  const segments = elementChildren(ctx, element).map((child) => {
    if (child.name !== "NAMESPACE") throw readError(ctx, child, "expected NAMESPACE");
    const name = child.attributes.get("NAME");
    if (name === undefined || name === "" || /[/\\:]/.test(name)) {
      throw readError(ctx, child, `NAMESPACE NAME ${quoteForMessage(String(name))} is not a namespace segment`);
    }
    return name;
  });
  if (segments.length === 0) throw readError(ctx, element, "empty namespace path");
  return segments.join("/");
}

function inferKeyType(ctx: ReadContext, element: XmlElement, text: string): CimScalarType {
  const valueType = element.attributes.get("VALUETYPE")?.toLowerCase() ?? "string";
  if (valueType === "string") return "string";
  if (valueType === "boolean") return "boolean";
  if (valueType !== "numeric")
    throw readError(ctx, element, `VALUETYPE ${quoteForMessage(valueType)} is not string, boolean or numeric`);
  // Untyped numeric keys (older producers): integers as 64-bit, anything else as real64.
  if (/^[ \t\r\n]*-/.test(text) && /^[ \t\r\n]*-[0-9]+[ \t\r\n]*$/.test(text)) return "sint64";
  return /^[ \t\r\n]*\+?(?:[0-9]+|0[xX][0-9A-Fa-f]+)[ \t\r\n]*$/.test(text) ? "uint64" : "real64";
}

function readKeyValue(ctx: ReadContext, element: XmlElement, name: string, what: string): CimKeyBinding {
  if (element.name === "VALUE.REFERENCE") return { name, type: "reference", value: readReference(ctx, element, what) };
  if (element.name !== "KEYVALUE") throw readError(ctx, element, `${what}: expected KEYVALUE or VALUE.REFERENCE`);
  const text = textOf(ctx, element);
  const type = element.attributes.has("TYPE") ? readType(ctx, element, what) : inferKeyType(ctx, element, text);
  return { name, type, value: convert(ctx, element, type, text, what) } as CimKeyBinding;
}

function readInstanceName(
  ctx: ReadContext,
  element: XmlElement,
  what: string,
): { className: string; keys: CimKeyBinding[] } {
  if (element.name !== "INSTANCENAME") throw readError(ctx, element, `${what}: expected INSTANCENAME`);
  const className = requiredName(ctx, element, "CLASSNAME");
  const children = elementChildren(ctx, element);
  const keys: CimKeyBinding[] = [];
  const first = children[0];
  if (first !== undefined && first.name !== "KEYBINDING") {
    if (children.length > 1) throw readError(ctx, element, `${what}: a bare key value must be alone`);
    keys.push(readKeyValue(ctx, first, "", `key of ${what}`));
    return { className, keys };
  }
  const seen = new Set<string>();
  for (const child of children) {
    if (child.name !== "KEYBINDING") throw readError(ctx, child, `${what}: expected KEYBINDING`);
    const name = requiredName(ctx, child, "NAME");
    const upper = name.toUpperCase();
    if (seen.has(upper)) throw readError(ctx, child, `${what} has key ${quoteForMessage(name)} twice`);
    seen.add(upper);
    const values = elementChildren(ctx, child);
    const valueElement = values[0];
    if (valueElement === undefined || values.length > 1)
      throw readError(ctx, child, `key ${quoteForMessage(name)} needs exactly one value`);
    keys.push(readKeyValue(ctx, valueElement, name, `key ${quoteForMessage(name)} of ${what}`));
  }
  return { className, keys };
}

/** Reads INSTANCEPATH, LOCALINSTANCEPATH or INSTANCENAME. */
function readInstancePath(ctx: ReadContext, element: XmlElement, what: string): CimInstancePath {
  const children = () => elementChildren(ctx, element);
  switch (element.name) {
    case "INSTANCENAME":
      return readInstanceName(ctx, element, what);
    case "LOCALINSTANCEPATH": {
      const [ns, name, extra] = children();
      if (ns === undefined || name === undefined || extra !== undefined)
        throw readError(ctx, element, `${what}: expected LOCALNAMESPACEPATH and INSTANCENAME`);
      const namespace = readNamespace(ctx, ns);
      return { namespace, ...readInstanceName(ctx, name, what) };
    }
    case "INSTANCEPATH": {
      const [nsPath, name, extra] = children();
      if (nsPath?.name !== "NAMESPACEPATH" || name === undefined || extra !== undefined) {
        throw readError(ctx, element, `${what}: expected NAMESPACEPATH and INSTANCENAME`);
      }
      const [hostElement, local, more] = elementChildren(ctx, nsPath);
      if (hostElement?.name !== "HOST" || local === undefined || more !== undefined)
        throw readError(ctx, nsPath, `${what}: expected HOST and LOCALNAMESPACEPATH`);
      const host = textOf(ctx, hostElement);
      if (host === "") throw readError(ctx, hostElement, `${what} has an empty HOST`);
      return { host, namespace: readNamespace(ctx, local), ...readInstanceName(ctx, name, what) };
    }
    case "CLASSPATH":
    case "LOCALCLASSPATH":
    case "CLASSNAME":
      throw readError(ctx, element, `${what} points to a class; only instance references are supported`);
    default:
      throw readError(ctx, element, `${what}: unexpected <${element.name}>`);
  }
}

function readReference(ctx: ReadContext, element: XmlElement, what: string): CimInstancePath {
  const [target, extra] = elementChildren(ctx, element);
  if (target === undefined || extra !== undefined)
    throw readError(ctx, element, `${what}: VALUE.REFERENCE needs exactly one path`);
  return readInstancePath(ctx, target, what);
}

/** Reads the children of a property: qualifiers (anywhere) and at most one value element. */
function splitPropertyChildren(
  ctx: ReadContext,
  element: XmlElement,
  what: string,
): { qualifiers: CimQualifier[]; value: XmlElement | undefined } {
  const qualifiers: CimQualifier[] = [];
  let value: XmlElement | undefined;
  for (const child of elementChildren(ctx, element)) {
    if (child.name === "QUALIFIER") {
      if (!ctx.keepQualifiers) continue;
      const qualifier = readQualifier(ctx, child);
      if (qualifier !== undefined) qualifiers.push(qualifier);
    } else if (value !== undefined) {
      throw readError(ctx, child, `${what} has more than one value`);
    } else {
      value = child;
    }
  }
  return { qualifiers, value };
}

function readProperty(ctx: ReadContext, element: XmlElement): CimProperty {
  const name = requiredName(ctx, element, "NAME");
  const what = `property ${quoteForMessage(name)}`;
  const common: Record<string, unknown> = { name };
  const { qualifiers, value } = splitPropertyChildren(ctx, element, what);
  let property: Record<string, unknown>;
  if (element.name === "PROPERTY.REFERENCE") {
    const referenceClass = element.attributes.get("REFERENCECLASS");
    property = { ...common, type: "reference", value: null };
    if (value !== undefined) {
      if (value.name === "VALUE.REFERENCE") property["value"] = readReference(ctx, value, what);
      else if (value.name !== "VALUE.NULL") throw readError(ctx, value, `${what}: expected VALUE.REFERENCE`);
    }
    if (referenceClass !== undefined) property["referenceClass"] = referenceClass;
  } else {
    const type = readType(ctx, element, what);
    if (element.name === "PROPERTY.ARRAY") {
      property = {
        ...common,
        type,
        array: true,
        value: value === undefined ? null : readValueArray(ctx, value, type, what),
      };
      const size = element.attributes.get("ARRAYSIZE");
      if (size !== undefined) property["arraySize"] = convertArraySize(ctx, element, size);
    } else {
      property = { ...common, type, value: value === undefined ? null : readValue(ctx, value, type, what) };
    }
    const embedded = element.attributes.get("EmbeddedObject") ?? element.attributes.get("EMBEDDEDOBJECT");
    if (embedded !== undefined) {
      const lower = embedded.toLowerCase();
      if (lower !== "object" && lower !== "instance")
        throw readError(ctx, element, `${what} has EmbeddedObject ${quoteForMessage(embedded)}`);
      property["embeddedObject"] = lower;
    }
    const lang = element.attributes.get("xml:lang");
    if (lang !== undefined) property["lang"] = lang;
  }
  const propagated = readBoolean(ctx, element, "PROPAGATED");
  if (propagated !== undefined) property["propagated"] = propagated;
  const classOrigin = element.attributes.get("CLASSORIGIN");
  if (classOrigin !== undefined) property["classOrigin"] = classOrigin;
  if (qualifiers.length > 0) property["qualifiers"] = qualifiers;
  return property as unknown as CimProperty;
}

function convertArraySize(ctx: ReadContext, element: XmlElement, text: string): number {
  try {
    return parseCimInteger("uint32", text, "ARRAYSIZE");
  } catch {
    throw readError(ctx, element, `ARRAYSIZE ${quoteForMessage(text)} is not a size`);
  }
}

/**
 * Reads an INSTANCE element already parsed by {@link parseXml}; `source` is the text it came
 * from, for locations in messages.
 * @throws {KvpError} `invalid-cim` with the element and its line and column.
 */
export function instanceFromXmlElement(
  element: XmlElement,
  source: string,
  options: FromCimXmlOptions = {},
): CimInstance {
  const ctx: ReadContext = { source, keepQualifiers: options.qualifiers !== "skip" };
  if (element.name !== "INSTANCE") throw readError(ctx, element, `expected INSTANCE as the root element`);
  const className = requiredName(ctx, element, "CLASSNAME");
  const properties: CimProperty[] = [];
  const qualifiers: CimQualifier[] = [];
  const seen = new Set<string>();
  for (const child of elementChildren(ctx, element)) {
    switch (child.name) {
      case "QUALIFIER": {
        if (!ctx.keepQualifiers) break;
        const qualifier = readQualifier(ctx, child);
        if (qualifier !== undefined) qualifiers.push(qualifier);
        break;
      }
      case "PROPERTY":
      case "PROPERTY.ARRAY":
      case "PROPERTY.REFERENCE": {
        const property = readProperty(ctx, child);
        const upper = property.name.toUpperCase();
        // Two values for one name would let a producer show one reader one value and
        // another reader the other.
        if (seen.has(upper)) throw readError(ctx, child, `property ${quoteForMessage(property.name)} appears twice`);
        seen.add(upper);
        properties.push(property);
        break;
      }
      default:
        throw readError(ctx, child, `unexpected <${child.name}> in INSTANCE`);
    }
  }
  const instance: { -readonly [K in keyof CimInstance]: CimInstance[K] } = { className, properties };
  if (qualifiers.length > 0) instance.qualifiers = qualifiers;
  const lang = element.attributes.get("xml:lang");
  if (lang !== undefined) instance.lang = lang;
  return instance;
}

/**
 * Reads one CIM-XML INSTANCE (an embedded-object string as WMI returns it; an XML
 * declaration, surrounding whitespace, comments and CDATA are fine).
 * @throws {KvpError} `invalid-xml` / `limit-exceeded` from the XML layer (see {@link parseXml});
 *   `invalid-cim` for XML that is not a CIM instance, with the element's line and column.
 */
export function fromCimXml(xml: string, options: FromCimXmlOptions = {}): CimInstance {
  const root = parseXml(xml, options.limits);
  return instanceFromXmlElement(root, xml, options);
}
