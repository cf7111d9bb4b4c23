import { KEY_FIELD_BYTES, RECORD_BYTES, VALUE_FIELD_OFFSET, utf8BoundaryAtOrBefore } from "@hyperv-kvp/kvp-core";

/** One `pwrite`: bytes at an absolute file offset. */
export interface PlannedWrite {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** Page size assumed for atomicity; 4 KiB on every Linux platform we run on. */
export const PAGE_BYTES = 4096;

/**
 * Plans the writes that turn the record `before` at file offset `offset` into `after`, so
 * that a process killed between (or during) any of them leaves a whole, valid record.
 *
 * Why this is needed: the kernel copies a `write` into the page cache one page at a time
 * and checks for a fatal signal between pages, so a SIGKILL can tear a write that crosses
 * a page boundary; a write inside one page is never torn. A 2560-byte record crosses a
 * 4096-byte page boundary at half the record positions. So each planned write stays inside
 * one page, and the order is chosen so every intermediate state still reads as `before` or
 * `after`. When both the old and the new value run across the page boundary, no order
 * gives that, and a first write makes the record read as `after` with its value cut at a
 * character boundary before the page end: whole, valid UTF-8, NUL-terminated.
 *
 * Unchanged halves are not written at all; identical records produce no write.
 */
export function planRecordWrite(
  offset: number,
  before: Uint8Array,
  after: Uint8Array,
  pageBytes: number = PAGE_BYTES,
): PlannedWrite[] {
  if (equalBytes(before, after)) return [];
  const split = pageBytes - (offset % pageBytes);
  if (split >= RECORD_BYTES) return [{ offset, bytes: after }];

  // Compared in place, without copies: a delete plans a write for every record it moves.
  const headChanged = !equalRange(before, after, 0, split);
  const tailChanged = !equalRange(before, after, split, RECORD_BYTES);
  const head: PlannedWrite = { offset, bytes: after.subarray(0, split) };
  const tail: PlannedWrite = { offset: offset + split, bytes: after.subarray(split) };
  if (!headChanged) return [tail];
  if (!tailChanged) return [head];

  // The tail first is safe if the record with only its tail new still reads as `before`;
  // the head first, if the one with only its head new reads as `after`.
  if (splicedReadsAs(before, after, split, before)) return [tail, head];
  if (splicedReadsAs(after, before, split, after)) return [head, tail];
  if (split <= KEY_FIELD_BYTES) {
    // Key alone in the first page, value alone in the second: each field is written whole,
    // value first, so the one intermediate is the old key with the new value. In a delete's
    // shift that old key already sits one record earlier, so lookups still see it right,
    // but a stale copy with a foreign value would remain: deletes use planShiftWrite.
    return [tail, head];
  }
  // Both values cross the page end. First make the new record's value end inside the first
  // page (a prefix cut on a character boundary), then fill in the second page, then drop the
  // early NUL.
  const valueInHead = split - VALUE_FIELD_OFFSET;
  const newValue = after.subarray(VALUE_FIELD_OFFSET);
  const cut = utf8BoundaryAtOrBefore(newValue.subarray(0, textLength(newValue)), valueInHead - 1);
  const provisional = after.slice(0, split);
  provisional[VALUE_FIELD_OFFSET + cut] = 0;
  return [{ offset, bytes: provisional }, tail, head];
}

/**
 * Plans the writes that put `after` where `before` was when a delete moves records up: as
 * {@link planRecordWrite}, with one more rule, because in a move the old and new keys differ:
 * no intermediate state may pair `before`'s key with another value. The one plan that would
 * (key alone in the first page, written after the value) gets a first write that ends the
 * key at its first byte, so a writer killed there leaves a record with an empty key (which a
 * check reports), never a key reading a value that was not its own: neither the removed key
 * reading its neighbour's value, nor a stale copy that a later delete would uncover. That
 * write is one byte, inside one page.
 */
export function planShiftWrite(
  offset: number,
  before: Uint8Array,
  after: Uint8Array,
  pageBytes: number = PAGE_BYTES,
): PlannedWrite[] {
  // One write (or none) has no intermediate state to check: a record inside one page, or one
  // with a half unchanged. Told here without planRecordWrite's whole-record compare: a delete
  // plans a write for every record it moves, and most of them land here.
  const split = pageBytes - (offset % pageBytes);
  if (split >= RECORD_BYTES) return equalBytes(before, after) ? [] : [{ offset, bytes: after }];
  const headChanged = !equalRange(before, after, 0, split);
  if (!headChanged || equalRange(before, after, split, RECORD_BYTES)) {
    if (headChanged) return [{ offset, bytes: after.subarray(0, split) }];
    return equalRange(before, after, split, RECORD_BYTES)
      ? []
      : [{ offset: offset + split, bytes: after.subarray(split) }];
  }
  return planChangedShift(offset, before, after, pageBytes);
}

/**
 * {@link planShiftWrite} of a record that crosses a page end with both halves changed (where
 * {@link shiftWritesWhole} says no), without telling that again. Given one with a half
 * unchanged it still plans as planShiftWrite does (through the states), only slower: a delete
 * passes the slots whose key fills the first page's part here untold, since there a changed
 * key is the rule.
 */
export function planChangedShift(
  offset: number,
  before: Uint8Array,
  after: Uint8Array,
  pageBytes: number = PAGE_BYTES,
): PlannedWrite[] {
  if (pageBytes - (offset % pageBytes) === KEY_FIELD_BYTES) {
    const common = planKeyPageShift(offset, before, after);
    if (common !== undefined) return common;
  }
  return planShiftWriteByStates(offset, before, after, pageBytes);
}

/**
 * The plan of {@link planShiftWrite} for the common case of a record whose key field fills the
 * first page's part exactly (one slot in eight), both fields changed: worked out from the
 * texts instead of by trying states (which, per moved record, was most of a delete's time).
 * There the only orders are value-then-key and key-then-value, and with both keys terminated
 * and different, the old key nonempty and the values reading differently, neither is safe
 * (the old key would read the new value): the old key is ended first, then the value, then
 * the key. Undefined for the other cases, which {@link planShiftWriteByStates} plans; the
 * tests check that both give the same plan.
 */
function planKeyPageShift(offset: number, before: Uint8Array, after: Uint8Array): PlannedWrite[] | undefined {
  if (!keyPageShiftEndsKeyFirst(before, after)) return undefined;
  return [
    { offset, bytes: ENDED_KEY },
    { offset: offset + KEY_FIELD_BYTES, bytes: after.subarray(KEY_FIELD_BYTES) },
    { offset, bytes: after.subarray(0, KEY_FIELD_BYTES) },
  ];
}

/**
 * Whether {@link planShiftWrite} of a record whose key field fills the first page's part (one
 * slot in eight) is the three writes of {@link planKeyPageShift}: old key ended, value, key.
 * True when both keys are terminated, nonempty and different, and the values do not read the
 * same. A delete asks it for every such slot it moves, and writes the plan without making it
 * (ShiftWriter's addKeyPageShift).
 */
export function keyPageShiftEndsKeyFirst(before: Uint8Array, after: Uint8Array): boolean {
  const oldKey = nulIn(before, 0, KEY_FIELD_BYTES);
  const newKey = nulIn(after, 0, KEY_FIELD_BYTES);
  if (oldKey <= 0 || newKey <= 0) return false;
  if (oldKey === newKey && sameShortRange(before, after, 0, oldKey)) return false;
  const oldValue = nulIn(before, VALUE_FIELD_OFFSET, RECORD_BYTES);
  const newValue = nulIn(after, VALUE_FIELD_OFFSET, RECORD_BYTES);
  return !(oldValue >= 0 && oldValue === newValue && equalRange(before, after, VALUE_FIELD_OFFSET, oldValue));
}

/** The one-byte write that ends a key at its first byte. */
const ENDED_KEY = new Uint8Array(1);

/**
 * {@link planShiftWrite} without its shortcuts: plans as {@link planRecordWrite} and tries the
 * states that plan passes through. Exported for the tests only (not in index.ts).
 */
export function planShiftWriteByStates(
  offset: number,
  before: Uint8Array,
  after: Uint8Array,
  pageBytes: number = PAGE_BYTES,
): PlannedWrite[] {
  const writes = planRecordWrite(offset, before, after, pageBytes);
  if (writes.length <= 1) return writes;
  const oldKey = fieldText(before, 0, KEY_FIELD_BYTES);
  if (oldKey === undefined || oldKey.length === 0 || equalBytes(oldKey, fieldText(after, 0, KEY_FIELD_BYTES))) {
    return writes;
  }
  const state = before.slice();
  for (const write of writes.slice(0, -1)) {
    state.set(write.bytes, write.offset - offset);
    if (equalBytes(fieldText(state, 0, KEY_FIELD_BYTES), oldKey) && !readsTheSame(state, before)) {
      const emptied = before.slice();
      emptied[0] = 0;
      return [{ offset, bytes: emptied.subarray(0, 1) }, ...planRecordWrite(offset, emptied, after, pageBytes)];
    }
  }
  return writes;
}

/**
 * Whether the record at `at` of `bytes`, written whole at file offset `offset` over any record,
 * reads as itself wherever a killed writer stops: it lies inside one page, or its key and its
 * value text, each with its NUL, end before the page end inside it. A write cut at that page
 * end has written them; what it left of the old record lies after the value's NUL, where
 * nobody reads. A delete asks it first for every moved record that crosses a page end, with
 * one search for a NUL; most records, short, need nothing more.
 */
export function readsWholeBeforePageEnd(
  offset: number,
  bytes: Uint8Array,
  at: number,
  pageBytes: number = PAGE_BYTES,
): boolean {
  const split = pageBytes - (offset % pageBytes);
  if (split >= RECORD_BYTES) return true;
  if (split <= VALUE_FIELD_OFFSET) return false;
  const valueEnd = bytes.indexOf(0, at + VALUE_FIELD_OFFSET);
  return valueEnd >= 0 && valueEnd < at + split;
}

/**
 * Whether writing `after` whole over `before` at `offset`, in one write, leaves a killed writer
 * only states of {@link planShiftWrite}'s plan: when the record lies inside one page, or one
 * of its halves (either side of the page end inside it) does not change. A cut write has
 * written the first page's part (it stops only at a page end), and an unchanged half written
 * again changes nothing. Cheaper than planning: a delete asks it for every record it moves.
 */
export function shiftWritesWhole(
  offset: number,
  before: Uint8Array,
  after: Uint8Array,
  pageBytes: number = PAGE_BYTES,
): boolean {
  const split = pageBytes - (offset % pageBytes);
  // The tail first: in a shift the keys differ, so the head is mostly changed.
  return split >= RECORD_BYTES || equalRange(before, after, split, RECORD_BYTES) || equalRange(before, after, 0, split);
}

/** Whether two records read as the same key and value (text up to each field's first NUL). */
export function readsTheSame(a: Uint8Array, b: Uint8Array): boolean {
  return splicedReadsAs(a, a, RECORD_BYTES, b);
}

/**
 * Whether the record made of `head`'s bytes before `split` and `tail`'s from it reads as
 * `reference` does: the same key and value, each up to its field's first NUL. A field without
 * a NUL reads as nothing definite and never matches. Works on the three records in place.
 */
function splicedReadsAs(head: Uint8Array, tail: Uint8Array, split: number, reference: Uint8Array): boolean {
  return (
    splicedFieldReadsAs(head, tail, split, reference, 0, KEY_FIELD_BYTES) &&
    splicedFieldReadsAs(head, tail, split, reference, VALUE_FIELD_OFFSET, RECORD_BYTES)
  );
}

function splicedFieldReadsAs(
  head: Uint8Array,
  tail: Uint8Array,
  split: number,
  reference: Uint8Array,
  start: number,
  end: number,
): boolean {
  const referenceEnd = nulIn(reference, start, end);
  if (referenceEnd < 0) return false;
  let textEnd = split > start ? nulIn(head, start, Math.min(end, split)) : -1;
  if (textEnd < 0 && split < end) textEnd = nulIn(tail, Math.max(start, split), end);
  if (textEnd !== referenceEnd) return false;
  const inHead = Math.min(textEnd, split);
  return (
    (inHead <= start || equalRange(head, reference, start, inHead)) &&
    (textEnd <= split || equalRange(tail, reference, Math.max(start, split), textEnd))
  );
}

/** Index of the first NUL of `bytes` in [start, end), or -1. */
function nulIn(bytes: Uint8Array, start: number, end: number): number {
  const at = bytes.indexOf(0, start);
  return at >= 0 && at < end ? at : -1;
}

function fieldText(record: Uint8Array, start: number, end: number): Uint8Array | undefined {
  const field = record.subarray(start, end);
  const nul = field.indexOf(0);
  // A field without a NUL reads as nothing definite; treat it as never equal.
  return nul < 0 ? undefined : field.subarray(0, nul);
}

function textLength(field: Uint8Array): number {
  const nul = field.indexOf(0);
  return nul < 0 ? field.length : nul;
}

/**
 * Byte equality, by Node's memcmp: a delete plans a write for every record it moves, each
 * comparing up to whole records several times (a loop here was a quarter of a delete's time).
 */
function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** `compare` of Buffer's prototype, which takes ranges: memcmp of a range without a view of it. */
const compareRanges = Buffer.prototype.compare;

/**
 * {@link equalRange} for a few bytes (a key): a loop from the end, where keys of one pool
 * differ (`bench-key-00017`); Buffer's compare checks its four offsets in JavaScript first,
 * which in a young process cost more than comparing a key.
 */
function sameShortRange(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  for (let i = end - 1; i >= start; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `a` and `b` hold the same bytes in [start, end) (both at least `end` long). */
function equalRange(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  return compareRanges.call(a, b, start, end, start, end) === 0;
}
