// import.meta.url for the CommonJS app bundles. The sources are ESM and use it to find files
// beside themselves (the kvp-lock addon, koffi, the PowerShell bridge script); in a bundle it is
// the bundle's own URL. Computed on first use, not in the banner: pathToFileURL costs about a
// millisecond of every start, and `--help`, `--version` and most kvp-host runs never ask.

/** esbuild `define` entries: import.meta.url reads the banner's getter. */
export const BUNDLE_URL_DEFINE = { "import.meta.url": "__kvpBundle.url" };

/**
 * The banner line that defines `__kvpBundle` (its `url`, made once when first read). Sources
 * can tell that they run bundled by `typeof __kvpBundle === "object"`.
 */
export const BUNDLE_URL_BANNER =
  'const __kvpBundle = { get url() { return (this._url ??= require("node:url").pathToFileURL(__filename).href); } };';
