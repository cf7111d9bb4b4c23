// Writes KVP items as CIM-XML with kvp-core and reads them back; prints both as JSON.
import { decodeKvpItem, encodeKvpItem, fromCimXml, kvpItemToInstance, toCimXml } from "@hyperv-kvp/kvp-core/cim";

const items = [
  { name: "Role", data: "web", source: "host" },
  { name: "notes <&>\"'", data: "grüße, 世界 & <tags>", source: "guest" },
  { name: "empty", data: "", source: "host-only" },
];
const xml = items.map((item) => encodeKvpItem(item));
const back = xml.map((text) => {
  const { name, data, source } = decodeKvpItem(text);
  return { name, data, source };
});
// The generic CIM model reads and writes the same text.
const generic = xml.map((text) => toCimXml(fromCimXml(text)) === text);
console.log(JSON.stringify({ items, xml, back, generic, instanceClass: kvpItemToInstance(items[0]).className }));
