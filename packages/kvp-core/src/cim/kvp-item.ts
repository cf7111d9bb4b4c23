/**
 * `Msvm_KvpExchangeDataItem`: how every KVP item crosses WMI, as an embedded CIM-XML string.
 * `encodeKvpItem` writes exactly what Hyper-V writes
 * (docs/wmi-and-cim.md#cim-xml-as-hyper-v-writes-it); `decodeKvpItem`
 * reads what any producer writes, and `decodeKvpItems` a whole GuestIntrinsicExchangeItems/
 * GuestExchangeItems/HostExchangeItems array with per-item errors.
 */
import { KvpError } from "../errors.js";
import { type CimInstance, type CimProperty, getProperty } from "./cim-instance.js";
import { instanceFromXmlElement } from "./from-cim-xml.js";
import { isCimIntegerType, parseCimInteger, quoteForMessage } from "./cim-types.js";
import { DEFAULT_XML_LIMITS, type XmlLimits, parseXml } from "./xml-parse.js";
import { decodeXmlReferences, escapeXmlText, escapeXmlTextUnchecked, findInvalidXmlChar } from "./xml-text.js";

/** The class of a KVP item. */
export const KVP_ITEM_CLASS = "Msvm_KvpExchangeDataItem";

/** At most this many items per AddKvpItems/ModifyKvpItems/RemoveKvpItems call (docs/wmi-and-cim.md#writing-items). */
export const MAX_KVP_ITEMS_PER_CALL = 128;

/**
 * The Source property's values (docs/wmi-and-cim.md#sources): 0 host item (pool 0), 1 guest item (pool 1),
 * 2 guest intrinsic item (pool 2), 4 host-only item (kept in the VM configuration, never sent
 * to the guest). No value 3 is documented.
 */
export const KVP_SOURCES = Object.freeze({ host: 0, guest: 1, intrinsic: 2, "host-only": 4 } as const);

/** Where a KVP item lives, by name: `host`, `guest`, `intrinsic` or `host-only`. */
export type KvpSource = keyof typeof KVP_SOURCES;

/** The source named by a Source number, or undefined for a number Hyper-V does not document. */
export function kvpSourceFromNumber(value: number): KvpSource | undefined {
  switch (value) {
    case 0:
      return "host";
    case 1:
      return "guest";
    case 2:
      return "intrinsic";
    case 4:
      return "host-only";
    default:
      return undefined;
  }
}

/** One KVP item as the host sees it: Name, Data and Source. */
export interface KvpItem {
  /** The key (Name property). */
  readonly name: string;
  /** The value (Data property); a NULL or missing Data reads as "". */
  readonly data: string;
  /** Which pool or store the item belongs to. */
  readonly source: KvpSource;
}

/** A decoded item: Name, Data, Source and every other property present, in document order. */
export interface DecodedKvpItem extends KvpItem {
  /** The other properties (InstanceID, Caption, Description, ElementName, …), NULL ones included. */
  readonly others: readonly CimProperty[];
}

/** Options of {@link decodeKvpItem}. */
export interface DecodeKvpItemOptions {
  /** Limits on each item's XML; defaults in {@link DEFAULT_XML_LIMITS}. */
  readonly limits?: XmlLimits;
  /**
   * The source to assume when Source is missing or NULL (e.g. `intrinsic` when reading
   * GuestIntrinsicExchangeItems). Without it such an item is an error.
   */
  readonly defaultSource?: KvpSource;
}

/** Options of {@link decodeKvpItems}. */
export interface DecodeKvpItemsOptions extends DecodeKvpItemOptions {
  /** Most items in one array; default 65,536 ({@link DEFAULT_MAX_KVP_ITEMS}). */
  readonly maxItems?: number;
}

/**
 * Default for {@link DecodeKvpItemsOptions.maxItems}: 65,536. A pool holds at most a few
 * thousand records in practice; the limit bounds work on hostile arrays.
 */
export const DEFAULT_MAX_KVP_ITEMS = 65_536;

/** One item of an array: its index in the input and the item. */
export interface IndexedKvpItem extends DecodedKvpItem {
  readonly index: number;
}

/** One item of an array that could not be read: its index and why. */
export interface KvpItemError {
  readonly index: number;
  readonly error: KvpError;
}

/** What {@link decodeKvpItems} read: the good items and the errors, each with its index. */
export interface KvpItemsResult {
  readonly items: readonly IndexedKvpItem[];
  readonly errors: readonly KvpItemError[];
}

