import { isPoolFileError, poolTarget, scanPool } from "@hyperv-kvp/pool-file";
import { formatList, formatListHeading } from "../print.js";
import { ListOutput, appendListLines } from "./list-lines.js";
import { type ListOptions, type ListResult, list, trailingBytesNote } from "./list.js";
import { ALL_POOLS } from "./pool-option.js";

/** `kvp-pool list` for people: what {@link list} finds, with the records as printed lines. */
export interface ListedForPeople extends Omit<ListResult, "records"> {
  /** UTF-8 of what `formatList` makes of {@link list}'s records, byte for byte. */
  readonly output: Uint8Array;
}

/**
 * Lists as {@link list} does, straight into the lines people see. A pool's records become
 * lines chunk by chunk as they are read (see `appendListLines`), with no object per record:
 * that was most of a 10,000-record list's time. A pool whose keys may hold parts of chunked
 * values (a key with `#`), and pool 2 (synthesised), are listed through {@link list}, which
 * reassembles them; the pool is then read again, so its lines all come from one read.
 */
export async function listForPeople(options: ListOptions): Promise<ListedForPeople> {
  const out = new ListOutput();
  const failures: ListResult["failures"][number][] = [];
  const notes: string[] = [];
  const chunkNotes: string[] = [];
  const appendListed = async (pool: NonNullable<ListOptions["pool"]>) => {
    const listed = await list({ ...options, pool });
    const text = formatList(listed);
    if (text !== "") out.appendText(out.length > 0 ? `\n${text}` : text);
    failures.push(...listed.failures);
    notes.push(...listed.notes);
    chunkNotes.push(...listed.chunkNotes);
  };
  for (const pool of options.pool ? [options.pool] : ALL_POOLS) {
    if (pool.number === 2) {
      await appendListed(pool);
      continue;
    }
    const poolStart = out.length;
    let mayHoldParts = false;
    try {
      const { trailingBytes } = await scanPool(
        poolTarget(pool, options.dir),
        (bytes, firstIndex) => {
          if (firstIndex === 0) {
            out.appendText(`${out.length > 0 ? "\n" : ""}${formatListHeading(pool.number, pool.name, false)}\n`);
          }
          mayHoldParts = appendListLines(bytes, out, options.raw !== true) === "may-hold-parts";
          return !mayHoldParts;
        },
        options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
      );
      if (mayHoldParts) {
        out.length = poolStart;
        await appendListed(pool);
        continue;
      }
      if (trailingBytes > 0) notes.push(trailingBytesNote(pool.number, trailingBytes));
    } catch (error) {
      if (!isPoolFileError(error)) throw error;
      out.length = poolStart;
      failures.push({ pool: pool.number, poolName: pool.name, code: error.code, message: error.message });
    }
  }
  return { output: out.view(), failures, notes, chunkNotes };
}
