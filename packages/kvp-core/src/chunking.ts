/**
 * Values longer than the host receives whole, stored as self-describing parts.
 *
 * The kernel hands pool-1 values to the host truncated, silently, past 1022 UTF-16 code
 * units, and a record field holds at most 2047 UTF-8 bytes. So a longer value is stored
 * as parts, under a convention an unaware reader still sees as sane, labelled records:
 *
 * - A value that fits (≤ {@link HOST_MAX_VALUE_UNITS} units and ≤ {@link MAX_VALUE_BYTES}
 *   bytes) is ONE ordinary record `K`.
 * - A longer value is N records `K#1/N`, `K#2/N`, … `K#N/N` (2 ≤ N ≤ 999, {@link MAX_CHUNK_PARTS}),
 *   and no record `K`. Each part is cut greedily (as long as the limits allow) and only
 *   between code points, so every part is valid UTF-8 and arrives whole: the host's
 *   enumeration is never cut short by a part. The parts concatenated are the value.
 * - A reader that knows the convention reassembles a group `K#i/N` (one K, one N) when every
 *   part 1..N is present and no plain `K` exists; anything else stays as stored records and
 *   is reported ({@link ChunkProblem}). Duplicated parts: the first copy counts, as in the
 *   daemon's lookups.
 *
 * Example: `splitValue("report", "é".repeat(1500))` gives `report#1/2` (1022 × "é",
 * 2044 bytes) and `report#2/2` (478 × "é"). The largest value is 999 parts: up to 1,020,978
 * ASCII characters, or 681,318 three-byte characters (682 per part).
 */