// ---------------------------------------------------------------------------------------
// Writing

const HEAD = `<INSTANCE CLASSNAME="${KVP_ITEM_CLASS}">`;
const NULL_PROPAGATED = (name: string) => `<PROPERTY NAME="${name}" PROPAGATED="true" TYPE="string"></PROPERTY>`;
const CAPTION = NULL_PROPAGATED("Caption");
const DESCRIPTION_ELEMENT_NAME = NULL_PROPAGATED("Description") + NULL_PROPAGATED("ElementName");

/** Options of {@link encodeKvpItem}. */
export interface EncodeKvpItemOptions {
  /**
   * What to do with a character XML 1.0 cannot carry (a C0 control a guest wrote, say):
   * `refuse` (default) throws; `reference` writes a character reference such as `&#1;`, which
   * is not well-formed XML 1.0 — for simulating a host that passes such guest data on.
   */
  readonly invalidXmlChars?: "refuse" | "reference";
}

/**
 * Writes one item exactly as Hyper-V does (docs/wmi-and-cim.md#cim-xml-as-hyper-v-writes-it):
 * INSTANCE of Msvm_KvpExchangeDataItem with
 * Caption, Data, Description, ElementName, Name and Source in that order, the inherited
 * Caption/Description/ElementName as NULL with PROPAGATED="true", Source as uint16, no XML
 * declaration and no whitespace. Valid against the DSP0203 DTD.
 * @throws {KvpError} `invalid-key` for an empty name; `invalid-text` for a character XML 1.0
 *   cannot carry, naming the property, the item and the position; `invalid-cim` for a source
 *   that is not one of {@link KVP_SOURCES}.
 */
export function encodeKvpItem(item: KvpItem, options: EncodeKvpItemOptions = {}): string {
  const { name, data, source } = item;
  if (typeof name !== "string" || name === "")
    throw new KvpError("invalid-key", "invalid key: KVP item Name is empty or not a string");
  const sourceNumber =
    typeof source === "string" && Object.hasOwn(KVP_SOURCES, source) ? KVP_SOURCES[source] : undefined;
  if (sourceNumber === undefined) {
    throw new KvpError(
      "invalid-cim",
      `invalid CIM: KVP item ${quoteForMessage(name)} has source ${quoteForMessage(String(source))} (expected host, guest, intrinsic or host-only)`,
    );
  }
  if (typeof data !== "string")
    throw new KvpError("invalid-value", `invalid value: Data of KVP item ${quoteForMessage(name)} is not a string`);
  const unchecked = options.invalidXmlChars === "reference";
  const escapedName = unchecked
    ? escapeXmlTextUnchecked(name)
    : escapeXmlText(name, `Name of KVP item ${quoteForMessage(name)}`);
  const escapedData = unchecked
    ? escapeXmlTextUnchecked(data)
    : escapeXmlText(data, `Data of KVP item ${quoteForMessage(name)}`);
  return (
    HEAD +
    CAPTION +
    `<PROPERTY NAME="Data" TYPE="string"><VALUE>${escapedData}</VALUE></PROPERTY>` +
    DESCRIPTION_ELEMENT_NAME +
    `<PROPERTY NAME="Name" TYPE="string"><VALUE>${escapedName}</VALUE></PROPERTY>` +
    `<PROPERTY NAME="Source" TYPE="uint16"><VALUE>${sourceNumber}</VALUE></PROPERTY></INSTANCE>`
  );
}

/** The item as a CIM instance, with the same properties {@link encodeKvpItem} writes. */
export function kvpItemToInstance(item: KvpItem): CimInstance {
  const sourceNumber = KVP_SOURCES[item.source];
  return {
    className: KVP_ITEM_CLASS,
    properties: [
      { name: "Caption", type: "string", value: null, propagated: true },
      { name: "Data", type: "string", value: item.data },
      { name: "Description", type: "string", value: null, propagated: true },
      { name: "ElementName", type: "string", value: null, propagated: true },
      { name: "Name", type: "string", value: item.name },
      { name: "Source", type: "uint16", value: sourceNumber },
    ],
  };
}

// ---------------------------------------------------------------------------------------
// Reading

function itemError(message: string): KvpError {
  return new KvpError("invalid-cim", `invalid CIM: KVP item ${message}`);
}

function textProperty(property: CimProperty | undefined, label: string): string | undefined {
  if (property === undefined || property.value === null) return undefined;
  if (property.array || (property.type !== "string" && property.type !== "char16")) {
    throw itemError(`${label} has type ${property.type}${property.array ? "[]" : ""}, expected string`);
  }
  return property.value as string;
}

