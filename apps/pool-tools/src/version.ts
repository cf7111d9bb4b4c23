// Defined by build.mjs (esbuild) and vitest.config.ts from this app's package.json, so the
// version a user sees is the one the package was built as: `changeset version` moves it, and
// nothing here is kept by hand.
declare const __KVP_VERSION__: string;

/** This program's version, as in its package.json when it was built (`--version`). */
export const VERSION: string = __KVP_VERSION__;
