/**
 * The one way kvp-core reads XML: a strict, linear well-formedness gate of our own, then
 * fast-xml-parser to build the tree.
 *
 * Why both: fast-xml-parser 5.12 is a fast tree builder but not a conformance checker. Out of
 * the box it expands entities declared in a DOCTYPE, passes `&nbsp;`, C0 controls and `<` in
 * attribute values through, and leaves a mismatched end tag unreported (its XMLValidator
 * catches the last but none of the others). So every document first goes through
 * {@link checkXml}, which refuses DOCTYPEs and every entity but the five predefined ones and
 * character references, checks each character, name, attribute and end tag, enforces the
 * limits, and reports problems with line and column. Only documents it accepts reach the
 * parser, configured to expand nothing (`processEntities: false`): references are decoded
 * here, by code that knows only those five entities and character references.
 */
import { XMLParser } from "fast-xml-parser";
import { KvpError } from "../errors.js";
import { codePointIndex, describeCharAt, findInvalidXmlChar, referenceText } from "./xml-text.js";

/** Limits on what {@link parseXml} reads; each has a default in {@link DEFAULT_XML_LIMITS}. */
export interface XmlLimits {
  /** Longest input, in UTF-16 code units (JS string length). */
  readonly maxInputChars?: number;
  /** Deepest element nesting; the root element is depth 1. */
  readonly maxDepth?: number;
  /** Most elements in one document. */
  readonly maxElements?: number;
  /** Most attributes on one element. */
  readonly maxAttributes?: number;
}

/**
 * The defaults: 1 Mi characters (a KVP item is at most a few KB; an Msvm_Error with its
 * embedded instances well under 100 KB), depth 32 (a CIM instance with a reference to a
 * reference needs about 10), 65,536 elements and 32 attributes per element (a CIM element
 * has at most 8).
 */
export const DEFAULT_XML_LIMITS: Readonly<Required<XmlLimits>> = Object.freeze({
  maxInputChars: 1_048_576,
  maxDepth: 32,
  maxElements: 65_536,
  maxAttributes: 32,
});

/** An element: its name, attributes (values decoded), children and where it starts. */
export interface XmlElement {
  /** Qualified name as written (`p:Foo` stays `p:Foo`). */
  readonly name: string;
  /** Attribute values after attribute-value normalization and reference decoding. */
  readonly attributes: ReadonlyMap<string, string>;
  /** Child elements and text, in document order; adjacent text and CDATA are one string. */
  readonly children: readonly (XmlElement | string)[];
  /** UTF-16 offset of the element's `<` in the input (see {@link xmlLocation}). */
  readonly offset: number;
}

/** Line and column (both from 1; the column counts characters) of `offset` in `text`. */
export function xmlLocation(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 10 || (unit === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: codePointIndex(text.slice(lineStart), offset - lineStart) + 1 };
}

/** `line 3, column 14` for messages. */
export function describeLocation(text: string, offset: number): string {
  const { line, column } = xmlLocation(text, offset);
  return `line ${line}, column ${column}`;
}

function xmlError(text: string, offset: number, message: string): KvpError {
  return new KvpError("invalid-xml", `invalid XML: ${message} at ${describeLocation(text, offset)}`);
}

function resolveLimits(limits: XmlLimits | undefined): Required<XmlLimits> {
  if (limits === undefined) return DEFAULT_XML_LIMITS;
  return {
    maxInputChars: limits.maxInputChars ?? DEFAULT_XML_LIMITS.maxInputChars,
    maxDepth: limits.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
    maxElements: limits.maxElements ?? DEFAULT_XML_LIMITS.maxElements,
    maxAttributes: limits.maxAttributes ?? DEFAULT_XML_LIMITS.maxAttributes,
  };
}

// XML 1.0 (5th ed.) productions [4] NameStartChar and [4a] NameChar.
const NAME_START =
  ":A-Z_a-z\\xC0-\\xD6\\xD8-\\xF6\\xF8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}";
const NAME = new RegExp(`[${NAME_START}][${NAME_START}\\-.0-9\\xB7\\u0300-\\u036F\\u203F\\u2040]*`, "uy");
const XML_DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>/y;

