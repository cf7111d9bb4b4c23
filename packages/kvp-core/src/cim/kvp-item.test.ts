/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KvpError } from "../errors.js";
import { fromCimXml } from "./from-cim-xml.js";
import { toCimXml } from "./to-cim-xml.js";
import {
  DEFAULT_MAX_KVP_ITEMS,
  KVP_SOURCES,
  type KvpItem,
  type KvpSource,
  MAX_KVP_ITEMS_PER_CALL,
  decodeKvpItem,
  decodeKvpItemWithParser,
  decodeKvpItems,
  encodeKvpItem,
  kvpItemFromInstance,
  kvpItemToInstance,
  kvpSourceFromNumber,
} from "./kvp-item.js";
import { kvpItem } from "../../test-support/cim/arbitraries.js";
import { HYPERV_SAMPLE } from "../../test-support/cim/hyperv-sample.js";
import { thrown } from "@hyperv-kvp/test-support";

/** The same sample exactly as printed in docs/wmi-and-cim.md#cim-xml-as-hyper-v-writes-it, with its whitespace. */
const SAMPLE_AS_PRINTED = `<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">
  <PROPERTY NAME="Caption" PROPAGATED="true" TYPE="string"></PROPERTY>
  <PROPERTY NAME="Data" TYPE="string"><VALUE>web01.example.test</VALUE></PROPERTY>
  <PROPERTY NAME="Description" PROPAGATED="true" TYPE="string"></PROPERTY>
  <PROPERTY NAME="ElementName" PROPAGATED="true" TYPE="string"></PROPERTY>
  <PROPERTY NAME="Name" TYPE="string"><VALUE>FullyQualifiedDomainName</VALUE></PROPERTY>
  <PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY>
</INSTANCE>`;

const FQDN: KvpItem = { name: "FullyQualifiedDomainName", data: "web01.example.test", source: "intrinsic" };
const NULL_INHERITED = ["Caption", "Description", "ElementName"].map((name) => ({
  name,
  type: "string",
  value: null,
  propagated: true,
}));

