/**
 * cloud-init's NoCloud documents carried as KVP items, host to guest: the names both sides
 * use and the checks both sides make, so `kvp-host cloud-init` refuses exactly what the guest
 * agent would refuse to write as a seed.
 *
 * Each document travels as one host item (pool 0) under {@link CLOUD_INIT_KEYS}, split into
 * parts `KEY#1/N` … `KEY#N/N` when longer than the guest receives whole (see chunking.ts), and
 * is at most {@link MAX_CLOUD_INIT_DOCUMENT_BYTES} bytes of UTF-8.
 */
import { MAX_CHUNK_UNITS } from "./chunking.js";
import { KvpError } from "./errors.js";
import { MAX_VALUE_BYTES } from "./layout.js";
import { decodeUtf8, encodeUtf8, findInvalidUtf8, findLoneSurrogate } from "./utf8.js";

/** The NoCloud documents, named as the files of a NoCloud seed (and a `cidata` ISO) are. */
export type CloudInitDocumentName = "meta-data" | "user-data" | "network-config";

/** Every document, in the order a host writes them: meta-data last, since it names the instance. */
export const CLOUD_INIT_DOCUMENTS: readonly CloudInitDocumentName[] = ["user-data", "network-config", "meta-data"];

/**
 * The KVP key (logical: before any `#i/N` part label) that carries each document:
 * `cloud-init/meta-data`, `cloud-init/user-data`, `cloud-init/network-config`.
 */
export const CLOUD_INIT_KEYS: Readonly<Record<CloudInitDocumentName, string>> = Object.freeze({
  "meta-data": "cloud-init/meta-data",
  "user-data": "cloud-init/user-data",
  "network-config": "cloud-init/network-config",
});

/**
 * Largest document, in UTF-8 bytes (64 KiB). Why this size: it is what users of cloud images
 * already fit their user-data into (Azure's custom data takes 64 KB, EC2's user data 16 KB),
 * and it keeps the three documents well inside pool 0: at most 65 parts each (ASCII; 33 for
 * other text), so under 200 host items — two calls of 128 — and about 0.5 MB of pool 0's
 * 2560-byte records, which the daemon rereads and the agent harvests on every change.
 * A larger configuration belongs in something user-data fetches (`#include`).
 */
export const MAX_CLOUD_INIT_DOCUMENT_BYTES = 65_536;

/** Most parts one document needs: every part holds at least 1022 bytes (ASCII) or 2044 (other text). */
export const MAX_CLOUD_INIT_DOCUMENT_PARTS = Math.ceil(
  MAX_CLOUD_INIT_DOCUMENT_BYTES / Math.min(MAX_CHUNK_UNITS, MAX_VALUE_BYTES),
);

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

/**
 * Reads a document from a file's bytes: UTF-8 (a leading byte-order mark is dropped, as
 * Windows editors write one and cloud-init would not see `#cloud-config` behind it), then
 * {@link checkCloudInitDocument}.
 * @throws {KvpError} `invalid-value` for bytes that are not UTF-8 (UTF-16 named as such) and
 *   for what {@link checkCloudInitDocument} refuses; `limit-exceeded` for a document over
 *   {@link MAX_CLOUD_INIT_DOCUMENT_BYTES}.
 */
export function decodeCloudInitDocument(name: CloudInitDocumentName, bytes: Uint8Array): string {
  const body = startsWith(bytes, UTF8_BOM) ? bytes.subarray(UTF8_BOM.length) : bytes;
  if (startsWith(body, [0xff, 0xfe]) || startsWith(body, [0xfe, 0xff])) {
    throw new KvpError("invalid-value", `invalid ${name}: UTF-16 (byte-order mark); save it as UTF-8`);
  }
  if (body.length > MAX_CLOUD_INIT_DOCUMENT_BYTES) throw tooLarge(name, body.length);
  const bad = findInvalidUtf8(body);
  if (bad >= 0) throw new KvpError("invalid-value", `invalid ${name}: not UTF-8 (invalid byte at offset ${bad})`);
  const text = decodeUtf8(body).text;
  checkCloudInitDocument(name, text);
  return text;
}

function tooLarge(name: CloudInitDocumentName, bytes: number): KvpError {
  return new KvpError(
    "limit-exceeded",
    `${name} too large: ${bytes} bytes (at most ${MAX_CLOUD_INIT_DOCUMENT_BYTES}); have user-data #include what is larger`,
  );
}

/**
 * Why a document cannot be sent or written as a NoCloud seed file, or undefined when it can:
 * larger than {@link MAX_CLOUD_INIT_DOCUMENT_BYTES}, holding a NUL (a pool field ends at its
 * first NUL) or a lone surrogate (text that is not valid UTF-8 once written), or, for
 * meta-data, no instance-id ({@link hasInstanceId}): cloud-init decides from it whether this
 * is a new instance and runs its once-per-instance modules. The host (`kvp-host cloud-init`)
 * and the guest agent (its NoCloud seed) refuse by this one rule.
 */
export function cloudInitDocumentProblem(name: CloudInitDocumentName, text: string): string | undefined {
  // 3 bytes per UTF-16 unit at most: only a long text needs encoding to be measured.
  const bytes = text.length * 3 > MAX_CLOUD_INIT_DOCUMENT_BYTES ? encodeUtf8(text).length : text.length;
  if (bytes > MAX_CLOUD_INIT_DOCUMENT_BYTES) return `larger than ${MAX_CLOUD_INIT_DOCUMENT_BYTES} bytes (${bytes})`;
  if (text.includes("\0")) return "holds a NUL character";
  const lone = findLoneSurrogate(text);
  if (lone >= 0) return `not valid Unicode (a lone surrogate at ${lone})`;
  if (name === "meta-data" && !hasInstanceId(text)) return "has no instance-id";
  return undefined;
}

/**
 * {@link cloudInitDocumentProblem} as an error.
 * @throws {KvpError} `limit-exceeded` for a document over {@link MAX_CLOUD_INIT_DOCUMENT_BYTES},
 *   `invalid-value` for the rest, with a one-line message.
 */
export function checkCloudInitDocument(name: CloudInitDocumentName, text: string): void {
  const problem = cloudInitDocumentProblem(name, text);
  if (problem === undefined) return;
  if (problem.startsWith("larger than")) throw tooLarge(name, encodeUtf8(text).length);
  const hint = problem === "has no instance-id" ? " (cloud-init needs one, e.g. `instance-id: web01-0001`)" : "";
  throw new KvpError("invalid-value", `invalid ${name}: ${problem}${hint}`);
}

// A top-level `instance-id:` key with a value (at a line's start: an indented one belongs to
// another mapping), in YAML block style (`instance-id: i-1`) or flow/JSON style
// (`{"instance-id": "i-1"}`), quoted or not. Not a YAML parser: it only
// refuses a meta-data that cannot name an instance, which NoCloud would reject anyway;
// cloud-init itself judges the rest.
const INSTANCE_ID = /(?:^|[{,]\s*)(["']?)instance-id\1[ \t]*:[ \t]*["']?[^\s"',}#]/m;

/** Whether meta-data text names an instance: a top-level `instance-id` with a value. */
export function hasInstanceId(metaData: string): boolean {
  return INSTANCE_ID.test(metaData);
}