function isSpace(unit: number): boolean {
  return unit === 32 || unit === 10 || unit === 9 || unit === 13;
}

function readName(text: string, at: number): string | undefined {
  NAME.lastIndex = at;
  return NAME.exec(text)?.[0];
}

/**
 * Next position of `needle` at or after `from`, remembering the last answer: the scan only
 * moves forward, so each search covers new text and the whole check stays linear even when
 * the next `&` is megabytes away.
 */
class ForwardFinder {
  private at = -2;
  constructor(
    private readonly text: string,
    private readonly needle: string,
  ) {}
  next(from: number): number {
    if (this.at !== -1 && this.at < from) this.at = this.text.indexOf(this.needle, from);
    return this.at;
  }
}

/** Checks every `&` in `text[from, to)` starts a reference we accept. */
function checkReferences(text: string, from: number, to: number, amps: ForwardFinder): void {
  let amp = amps.next(from);
  while (amp >= 0 && amp < to) {
    const semi = text.indexOf(";", amp + 1);
    // 40 characters is more than any reference we accept; a longer run is not a reference.
    if (semi < 0 || semi >= to || semi - amp > 40) {
      throw xmlError(text, amp, "'&' does not start a reference (write &amp;)");
    }
    const body = text.slice(amp + 1, semi);
    if (referenceText(body) === undefined) {
      if (body.startsWith("#")) {
        throw xmlError(text, amp, `character reference &${body}; is malformed or not an XML 1.0 character`);
      }
      if (readName(body, 0) === body) {
        throw xmlError(
          text,
          amp,
          `entity &${body}; is not accepted (only &lt; &gt; &amp; &quot; &apos; and character references are)`,
        );
      }
      throw xmlError(text, amp, `malformed reference &${body};`);
    }
    amp = amps.next(semi + 1);
  }
}

/**
 * Checks that `text` is a well-formed XML 1.0 document of the kind we accept, within
 * `limits`, without building anything. Refused on purpose: a DOCTYPE (so no DTD, no external
 * entity, no entity expansion), any other markup declaration, entity references other than
 * the five predefined ones, and character references to characters XML 1.0 cannot carry.
 * A leading U+FEFF, an XML declaration and whitespace before it are accepted.
 * @returns the number of elements.
 * @throws {KvpError} `invalid-xml` with line and column; `limit-exceeded` past a limit.
 */
