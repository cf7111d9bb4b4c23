// Imports every published library (and kvp-core's subpath /cim) from ESM and prints what it
// found, as JSON: decodeKvpItem is asked of both kvp-core entry points, to show where it lives.
const libraries = {
  "@hyperv-kvp/kvp-core": ["encodePool", "decodeKvpItem", "RECORD_BYTES"],
  "@hyperv-kvp/kvp-core/cim": ["decodeKvpItem", "toCimXml", "encodePool"],
  "@hyperv-kvp/pool-file": ["readPool", "setRecords", "poolTarget"],
  "@hyperv-kvp/wsman": ["WsmanClient", "createWsmanServer"],
  "@hyperv-kvp/hyperv-sim": ["startSimulatedHost", "startWmiHost"],
};
const found = {};
for (const [name, exports] of Object.entries(libraries)) {
  const module = await import(name);
  found[name] = Object.fromEntries(exports.map((e) => [e, typeof module[e]]));
}
// What must not resolve: the simulator's test support, and paths past the entry point.
const refused = {};
for (const name of ["@hyperv-kvp/hyperv-sim/test-support", "@hyperv-kvp/kvp-core/dist/record.js"]) {
  refused[name] = await import(name).then(
    () => "resolved",
    (error) => error.code,
  );
}
console.log(JSON.stringify({ found, refused }));
