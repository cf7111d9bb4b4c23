/**
 * Where PowerShell finds the bridge script it runs with `-File`.
 *
 * From the package (npm, or sources) the script is a file already: `dist/powershell/` beside
 * the bundle, or `powershell/` of the package ({@link bridgeScriptPath}). A single executable
 * (kvp-host.exe, built by packaging/build-sea.mjs) has nothing beside it: the script travels
 * inside as the SEA asset {@link BRIDGE_SCRIPT_NAME}, and is written out for PowerShell to a
 * private temporary file, for as long as the transport lives.
 *
 * Why a file: the bridge reads its requests from standard input, so the script cannot come
 * that way, and `-EncodedCommand` cannot carry it: the script (~21,000 ASCII characters)
 * as base64 of UTF-16LE is ~57,000 characters, beyond Windows' 32,767-character command line.
 *
 * Why it is safe: the directory is made by mkdtemp (created exclusively under a random name;
 * mode 0700 on POSIX; on Windows, %TEMP% is the user's own, and what is created in a shared
 * temporary directory belongs to its creator), the file is created exclusively (`wx`: a file
 * planted there first makes it fail, never gets written through), and is read back and
 * compared byte for byte before PowerShell is given its path.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TransportError } from "../transport-error.js";
import { BRIDGE_SCRIPT_NAME } from "./powershell-protocol.js";

/** The prefix of the temporary directory a single executable writes the script into. */
export const BRIDGE_TEMP_PREFIX = "kvp-host-bridge-";

/** How often, and how far apart (ms), removing the temporary copy is tried (Windows refuses while another process holds it open). */
const REMOVE_RETRIES = 10;
const REMOVE_RETRY_DELAY_MS = 100;

/**
 * The part of `node:sea` this module uses: whether this process is a single executable, and
 * its assets. Tests pass their own.
 */
export interface SeaAssetSource {
  /** True inside a single executable. */
  isSea(): boolean;
  /**
   * A copy of the asset `key`'s bytes.
   * @throws when there is no such asset.
   */
  getAsset(key: string): ArrayBuffer;
}

/** The bridge script as a file PowerShell can run. */
export interface BridgeScript {
  /** Its path, for `-File`. */
  readonly path: string;
  /** Whether it is a temporary copy (of a single executable's asset) that {@link dispose} removes. */
  readonly temporary: boolean;
  /** Removes the temporary copy and its directory (nothing for the package's own file); safe to call again. */
  dispose(): Promise<void>;
}

// Defined by the esbuild banner of build.mjs in the CommonJS bundle (scripts/lib/bundle-meta.mjs);
// absent in the ESM sources.
declare const __kvpBundle: { readonly url: string } | undefined;

/**
 * Where the bridge script is in the package: beside the bundle in `dist/powershell/`
 * (build.mjs copies it there), or in the package's `powershell/` when running from sources.
 * @param moduleUrl the URL of this module (of the bundle, once bundled).
 * @param bundled whether this module runs inside the bundle.
 */
export function bridgeScriptPath(
  moduleUrl: string = import.meta.url,
  bundled: boolean = typeof __kvpBundle === "object",
): string {
  return fileURLToPath(
    new URL(bundled ? `powershell/${BRIDGE_SCRIPT_NAME}` : `../../powershell/${BRIDGE_SCRIPT_NAME}`, moduleUrl),
  );
}

/**
 * This process's `node:sea`, or undefined where Node has none (before 20.12). Loaded lazily:
 * a static import would stop kvp-host from starting on such a Node.
 */
export function nodeSea(): SeaAssetSource | undefined {
  try {
    return createRequire(import.meta.url)("node:sea") as SeaAssetSource;
  } catch {
    return undefined;
  }
}

/** Removes `dir` with retries: the bridge may still be letting go of the file. */
function removeTemporary(dir: string): () => Promise<void> {
  let removal: Promise<void> | undefined;
  return () => {
    removal ??= rm(dir, {
      recursive: true,
      force: true,
      maxRetries: REMOVE_RETRIES,
      retryDelay: REMOVE_RETRY_DELAY_MS,
    });
    return removal;
  };
}

/** What a failure to write the copy is called: a bridge that could not be started. */
function cannotWrite(what: string): TransportError {
  return new TransportError("unavailable", `cannot give PowerShell the bridge script: ${what}`);
}

/**
 * The bridge script for PowerShell's `-File`: inside a single executable (`sea.isSea()`), a
 * private temporary copy of the asset {@link BRIDGE_SCRIPT_NAME} (see the module doc; the
 * caller disposes of it once PowerShell has ended), else the package's file at `packagePath`.
 * @param options.sea default {@link nodeSea}().
 * @param options.tempDir where the private directory is made; default `os.tmpdir()`.
 * @param options.packagePath default {@link bridgeScriptPath}().
 * @throws {TransportError} `unavailable` when the asset is missing or the copy cannot
 *   be written or does not read back the same (nothing is left behind then).
 */
export async function prepareBridgeScript(
  options: { readonly sea?: SeaAssetSource | undefined; readonly tempDir?: string; readonly packagePath?: string } = {},
): Promise<BridgeScript> {
  const sea = "sea" in options ? options.sea : nodeSea();
  if (sea === undefined || !sea.isSea()) {
    return { path: options.packagePath ?? bridgeScriptPath(), temporary: false, dispose: async () => undefined };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(sea.getAsset(BRIDGE_SCRIPT_NAME));
  } catch (error) {
    throw cannotWrite(
      `this executable holds no ${BRIDGE_SCRIPT_NAME} (${error instanceof Error ? error.message : String(error)}): it was built without it`,
    );
  }
  let dir: string;
  try {
    dir = await mkdtemp(join(options.tempDir ?? tmpdir(), BRIDGE_TEMP_PREFIX));
  } catch (error) {
    throw cannotWrite(
      `no private directory in ${options.tempDir ?? tmpdir()} (${(error as { code?: string }).code ?? String(error)})`,
    );
  }
  const dispose = removeTemporary(dir);
  const path = join(dir, BRIDGE_SCRIPT_NAME);
  try {
    await writeFile(path, bytes, { flag: "wx", mode: 0o600 });
    const written = await readFile(path);
    if (!written.equals(bytes))
      throw cannotWrite(`${path} does not read back as written (${written.length} of ${bytes.length} bytes)`);
  } catch (error) {
    await dispose().catch(() => undefined);
    if (error instanceof TransportError) throw error;
    throw cannotWrite(`cannot write ${path} (${(error as { code?: string }).code ?? String(error)})`);
  }
  return { path, temporary: true, dispose };
}