export function checkXml(text: string, limits?: XmlLimits): number {
  const max = resolveLimits(limits);
  if (typeof text !== "string") throw new KvpError("invalid-xml", "invalid XML: not a string");
  if (text.length > max.maxInputChars) {
    throw new KvpError("limit-exceeded", `XML too long: ${text.length} characters, limit ${max.maxInputChars}`);
  }
  const bad = findInvalidXmlChar(text);
  if (bad >= 0) throw xmlError(text, bad, `character ${describeCharAt(text, bad)} is not allowed in XML 1.0`);

  const n = text.length;
  const amps = new ForwardFinder(text, "&");
  const cdataEnds = new ForwardFinder(text, "]]>");
  const lessThans = new ForwardFinder(text, "<");
  const open: { name: string; at: number }[] = [];
  let elements = 0;
  let rootClosed = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // Tolerated on purpose: whitespace before the XML declaration (strictly an error), since
  // producers that pad embedded strings are common and the whitespace means nothing.
  while (isSpace(text.charCodeAt(i))) i++;
  const start = i;
  if (text.startsWith("<?xml", i) && (isSpace(text.charCodeAt(i + 5)) || text.startsWith("?>", i + 5))) {
    XML_DECLARATION.lastIndex = i;
    if (!XML_DECLARATION.test(text)) throw xmlError(text, i, "malformed XML declaration");
    i = XML_DECLARATION.lastIndex;
  }

  while (i < n) {
    const lt = text.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      if (open.length === 0) {
        for (let j = i; j < textEnd; j++) {
          if (!isSpace(text.charCodeAt(j))) {
            throw xmlError(text, j, rootClosed ? "text after the root element" : "text before the root element");
          }
        }
      } else {
        const cdataEnd = cdataEnds.next(i);
        if (cdataEnd >= 0 && cdataEnd < textEnd) throw xmlError(text, cdataEnd, "']]>' in text (write ]]&gt;)");
        checkReferences(text, i, textEnd, amps);
      }
    }
    if (lt < 0) break;
    const next = text.charCodeAt(lt + 1);
    if (next === 63 /* ? */) {
      const target = readName(text, lt + 2);
      if (target === undefined) throw xmlError(text, lt, "malformed processing instruction");
      if (target.toLowerCase() === "xml") {
        throw xmlError(
          text,
          lt,
          lt === start ? "malformed XML declaration" : "XML declaration not at the start of the document",
        );
      }
      const end = text.indexOf("?>", lt + 2 + target.length);
      if (end < 0) throw xmlError(text, lt, "unterminated processing instruction");
      const after = text.charCodeAt(lt + 2 + target.length);
      if (end !== lt + 2 + target.length && !isSpace(after))
        throw xmlError(text, lt, "malformed processing instruction");
      // fast-xml-parser looks for the end of a PI past quoted text, this check does not: a
      // quote inside a PI could make the two see different documents, so refuse it (CIM-XML
      // has no use for processing instructions).
      const quote = text.slice(lt, end).search(/["']/);
      if (quote >= 0) throw xmlError(text, lt + quote, "quote inside a processing instruction (not supported)");
      i = end + 2;
    } else if (next === 33 /* ! */) {
      if (text.startsWith("--", lt + 2)) {
        const dashes = text.indexOf("--", lt + 4);
        if (dashes < 0) throw xmlError(text, lt, "unterminated comment");
        if (text.charCodeAt(dashes + 2) !== 62) throw xmlError(text, dashes, "'--' inside a comment");
        i = dashes + 3;
      } else if (text.startsWith("[CDATA[", lt + 2)) {
        if (open.length === 0) throw xmlError(text, lt, "CDATA section outside the root element");
        const end = text.indexOf("]]>", lt + 9);
        if (end < 0) throw xmlError(text, lt, "unterminated CDATA section");
        i = end + 3;
      } else if (text.startsWith("DOCTYPE", lt + 2)) {
        throw xmlError(text, lt, "DOCTYPE refused (no DTDs, no entity declarations)");
      } else {
        throw xmlError(text, lt, "markup declaration refused (<!ENTITY, <!ELEMENT and the like belong in a DTD)");
      }
    } else if (next === 47 /* / */) {
      const name = readName(text, lt + 2);
      if (name === undefined) throw xmlError(text, lt, "malformed end tag");
      let j = lt + 2 + name.length;
      while (isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 62) throw xmlError(text, lt, `malformed end tag </${name}>`);
      const top = open.pop();
      if (top === undefined) throw xmlError(text, lt, `end tag </${name}> without a start tag`);
      if (top.name !== name) {
        throw xmlError(text, lt, `end tag </${name}> does not match <${top.name}> (${describeLocation(text, top.at)})`);
      }
      if (open.length === 0) rootClosed = true;
      i = j + 1;
    } else {
      const name = readName(text, lt + 1);
      if (name === undefined) throw xmlError(text, lt, "'<' does not start a tag (write &lt;)");
      if (rootClosed) throw xmlError(text, lt, "a second root element");
      if (++elements > max.maxElements) {
        throw new KvpError(
          "limit-exceeded",
          `XML has too many elements: more than ${max.maxElements} (at ${describeLocation(text, lt)})`,
        );
      }
      if (open.length + 1 > max.maxDepth) {
        throw new KvpError(
          "limit-exceeded",
          `XML nested too deep: more than ${max.maxDepth} levels (at ${describeLocation(text, lt)})`,
        );
      }
      let j = lt + 1 + name.length;
      const seen: string[] = [];
      for (;;) {
        const spaced = isSpace(text.charCodeAt(j));
        while (isSpace(text.charCodeAt(j))) j++;
        const c = text.charCodeAt(j);
        if (c === 62 /* > */) {
          open.push({ name, at: lt });
          i = j + 1;
          break;
        }
        if (c === 47 /* / */ && text.charCodeAt(j + 1) === 62) {
          if (open.length === 0) rootClosed = true;
          i = j + 2;
          break;
        }
        if (Number.isNaN(c)) throw xmlError(text, lt, `unterminated start tag <${name}>`);
        const attribute = spaced ? readName(text, j) : undefined;
        if (attribute === undefined) throw xmlError(text, j, `malformed attribute in <${name}>`);
        if (seen.includes(attribute)) throw xmlError(text, j, `duplicate attribute ${attribute} in <${name}>`);
        if (seen.push(attribute) > max.maxAttributes) {
          throw new KvpError(
            "limit-exceeded",
            `XML element <${name}> has too many attributes: more than ${max.maxAttributes} (at ${describeLocation(text, j)})`,
          );
        }
        j += attribute.length;
        while (isSpace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== 61 /* = */) throw xmlError(text, j, `attribute ${attribute} has no value`);
        j++;
        while (isSpace(text.charCodeAt(j))) j++;
        const quote = text[j];
        if (quote !== '"' && quote !== "'") throw xmlError(text, j, `attribute ${attribute} value is not quoted`);
        const close = text.indexOf(quote, j + 1);
        if (close < 0) throw xmlError(text, j, `unterminated value of attribute ${attribute}`);
        const lessThan = lessThans.next(j + 1);
        if (lessThan >= 0 && lessThan < close)
          throw xmlError(text, lessThan, `'<' in the value of attribute ${attribute}`);
        checkReferences(text, j + 1, close, amps);
        j = close + 1;
      }
    }
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) throw xmlError(text, unclosed.at, `element <${unclosed.name}> is not closed`);
  if (elements === 0) throw xmlError(text, n, "no root element");
  return elements;
}

// Tag names reach fast-xml-parser with a "." in front: it refuses tags called
// "constructor" or "prototype" and renames "toString" and the like, and a prefix no XML name
// can start with makes every name plain data and keeps tags apart from "#text", "#cdata"
// and ":@".
const TAG_PREFIX = ".";
const ATTRIBUTE_PREFIX = "@_";
const TEXT = "#text";
const CDATA = "#cdata";
// Typed as the `Symbol` wrapper in fast-xml-parser's .d.ts; at run time it is a symbol. Taken
// with the first parser, not at load: the CLI bundles load fast-xml-parser on first use
// (scripts/lib/lazy-builtins.mjs), and `--help` never parses.
let META: symbol | undefined;

function makeParser(maxDepth: number): XMLParser {
  META ??= XMLParser.getMetaDataSymbol() as unknown as symbol;
  return new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: ATTRIBUTE_PREFIX,
    textNodeName: TEXT,
    cdataPropName: CDATA,
    // Text and attribute values stay as written: no trimming, no number guessing.
    trimValues: false,
    parseTagValue: false,
    parseAttributeValue: false,
    // Nothing is expanded by the parser; decodeText/decodeAttribute below accept only the
    // five predefined entities and character references, and checkXml has refused DOCTYPEs.
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: false,
    transformTagName: (name) => TAG_PREFIX + name,
    captureMetaData: true,
    // checkXml enforces the depth limit with a location; this is the parser's own backstop.
    maxNestedTags: maxDepth + 1,
  });
}

