// The floor under an order-keeping delete, for scripts/bench.mjs: moves every record after
// record N up one slot in 640 KiB reads and writes, with no page-safe planning, no lock and no
// check, then cuts the file. Not a tool: what any delete that keeps the order must at least do.
//   node scripts/lib/shift-floor.cjs POOL_FILE N
"use strict";
const { fstatSync, ftruncateSync, openSync, readSync, writeSync } = require("node:fs");

const RECORD_BYTES = 2560;
const CHUNK_BYTES = 256 * RECORD_BYTES;
const [file, removed] = process.argv.slice(2);
const fd = openSync(file, "r+");
const size = fstatSync(fd).size;
const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
let to = Number(removed) * RECORD_BYTES;
for (let from = to + RECORD_BYTES; from < size; ) {
  const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, size - from), from);
  for (let done = 0; done < read; ) done += writeSync(fd, chunk, done, read - done, to + done);
  from += read;
  to += read;
}
ftruncateSync(fd, to);
