import type { ChunkProblem, DecodedRecord } from "@hyperv-kvp/kvp-core";

/**
 * Most chunk problems reported per pool by `list`; the rest are counted. A hostile pool
 * could hold thousands of stray parts, and stderr is for people.
 */
export const MAX_CHUNK_NOTES = 20;

/** Chunk problems as `list` notes: `pool N: message (record indexes)`, bounded, then a count. */
export function chunkNotes(pool: number, problems: readonly ChunkProblem<DecodedRecord>[]): string[] {
  const notes = problems.slice(0, MAX_CHUNK_NOTES).map((p) => `pool ${pool}: ${p.message} (${recordsText(p)})`);
  if (problems.length > MAX_CHUNK_NOTES) {
    notes.push(
      `pool ${pool}: ${problems.length - MAX_CHUNK_NOTES} more chunked value(s) shown as stored (kvp-pool check --pool ${pool} lists them)`,
    );
  }
  return notes;
}

/** `record 3` or `records 3, 5, 9` (the stored records' indexes in the pool). */
export function recordsText(problem: ChunkProblem<DecodedRecord>): string {
  const indexes = problem.records.map((r) => r.index);
  const shown = indexes.length > 10 ? `${indexes.slice(0, 10).join(", ")}, …` : indexes.join(", ");
  return `${indexes.length === 1 ? "record" : "records"} ${shown}`;
}

/**
 * Chunk problems as `watch` notes, bounded like {@link chunkNotes}. A watch reports logical
 * keys only, so the note says what it does instead of showing the parts: a key whose parts
 * cannot be reassembled keeps the value last reported until they are whole again (or all
 * gone); beside a plain record or as a stray copy, parts change nothing.
 */
export function watchChunkNotes(pool: number, problems: readonly ChunkProblem<DecodedRecord>[]): string[] {
  const notes = problems.slice(0, MAX_CHUNK_NOTES).map((p) => `pool ${pool}: ${watchProblemText(p)}`);
  if (problems.length > MAX_CHUNK_NOTES) {
    notes.push(
      `pool ${pool}: ${problems.length - MAX_CHUNK_NOTES} more chunked value problem(s) (kvp-pool check --pool ${pool} lists them)`,
    );
  }
  return notes;
}

function watchProblemText(p: ChunkProblem<DecodedRecord>): string {
  const key = JSON.stringify(p.key.length > 60 ? `${p.key.slice(0, 40)}...${p.key.slice(-17)}` : p.key);
  const where = recordsText(p);
  switch (p.reason) {
    case "plain-beside-parts":
      return `${key} is stored both as a plain record and in parts (${where}); watch follows the plain record, as lookups do`;
    case "duplicate-part":
      return `parts of ${key} are stored more than once (${where}); the first copy of each counts`;
    default:
      // incomplete, conflicting-totals, invalid-utf8: kvp-core says which parts and why; the
      // parts are not shown (watch reports logical keys), so its closing words do not apply.
      return `${p.message.replace(/; shown as stored$/, "")} (${where}); until its parts are whole or all gone, watch reports no change of ${key}`;
  }
}