import { KvpError } from "./errors.js";
import { HOST_MAX_KEY_UNITS, HOST_MAX_VALUE_UNITS, MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./layout.js";
import type { KvpRecord } from "./record.js";
import { encodeUtf8, findLoneSurrogate, utf16Units } from "./utf8.js";

/** Most parts one value may be split into: the part number and count stay at three digits. */
export const MAX_CHUNK_PARTS = 999;

/** Separator between the logical key and the part label `i/N` in a part's key. */
export const CHUNK_KEY_SEPARATOR = "#";

/** Longest part value in UTF-16 code units: what the host receives whole. */
export const MAX_CHUNK_UNITS = HOST_MAX_VALUE_UNITS;

/** Longest part value in UTF-8 bytes: what a record's value field holds. */
export const MAX_CHUNK_BYTES = MAX_VALUE_BYTES;

/** The label of a part key, parsed by {@link parseChunkKey}. */
export interface ChunkKey {
  /** The logical key the part belongs to (never empty). */
  readonly base: string;
  /** Which part, from 1. */
  readonly index: number;
  /** How many parts the value was split into (2 to 999, {@link MAX_CHUNK_PARTS}). */
  readonly total: number;
}

// Numbers without leading zeros, so each part has exactly one spelling and `K#01/3` stays an
// ordinary key. `s` lets a key hold newlines; `.*` is greedy so the LAST `#i/N` is the label
// (a logical key may itself contain `#`).
const CHUNK_KEY = /^(.+)#([1-9][0-9]{0,2})\/([1-9][0-9]{0,2})$/s;

/**
 * The key of part `index` of `total` of logical key `base`: `base#index/total`.
 * Does not check the key's length (see {@link splitValue}).
 */
export function chunkKey(base: string, index: number, total: number): string {
  return `${base}${CHUNK_KEY_SEPARATOR}${index}/${total}`;
}

/**
 * Reads a part key `K#i/N`: undefined unless K is not empty, 1 ≤ i ≤ N and
 * 2 ≤ N ≤ 999 ({@link MAX_CHUNK_PARTS}), written without leading zeros. Keys that do not parse
 * are ordinary keys (`K#1/1`, `K#0/2`, `K#3/2` included).
 */
export function parseChunkKey(key: string): ChunkKey | undefined {
  // Most keys have no "#": one search instead of a regular expression per key of a pool.
  if (!key.includes("#")) return undefined;
  const match = CHUNK_KEY.exec(key);
  if (!match) return undefined;
  const index = Number(match[2]);
  const total = Number(match[3]);
  if (total < 2 || index > total) return undefined;
  return { base: match[1]!, index, total };
}

/** The logical key a stored key belongs to: `K` for `K` and for every part key `K#i/N`. */
export function logicalKeyOf(key: string): string {
  return parseChunkKey(key)?.base ?? key;
}

/**
 * A predicate telling which stored keys belong to logical key `base`: `base` itself and every
 * part key `base#i/N`, whatever N. Writers use it to remove every stale part of a value.
 */
export function isPartOf(base: string): (key: string) => boolean {
  return (key) => key === base || parseChunkKey(key)?.base === base;
}

/**
 * The records that store `value` under logical key `key`: one record `{key, value}` when the
 * value fits the host limits, else the parts `key#1/N` … `key#N/N` (see the module doc).
 * Key length is not checked for a single record (the writer's limits apply to it); part keys
 * must fit what the host receives whole, 254 UTF-16 units and 511 bytes.
 * @throws {KvpError} `invalid-key` for an empty key, a NUL or lone surrogate in it, a key that
 *   is itself a part key (readers would take it for one), or part keys too long;
 *   `invalid-value` for a NUL or lone surrogate in the value; `limit-exceeded` for a value
 *   that needs more than 999 ({@link MAX_CHUNK_PARTS}) parts.
 */
export function splitValue(key: string, value: string): KvpRecord[] {
  assertText("key", key);
  if (key === "") throw new KvpError("invalid-key", "invalid key: empty");
  if (parseChunkKey(key) !== undefined) {
    throw new KvpError(
      "invalid-key",
      `invalid key: ${JSON.stringify(shorten(key))} has the form of a part of a chunked value (KEY#i/N); readers would take it for one`,
    );
  }
  assertText("value", value);
  // One piece more than allowed is enough to know it is too long: a hostile 100 MB value
  // is not cut up in full.
  const pieces = cutValue(value, MAX_CHUNK_PARTS + 1);
  if (pieces.length === 1) return [{ key, value }];
  const total = pieces.length;
  if (total > MAX_CHUNK_PARTS) {
    throw new KvpError(
      "limit-exceeded",
      `value too long to chunk: it needs more than ${MAX_CHUNK_PARTS} parts (each part holds ${MAX_CHUNK_UNITS} UTF-16 units or ${MAX_CHUNK_BYTES} bytes)`,
    );
  }
  // The last part's key is the longest: its number has as many digits as the count.
  const longest = chunkKey(key, total, total);
  const units = utf16Units(longest);
  const bytes = encodeUtf8(longest).length;
  if (units > HOST_MAX_KEY_UNITS || bytes > MAX_KEY_BYTES) {
    throw new KvpError(
      "invalid-key",
      `invalid key: too long for a chunked value: its part keys such as ${JSON.stringify(shorten(longest))} would be ${units} UTF-16 units (${bytes} bytes), limit ${HOST_MAX_KEY_UNITS} (${MAX_KEY_BYTES} bytes)`,
    );
  }
  return pieces.map((piece, i) => ({ key: chunkKey(key, i + 1, total), value: piece }));
}

/**
 * Cuts `value` (no lone surrogates) into the fewest pieces within the part limits, each cut
 * between code points, stopping once there are `maxPieces`. Counting UTF-8 bytes from UTF-16
 * units avoids encoding the value.
 */
function cutValue(value: string, maxPieces: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let units = 0;
  let bytes = 0;
  for (let i = 0; i < value.length; ) {
    const unit = value.charCodeAt(i);
    // A high surrogate here always has its low half: assertText refused lone ones.
    const width = unit >= 0xd800 && unit <= 0xdbff ? 2 : 1;
    const size = width === 2 ? 4 : unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
    if (units + width > MAX_CHUNK_UNITS || bytes + size > MAX_CHUNK_BYTES) {
      pieces.push(value.slice(start, i));
      if (pieces.length === maxPieces) return pieces;
      start = i;
      units = 0;
      bytes = 0;
    }
    units += width;
    bytes += size;
    i += width;
  }
  pieces.push(value.slice(start));
  return pieces;
}

function assertText(field: "key" | "value", text: string): void {
  const code = field === "key" ? "invalid-key" : "invalid-value";
  if (typeof text !== "string") throw new KvpError(code, `invalid ${field}: not a string`);
  const surrogate = findLoneSurrogate(text);
  if (surrogate >= 0) {
    throw new KvpError(code, `invalid ${field}: lone surrogate at UTF-16 index ${surrogate} has no UTF-8 form`);
  }
  const nul = text.indexOf("\0");
  if (nul >= 0)
    throw new KvpError(code, `invalid ${field}: contains NUL at UTF-16 index ${nul} (a field ends at its first NUL)`);
}

/** `text` for a message: long keys keep their end, where a part's label is. */
function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 40)}...${text.slice(-17)}` : text;
}

/** A stored record that is not part of a reassembled value, as it is. */
export interface StoredLogicalRecord<T extends KvpRecord> {
  readonly key: string;
  readonly value: string;
  /** The stored record. */
  readonly record: T;
  readonly parts?: undefined;
}

/** A value reassembled from its parts `key#1/N` … `key#N/N`. */
export interface ReassembledRecord<T extends KvpRecord> {
  /** The logical key (the parts' keys without `#i/N`). */
  readonly key: string;
  /** The parts' values concatenated. */
  readonly value: string;
  /** The stored parts, in part order (the first copy of each). */
  readonly parts: readonly T[];
  readonly record?: undefined;
}