let defaultParser: XMLParser | undefined;

/** A node of fast-xml-parser's `preserveOrder` output. */
type FxpNode = Record<string, unknown>;

function startIndex(node: FxpNode): number {
  // META is set: a node comes from a parser, and makeParser set it.
  const meta = (node as Record<symbol, { startIndex?: number } | undefined>)[META as symbol];
  return meta?.startIndex ?? 0;
}

/**
 * Parses `text` into an element tree after {@link checkXml} has accepted it.
 * Attribute values are normalized as XML 1.0 says (literal tab and newline become spaces)
 * and all references are decoded; comments and processing instructions are dropped.
 * @throws {KvpError} `invalid-xml` with line and column; `limit-exceeded` past a limit.
 */
export function parseXml(text: string, limits?: XmlLimits): XmlElement {
  const elements = checkXml(text, limits);
  let parser: XMLParser;
  if (limits?.maxDepth === undefined) {
    // One parser for the default limits: building its options costs more than a small parse.
    defaultParser ??= makeParser(DEFAULT_XML_LIMITS.maxDepth);
    parser = defaultParser;
  } else {
    parser = makeParser(limits.maxDepth);
  }
  let tree: unknown;
  try {
    tree = parser.parse(text);
  } catch (error) {
    // checkXml accepted the document, so this is a parser limitation, not the input's fault.
    throw new KvpError("invalid-xml", `invalid XML: the parser refused it: ${(error as Error).message}`);
  }
  const counter = { elements: 0 };
  let root: XmlElement | undefined;
  for (const node of tree as FxpNode[]) {
    const element = convertElement(node, counter);
    if (element !== undefined) root = element;
  }
  // A second opinion: the parser must have seen exactly the elements checkXml counted,
  // so no document can mean one thing to the gate and another to the parser.
  if (root === undefined || counter.elements !== elements) {
    throw new KvpError(
      "invalid-xml",
      `invalid XML: the parser disagreed with the well-formedness check (${counter.elements} of ${elements} elements)`,
    );
  }
  return root;
}