describe("encodeKvpItem", () => {
  it("writes Hyper-V's sample item byte for byte", () => {
    expect(encodeKvpItem(FQDN)).toBe(HYPERV_SAMPLE);
  });

  it("refuses characters XML 1.0 cannot carry, or with invalidXmlChars: reference writes them as references strict readers refuse", () => {
    const item: KvpItem = { name: "ctl", data: "a\u0001<b\uFFFE", source: "guest" };
    expect(thrown(() => encodeKvpItem(item), KvpError).code).toBe("invalid-text");
    const xml = encodeKvpItem(item, { invalidXmlChars: "reference" });
    expect(xml).toContain("<VALUE>a&#1;&lt;b&#65534;</VALUE>");
    // Well-formed items are written the same either way.
    expect(encodeKvpItem(FQDN, { invalidXmlChars: "reference" })).toBe(HYPERV_SAMPLE);
    expect(decodeKvpItems([xml, encodeKvpItem(FQDN)]).errors.map((e) => e.index)).toEqual([0]);
  });

  it.each<[KvpSource, number]>([
    ["host", 0],
    ["guest", 1],
    ["intrinsic", 2],
    ["host-only", 4],
  ])("writes source %s as %d", (source, number) => {
    expect(KVP_SOURCES[source]).toBe(number);
    expect(kvpSourceFromNumber(number)).toBe(source);
    expect(encodeKvpItem({ name: "k", data: "", source })).toContain(
      `<PROPERTY NAME="Source" TYPE="uint16"><VALUE>${number}</VALUE></PROPERTY></INSTANCE>`,
    );
  });

  it("escapes text so nothing can break out of VALUE", () => {
    const xml = encodeKvpItem({ name: "a<b>&\"'", data: "</VALUE></PROPERTY>]]><!--\r\n", source: "guest" });
    expect(xml).toContain(
      '<PROPERTY NAME="Data" TYPE="string"><VALUE>&lt;/VALUE&gt;&lt;/PROPERTY&gt;]]&gt;&lt;!--&#13;\n</VALUE></PROPERTY>',
    );
    expect(xml).toContain(`<PROPERTY NAME="Name" TYPE="string"><VALUE>a&lt;b&gt;&amp;"'</VALUE></PROPERTY>`);
  });

  it("matches toCimXml of the same instance", () => {
    expect(toCimXml(kvpItemToInstance(FQDN))).toBe(HYPERV_SAMPLE);
  });

  it.each<[string, KvpItem, string, string]>([
    [
      "empty name",
      { name: "", data: "x", source: "guest" },
      "invalid-key",
      "invalid key: KVP item Name is empty or not a string",
    ],
    [
      "control character in data",
      { name: "Key1", data: "ab\u0007", source: "guest" },
      "invalid-text",
      'invalid text: Data of KVP item "Key1" has U+0007 at character 2, which XML 1.0 cannot carry',
    ],
    [
      "NUL in name",
      { name: "K\u0000", data: "", source: "guest" },
      "invalid-text",
      'invalid text: Name of KVP item "K\\u0000" has U+0000 at character 1, which XML 1.0 cannot carry',
    ],
    [
      "lone surrogate in data",
      { name: "k", data: "😀😀\uDE00", source: "host" },
      "invalid-text",
      'invalid text: Data of KVP item "k" has U+DE00 at character 2, which XML 1.0 cannot carry',
    ],
    [
      "unknown source",
      { name: "k", data: "", source: "pool3" as KvpSource },
      "invalid-cim",
      'invalid CIM: KVP item "k" has source "pool3" (expected host, guest, intrinsic or host-only)',
    ],
    [
      "inherited source name",
      { name: "k", data: "", source: "toString" as KvpSource },
      "invalid-cim",
      'invalid CIM: KVP item "k" has source "toString" (expected host, guest, intrinsic or host-only)',
    ],
    [
      "data not a string",
      { name: "k", data: 5 as unknown as string, source: "host" },
      "invalid-value",
      'invalid value: Data of KVP item "k" is not a string',
    ],
  ])("refuses %s", (_, item, code, message) => {
    const error = thrown(() => encodeKvpItem(item), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });
});

describe("decodeKvpItem: Hyper-V's sample and its variations give the same item", () => {
  const variations: [string, string][] = [
    ["Hyper-V's own shape", HYPERV_SAMPLE],
    ["the sample as printed, with whitespace", SAMPLE_AS_PRINTED],
    ["surrounding whitespace", `\n  ${HYPERV_SAMPLE}\r\n`],
    ["an XML declaration", `<?xml version="1.0" encoding="utf-16"?>${HYPERV_SAMPLE}`],
    ["whitespace and a declaration", ` \n<?xml version="1.0"?>\n${HYPERV_SAMPLE} `],
    ["a BOM", `\uFEFF${HYPERV_SAMPLE}`],
    [
      "self-closed NULL properties",
      HYPERV_SAMPLE.replace(/><\/PROPERTY>/g, (m, offset: number) =>
        HYPERV_SAMPLE.slice(offset - 7, offset) === 'string"' ? "/>" : m,
      ),
    ],
    ["single-quoted attributes", HYPERV_SAMPLE.replace(/"/g, "'")],
    [
      "CDATA in Data",
      HYPERV_SAMPLE.replace("<VALUE>web01.example.test</VALUE>", "<VALUE><![CDATA[web01.example.test]]></VALUE>"),
    ],
    [
      "split CDATA and text",
      HYPERV_SAMPLE.replace("<VALUE>web01.example.test</VALUE>", "<VALUE>web01<![CDATA[.example]]>.test</VALUE>"),
    ],
    ["character references", HYPERV_SAMPLE.replace("web01.example.test", "&#119;eb01&#x2E;example.test")],
    ["a comment", HYPERV_SAMPLE.replace("</INSTANCE>", "<!-- from a test --></INSTANCE>")],
    ["Source TYPE uint32", HYPERV_SAMPLE.replace('"Source" TYPE="uint16"', '"Source" TYPE="uint32"')],
    ["Source TYPE uint8 with spaces", HYPERV_SAMPLE.replace('TYPE="uint16"><VALUE>2<', 'TYPE="uint8"><VALUE> 2 <')],
    ["Source TYPE string", HYPERV_SAMPLE.replace('"Source" TYPE="uint16"', '"Source" TYPE="string"')],
    ["Source as 0002", HYPERV_SAMPLE.replace("<VALUE>2</VALUE>", "<VALUE>0002</VALUE>")],
    ["class name in another case", HYPERV_SAMPLE.replace('"Msvm_KvpExchangeDataItem"', '"MSVM_KVPEXCHANGEDATAITEM"')],
    [
      "property names in another case",
      HYPERV_SAMPLE.replace('"Name"', '"NAME"').replace('"Data"', '"data"').replace('"Source"', '"source"'),
    ],
    [
      "qualifiers",
      HYPERV_SAMPLE.replace(
        '<PROPERTY NAME="Name" TYPE="string">',
        '<PROPERTY NAME="Name" TYPE="string"><QUALIFIER NAME="Key" TYPE="boolean"><VALUE>TRUE</VALUE></QUALIFIER>',
      ),
    ],
  ];

  it.each(variations)("%s", (_, xml) => {
    const item = decodeKvpItem(xml);
    expect({ name: item.name, data: item.data, source: item.source }).toEqual(FQDN);
  });

  it("keeps the other properties, in order, NULLs included", () => {
    expect(decodeKvpItem(HYPERV_SAMPLE).others).toEqual(NULL_INHERITED);
    expect(decodeKvpItem(SAMPLE_AS_PRINTED)).toEqual({ ...FQDN, others: NULL_INHERITED });
  });

  it.each<[string, string, KvpItem]>([
    [
      "any order, no inherited properties, an InstanceID",
      '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Source" TYPE="uint16"><VALUE>1</VALUE></PROPERTY><PROPERTY NAME="InstanceID" TYPE="string"><VALUE>id-1</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>k</VALUE></PROPERTY><PROPERTY NAME="Data" TYPE="string"><VALUE>v</VALUE></PROPERTY></INSTANCE>',
      { name: "k", data: "v", source: "guest" },
    ],
    [
      "no Data",
      '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>k</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>0</VALUE></PROPERTY></INSTANCE>',
      { name: "k", data: "", source: "host" },
    ],
    [
      "NULL Data",
      '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>k</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>4</VALUE></PROPERTY></INSTANCE>',
      { name: "k", data: "", source: "host-only" },
    ],
    [
      "empty Name (an all-zero pool record)",
      '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE></VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE></VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>1</VALUE></PROPERTY></INSTANCE>',
      { name: "", data: "", source: "guest" },
    ],
    [
      "__proto__ as the key",
      encodeKvpItem({ name: "__proto__", data: "constructor", source: "guest" }),
      { name: "__proto__", data: "constructor", source: "guest" },
    ],
  ])("%s", (_, xml, expected) => {
    const item = decodeKvpItem(xml);
    expect({ name: item.name, data: item.data, source: item.source }).toEqual(expected);
  });

  it("uses defaultSource only when Source is missing or NULL", () => {
    const noSource =
      '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>k</VALUE></PROPERTY></INSTANCE>';
    expect(decodeKvpItem(noSource, { defaultSource: "intrinsic" }).source).toBe("intrinsic");
    expect(decodeKvpItem(HYPERV_SAMPLE.replace(">2<", ">1<"), { defaultSource: "intrinsic" }).source).toBe("guest");
    expect(thrown(() => decodeKvpItem(noSource), KvpError).message).toBe("invalid CIM: KVP item has no Source");
  });

  it.each<[string, string, string, string]>([
    [
      "Source 3",
      HYPERV_SAMPLE.replace("<VALUE>2</VALUE>", "<VALUE>3</VALUE>"),
      "invalid-cim",
      "invalid CIM: KVP item has Source 3 (known: 0 host, 1 guest, 2 intrinsic, 4 host-only)",
    ],
    [
      "Source out of range",
      HYPERV_SAMPLE.replace("<VALUE>2</VALUE>", "<VALUE>70000</VALUE>"),
      "invalid-cim",
      'invalid CIM: property "Source" "70000" is out of range for uint16 (0 to 65535) (<VALUE> at line 1, column 464)',
    ],
    [
      "Source not a number",
      HYPERV_SAMPLE.replace('TYPE="uint16"><VALUE>2', 'TYPE="string"><VALUE>two'),
      "invalid-cim",
      'invalid CIM: KVP item Source "two" is not a uint16',
    ],
    [
      "Source boolean",
      HYPERV_SAMPLE.replace('TYPE="uint16"><VALUE>2', 'TYPE="boolean"><VALUE>true'),
      "invalid-cim",
      "invalid CIM: KVP item Source has type boolean, expected uint16",
    ],
    [
      "no Name",
      HYPERV_SAMPLE.replace(
        '<PROPERTY NAME="Name" TYPE="string"><VALUE>FullyQualifiedDomainName</VALUE></PROPERTY>',
        "",
      ),
      "invalid-cim",
      "invalid CIM: KVP item has no Name",
    ],
    [
      "Name as an array",
      HYPERV_SAMPLE.replace(
        '<PROPERTY NAME="Name" TYPE="string"><VALUE>FullyQualifiedDomainName</VALUE></PROPERTY>',
        '<PROPERTY.ARRAY NAME="Name" TYPE="string"><VALUE.ARRAY><VALUE>a</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>',
      ),
      "invalid-cim",
      "invalid CIM: KVP item Name has type string[], expected string",
    ],
    [
      "two Names",
      HYPERV_SAMPLE.replace(
        "</INSTANCE>",
        '<PROPERTY NAME="name" TYPE="string"><VALUE>evil</VALUE></PROPERTY></INSTANCE>',
      ),
      "invalid-cim",
      'invalid CIM: property "name" appears twice (<PROPERTY> at line 1, column 491)',
    ],
    [
      "another class",
      HYPERV_SAMPLE.replace("Msvm_KvpExchangeDataItem", "Msvm_Error"),
      "invalid-cim",
      'invalid CIM: KVP item has class "Msvm_Error", expected Msvm_KvpExchangeDataItem',
    ],
    [
      "a DOCTYPE",
      `<!DOCTYPE INSTANCE [<!ENTITY x "y">]>${HYPERV_SAMPLE}`,
      "invalid-xml",
      "invalid XML: DOCTYPE refused (no DTDs, no entity declarations) at line 1, column 1",
    ],
    [
      "an unknown entity",
      HYPERV_SAMPLE.replace("web01", "&web01;"),
      "invalid-xml",
      "invalid XML: entity &web01; is not accepted (only &lt; &gt; &amp; &quot; &apos; and character references are) at line 1, column 159",
    ],
    [
      "a control character",
      HYPERV_SAMPLE.replace("web01", "web\u000101"),
      "invalid-xml",
      "invalid XML: character U+0001 is not allowed in XML 1.0 at line 1, column 162",
    ],
    [
      "truncated",
      HYPERV_SAMPLE.slice(0, 200),
      "invalid-xml",
      "invalid XML: unterminated start tag <PROP> at line 1, column 196",
    ],
  ])("refuses %s", (_, xml, code, message) => {
    const error = thrown(() => decodeKvpItem(xml), KvpError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it("applies the XML limits", () => {
    expect(thrown(() => decodeKvpItem(HYPERV_SAMPLE, { limits: { maxInputChars: 100 } }), KvpError).message).toBe(
      `XML too long: ${HYPERV_SAMPLE.length} characters, limit 100`,
    );
  });
});

describe("round trips and the fast path", () => {
  it("encode → decode is the identity", () => {
    fc.assert(
      fc.property(kvpItem, (it) => {
        expect(decodeKvpItem(encodeKvpItem(it))).toEqual({ ...it, others: NULL_INHERITED });
      }),
      { numRuns: 500 },
    );
  });

  it("the fast path and the full parser agree on Hyper-V's shape", () => {
    fc.assert(
      fc.property(kvpItem, (it) => {
        const xml = encodeKvpItem(it);
        expect(decodeKvpItem(xml)).toEqual(decodeKvpItemWithParser(xml));
        expect(kvpItemFromInstance(fromCimXml(xml))).toEqual(decodeKvpItem(xml));
      }),
      { numRuns: 300 },
    );
  });

  it("the fast path and the full parser agree on mutated items (same item or same error)", () => {
    const outcome = (fn: () => unknown) => {
      try {
        return { ok: fn() };
      } catch (error) {
        if (!(error instanceof KvpError)) throw error;
        return { code: error.code, message: error.message };
      }
    };
    const pieces = fc.constantFrom(
      "<",
      ">",
      "&",
      "&amp;",
      "&#13;",
      "\r",
      "]]>",
      '"',
      "'",
      " ",
      "/",
      'PROPAGATED="true" ',
      "<VALUE>",
      "</VALUE>",
      '<PROPERTY NAME="Name" TYPE="string">',
      "</PROPERTY>",
      "uint16",
      "string",
      "2",
      "9",
      "\u0001",
      "😀",
      "\uD800",
    );
    fc.assert(
      fc.property(
        kvpItem,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), pieces), { minLength: 1, maxLength: 3 }),
        (it, mutations) => {
          let xml = encodeKvpItem(it);
          for (const [at, remove, insert] of mutations) {
            const i = at % (xml.length + 1);
            xml = xml.slice(0, i) + insert + xml.slice(i + remove);
          }
          expect(outcome(() => decodeKvpItem(xml))).toEqual(outcome(() => decodeKvpItemWithParser(xml)));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe("decodeKvpItems", () => {
  it("reads a whole array; bad items become errors beside the good ones", () => {
    const good0 = encodeKvpItem({ name: "A", data: "1", source: "intrinsic" });
    const good3 = encodeKvpItem({ name: "B", data: "2", source: "intrinsic" });
    const result = decodeKvpItems([good0, "<INSTANCE", 42, good3, HYPERV_SAMPLE.replace(">2<", ">3<")]);
    expect(result.items.map((i) => [i.index, i.name, i.data, i.source])).toEqual([
      [0, "A", "1", "intrinsic"],
      [3, "B", "2", "intrinsic"],
    ]);
    expect(result.errors.map((e) => [e.index, e.error.code, e.error.message])).toEqual([
      [1, "invalid-xml", "invalid XML: unterminated start tag <INSTANCE> at line 1, column 1"],
      [2, "invalid-cim", "invalid CIM: KVP item #2 is not a string"],
      [4, "invalid-cim", "invalid CIM: KVP item has Source 3 (known: 0 host, 1 guest, 2 intrinsic, 4 host-only)"],
    ]);
  });

  it("limits the array size", () => {
    expect(DEFAULT_MAX_KVP_ITEMS).toBe(65_536);
    expect(MAX_KVP_ITEMS_PER_CALL).toBe(128);
    const error = thrown(() => decodeKvpItems(["", "", ""], { maxItems: 2 }), KvpError);
    expect(error.code).toBe("limit-exceeded");
    expect(error.message).toBe("too many KVP items: 3, limit 2");
    expect(decodeKvpItems([])).toEqual({ items: [], errors: [] });
  });
});
