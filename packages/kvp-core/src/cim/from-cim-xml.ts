/**
 * Reading CIM-XML (DSP0201) into a CIM instance, tolerantly (any property order, qualifiers
 * anywhere, VALUE.NULL in a PROPERTY) but never guessing: what it cannot read exactly is a
 * typed error with a location. The XML itself is parsed as hostile input by xml-parse.ts.
 */
import { KvpError } from "../errors.js";
import type { CimInstance, CimProperty, CimQualifier } from "./cim-instance.js";
import {
  type CimInstancePath,
  type CimKeyBinding,
  type CimScalarType,
  type CimValueOf,
  isCimName,
  isCimType,
  parseCimInteger,
  parseCimValue,
  quoteForMessage,
} from "./cim-types.js";
import { type XmlElement, type XmlLimits, describeLocation, parseXml } from "./xml-parse.js";

/** Options of {@link fromCimXml}. */
export interface FromCimXmlOptions {
  /** Limits on the XML; defaults in {@link DEFAULT_XML_LIMITS}. */
  readonly limits?: XmlLimits;
  /** `keep` (default) reads qualifiers into the model; `skip` ignores them. Unreadable ones are always dropped. */
  readonly qualifiers?: "keep" | "skip";
}

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
