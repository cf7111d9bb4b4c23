/**
 * Writing a CIM instance as CIM-XML (DSP0201): INSTANCE with PROPERTY, PROPERTY.ARRAY and
 * PROPERTY.REFERENCE, their values, instance paths as references, and qualifiers. What it
 * writes is valid against the DSP0203 DTD; what it cannot write exactly is refused.
 */
import { KvpError } from "../errors.js";
import type { CimInstance, CimProperty, CimQualifier } from "./cim-instance.js";
import {
  type CimInstancePath,
  type CimKeyBinding,
  type CimScalarType,
  formatCimValue,
  isCimIntegerType,
  isCimName,
  isCimType,
  quoteForMessage,
} from "./cim-types.js";
import { escapeXmlAttribute, escapeXmlText } from "./xml-text.js";

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
