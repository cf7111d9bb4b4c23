/**
 * Reading a VM's KVP items: which WMI array holds which source (docs/wmi-and-cim.md#sources), decoding the
 * embedded CIM-XML tolerantly (an unreadable item becomes a note, never hides the others),
 * and reassembling values a guest stored in parts `K#1/N` … `K#N/N` (kvp-core's chunking).
 */
import { reassembleRecords } from "@hyperv-kvp/kvp-core";
import { type KvpSource, decodeKvpItems } from "@hyperv-kvp/kvp-core/cim";
import type { HyperVWmi, KvpComponentInfo, KvpSettingDataInfo, VmInfo } from "./hyperv-wmi.js";

/** A source, or every source. */
export type SourceFilter = KvpSource | "all";

/** Every source, in the order kvp-host lists and searches them. */
export const SOURCE_ORDER: readonly KvpSource[] = ["guest", "intrinsic", "host", "host-only"];

/** The WMI array that holds each source. */
export const SOURCE_ARRAYS: Readonly<Record<KvpSource, string>> = {
  guest: "GuestExchangeItems",
  intrinsic: "GuestIntrinsicExchangeItems",
  host: "HostExchangeItems",
  "host-only": "HostOnlyItems",
};

/** One item as kvp-host shows it. */
export interface ListedItem {
  readonly source: KvpSource;
  readonly key: string;
  readonly value: string;
  /** For a value reassembled from parts `key#1/N` … `key#N/N`: N. */
  readonly parts?: number;
}

/** What {@link readItems} found. */
export interface ItemsRead {
  readonly items: ListedItem[];
  /** Items that could not be read, parts that could not be reassembled, a missing component. */
  readonly notes: string[];
}

/** Options of {@link readItems}. */
export interface ReadItemsOptions {
  /** Show parts as stored instead of reassembling them. */
  readonly raw?: boolean;
}

/** The sources a filter names, in {@link SOURCE_ORDER}. */
export function sourcesOf(filter: SourceFilter): KvpSource[] {
  return filter === "all" ? [...SOURCE_ORDER] : [filter];
}

/**
 * Decodes one WMI array of items as `source`, reassembling chunked values unless `raw`.
 * Pure: the caller fetched the strings.
 */
export function decodeSourceItems(
  source: KvpSource,
  xmls: readonly string[],
  options: ReadItemsOptions = {},
): ItemsRead {
  const notes: string[] = [];
  const decoded = decodeKvpItems(xmls, { defaultSource: source });
  for (const error of decoded.errors)
    notes.push(`${SOURCE_ARRAYS[source]} #${error.index} unreadable: ${error.error.message}`);
  // The array says where an item lives; a Source property that disagrees is the producer's slip.
  const records = decoded.items.map((item) => ({ key: item.name, value: item.data }));
  if (options.raw) return { items: records.map((r) => ({ source, key: r.key, value: r.value })), notes };
  const reassembled = reassembleRecords(records);
  for (const problem of reassembled.problems) notes.push(`${source}: ${problem.message}`);
  const items = reassembled.records.map(
    (r): ListedItem =>
      r.parts === undefined
        ? { source, key: r.key, value: r.value }
        : { source, key: r.key, value: r.value, parts: r.parts.length },
  );
  return { items, notes };
}

/**
 * Reads the items of `filter`'s sources: the component (guest, intrinsic) and the setting
 * data (host, host-only) are fetched only when a source needs them.
 */
export async function readItems(
  wmi: HyperVWmi,
  vm: VmInfo,
  filter: SourceFilter,
  options: ReadItemsOptions = {},
): Promise<ItemsRead> {
  const sources = sourcesOf(filter);
  let component: KvpComponentInfo | undefined;
  let settings: KvpSettingDataInfo | undefined;
  const notes: string[] = [];
  if (sources.includes("guest") || sources.includes("intrinsic")) {
    component = await wmi.getKvpComponent(vm.id);
    if (component === undefined)
      notes.push(
        `VM ${JSON.stringify(vm.name)} has no KVP exchange component: guest items are unavailable (is it running?)`,
      );
  }
  if (sources.includes("host") || sources.includes("host-only")) {
    settings = await wmi.getKvpSettingData(vm.id);
    if (settings === undefined)
      notes.push(`VM ${JSON.stringify(vm.name)} has no KVP setting data: host items are unavailable`);
  }
  const items: ListedItem[] = [];
  for (const source of sources) {
    const xmls = arrayOf(source, component, settings);
    if (xmls === undefined) continue;
    const read = decodeSourceItems(source, xmls, options);
    items.push(...read.items);
    notes.push(...read.notes);
  }
  return { items, notes };
}

function arrayOf(
  source: KvpSource,
  component: KvpComponentInfo | undefined,
  settings: KvpSettingDataInfo | undefined,
): readonly string[] | undefined {
  switch (source) {
    case "guest":
      return component?.guestItems;
    case "intrinsic":
      return component?.intrinsicItems;
    case "host":
      return settings?.hostItems;
    case "host-only":
      return settings?.hostOnlyItems;
  }
}
