// import.meta for the CommonJS app bundles. The sources are ESM and use import.meta to find
// files beside themselves (the kvp-lock addon, koffi, the PowerShell bridge script); in a
// bundle it describes the bundle. Its url is computed on first use, not in the banner:
// pathToFileURL (and loading node:url) costs about a millisecond of every start, and
// `--help`, `--version` and most runs never ask. filename and dirname, which Node 20.11+ also
// has in ESM, are the wrapper's plain __filename and __dirname.

/** esbuild `define` entries for import.meta.url, .filename and .dirname. */
export const BUNDLE_META_DEFINE = {
  "import.meta.url": "__kvpBundle.url",
  "import.meta.filename": "__filename",
  "import.meta.dirname": "__dirname",
};

/**
 * The banner line that defines `__kvpBundle` (its `url`, made once when first read). Sources
 * can tell that they run bundled by `typeof __kvpBundle === "object"`.
 */
export const BUNDLE_META_BANNER =
  'const __kvpBundle = { get url() { return (this._url ??= require("node:url").pathToFileURL(__filename).href); } };';
