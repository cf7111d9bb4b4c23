/**
 * Planning host writes, pure: which items go in which AddKvpItems / ModifyKvpItems /
 * RemoveKvpItems call. Hyper-V's semantics (docs/wmi-and-cim.md#writing-items) shape it: Add fails if any key exists,
 * Modify and Remove fail if any key is missing, at most 128 items per call. So an upsert
 * reads the stored keys first, sorts every item into Add or Modify, drops the ones whose value
 * is already stored, and fills each call to 128: ceil(adds/128) + ceil(modifies/128) calls.
 */
import {
  HOST_MAX_KEY_UNITS,
  HOST_MAX_VALUE_UNITS,
  type KvpRecord,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  encodeUtf8,
  findLoneSurrogate,
  isPartOf,
  parseChunkKey,
  splitValue,
  utf16Units,
} from "@hyperv-kvp/kvp-core";
import { MAX_KVP_ITEMS_PER_CALL, findInvalidXmlChar } from "@hyperv-kvp/kvp-core/cim";
import { HostCliError } from "./host-error.js";
import type { KvpMethod } from "./hyperv-wmi.js";

/** Options of {@link prepareRecords}. */
export interface PrepareOptions {
  /** Store values the guest cannot receive whole as parts `K#1/N` … `K#N/N`. */
  readonly chunk?: boolean;
  /** The items are host-only (never sent to the guest): the guest's limits do not apply. */
  readonly hostOnly?: boolean;
}

/** Records ready to write, and the logical keys they store. */
export interface PreparedRecords {
  /** What goes to the host: one record per key, or the parts of chunked values. */
  readonly records: KvpRecord[];
  /** The keys the user gave, in order, without duplicates. */
  readonly logicalKeys: string[];
}

function usage(message: string): HostCliError {
  return new HostCliError("usage", message, "kvp-host set --help");
}

/**
 * Validates the user's records and expands chunked values. A key given twice keeps its last
 * value (at the first one's place). Unless `hostOnly`, a key must fit what the guest receives
 * whole (254 UTF-16 units, 511 UTF-8 bytes) and so must a value (1022 units, 2047 bytes)
 * unless `chunk` splits it.
 * @throws {HostCliError} `usage` for an empty key, a NUL or lone surrogate, a key of the
 *   form `K#i/N`, or a key or value the guest would get cut.
 */
export function prepareRecords(input: readonly KvpRecord[], options: PrepareOptions = {}): PreparedRecords {
  const byKey = new Map<string, string>();
  for (const { key, value } of input) byKey.set(key, value);
  const records: KvpRecord[] = [];
  for (const [key, value] of byKey) {
    checkText("key", key, key);
    checkText("value", value, key);
    if (key === "") throw usage("invalid key: empty");
    if (parseChunkKey(key) !== undefined) {
      throw usage(
        `invalid key ${JSON.stringify(key)}: it has the form of a part of a chunked value (KEY#i/N), which readers would reassemble`,
      );
    }
    if (options.hostOnly) {
      records.push({ key, value });
      continue;
    }
    const keyUnits = utf16Units(key);
    const keyBytes = encodeUtf8(key).length;
    if (keyUnits > HOST_MAX_KEY_UNITS || keyBytes > MAX_KEY_BYTES) {
      throw usage(
        `invalid key ${shorten(key)}: the guest cannot receive it whole (${keyUnits} UTF-16 units, ${keyBytes} bytes; limits ${HOST_MAX_KEY_UNITS} units, ${MAX_KEY_BYTES} bytes)`,
      );
    }
    if (options.chunk) {
      try {
        records.push(...splitValue(key, value));
      } catch (error) {
        throw usage(`cannot chunk ${shorten(key)}: ${(error as Error).message}`);
      }
      continue;
    }
    const units = utf16Units(value);
    const bytes = encodeUtf8(value).length;
    if (units > HOST_MAX_VALUE_UNITS || bytes > MAX_VALUE_BYTES) {
      throw usage(
        `value of ${shorten(key)} too long: the guest cannot receive it whole (${units} UTF-16 units, ${bytes} bytes; limits ${HOST_MAX_VALUE_UNITS} units, ${MAX_VALUE_BYTES} bytes); --chunk stores it as parts KEY#1/N … KEY#N/N that kvp-host get and the guest agent reassemble`,
      );
    }
    records.push({ key, value });
  }
  return { records, logicalKeys: [...byKey.keys()] };
}

function checkText(field: "key" | "value", text: string, key: string): void {
  const what = field === "key" ? `invalid key ${shorten(key)}` : `invalid value of ${shorten(key)}`;
  if (text.includes("\0")) throw usage(`${what}: contains NUL (a pool field ends at its first NUL)`);
  const at = findLoneSurrogate(text);
  if (at >= 0) throw usage(`${what}: lone surrogate at UTF-16 index ${at}`);
  const bad = findInvalidXmlChar(text);
  if (bad >= 0) {
    const code = text.codePointAt(bad)!.toString(16).toUpperCase().padStart(4, "0");
    throw usage(
      `${what}: U+${code} at UTF-16 index ${bad} cannot travel in WMI's XML (XML 1.0 cannot carry it); nothing was written`,
    );
  }
}

