import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  CLOUD_INIT_DOCUMENTS,
  CLOUD_INIT_KEYS,
  type CloudInitDocumentName,
  MAX_CLOUD_INIT_DOCUMENT_BYTES,
  cloudInitDocumentProblem,
} from "@hyperv-kvp/kvp-core";
import { AgentError } from "./agent-error.js";
import { removeFile, writeFileAtomic } from "./state-files.js";

/** Where cloud-init's NoCloud datasource looks for a seed on the root filesystem. */
export const DEFAULT_SEED_DIR = "/var/lib/cloud/seed/nocloud";

/** Default bound of `kvp-agent cloud-init-seed`'s wait for the host's meta-data at first boot, in seconds. */
export const DEFAULT_FIRST_BOOT_WAIT_SECONDS = 30;

/** Mode of the seed files: user-data carries secrets (passwords, keys), and only cloud-init (root) reads them. */
export const SEED_FILE_MODE = 0o600;

/** Mode of the seed directory the agent creates. */
export const SEED_DIR_MODE = 0o700;

/** A document the seed could not take, and why. */
export interface RefusedDocument {
  readonly document: CloudInitDocumentName;
  readonly problem: string;
}

/** What {@link planSeed} decided from pool 0's items. */
export type SeedPlan =
  /** The host sent no meta-data: no seed from the host. */
  | { readonly kind: "absent" }
  /** A document cannot be written: none is (a seed without its user-data would boot unconfigured). */
  | { readonly kind: "refused"; readonly refused: readonly RefusedDocument[] }
  /** The seed: each document the host sent (meta-data always). */
  | { readonly kind: "seed"; readonly documents: ReadonlyMap<CloudInitDocumentName, string> };

/**
 * The NoCloud seed that pool 0's `items` (by logical key: chunked values whole) describe.
 * Pure: no file is looked at.
 */
export function planSeed(items: ReadonlyMap<string, string>): SeedPlan {
  if (!items.has(CLOUD_INIT_KEYS["meta-data"])) return { kind: "absent" };
  const documents = new Map<CloudInitDocumentName, string>();
  const refused: RefusedDocument[] = [];
  for (const document of CLOUD_INIT_DOCUMENTS) {
    const text = items.get(CLOUD_INIT_KEYS[document]);
    if (text === undefined) continue;
    const problem = cloudInitDocumentProblem(document, text);
    if (problem === undefined) documents.set(document, text);
    else refused.push({ document, problem });
  }
  return refused.length > 0 ? { kind: "refused", refused } : { kind: "seed", documents };
}

/** What one {@link NoCloudSeed.sync} did. */
export interface SeedOutcome {
  /** `written`: the seed is what the host sent (whether or not a file changed); see {@link SeedPlan}. */
  readonly state: "written" | "absent" | "refused";
  readonly seedDir: string;
  /** Files written because their content or mode differed. */
  readonly written: readonly CloudInitDocumentName[];
  /** Files removed: documents the host no longer sends. */
  readonly removed: readonly CloudInitDocumentName[];
  readonly refused: readonly RefusedDocument[];
}

/**
 * Checks (creating it when missing) that `dir` is a directory only root can change: not a
 * symlink, owned by this process's user, not group- or world-writable. Whoever could change
 * it could swap a seed file for a link or their own user-data, which cloud-init runs as root.
 * Its parent is created 0755 when missing (cloud-init's own /var/lib/cloud is 0755).
 * @throws {AgentError} `io` naming what is wrong.
 */
export function ensureSeedDir(dir: string): void {
  try {
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode: SEED_DIR_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST")
      throw new AgentError("io", `cannot create the cloud-init seed directory ${dir}: ${(error as Error).message}`);
  }
  const stat = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  const why = stat.isSymbolicLink()
    ? "is a symbolic link"
    : !stat.isDirectory()
      ? "is not a directory"
      : stat.uid !== uid
        ? `is owned by uid ${stat.uid}, not ${uid}`
        : (stat.mode & 0o022) !== 0
          ? `is group- or world-writable (mode 0${(stat.mode & 0o777).toString(8)})`
          : undefined;
  if (why !== undefined)
    throw new AgentError("io", `refusing the cloud-init seed directory ${dir}: it ${why}; nothing written there`);
}

