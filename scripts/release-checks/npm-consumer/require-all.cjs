// What require() gives a CommonJS user of each library, as JSON: the number of exports, or
// the error's code and first line.
const result = {};
for (const name of ["@hyperv-kvp/kvp-core", "@hyperv-kvp/pool-file", "@hyperv-kvp/wsman", "@hyperv-kvp/hyperv-sim"]) {
  try {
    const module = require(name);
    result[name] = { exports: Object.keys(module).length, encodePool: typeof module.encodePool };
  } catch (error) {
    result[name] = { code: error.code, message: String(error.message).split("\n")[0] };
  }
}
console.log(JSON.stringify(result));
