/**
 * `@hyperv-kvp/kvp-core/cim`: the CIM-XML that Hyper-V's WMI speaks, parsed as hostile input.
 * KVP items (`Msvm_KvpExchangeDataItem`), the generic CIM instance model and its CIM-XML,
 * jobs and errors, WMI object paths and their WS-Management endpoint references, and WQL
 * literals. Failures are the package's `KvpError` (from `@hyperv-kvp/kvp-core`).
 */
export {
  type DecodeKvpItemOptions,
  type DecodeKvpItemsOptions,
  type DecodedKvpItem,
  type EncodeKvpItemOptions,
  type IndexedKvpItem,
  type KvpItem,
  type KvpItemError,
  type KvpItemsResult,
  KVP_SOURCES,
  type KvpSource,
  MAX_KVP_ITEMS_PER_CALL,
  decodeKvpItem,
  decodeKvpItems,
  encodeKvpItem,
  kvpItemToInstance,
} from "./kvp-item.js";
export {
  type CimInstance,
  type CimProperty,
  type CimPropertyBase,
  type CimQualifier,
  type CimValuePropertyExtras,
  getProperty,
} from "./cim-instance.js";
export { toCimXml } from "./to-cim-xml.js";
export { type FromCimXmlOptions, fromCimXml } from "./from-cim-xml.js";
export {
  CIM_TYPES,
  type CimBigIntegerType,
  CimDateTime,
  type CimInstancePath,
  type CimIntervalView,
  type CimKeyBinding,
  type CimScalarType,
  type CimTimestampView,
  type CimType,
  type CimTypedValue,
  type CimValueOf,
  isCimName,
} from "./cim-types.js";
export {
  KVP_COMPONENT_STATUS,
  type WmiError,
  type WmiJob,
  decodeWmiErrors,
  decodeWmiJob,
  describeJobFailure,
  describeReturnCode,
  describeWmiError,
  errorFromInstance,
  isJobFinished,
  isJobSuccessful,
  jobFromInstance,
} from "./wmi-error.js";
export {
  type FormatWmiPathOptions,
  type PathToEprOptions,
  WMI_RESOURCE_URI_PREFIX,
  WSA_ANONYMOUS,
  type WsmanEpr,
  type WsmanSelector,
  eprToPath,
  equalsIgnoreCase,
  formatWmiPath,
  parseWmiPath,
  pathToEpr,
  wqlString,
} from "./wmi-path.js";
export { DEFAULT_XML_LIMITS, type XmlElement, type XmlLimits, parseXml } from "./xml-parse.js";
export { escapeXmlAttribute, escapeXmlText, findInvalidXmlChar, toCdata } from "./xml-text.js";