/** `"key"` for a message, shortened when long. */
export function shorten(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 40)}...${key.slice(-17)}` : key);
}

/** One method call of a plan. */
export interface Batch {
  readonly method: KvpMethod;
  /** At most {@link MAX_KVP_ITEMS_PER_CALL}; for Remove only the keys matter. */
  readonly items: readonly KvpRecord[];
}

/** What a write will do, key by key, and the calls that do it. */
export interface WritePlan {
  readonly batches: Batch[];
  readonly add: string[];
  readonly modify: string[];
  /** Stored keys to remove: parts of an earlier split of a key now written, or a plain key now chunked. */
  readonly remove: string[];
  /** Keys whose stored value is already the one asked for: no call. */
  readonly unchanged: string[];
}

/** Cuts `items` into calls of at most {@link MAX_KVP_ITEMS_PER_CALL}. */
export function batchesOf(
  method: KvpMethod,
  items: readonly KvpRecord[],
  size: number = MAX_KVP_ITEMS_PER_CALL,
): Batch[] {
  const batches: Batch[] = [];
  for (let i = 0; i < items.length; i += size) batches.push({ method, items: items.slice(i, i + size) });
  return batches;
}

/** Options of {@link planWrite}. */
export interface PlanWriteOptions {
  /** `upsert` (set: Add new keys, Modify stored ones) or `add` (strict: every key must be new). */
  readonly mode: "upsert" | "add";
  /** The VM written to, named in errors. */
  readonly vm?: { readonly id: string; readonly name: string };
  /** Logical keys to remove, with every stored part, when stored (a document no longer sent). */
  readonly remove?: readonly string[];
}

/**
 * Plans writing `prepared` over the `stored` items (key → value, as the host holds them).
 * Writing logical key K replaces whatever form K had: stored parts `K#i/N` the new records
 * do not overwrite, or a plain `K` when K is now chunked, are removed after the writes, and
 * so is every stored form of the logical keys in `options.remove`.
 * @throws {HostCliError} `refused` in `add` mode when a key (or a part of it) is stored.
 */
export function planWrite(
  stored: ReadonlyMap<string, string>,
  prepared: PreparedRecords,
  options: PlanWriteOptions,
): WritePlan {
  const writing = new Set(prepared.records.map((r) => r.key));
  if (options.mode === "add") {
    const present = prepared.logicalKeys.filter((base) => [...stored.keys()].some(isPartOf(base)));
    if (present.length > 0) {
      throw new HostCliError(
        "refused",
        `${listKeys(present)} already exist${present.length === 1 ? "s" : ""}${options.vm === undefined ? "" : ` on VM ${JSON.stringify(options.vm.name)} (${options.vm.id})`}; add never replaces a key (set does)`,
        undefined,
        {
          existing: present,
        },
      );
    }
  }
  const adds: KvpRecord[] = [];
  const modifies: KvpRecord[] = [];
  const unchanged: string[] = [];
  for (const record of prepared.records) {
    const current = stored.get(record.key);
    if (current === undefined) adds.push(record);
    else if (current === record.value) unchanged.push(record.key);
    else modifies.push(record);
  }
  const removes: KvpRecord[] = [];
  for (const base of [...prepared.logicalKeys, ...(options.remove ?? [])]) {
    const belongs = isPartOf(base);
    for (const key of stored.keys()) if (belongs(key) && !writing.has(key)) removes.push({ key, value: "" });
  }
  return {
    batches: [
      ...batchesOf("AddKvpItems", adds),
      ...batchesOf("ModifyKvpItems", modifies),
      ...batchesOf("RemoveKvpItems", removes),
    ],
    add: adds.map((r) => r.key),
    modify: modifies.map((r) => r.key),
    remove: removes.map((r) => r.key),
    unchanged,
  };
}

/**
 * Plans removing logical keys: each key and every stored part `K#i/N` of it.
 * @returns the batches, the stored keys removed, and the keys the user named that are not stored.
 */
export function planRemove(
  stored: ReadonlyMap<string, string>,
  keys: readonly string[],
): { batches: Batch[]; remove: string[]; missing: string[] } {
  const remove: string[] = [];
  const missing: string[] = [];
  for (const base of new Set(keys)) {
    const belongs = isPartOf(base);
    const found = [...stored.keys()].filter((k) => belongs(k) && !remove.includes(k));
    if (found.length === 0) missing.push(base);
    remove.push(...found);
  }
  return {
    batches: batchesOf(
      "RemoveKvpItems",
      remove.map((key) => ({ key, value: "" })),
    ),
    remove,
    missing,
  };
}

/** `"a", "b", "c" and 7 more` for messages. */
export function listKeys(keys: readonly string[], max = 5): string {
  const shown = keys.slice(0, max).map(shorten).join(", ");
  return keys.length > max ? `${shown} and ${keys.length - max} more` : shown;
}
