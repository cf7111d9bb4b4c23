/**
 * XML 1.0 text rules in one place: which characters a document can carry, how to escape text
 * and attribute values so a parser gives back exactly the same string, and how to decode the
 * only references we accept (the five predefined entities and character references).
 */
import { KvpError } from "../errors.js";

/**
 * One character XML 1.0 cannot carry (production [2] `Char`): C0 controls other than tab, LF
 * and CR, lone surrogates, U+FFFE and U+FFFF. With the `u` flag a lone surrogate is one code
 * point outside every range, so it matches too.
 */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Anything that text content needs escaped; `>` is escaped everywhere so `]]>` never appears. */
const TEXT_SPECIAL = /[&<>\r]/;
/** Attribute values also lose literal tab and newline to attribute-value normalization. */
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/;

/**
 * UTF-16 index of the first character XML 1.0 cannot carry, or -1 when every character is
 * allowed.
 */
export function findInvalidXmlChar(text: string): number {
  return text.search(NOT_XML_CHAR);
}

/** True when `code` (a code point) is a `Char` of XML 1.0. */
export function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** `U+0001` style name of the code unit or code point at UTF-16 index `at`. */
export function describeCharAt(text: string, at: number): string {
  const code = text.codePointAt(at) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Characters (code points) before UTF-16 index `at`: what a person counts, emoji included. */
export function codePointIndex(text: string, at: number): number {
  let count = 0;
  for (let i = 0; i < at && i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff && i + 1 < at) i++;
    }
    count++;
  }
  return count;
}

/**
 * Throws unless every character of `text` can be carried by XML 1.0.
 * @param what names the text in the message, e.g. `Data of KVP item "Key1"`.
 * @throws {KvpError} `invalid-text`, naming the character and its position (in characters, from 0).
 */
export function assertXmlText(text: string, what: string): void {
  if (typeof text !== "string") throw new KvpError("invalid-text", `invalid text: ${what} is not a string`);
  const at = findInvalidXmlChar(text);
  if (at >= 0) {
    throw new KvpError(
      "invalid-text",
      `invalid text: ${what} has ${describeCharAt(text, at)} at character ${codePointIndex(text, at)}, which XML 1.0 cannot carry`,
    );
  }
}

/**
 * Escapes `text` for element content so that any XML parser gives back exactly `text`:
 * `&`, `<` and `>` become entities (so `]]>` cannot appear) and CR becomes `&#13;` (a literal
 * CR would be read back as LF by end-of-line handling).
 * @param what names the text in an error message.
 * @throws {KvpError} `invalid-text` for characters XML 1.0 cannot carry.
 */
export function escapeXmlText(text: string, what = "text"): string {
  assertXmlText(text, what);
  if (!TEXT_SPECIAL.test(text)) return text;
  return text.replace(/[&<>\r]/g, replaceSpecial);
}

/**
 * As {@link escapeXmlText}, but a character XML 1.0 cannot carry is written as a character
 * reference (`&#1;`, XML 1.1 style) instead of refused, and a lone surrogate as `&#xD800;`.
 * The result is NOT well-formed XML 1.0: it is what a serializer that does not check writes,
 * for simulating producers that do so; strict readers (kvp-core's included) refuse it.
 */
export function escapeXmlTextUnchecked(text: string): string {
  return text.replace(/[&<>\r]|[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, (ch) =>
    TEXT_SPECIAL.test(ch) ? replaceSpecial(ch) : `&#${ch.codePointAt(0)};`,
  );
}

/**
 * Escapes `text` for a double-quoted attribute value so that a parser gives back exactly
 * `text`: as {@link escapeXmlText}, plus `"`, and tab/LF/CR as character references because
 * attribute-value normalization turns literal ones into spaces.
 * @throws {KvpError} `invalid-text` for characters XML 1.0 cannot carry.
 */
export function escapeXmlAttribute(text: string, what = "attribute"): string {
  assertXmlText(text, what);
  if (!ATTRIBUTE_SPECIAL.test(text)) return text;
  return text.replace(/[&<>"\t\n\r]/g, replaceSpecial);
}

function replaceSpecial(ch: string): string {
  switch (ch) {
    case "&":
      return "&amp;";
    case "<":
      return "&lt;";
    case ">":
      return "&gt;";
    case '"':
      return "&quot;";
    case "\t":
      return "&#9;";
    case "\n":
      return "&#10;";
    default:
      return "&#13;";
  }
}

/**
 * Wraps `text` in CDATA sections (the way libvirt embeds CIM-XML in SOAP), splitting where
 * the text contains `]]>` and writing CR as `&#13;` between sections, since neither survives
 * inside one section. The result is element content that parses back to exactly `text`.
 * @throws {KvpError} `invalid-text` for characters XML 1.0 cannot carry.
 */
export function toCdata(text: string, what = "text"): string {
  assertXmlText(text, what);
  let out = "";
  let section = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\r") {
      if (section) out += `<![CDATA[${section}]]>`;
      out += "&#13;";
      section = "";
    } else if (ch === ">" && section.endsWith("]]")) {
      // End the section between "]]" and ">" so the terminator never appears inside it.
      out += `<![CDATA[${section}]]>`;
      section = ">";
    } else {
      section += ch;
    }
  }
  if (section || out === "") out += `<![CDATA[${section}]]>`;
  return out;
}

const PREDEFINED: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }),
);

/**
 * The replacement text of one reference body (what is between `&` and `;`): one of the five
 * predefined entities or a decimal/hex character reference to an XML 1.0 `Char`. Returns
 * undefined for anything else, including entities a DTD might have declared: we never
 * expand those.
 */
export function referenceText(body: string): string | undefined {
  if (body.charCodeAt(0) !== 35 /* # */) return PREDEFINED[body];
  let code: number;
  if (body.charCodeAt(1) === 120 /* x */) {
    if (!/^#x[0-9A-Fa-f]{1,6}$/.test(body)) return undefined;
    code = Number.parseInt(body.slice(2), 16);
  } else {
    if (!/^#[0-9]{1,7}$/.test(body)) return undefined;
    code = Number.parseInt(body.slice(1), 10);
  }
  return isXmlChar(code) ? String.fromCodePoint(code) : undefined;
}

/**
 * Replaces references in `raw` (text as it stands in a document) by their text. Returns
 * undefined when a reference is malformed or not one we accept; callers that need a
 * location run the document through the parser instead.
 */
export function decodeXmlReferences(raw: string): string | undefined {
  let amp = raw.indexOf("&");
  if (amp < 0) return raw;
  let out = "";
  let from = 0;
  while (amp >= 0) {
    const semi = raw.indexOf(";", amp + 1);
    // 10 covers the longest body we accept (#x10FFFF, #1114111): stop early on garbage.
    if (semi < 0 || semi - amp > 10) return undefined;
    const text = referenceText(raw.slice(amp + 1, semi));
    if (text === undefined) return undefined;
    out += raw.slice(from, amp) + text;
    from = semi + 1;
    amp = raw.indexOf("&", from);
  }
  return out + raw.slice(from);
}
