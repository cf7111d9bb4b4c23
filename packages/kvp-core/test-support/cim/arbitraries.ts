/// <reference types="node" />
// Test support only (excluded from the build): fast-check generators for CIM models, in the
// canonical shape the reader produces (optional fields absent, never undefined), so that
// model → XML → model can be checked with toEqual.
import fc from "fast-check";
import type { CimInstance, CimProperty, CimQualifier } from "../../src/cim/cim-instance.js";
import { CimDateTime, type CimInstancePath, type CimKeyBinding, type CimScalarType } from "../../src/cim/cim-types.js";
import type { KvpItem, KvpSource } from "../../src/cim/kvp-item.js";
import { findInvalidXmlChar } from "../../src/cim/xml-text.js";

/** Characters that stress escaping and end-of-line handling, plus astral and edge code points. */
const TRICKY = [
  "<",
  ">",
  "&",
  '"',
  "'",
  "]]>",
  "\r",
  "\n",
  "\r\n",
  "\t",
  " ",
  "&amp;",
  "&#13;",
  "é",
  "€",
  "😀",
  "\u0085",
  "\u2028",
  "\uFFFD",
  "\u{10FFFF}",
  "\uE000",
];

/** Any string XML 1.0 can carry, biased toward characters that break naive escaping. */
export const xmlString: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...TRICKY),
      fc.string({ unit: "grapheme", maxLength: 4 }),
      fc.string({ unit: "binary", maxLength: 4 }),
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(""))
  .map((text) => {
    // Drop what XML cannot carry (lone surrogates, C0 controls): those are tested apart.
    let out = text;
    for (let at = findInvalidXmlChar(out); at >= 0; at = findInvalidXmlChar(out)) {
      const width = out.codePointAt(at)! > 0xffff ? 2 : 1;
      out = out.slice(0, at) + out.slice(at + width);
    }
    return out;
  });

/** CIM names, including the ones that break naive object-keyed code. */
export const cimName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "hasOwnProperty",
      "Ünïcødé_Näme",
      "名前",
    ),
  },
);

const char16 = fc
  .integer({ min: 0, max: 0xfffd })
  .filter((u) => (u >= 0x20 && (u < 0xd800 || u > 0xdfff)) || u === 9 || u === 10 || u === 13)
  .map((u) => String.fromCharCode(u));

const timestamp = fc
  .tuple(
    fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }),
    fc.integer({ min: -720, max: 840 }),
  )
  .map(([date, offset]) => CimDateTime.fromDate(date, offset));
const interval = fc
  .bigInt({ min: 0n, max: 99_999_999n * 86_400_000_000n })
  .map((us) => CimDateTime.fromMicroseconds(us));
const wildcard = fc
  .constantFrom(
    "2024013112****.******+000",
    "**************.******+000",
    "00000001******.******:000",
    "20240229235959.999999-999",
  )
  .map((text) => CimDateTime.parse(text));

/** A value generator for each scalar type. */
export const valuesOf: Readonly<Record<CimScalarType, fc.Arbitrary<unknown>>> = {
  boolean: fc.boolean(),
  string: xmlString,
  char16,
  uint8: fc.integer({ min: 0, max: 255 }),
  sint8: fc.integer({ min: -128, max: 127 }),
  uint16: fc.integer({ min: 0, max: 65535 }),
  sint16: fc.integer({ min: -32768, max: 32767 }),
  uint32: fc.integer({ min: 0, max: 4294967295 }),
  sint32: fc.integer({ min: -2147483648, max: 2147483647 }),
  uint64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  sint64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  real32: fc.float(),
  real64: fc.double(),
  datetime: fc.oneof(timestamp, interval, wildcard),
};

/** Every scalar type name. */
export const scalarType = fc.constantFrom(...(Object.keys(valuesOf) as CimScalarType[]));

/** A scalar with its type; the generators make each value fit its type, hence the cast. */
function typedScalar(): fc.Arbitrary<Omit<CimKeyBinding, "name">> {
  return scalarType.chain((type) => valuesOf[type].map((value) => ({ type, value }) as Omit<CimKeyBinding, "name">));
}

const namespace = fc
  .array(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), { minLength: 1, maxLength: 4 })
  .map((s) => s.join("/"));
const host = fc.constantFrom("HOST", "hv01.example.test", ".", "192.0.2.7", "Ηost");

