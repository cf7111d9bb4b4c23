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
    notes.push(`pool ${pool}: ${problems.length - MAX_CHUNK_NOTES} more chunked value(s) shown as stored (kvp-pool check --pool ${pool} lists them)`);
  }
  return notes;
}

/** `record 3` or `records 3, 5, 9` (the stored records' indexes in the pool). */
export function recordsText(problem: ChunkProblem<DecodedRecord>): string {
  const indexes = problem.records.map((r) => r.index);
  const shown = indexes.length > 10 ? `${indexes.slice(0, 10).join(", ")}, …` : indexes.join(", ");
  return `${indexes.length === 1 ? "record" : "records"} ${shown}`;
}