/**
 * A seed file's content and mode, or undefined when it is missing or not a regular file we
 * could have written (a link is never followed: O_NOFOLLOW), or larger than a document can be.
 */
function readSeedFile(path: string): { text: string; mode: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_CLOUD_INIT_DOCUMENT_BYTES) return undefined;
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) return undefined; // grew while read: rewrite it
    }
    return { text: buffer.toString("utf8", 0, length), mode: stat.mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

/**
 * Keeps a NoCloud seed directory equal to what the host sends in pool 0 (see {@link planSeed}):
 * a document written (temp file + rename, {@link SEED_FILE_MODE}) only when its content or
 * mode differs, a document the host removed beside its meta-data is removed. While the host
 * sends no meta-data the directory is left as it is: an image's own seed stays, and so does
 * the last seed the host sent after it removes its items once the VM is provisioned (without
 * it, cloud-init would find no datasource at the next boot, take the instance for a new one
 * and run its per-instance configuration again).
 */
export class NoCloudSeed {
  constructor(readonly dir: string) {}

  /**
   * Brings the seed directory in line with `items` (pool 0 by logical key).
   * @throws {AgentError} `io` when the directory is unsafe ({@link ensureSeedDir}) or a write fails.
   */
  sync(items: ReadonlyMap<string, string>): SeedOutcome {
    const plan = planSeed(items);
    const base = { seedDir: this.dir, written: [] as CloudInitDocumentName[], removed: [] as CloudInitDocumentName[] };
    if (plan.kind === "refused") return { ...base, state: "refused", refused: plan.refused };
    if (plan.kind === "absent") return { ...base, state: "absent", refused: [] };
    ensureSeedDir(this.dir);
    const documents = plan.documents;
    // Written meta-data last (kvp-core's order), so a seed interrupted half-way is not one
    // cloud-init takes as whole (NoCloud needs meta-data); removed meta-data first.
    const removals = [...CLOUD_INIT_DOCUMENTS].reverse().filter((d) => !documents.has(d));
    try {
      for (const document of removals) {
        const path = join(this.dir, document);
        try {
          lstatSync(path);
        } catch {
          continue;
        }
        removeFile(path);
        base.removed.push(document);
      }
      for (const document of CLOUD_INIT_DOCUMENTS) {
        const text = documents.get(document);
        if (text === undefined) continue;
        const path = join(this.dir, document);
        const current = readSeedFile(path);
        if (current?.text === text && current.mode === SEED_FILE_MODE) continue;
        writeFileAtomic(path, text, SEED_FILE_MODE);
        base.written.push(document);
      }
    } catch (error) {
      if (error instanceof AgentError) throw error;
      throw new AgentError(
        "io",
        `cannot write the cloud-init seed in ${this.dir}: ${(error as Error).message}`,
        undefined,
        {
          cause: error,
        },
      );
    }
    return { ...base, state: "written", refused: [] };
  }
}

/** The refused documents, for the log and `status`: `cloud-init seed not written: user-data …`. */
export function describeRefused(refused: readonly RefusedDocument[]): string {
  return `cloud-init seed not written: ${refused.map((r) => `${r.document} ${r.problem}`).join("; ")}`;
}

/** What a sync changed, for the log: `wrote user-data, removed network-config` (empty: nothing). */
export function describeSeedChanges(outcome: {
  readonly written: readonly string[];
  readonly removed: readonly string[];
}): string {
  return [...outcome.written.map((d) => `wrote ${d}`), ...outcome.removed.map((d) => `removed ${d}`)].join(", ");
}
