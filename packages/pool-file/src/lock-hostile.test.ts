import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePool, encodePool } from "@hyperv-kvp/kvp-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isPoolFileError } from "./errors.js";
import { deleteRecord, getRecord, readPool, setRecords } from "./pool-store.js";
import { poolTarget } from "./pool-target.js";

// Locks another local user can take on the world-readable pool files
// (docs/daemon-and-locks.md#locks-other-users-can-take). The holder is a child process that
// locks through koffi the way `flock(1)` or any program would; run as root, it runs as
// `nobody`, so it can only open the 0644 pool read-only, as a real unprivileged user.
// Nothing here measures time: a generous lock timeout only keeps a regression from hanging.

const HANG_GUARD_MS = 10_000;
/** Longer than {@link HANG_GUARD_MS}, so that a regression fails with the lock error naming the holder. */
const TEST_TIMEOUT_MS = 30_000;
const KOFFI = createRequire(import.meta.url).resolve("koffi");
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

// argv: koffi path, what (flock-ex | flock-sh | fcntl-rd), access (ro | rw), file, and the
// uid to become ("" to stay). It loads koffi first and only then drops to that uid, so the
// unprivileged locker needs no access to the checkout (CI's clone sits in a 0700 directory).
const HOLDER_SOURCE = String.raw`
const [koffiPath, what, access, file, uid] = process.argv.slice(1);
const koffi = require(koffiPath);
const fs = require("node:fs");
const lib = koffi.load(null);
const flock = lib.func("int flock(int fd, int operation)");
const fcntl = lib.func("fcntl", "int", ["int", "int", "..."]);
if (uid !== "") {
  process.setgroups([]);
  process.setgid(Number(uid));
  process.setuid(Number(uid));
}
const fd = fs.openSync(file, access === "rw" ? fs.constants.O_RDWR : fs.constants.O_RDONLY);
let rc;
if (what === "flock-ex") rc = flock(fd, 2);
else if (what === "flock-sh") rc = flock(fd, 1);
else {
  // A classic F_SETLK (6) F_RDLCK (0) on the whole file: struct flock is 32 zero bytes.
  rc = fcntl(fd, 6, "void *", Buffer.alloc(32));
}
if (rc !== 0) {
  console.error("lock failed: errno " + koffi.errno());
  process.exit(1);
}
console.log("locked");
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
`;

interface Holder {
  readonly pid: number;
  stop(): Promise<void>;
}

let dir: string;
let holders: Holder[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lock-hostile-"));
  chmodSync(dir, 0o755); // so that `nobody` can reach the pool file, as in /var/lib/hyperv
  writeFileSync(
    file(),
    encodePool([
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ]),
    { mode: 0o644 },
  );
});
afterEach(async () => {
  for (const h of holders.splice(0)) await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

const guest = () => poolTarget(1, dir);
const file = () => join(dir, ".kvp_pool_1");
const keys = () => decodePool(readFileSync(file())).records.map((r) => `${r.key}=${r.value}`);

/** Starts a process holding `what` on the pool file, through a descriptor opened `access`; resolves once it holds it. */
async function hold(what: "flock-ex" | "flock-sh" | "fcntl-rd", access: "ro" | "rw"): Promise<Holder> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [
    "-e",
    HOLDER_SOURCE,
    KOFFI,
    what,
    access,
    file(),
    asRoot && access === "ro" ? String(NOBODY) : "",
  ]);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const holder: Holder = {
    pid: child.pid!,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
  holders.push(holder);
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      if (out.includes("locked\n")) resolve();
    });
    void exited.then(() => reject(new Error(`lock holder exited: ${err}`)));
  });
  return holder;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const guard = { timeoutMs: HANG_GUARD_MS };

describe("a flock another user holds on a read-only descriptor", { timeout: TEST_TIMEOUT_MS }, () => {
  it.each(["flock-ex", "flock-sh"] as const)("(%s) does not stall reads", async (what) => {
    await hold(what, "ro");
    expect((await readPool(guest(), guard)).records.map((r) => r.key)).toEqual(["a", "b"]);
    expect((await getRecord(guest(), "b", guard))?.value).toBe("2");
  });

  it.each(["flock-ex", "flock-sh"] as const)("(%s) does not stall writes", async (what) => {
    await hold(what, "ro");
    await setRecords(guest(), [{ key: "c", value: "3" }], guard);
    await deleteRecord(guest(), "a", guard);
    expect(keys()).toEqual(["b=2", "c=3"]);
  });
});

describe("a flock passed on to another process, its locker gone", { timeout: TEST_TIMEOUT_MS }, () => {
  it("is still known to be held read-only, and does not stall writes", async () => {
    // /proc/locks keeps naming the exited locker; the descriptor lives on in its child.
    const started = spawnSync(
      "bash",
      ["-c", 'exec 8<"$1"; flock --exclusive 8 || exit 1; sleep 1000 >/dev/null 2>&1 & echo $!', "bash", file()],
      { encoding: "utf8", ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) },
    );
    expect(started.status, started.stderr).toBe(0);
    const pid = Number(started.stdout.trim());
    holders.push({
      pid,
      async stop() {
        process.kill(pid, "SIGKILL");
      },
    });
    await setRecords(guest(), [{ key: "c", value: "3" }], guard);
    expect(keys()).toEqual(["a=1", "b=2", "c=3"]);
  });
});

describe("a flock held through a descriptor open for writing (cloud-init's appends)", {
  timeout: TEST_TIMEOUT_MS,
}, () => {
  it("still keeps our writers out, and never our readers", async () => {
    const cloudInit = await hold("flock-ex", "rw");
    const error = await rejection(setRecords(guest(), [{ key: "c", value: "3" }], { timeoutMs: 100 }));
    expect(isPoolFileError(error, "locked"), String(error)).toBe(true);
    expect(error.message).toContain(`held by pid ${cloudInit.pid}`);
    expect(error.message).toContain("with a flock");
    expect((await readPool(guest(), guard)).records.map((r) => r.key)).toEqual(["a", "b"]);
    expect(keys()).toEqual(["a=1", "b=2"]);
  });
});

describe("an fcntl read lock another user holds", { timeout: TEST_TIMEOUT_MS }, () => {
  it("does not stall reads", async () => {
    await hold("fcntl-rd", "ro");
    expect((await readPool(guest(), guard)).records.map((r) => r.key)).toEqual(["a", "b"]);
  });

  it("keeps writers out (the daemon too): the bounded wait ends naming its pid and user", async () => {
    const reader = await hold("fcntl-rd", "ro");
    const error = await rejection(setRecords(guest(), [{ key: "c", value: "3" }], { timeoutMs: 100 }));
    expect(isPoolFileError(error, "locked"), String(error)).toBe(true);
    const user = asRoot ? "nobody" : (process.env.USER ?? "");
    expect(error.message).toMatch(
      new RegExp(
        `held by pid ${reader.pid} \\(\\S+\\) with a POSIX fcntl lock, as user (${user}|${process.getuid?.()})`,
      ),
    );
    expect(keys()).toEqual(["a=1", "b=2"]);
  });
});
