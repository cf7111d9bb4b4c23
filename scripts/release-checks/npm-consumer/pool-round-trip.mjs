// node pool-round-trip.mjs DIR: writes pool 1 (guest) in DIR with pool-file, changes a record
// in place, deletes one, and prints what it saw along the way as JSON.
import { deleteRecord, getRecord, poolTarget, readPool, setRecords } from "@hyperv-kvp/pool-file";

const guest = poolTarget("guest", process.argv[2]);
const first = await setRecords(
  guest,
  [
    { key: "ReadyState", value: "booting" },
    { key: "Build", value: "2026.1" },
    { key: "Note", value: "grüße, 世界" },
  ],
  { create: true },
);
const second = await setRecords(guest, [{ key: "ReadyState", value: "ready" }]);
const got = await getRecord(guest, "ReadyState");
const removed = await deleteRecord(guest, "Build");
const content = await readPool(guest);
console.log(
  JSON.stringify({
    path: guest.path,
    first: first.map((o) => o.action),
    second: second.map((o) => [o.action, o.previous]),
    got: got?.value,
    removed: removed.map((r) => r.key),
    records: content.records.map((r) => [r.key, r.value]),
  }),
);