function sourceOf(property: CimProperty | undefined, defaultSource: KvpSource | undefined): KvpSource {
  if (property === undefined || property.value === null) {
    if (defaultSource !== undefined) return defaultSource;
    throw itemError("has no Source");
  }
  let value: number;
  // Tolerated: any integer TYPE (one producer wrote uint32) or a string holding the number.
  if (!property.array && isCimIntegerType(property.type)) value = Number(property.value);
  else if (!property.array && property.type === "string")
    value = parseCimInteger("uint16", property.value as string, "KVP item Source");
  else throw itemError(`Source has type ${property.type}${property.array ? "[]" : ""}, expected uint16`);
  const source = kvpSourceFromNumber(value);
  if (source === undefined) throw itemError(`has Source ${value} (known: 0 host, 1 guest, 2 intrinsic, 4 host-only)`);
  return source;
}

/**
 * Reads Name, Data and Source from an Msvm_KvpExchangeDataItem instance, keeping every
 * other property. Tolerated: any property order, missing Caption/Description/ElementName,
 * a NULL or missing Data (read as ""), Source as any integer type or as a string.
 * @throws {KvpError} `invalid-cim` for another class, no Name, a Source that is not one of
 *   0, 1, 2, 4 (unless `defaultSource` covers a missing one).
 */
export function kvpItemFromInstance(instance: CimInstance, options: DecodeKvpItemOptions = {}): DecodedKvpItem {
  if (instance.className.toUpperCase() !== KVP_ITEM_CLASS.toUpperCase()) {
    throw itemError(`has class ${quoteForMessage(instance.className)}, expected ${KVP_ITEM_CLASS}`);
  }
  const nameProperty = getProperty(instance, "Name");
  const dataProperty = getProperty(instance, "Data");
  const sourceProperty = getProperty(instance, "Source");
  const name = textProperty(nameProperty, "Name");
  if (name === undefined) throw itemError("has no Name");
  const data = textProperty(dataProperty, "Data") ?? "";
  const source = sourceOf(sourceProperty, options.defaultSource);
  const others = instance.properties.filter((p) => p !== nameProperty && p !== dataProperty && p !== sourceProperty);
  return { name, data, source, others };
}

// The fast path reads the exact shape Hyper-V writes
// (docs/wmi-and-cim.md#cim-xml-as-hyper-v-writes-it; why tolerant: docs/wmi-and-cim.md#reading-cim-xml)
// with a few anchored
// patterns and no tree. It accepts only a small subset of well-formed XML: a fixed INSTANCE
// start tag, PROPERTY elements with NAME, optional PROPAGATED="true" and TYPE in that order,
// text without markup, then </INSTANCE> at the very end. Anything else, including every
// error, goes to the full parser, which gives the same result or the located error, so the
// fast path changes speed, never answers (checked by a property test against the full path).
const FAST_PROPERTY =
  /<PROPERTY NAME="([A-Za-z_][A-Za-z0-9_]{0,63})"( PROPAGATED="true")? TYPE="(string|uint16)">(?:<VALUE>([^<]*)<\/VALUE>)?<\/PROPERTY>/y;
const FAST_END = "</INSTANCE>";
const FAST_MAX_PROPERTIES = 16;

// Shared, frozen: every Hyper-V item carries these three, so the fast path allocates none.
const SHARED_NULL_PROPAGATED: ReadonlyMap<string, CimProperty> = new Map(
  ["Caption", "Description", "ElementName"].map((name) => [
    name,
    Object.freeze({ name, type: "string", value: null, propagated: true }) as CimProperty,
  ]),
);

/** Decoded text of a fast-path VALUE, or undefined to hand the item to the full parser. */
function fastText(raw: string): string | undefined {
  // CR needs end-of-line handling, "]]>" is an error and bad characters need a location:
  // all for the full parser.
  if (raw.includes("\r") || raw.includes("]]>") || findInvalidXmlChar(raw) >= 0) return undefined;
  return decodeXmlReferences(raw);
}