/** One record as a reader of the chunking convention sees it: stored, or reassembled. */
export type LogicalRecord<T extends KvpRecord> = StoredLogicalRecord<T> | ReassembledRecord<T>;

/**
 * Why parts were not reassembled (or, for `duplicate-part`, what was ignored):
 * - `incomplete`: some part 1..N is missing;
 * - `conflicting-totals`: parts of the same key with different N (two writes mixed);
 * - `plain-beside-parts`: a plain record `K` exists beside parts of `K` (lookups of `K` see it);
 * - `invalid-utf8`: a part's bytes are not valid UTF-8 (its text is only an approximation);
 * - `duplicate-part`: a part is stored more than once; the first copy was used.
 */
export type ChunkProblemReason =
  | "incomplete"
  | "conflicting-totals"
  | "plain-beside-parts"
  | "invalid-utf8"
  | "duplicate-part";

/** A group of parts that was left as stored (or a duplicate that was ignored), and why. */
export interface ChunkProblem<T extends KvpRecord = KvpRecord> {
  /** The logical key of the parts. */
  readonly key: string;
  readonly reason: ChunkProblemReason;
  /** One sentence for people. */
  readonly message: string;
  /** The stored records concerned, in input order. */
  readonly records: readonly T[];
}

/** Result of {@link reassembleRecords}. */
export interface Reassembled<T extends KvpRecord> {
  /** The records as a reader of the convention sees them, in input order. */
  readonly records: LogicalRecord<T>[];
  /** Parts left as stored, in order of their first record. */
  readonly problems: ChunkProblem<T>[];
}

interface Group {
  /** Input positions of the first copy of each part, by part number, per part count. */
  readonly byTotal: Map<number, Map<number, number>>;
  /** Input positions of every part record, in input order. */
  readonly positions: number[];
  /** Input positions of copies after the first, per part key. */
  readonly duplicates: number[];
}

/**
 * Flags a decoded record may carry (see `DecodedRecord`): text decoded from invalid UTF-8
 * only approximates the stored bytes.
 */
type Utf8Flags = { readonly validUtf8?: boolean; readonly keyValidUtf8?: boolean };

/**
 * Reassembles chunked values (see the module doc): a complete group becomes one record with
 * the logical key, at the position of its first stored part; everything else stays as
 * stored. Keys compare exactly (as the daemon compares bytes). Records flagged
 * `keyValidUtf8: false` are never parts nor a plain `K` (their key text is a guess), and a
 * group with a part flagged `validUtf8: false` is not reassembled. Never throws on content: a
 * hostile mix of parts gives stored records and problems, never a value that was not written.
 */