/** Instance paths, references nested up to `depth` levels. */
export function instancePath(depth = 2): fc.Arbitrary<CimInstancePath> {
  const key: fc.Arbitrary<Omit<CimKeyBinding, "name">> =
    depth > 0
      ? fc.oneof(
          { weight: 5, arbitrary: typedScalar() },
          { weight: 1, arbitrary: instancePath(depth - 1).map((value) => ({ type: "reference" as const, value })) },
        )
      : typedScalar();
  const named = fc
    .uniqueArray(fc.tuple(cimName, key), { maxLength: 4, selector: ([name]) => name.toUpperCase() })
    .map((pairs) => pairs.map(([name, k]) => ({ name, ...k }) as CimKeyBinding));
  const unnamed = key.map((k) => [{ name: "", ...k } as CimKeyBinding]);
  return fc
    .record({
      where: fc.constantFrom("none", "local", "full"),
      namespace,
      host,
      className: cimName,
      keys: fc.oneof({ weight: 5, arbitrary: named }, { weight: 1, arbitrary: unnamed }),
    })
    .map(({ where, namespace, host, className, keys }) => {
      if (where === "none") return { className, keys };
      if (where === "local") return { namespace, className, keys };
      return { host, namespace, className, keys };
    });
}

const flags = fc.record(
  {
    propagated: fc.boolean(),
    overridable: fc.boolean(),
    toSubclass: fc.boolean(),
    toInstance: fc.boolean(),
    translatable: fc.boolean(),
    lang: fc.constantFrom("en", "en-US", "de-DE"),
  },
  { requiredKeys: [] },
);

/** Qualifiers, scalar or array, with any flavors. */
export const qualifier: fc.Arbitrary<CimQualifier> = fc
  .tuple(cimName, scalarType, fc.boolean(), fc.boolean(), flags)
  .chain(([name, type, array, isNull, extra]) => {
    // CIM-XML cannot tell a NULL array qualifier from a NULL scalar one (QUALIFIER has no
    // ISARRAY), so NULL qualifiers are generated as scalars only.
    const value =
      isNull && !array
        ? fc.constant(null)
        : array
          ? fc.array(fc.option(valuesOf[type], { nil: null, freq: 4 }), { maxLength: 3 })
          : valuesOf[type];
    return value.map((v) => ({ name, type, ...(array ? { array: true } : {}), value: v, ...extra }) as CimQualifier);
  });

const propertyExtras = fc.record(
  {
    propagated: fc.boolean(),
    classOrigin: fc.oneof(cimName, xmlString),
    qualifiers: fc.array(qualifier, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const valueExtras = fc.record(
  { embeddedObject: fc.constantFrom("object", "instance"), lang: fc.constantFrom("en", "fr-CA") },
  { requiredKeys: [] },
);

/** One property named `name`: scalar, array or reference, with any extras. */
export function property(name: string): fc.Arbitrary<CimProperty> {
  const scalar = fc
    .tuple(scalarType, fc.boolean(), propertyExtras, valueExtras)
    .chain(([type, isNull, extra, valueExtra]) =>
      (isNull ? fc.constant(null) : valuesOf[type]).map(
        (value) => ({ name, type, value, ...extra, ...valueExtra }) as CimProperty,
      ),
    );
  const array = fc
    .tuple(
      scalarType,
      fc.boolean(),
      propertyExtras,
      valueExtras,
      fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
    )
    .chain(([type, isNull, extra, valueExtra, size]) =>
      (isNull ? fc.constant(null) : fc.array(fc.option(valuesOf[type], { nil: null, freq: 5 }), { maxLength: 4 })).map(
        (value) =>
          ({
            name,
            type,
            array: true,
            value,
            ...(size === undefined ? {} : { arraySize: size }),
            ...extra,
            ...valueExtra,
          }) as CimProperty,
      ),
    );
  const reference = fc
    .tuple(fc.option(instancePath(), { nil: null }), propertyExtras, fc.option(cimName, { nil: undefined }))
    .map(
      ([value, extra, referenceClass]) =>
        ({
          name,
          type: "reference",
          value,
          ...(referenceClass === undefined ? {} : { referenceClass }),
          ...extra,
        }) as CimProperty,
    );
  return fc.oneof(
    { weight: 5, arbitrary: scalar },
    { weight: 2, arbitrary: array },
    { weight: 1, arbitrary: reference },
  );
}

/** Instances with unique (ignoring case) property names. */
export const instance: fc.Arbitrary<CimInstance> = fc
  .record(
    {
      className: cimName,
      names: fc.uniqueArray(cimName, { maxLength: 6, selector: (n) => n.toUpperCase() }),
      qualifiers: fc.array(qualifier, { minLength: 1, maxLength: 2 }),
      lang: fc.constantFrom("en", "en-GB"),
    },
    { requiredKeys: ["className", "names"] },
  )
  .chain(({ names, ...rest }) =>
    fc.tuple(...names.map(property)).map((properties) => ({ ...rest, properties }) as CimInstance),
  );

/** KVP items with names and data that stress escaping (names never empty). */
export const kvpItem: fc.Arbitrary<KvpItem> = fc.record({
  name: xmlString.filter((s) => s !== ""),
  data: xmlString,
  source: fc.constantFrom<KvpSource>("host", "guest", "intrinsic", "host-only"),
});
