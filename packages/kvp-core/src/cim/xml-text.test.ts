/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KvpError, isKvpError } from "../errors.js";
import { xmlString } from "../../test-support/cim/arbitraries.js";
import { parseXml } from "./xml-parse.js";
import {
  assertXmlText,
  codePointIndex,
  decodeXmlReferences,
  escapeXmlAttribute,
  escapeXmlText,
  findInvalidXmlChar,
  isXmlChar,
  referenceText,
  toCdata,
} from "./xml-text.js";
import { thrown } from "@hyperv-kvp/test-support";

describe("findInvalidXmlChar", () => {
  it.each([
    ["", -1],
    ["plain", -1],
    ["tab\tLF\nCR\r", -1],
    ["\u0000", 0],
    ["ab\u0001", 2],
    ["\u001f", 0],
    ["x\uD800", 1],
    ["\uDC00x", 0],
    ["😀\uD83D", 2],
    ["\uFFFE", 0],
    ["\uFFFF", 0],
    ["\u007f\u0080\u0085\uFFFD\u{10FFFF}", -1],
  ])("%j -> %d", (text, at) => {
    expect(findInvalidXmlChar(text)).toBe(at);
  });

  it("agrees with isXmlChar on every BMP code unit", () => {
    const disagreements: number[] = [];
    for (let u = 0; u <= 0xffff; u++) {
      if (u >= 0xd800 && u <= 0xdfff) continue; // lone surrogates: covered above
      if (findInvalidXmlChar(String.fromCharCode(u)) < 0 !== isXmlChar(u)) disagreements.push(u);
    }
    expect(disagreements).toEqual([]);
  });
});

describe("escapeXmlText / escapeXmlAttribute: exact strings", () => {
  it.each([
    ["plain", "plain", "plain"],
    ["a<b&c>d", "a&lt;b&amp;c&gt;d", "a&lt;b&amp;c&gt;d"],
    ["]]>", "]]&gt;", "]]&gt;"],
    [`say "hi" it's`, `say "hi" it's`, "say &quot;hi&quot; it's"],
    ["l1\r\nl2\tx", "l1&#13;\nl2\tx", "l1&#13;&#10;l2&#9;x"],
    ["&amp;", "&amp;amp;", "&amp;amp;"],
    ["😀é\u0085", "😀é\u0085", "😀é\u0085"],
  ])("%j", (text, asText, asAttribute) => {
    expect(escapeXmlText(text)).toBe(asText);
    expect(escapeXmlAttribute(text)).toBe(asAttribute);
  });

  it("rejects what XML 1.0 cannot carry, naming what and where", () => {
    const e = thrown(() => escapeXmlText("ab😀c\u0001", 'Data of KVP item "k"'), KvpError);
    expect(e.code).toBe("invalid-text");
    expect(e.message).toBe('invalid text: Data of KVP item "k" has U+0001 at character 4, which XML 1.0 cannot carry');
    expect(thrown(() => escapeXmlAttribute("x\uD800", "NAME"), KvpError).message).toBe(
      "invalid text: NAME has U+D800 at character 1, which XML 1.0 cannot carry",
    );
    expect(
      isKvpError(
        thrown(() => assertXmlText("\uFFFE", "t"), KvpError),
        "invalid-text",
      ),
    ).toBe(true);
    expect(thrown(() => assertXmlText(5 as unknown as string, "t"), KvpError).message).toBe(
      "invalid text: t is not a string",
    );
  });

  it("round-trips any XML string through a parser, as text and as an attribute", () => {
    fc.assert(
      fc.property(xmlString, (text) => {
        const root = parseXml(`<a b="${escapeXmlAttribute(text)}">${escapeXmlText(text)}</a>`);
        expect(root.attributes.get("b")).toBe(text);
        expect(root.children.join("")).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe("toCdata", () => {
  it.each([
    ["", "<![CDATA[]]>"],
    ["a<b&", "<![CDATA[a<b&]]>"],
    ["x]]>y", "<![CDATA[x]]]]><![CDATA[>y]]>"],
    ["a\r\nb", "<![CDATA[a]]>&#13;<![CDATA[\nb]]>"],
    ["\r", "&#13;"],
  ])("%j", (text, cdata) => {
    expect(toCdata(text)).toBe(cdata);
  });

  it("parses back to exactly the text", () => {
    fc.assert(
      fc.property(xmlString, (text) => {
        expect(parseXml(`<a>${toCdata(text)}</a>`).children.join("")).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe("references", () => {
  it.each([
    ["lt", "<"],
    ["gt", ">"],
    ["amp", "&"],
    ["quot", '"'],
    ["apos", "'"],
    ["#65", "A"],
    ["#x41", "A"],
    ["#x1F600", "😀"],
    ["#9", "\t"],
    ["#13", "\r"],
    ["#0", undefined],
    ["#1", undefined],
    ["#xD800", undefined],
    ["#xFFFE", undefined],
    ["#x110000", undefined],
    ["#X41", undefined],
    ["#", undefined],
    ["nbsp", undefined],
    ["__proto__", undefined],
    ["constructor", undefined],
    ["LT", undefined],
  ])("&%s;", (body, text) => {
    expect(referenceText(body)).toBe(text);
  });

  it("decodes or refuses whole strings", () => {
    expect(decodeXmlReferences("a &lt;b&gt; &#x26;amp;")).toBe("a <b> &amp;");
    expect(decodeXmlReferences("no refs")).toBe("no refs");
    expect(decodeXmlReferences("&bogus;")).toBeUndefined();
    expect(decodeXmlReferences("a & b")).toBeUndefined();
    expect(decodeXmlReferences("&#99999999999;")).toBeUndefined();
  });
});

describe("codePointIndex", () => {
  it("counts characters, a surrogate pair as one", () => {
    expect(codePointIndex("a😀b", 0)).toBe(0);
    expect(codePointIndex("a😀b", 1)).toBe(1);
    expect(codePointIndex("a😀b", 3)).toBe(2);
    expect(codePointIndex("\uD800\uD800x", 2)).toBe(2);
  });
});
