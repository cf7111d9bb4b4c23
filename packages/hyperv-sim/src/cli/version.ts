// Defined by build-cli.mjs (esbuild) and vitest.config.ts from this package's package.json, so
// `hyperv-sim --version` says the version the package was built as.
declare const __KVP_VERSION__: string;

/** This package's version, as in its package.json when the command was built. */
export const VERSION: string = __KVP_VERSION__;
