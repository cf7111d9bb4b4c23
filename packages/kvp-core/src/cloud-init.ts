/**
 * cloud-init's documents carried as pool-0 items, for a guest that turns them into a NoCloud
 * seed (kvp-agent's `cloudInit` setting) and a host that sends them.
 *
 * The host sends each document as one logical key (chunked `KEY#1/N` … `KEY#N/N` when long,
 * see chunking.ts); the guest writes the NoCloud file of the same name. `meta-data` is the one
 * cloud-init needs (its `instance-id` decides whether this is a new instance), so a guest
 * writes nothing until it is whole: a host sends it last.
 */
import { encodeUtf8, findLoneSurrogate } from "./utf8.js";

/** Pool-0 key of each NoCloud document, by the file name cloud-init's NoCloud datasource reads. */
export const CLOUD_INIT_KEYS = {
  "meta-data": "cloud-init/meta-data",
  "user-data": "cloud-init/user-data",
  "network-config": "cloud-init/network-config",
} as const;

/** A NoCloud document's file name: `meta-data`, `user-data` or `network-config`. */
export type CloudInitDocument = keyof typeof CLOUD_INIT_KEYS;

/**
 * Largest cloud-init document, in UTF-8 bytes: 64 KiB. Pool 0's budget: a document of this
 * size is at most 65 parts (1022 ASCII units or 2047 bytes per part, chunking.ts), so one
 * document fits one 128-item batch of the host's AddKvpItems and the three together stay
 * under 200 records (512 KB of pool file) that the daemon re-reads and rewrites whole at every
 * SET of the upload. Real user-data is a few KB (a larger payload belongs in a file the
 * user-data fetches); a size past this is a mistake or an attack, refused rather than written.
 */
export const MAX_CLOUD_INIT_DOCUMENT_BYTES = 64 * 1024;

// A top-level `instance-id:` key with a value, in YAML block style (`instance-id: i-1`) or
// flow/JSON style (`{"instance-id": "i-1"}`). cloud-init parses the document; this only
// refuses a meta-data that cannot name an instance, which NoCloud would reject anyway.
const INSTANCE_ID = /(?:^|[\n{,])[ \t]*(["']?)instance-id\1[ \t]*:[ \t]*["']?[^\s"',}#]/;

/**
 * Why a cloud-init document cannot be written as a NoCloud seed file, or undefined when it
 * can: larger than {@link MAX_CLOUD_INIT_DOCUMENT_BYTES}, holding a NUL or a lone surrogate
 * (text that is not valid UTF-8 once written), or, for `meta-data`, no `instance-id`.
 */
export function cloudInitDocumentProblem(document: CloudInitDocument, text: string): string | undefined {
  // 3 bytes per UTF-16 unit at most: only a long text needs encoding to be measured.
  const bytes = text.length * 3 > MAX_CLOUD_INIT_DOCUMENT_BYTES ? encodeUtf8(text).length : text.length;
  if (bytes > MAX_CLOUD_INIT_DOCUMENT_BYTES) return `larger than ${MAX_CLOUD_INIT_DOCUMENT_BYTES} bytes (${bytes})`;
  if (text.includes("\0")) return "holds a NUL character";
  const lone = findLoneSurrogate(text);
  if (lone >= 0) return `not valid Unicode (a lone surrogate at ${lone})`;
  if (document === "meta-data" && !INSTANCE_ID.test(text)) return "has no instance-id";
  return undefined;
}