export function reassembleRecords<T extends KvpRecord>(records: readonly T[]): Reassembled<T> {
  const groups = new Map<string, Group>();
  const plainPositions: number[] = [];
  records.forEach((record, position) => {
    if ((record as Utf8Flags).keyValidUtf8 === false) return;
    const chunk = parseChunkKey(record.key);
    if (!chunk) {
      plainPositions.push(position);
      return;
    }
    let group = groups.get(chunk.base);
    if (!group) {
      group = { byTotal: new Map(), positions: [], duplicates: [] };
      groups.set(chunk.base, group);
    }
    group.positions.push(position);
    let parts = group.byTotal.get(chunk.total);
    if (!parts) {
      parts = new Map();
      group.byTotal.set(chunk.total, parts);
    }
    if (parts.has(chunk.index)) group.duplicates.push(position);
    else parts.set(chunk.index, position);
  });

  // No parts (most pools): the records as they are, without hashing every key.
  if (groups.size === 0) {
    return { records: records.map((record) => ({ key: record.key, value: record.value, record })), problems: [] };
  }
  const plainKeys = new Set(plainPositions.map((p) => records[p]!.key));

  // Input position of a complete group's first stored record → its reassembled record;
  // other positions of the group → skipped.
  const emitAt = new Map<number, ReassembledRecord<T>>();
  const consumed = new Set<number>();
  const problems: { first: number; problem: ChunkProblem<T> }[] = [];
  const problem = (key: string, reason: ChunkProblemReason, message: string, positions: readonly number[]) => {
    problems.push({
      first: positions[0]!,
      problem: { key, reason, message, records: positions.map((p) => records[p]!) },
    });
  };
  for (const [key, group] of groups) {
    const label = JSON.stringify(shorten(key));
    if (plainKeys.has(key)) {
      problem(
        key,
        "plain-beside-parts",
        `${label} is stored both as a plain record and in parts; lookups of ${label} see the plain record, the parts are shown as stored`,
        group.positions,
      );
      continue;
    }
    if (group.byTotal.size > 1) {
      const totals = [...group.byTotal.keys()].sort((a, b) => a - b).join(", ");
      problem(
        key,
        "conflicting-totals",
        `${label} has parts of different splits (into ${totals} parts); shown as stored`,
        group.positions,
      );
      continue;
    }
    const [total, parts] = [...group.byTotal][0]!;
    if (parts.size < total) {
      const missing: number[] = [];
      for (let i = 1; i <= total && missing.length < 10; i++) if (!parts.has(i)) missing.push(i);
      const more = total - parts.size > missing.length ? ", …" : "";
      problem(
        key,
        "incomplete",
        `${label} is split into ${total} parts but part(s) ${missing.join(", ")}${more} are missing; shown as stored`,
        group.positions,
      );
      continue;
    }
    const ordered: number[] = [];
    for (let i = 1; i <= total; i++) ordered.push(parts.get(i)!);
    const broken = ordered.filter((p) => (records[p] as Utf8Flags).validUtf8 === false);
    if (broken.length > 0) {
      const names = broken.map((p) => JSON.stringify(shorten(records[p]!.key))).join(", ");
      problem(
        key,
        "invalid-utf8",
        `${names} of ${label} not valid UTF-8 (the host stops enumerating there); shown as stored`,
        broken,
      );
      continue;
    }
    const used = new Set(ordered);
    const first = group.positions.find((p) => used.has(p))!;
    for (const p of ordered) consumed.add(p);
    emitAt.set(first, {
      key,
      value: ordered.map((p) => records[p]!.value).join(""),
      parts: ordered.map((p) => records[p]!),
    });
    if (group.duplicates.length > 0) {
      const names = [...new Set(group.duplicates.map((p) => JSON.stringify(shorten(records[p]!.key))))].join(", ");
      problem(
        key,
        "duplicate-part",
        `${names} stored more than once; the first copy was used, later copies are shown as stored`,
        group.duplicates,
      );
    }
  }

  const out: LogicalRecord<T>[] = [];
  records.forEach((record, position) => {
    const reassembled = emitAt.get(position);
    if (reassembled) out.push(reassembled);
    else if (!consumed.has(position)) out.push({ key: record.key, value: record.value, record });
  });
  problems.sort((a, b) => a.first - b.first);
  return { records: out, problems: problems.map((p) => p.problem) };
}