function convertElement(node: FxpNode, counter: { elements: number }): XmlElement | undefined {
  let key: string | undefined;
  for (const k of Object.keys(node)) {
    if (k.startsWith(TAG_PREFIX)) key = k;
  }
  if (key === undefined) return undefined;
  // fast-xml-parser 5.12 applies transformTagName twice to self-closing tags; no XML name
  // starts with ".", so stripping every leading "." recovers the name either way.
  const name = key.replace(/^\.+/, "");
  counter.elements++;
  const attributes = new Map<string, string>();
  const rawAttributes = node[":@"] as Record<string, string> | undefined;
  if (rawAttributes !== undefined) {
    for (const key of Object.keys(rawAttributes)) {
      attributes.set(key.slice(ATTRIBUTE_PREFIX.length), decodeAttribute(String(rawAttributes[key])));
    }
  }
  const children: (XmlElement | string)[] = [];
  let text: string | undefined;
  for (const child of node[key] as FxpNode[]) {
    if (Object.hasOwn(child, TEXT)) {
      text = (text ?? "") + decodeText(String(child[TEXT]));
    } else if (Object.hasOwn(child, CDATA)) {
      const parts = child[CDATA] as { [TEXT]?: unknown }[];
      text = (text ?? "") + String(parts[0]?.[TEXT] ?? "");
    } else {
      const element = convertElement(child, counter);
      if (element === undefined) continue;
      if (text !== undefined) children.push(text);
      text = undefined;
      children.push(element);
    }
  }
  if (text !== undefined) children.push(text);
  return { name, attributes, children, offset: startIndex(node) };
}

function decodeText(raw: string): string {
  return raw.includes("&") ? decodeChecked(raw) : raw;
}

function decodeAttribute(raw: string): string {
  // Attribute-value normalization (XML 1.0 §3.3.3): literal whitespace becomes a space, while
  // whitespace written as a character reference is kept, hence normalize before decoding.
  const normalized = /[\t\n\r]/.test(raw) ? raw.replace(/[\t\n\r]/g, " ") : raw;
  return normalized.includes("&") ? decodeChecked(normalized) : normalized;
}

function decodeChecked(raw: string): string {
  let out = "";
  let from = 0;
  for (let amp = raw.indexOf("&"); amp >= 0; amp = raw.indexOf("&", from)) {
    const semi = raw.indexOf(";", amp + 1);
    const replacement = semi < 0 ? undefined : referenceText(raw.slice(amp + 1, semi));
    // checkXml has vetted every reference, so this only guards against a parser surprise.
    if (replacement === undefined)
      throw new KvpError("invalid-xml", "invalid XML: unexpected reference after the check");
    out += raw.slice(from, amp) + replacement;
    from = semi + 1;
  }
  return out + raw.slice(from);
}