function decodeFast(xml: string): DecodedKvpItem | undefined {
  if (!xml.startsWith(HEAD)) return undefined;
  let name: string | undefined;
  let data: string | undefined;
  let sourceNumber: number | undefined;
  const others: CimProperty[] = [];
  const seen: string[] = [];
  let i = HEAD.length;
  while (!xml.startsWith(FAST_END, i)) {
    if (seen.length === FAST_MAX_PROPERTIES) return undefined;
    FAST_PROPERTY.lastIndex = i;
    const match = FAST_PROPERTY.exec(xml);
    if (match === null) return undefined;
    i = FAST_PROPERTY.lastIndex;
    const propertyName = match[1]!;
    const upper = propertyName.toUpperCase();
    if (seen.includes(upper)) return undefined;
    seen.push(upper);
    const propagated = match[2] !== undefined;
    const type = match[3]!;
    const raw = match[4];
    const value = raw === undefined ? null : fastText(raw);
    if (value === undefined) return undefined;
    if (upper === "SOURCE") {
      if (type !== "uint16" || value === null || !/^[0-9]{1,5}$/.test(value)) return undefined;
      sourceNumber = Number(value);
    } else if (type !== "string") {
      return undefined;
    } else if (upper === "NAME") {
      if (value === null) return undefined;
      name = value;
    } else if (upper === "DATA") {
      data = value ?? "";
    } else {
      const shared = propagated && value === null ? SHARED_NULL_PROPAGATED.get(propertyName) : undefined;
      others.push(
        shared ??
          (propagated
            ? { name: propertyName, type: "string", value, propagated }
            : { name: propertyName, type: "string", value }),
      );
    }
  }
  if (i + FAST_END.length !== xml.length || name === undefined || sourceNumber === undefined) return undefined;
  const source = kvpSourceFromNumber(sourceNumber);
  if (source === undefined) return undefined;
  return { name, data: data ?? "", source, others };
}

/**
 * Reads one Msvm_KvpExchangeDataItem string, tolerantly: any property order, missing
 * optional properties, Source with another integer TYPE or as a string, surrounding
 * whitespace, an XML declaration, comments, CDATA, qualifiers. Hyper-V's own shape takes a
 * fast path with the same result.
 * @throws {KvpError} `invalid-xml` / `limit-exceeded` (with line and column) for text that is
 *   not acceptable XML; `invalid-cim` for XML that is not a KVP item.
 */
export function decodeKvpItem(xml: string, options: DecodeKvpItemOptions = {}): DecodedKvpItem {
  if (typeof xml !== "string") throw itemError("is not a string");
  const maxChars = options.limits?.maxInputChars ?? DEFAULT_XML_LIMITS.maxInputChars;
  if (xml.length <= maxChars) {
    const fast = decodeFast(xml);
    if (fast !== undefined) return fast;
  }
  return decodeKvpItemWithParser(xml, options);
}

/**
 * {@link decodeKvpItem} without its fast path: always the full parser. Same results, slower;
 * for tests that compare the two and for callers that want one code path.
 */
export function decodeKvpItemWithParser(xml: string, options: DecodeKvpItemOptions = {}): DecodedKvpItem {
  const root = parseXml(xml, options.limits);
  // Qualifiers mean nothing to a KVP item; skipping them keeps hostile ones cheap.
  const instance = instanceFromXmlElement(root, xml, { qualifiers: "skip" });
  return kvpItemFromInstance(instance, options);
}

/**
 * Reads a whole array property (GuestIntrinsicExchangeItems, GuestExchangeItems,
 * HostExchangeItems, HostOnlyItems) at once. An item that cannot be read becomes an entry
 * in `errors` and does not affect the others.
 * @throws {KvpError} `limit-exceeded` when the array has more than `maxItems` entries.
 */
export function decodeKvpItems(xmls: readonly unknown[], options: DecodeKvpItemsOptions = {}): KvpItemsResult {
  const maxItems = options.maxItems ?? DEFAULT_MAX_KVP_ITEMS;
  if (!Array.isArray(xmls)) throw new KvpError("invalid-cim", "invalid CIM: KVP items are not an array");
  if (xmls.length > maxItems)
    throw new KvpError("limit-exceeded", `too many KVP items: ${xmls.length}, limit ${maxItems}`);
  const items: IndexedKvpItem[] = [];
  const errors: KvpItemError[] = [];
  for (let index = 0; index < xmls.length; index++) {
    const xml = xmls[index];
    try {
      if (typeof xml !== "string") throw itemError(`#${index} is not a string`);
      const item = decodeKvpItem(xml, options);
      items.push({ index, name: item.name, data: item.data, source: item.source, others: item.others });
    } catch (error) {
      if (!(error instanceof KvpError)) throw error;
      errors.push({ index, error });
    }
  }
  return { items, errors };
}
