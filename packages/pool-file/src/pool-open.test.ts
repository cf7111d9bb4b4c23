import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePool } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isPoolFileError } from "./errors.js";
import { deleteRecord, getRecord, readPool, setRecords } from "./pool-store.js";
import { poolTarget } from "./pool-target.js";
import { setLogicalValues } from "./pool-update.js";

// How pool files are opened when someone else may have put something else in their place
// (docs/daemon-and-locks.md#opening-a-pool-file): never through a symbolic link, a missing file
// created only where nothing exists, and, as root, only in a directory nobody else can change.

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "pool-open-"));
  dir = join(root, "hyperv");
  mkdirSync(dir, { mode: 0o755 });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const guest = () => poolTarget(1, dir);
const poolFile = () => join(dir, ".kvp_pool_1");

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

/** A file somewhere else that a link in the pool directory points at, and its bytes. */
function victim(text = "root:$6$secret:19000:0:99999:7:::\n") {
  const path = join(root, "victim");
  writeFileSync(path, text, { mode: 0o600 });
  symlinkSync(path, poolFile());
  return { path, bytes: () => readFileSync(path, "utf8"), text };
}

describe("a symbolic link where a pool file belongs", () => {
  it("is not followed by a write: the file it points at stays as it was", async () => {
    const target = victim();
    const error = await rejection(setRecords(guest(), [{ key: "k", value: "v" }]));
    expect(isPoolFileError(error, "unsafe"), String(error)).toBe(true);
    expect(error.message).toContain(`${poolFile()} is a symbolic link`);
    expect(target.bytes()).toBe(target.text);
    for (const write of [
      () => deleteRecord(guest(), "root"),
      () => setLogicalValues(guest(), [{ key: "k", value: "v" }]),
      () => setRecords(guest(), [{ key: "k", value: "v" }], { create: true }),
    ]) {
      expect(isPoolFileError(await rejection(write()), "unsafe")).toBe(true);
    }
    expect(target.bytes()).toBe(target.text);
  });

  it("is not followed by a read either: what it points at is never shown", async () => {
    // As a 2560-byte record, so that a reader following the link would decode it.
    const target = victim(new TextDecoder().decode(encodePool([{ key: "root", value: "$6$secret" }])));
    for (const read of [() => readPool(guest()), () => getRecord(guest(), "root")]) {
      const error = await rejection(read());
      expect(isPoolFileError(error, "unsafe"), String(error)).toBe(true);
      expect(error.message).not.toContain("secret");
    }
    expect(target.bytes()).toBe(target.text);
  });

  it("dangling, is not created through by create: true", async () => {
    const missing = join(root, "created-through-the-link");
    symlinkSync(missing, poolFile());
    const error = await rejection(setRecords(guest(), [{ key: "k", value: "v" }], { create: true }));
    expect(isPoolFileError(error, "unsafe"), String(error)).toBe(true);
    expect(existsSync(missing)).toBe(false);
    expect(lstatSync(poolFile()).isSymbolicLink()).toBe(true);
  });
});

describe("create: true", () => {
  it("creates a missing pool as a regular file of mode 0644 and writes it", async () => {
    await setRecords(guest(), [{ key: "k", value: "v" }], { create: true });
    const stat = lstatSync(poolFile());
    expect(stat.isFile()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o644 & ~process.umask());
    expect((await getRecord(guest(), "k"))?.value).toBe("v");
  });
});

describe.runIf(process.getuid?.() === 0)("as root, a pool directory someone else can change", () => {
  it("is refused when writable by group or others, for reads and writes", async () => {
    writeFileSync(poolFile(), encodePool([{ key: "k", value: "v" }]));
    for (const mode of [0o777, 0o775, 0o1777]) {
      chmodSync(dir, mode);
      for (const op of [() => readPool(guest()), () => setRecords(guest(), [{ key: "k", value: "w" }])]) {
        const error = await rejection(op());
        expect(isPoolFileError(error, "unsafe"), String(error)).toBe(true);
        expect(error.message).toContain(`${dir} is writable by`);
      }
    }
    chmodSync(dir, 0o755);
    expect((await getRecord(guest(), "k"))?.value).toBe("v");
  });

  it("is refused when owned by another user", async () => {
    writeFileSync(poolFile(), encodePool([{ key: "k", value: "v" }]));
    chownSync(dir, 65534, 65534);
    const error = await rejection(setRecords(guest(), [{ key: "k", value: "w" }]));
    expect(isPoolFileError(error, "unsafe"), String(error)).toBe(true);
    expect(error.message).toContain(`${dir} is owned by uid 65534`);
    chownSync(dir, 0, 0);
    expect((await getRecord(guest(), "k"))?.value).toBe("v");
  });
});
