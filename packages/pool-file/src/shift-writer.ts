import { KEY_FIELD_BYTES, RECORD_BYTES } from "@hyperv-kvp/kvp-core";
import { type LockedPool, applyWrites } from "./pool-io.js";
import type { PlannedWrite } from "./record-write-plan.js";

/** Most bytes {@link ShiftWriter} gathers before it writes them. */
const SHIFT_WRITE_BYTES = 256 * RECORD_BYTES;

/**
 * Writes the slots of a delete's shift (each record moved up one slot) with as few `pwrite`s as
 * the page-safe plans allow: a delete near the start of a 10,000-record pool made ~20,000 small
 * writes with one per planned write, ~5,000 with runs of whole records, ~1,250 now.
 *
 * Why gathering is safe (docs/daemon-and-locks.md#page-safe-writes): the kernel copies a write
 * page by page, in order, and a SIGKILL stops it only between pages, so a cut-short `pwrite`
 * has written its bytes up to some page end. Each `pwrite` here is a row of pieces in
 * ascending offsets, each either a planned write (which stays inside one page, so no cut
 * splits it) or filler: bytes equal to what the file holds there at that moment, whose
 * writing changes nothing, cut or not. The planned writes go out in plan order, slot after
 * slot, exactly as if each were written alone; a cut leaves a prefix of that sequence. So a
 * killed writer leaves each slot in one of its plan's states, and the slots in the order
 * states a one-write-per-plan delete could leave: every slot before the cut's slot moved,
 * every one after untouched.
 *
 * - {@link addRecords}: a slot whose plan goes forward (one write, or pieces in ascending
 *   order, or none) is written whole: the bytes its plan leaves out are unchanged ones. So is
 *   one whose new record reads whole before the page end inside it (readsWholeBeforePageEnd):
 *   cut there, it reads as the new record; the old bytes left after the page end lie after
 *   its value's NUL.
 * - {@link addPlan}: a slot whose plan goes back (a later write below an earlier one's end) is
 *   added write by write: each that starts at or after the gathered bytes' end joins them,
 *   with filler from the slot's current content over any gap; one that starts below it
 *   first sends what is gathered, then starts anew. The slot is then completed with its new
 *   content (filler: every planned write of it is already placed before), so the next slot
 *   joins the same `pwrite`.
 */
export class ShiftWriter {
  private readonly buffer = new Uint8Array(SHIFT_WRITE_BYTES);
  /** File offset of the gathered bytes' start. */
  private start = 0;
  private length = 0;

  constructor(private readonly pool: LockedPool) {}

  /** Adds the slots from `offset` on to become `records` (whole records, one after another), written whole. */
  addRecords(offset: number, records: Uint8Array): void {
    if (this.length > 0 && offset !== this.start + this.length) this.flush();
    for (let done = 0; done < records.length; ) {
      if (SHIFT_WRITE_BYTES - this.length < RECORD_BYTES) this.flush();
      if (this.length === 0) this.start = offset + done;
      // Whole records only: a full buffer sent in the middle of one would let a kill between
      // the two writes tear it at a byte no plan chose.
      const room = Math.floor((SHIFT_WRITE_BYTES - this.length) / RECORD_BYTES) * RECORD_BYTES;
      const take = Math.min(records.length - done, room);
      this.buffer.set(records.subarray(done, done + take), this.length);
      this.length += take;
      done += take;
    }
  }

  /**
   * Adds the slot at `offset`, now `before`, to become `after` through `writes`, a plan of
   * {@link planShiftWrite} (pieces inside one page each, their end state `after`).
   */
  addPlan(offset: number, before: Uint8Array, after: Uint8Array, writes: readonly PlannedWrite[]): void {
    this.makeRoomAt(offset);
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i]!;
      if (this.length > 0 && write.offset < this.start + this.length) this.flush();
      if (this.length === 0) this.start = write.offset;
      else this.fill(offset, before, writes, i);
      this.buffer.set(write.bytes, this.length);
      this.length += write.bytes.length;
    }
    // The rest of the slot, as its plan leaves it: `after`.
    const end = this.start + this.length - offset;
    if (end < RECORD_BYTES) {
      this.buffer.set(after.subarray(end), this.length);
      this.length += RECORD_BYTES - end;
    }
  }

  /**
   * Adds the slot at `offset`, whose key field fills the first page's part, now `before`, to
   * become `after` by the plan {@link keyPageShiftEndsKeyFirst} chose: the old key ended at its
   * first byte, then the value, then the key. As {@link addPlan} of that plan, without making
   * it: the first two writes, with the old key's bytes after its first as filler, end the
   * gathered bytes and go out; the key starts the next `pwrite`, followed by the value just
   * written (filler), so the next slot joins it. The tests check both give the same writes.
   */
  addKeyPageShift(offset: number, before: Uint8Array, after: Uint8Array): void {
    this.makeRoomAt(offset);
    const at = this.length;
    this.buffer[at] = 0;
    this.buffer.set(before.subarray(1, KEY_FIELD_BYTES), at + 1);
    this.buffer.set(after.subarray(KEY_FIELD_BYTES), at + KEY_FIELD_BYTES);
    this.length += RECORD_BYTES;
    this.flush();
    this.start = offset;
    this.buffer.set(after, 0);
    this.length = RECORD_BYTES;
  }

  /**
   * Filler from the gathered bytes' end up to `writes[next]`, all inside the slot at `offset`:
   * what the file holds there once the writes before it are written, `before` under them
   * (built in place: a copy of the slot per plan was most of this writer's time).
   */
  private fill(offset: number, before: Uint8Array, writes: readonly PlannedWrite[], next: number): void {
    const from = this.start + this.length;
    const to = writes[next]!.offset;
    if (to === from) return;
    const at = this.length;
    this.buffer.set(before.subarray(from - offset, to - offset), at);
    for (let i = 0; i < next; i++) {
      const { offset: o, bytes } = writes[i]!;
      const lo = Math.max(o, from);
      const hi = Math.min(o + bytes.length, to);
      if (lo < hi) this.buffer.set(bytes.subarray(lo - o, hi - o), at + lo - from);
    }
    this.length += to - from;
  }

  /** Writes what was gathered, if anything. */
  flush(): void {
    if (this.length === 0) return;
    applyWrites(this.pool, [{ offset: this.start, bytes: this.buffer.subarray(0, this.length) }]);
    this.length = 0;
  }

  /**
   * Makes the gathered bytes end at `offset` with room for a slot after them: sends them when
   * they end elsewhere (a gap) or the buffer could not take two more slots.
   */
  private makeRoomAt(offset: number): void {
    if (
      this.length > 0 &&
      (offset !== this.start + this.length || this.length > SHIFT_WRITE_BYTES - 2 * RECORD_BYTES)
    ) {
      this.flush();
    }
    if (this.length === 0) this.start = offset;
  }
}
