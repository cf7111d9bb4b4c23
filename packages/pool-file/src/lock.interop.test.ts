import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { C_COMPILER, GCC, standInForMissingTools, toolPolicy } from "@hyperv-kvp/test-support/tools";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isPoolFileError } from "./errors.js";
import {
  F_OFD_SETLK,
  F_WRLCK,
  LOCK_EX,
  LOCK_NB,
  LOCK_UN,
  SEEK_SET,
  koffiLoadPath,
  libc,
  lockCallsPath,
} from "./libc.js";
import { type FileLock, findLockHolder, lockFile, parseProcLocks, tryLockFile } from "./lock.js";

// Real locks on real files, against real other processes: a small C program compiled here
// locks the way hv_kvp_daemon does (classic fcntl F_SETLKW, F_WRLCK, whole file) or the way
// cloud-init does (flock). Needs Linux and a C compiler (`cc`): without one, the tests against
// other processes fail (@hyperv-kvp/test-support/tools says how to skip them knowingly).

const HELPER_SOURCE = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* usage: kvplockhelper fcntl|flock|flock-sh PATH
 * prints "waiting" before asking for the lock, "locked" once it holds it, then holds it
 * until its stdin closes. */
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int fd = open(argv[2], O_RDWR);
  if (fd < 0) { perror("open"); return 1; }
  printf("waiting\n");
  fflush(stdout);
  if (strcmp(argv[1], "fcntl") == 0) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_pid = getpid();
    if (fcntl(fd, F_SETLKW, &fl) == -1) { perror("fcntl"); return 1; }
  } else if (strcmp(argv[1], "flock") == 0) {
    if (flock(fd, LOCK_EX) == -1) { perror("flock"); return 1; }
  } else if (strcmp(argv[1], "flock-sh") == 0) {
    if (flock(fd, LOCK_SH) == -1) { perror("flock"); return 1; }
  } else {
    return 2;
  }
  printf("locked\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {}
  return 0;
}
`;

/** comm of the helper: its file name (at most 15 characters). */
const HELPER_NAME = "kvplockhelper";

const ccPolicy = toolPolicy([C_COMPILER]);

let dir: string;
let helperPath: string;
let file: string;
const openFds: number[] = [];
const helpers: Helper[] = [];
const locks: FileLock[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kvp-lock-test-"));
  if (process.platform === "linux" && ccPolicy.run) {
    writeFileSync(join(dir, "helper.c"), HELPER_SOURCE);
    helperPath = join(dir, HELPER_NAME);
    execFileSync("cc", ["-O1", "-o", helperPath, join(dir, "helper.c")], { stdio: "pipe" });
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileCounter = 0;
beforeEach(() => {
  file = join(dir, `pool-${++fileCounter}`);
  writeFileSync(file, new Uint8Array(2560));
});

afterEach(async () => {
  for (const lock of locks.splice(0)) lock.release();
  for (const helper of helpers.splice(0)) await helper.stop();
  for (const fd of openFds.splice(0)) closeSync(fd);
});

function open(flags: "r" | "r+"): number {
  const fd = openSync(file, flags);
  openFds.push(fd);
  return fd;
}

function keep(lock: FileLock | undefined): FileLock | undefined {
  if (lock) locks.push(lock);
  return lock;
}

interface Helper {
  readonly pid: number;
  /** Resolves when the helper has printed `line` (or rejects if it exits first). */
  until(line: "waiting" | "locked"): Promise<void>;
  /** Everything printed so far. */
  output(): string;
  /** Closes its stdin (it unlocks and exits) and waits for it to exit. */
  stop(): Promise<void>;
}

function startHelper(mode: "fcntl" | "flock" | "flock-sh"): Helper {
  const child: ChildProcessWithoutNullStreams = spawn(helperPath, [mode, file]);
  let out = "";
  let exited = false;
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const l of listeners) l();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const exit = new Promise<void>((resolve) =>
    child.on("exit", () => {
      exited = true;
      for (const l of listeners) l();
      resolve();
    }),
  );
  const helper: Helper = {
    pid: child.pid!,
    until(line) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (out.split("\n").includes(line)) {
            listeners.delete(check);
            resolve();
          } else if (exited) {
            listeners.delete(check);
            reject(new Error(`helper exited before "${line}": ${out}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
    output: () => out,
    async stop() {
      if (!exited) child.stdin.end();
      await exit;
    },
  };
  helpers.push(helper);
  return helper;
}

/** Resolves once `predicate` holds, polling; rejects after a generous deadline. */
async function eventually(predicate: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function expectLocked(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPoolFileError(error, "locked"), String(error)).toBe(true);
  return (error as Error).message;
}

describe("parseProcLocks", () => {
  it("reads holders, waiters, fdinfo lines and skips what it does not know", () => {
    const text = [
      "1: POSIX  ADVISORY  WRITE 1234 08:01:123456 0 EOF",
      "1: -> POSIX  ADVISORY  WRITE 4321 08:01:123456 0 EOF",
      "2: FLOCK  ADVISORY  READ 77 fe:00:2146673 0 EOF",
      "3: OFDLCK ADVISORY  WRITE -1 00:2b:99 0 EOF",
      "4: LEASE  ACTIVE    READ 5 103:02:7 0 EOF",
      "5: POSIX  *NOINODE* WRITE 9 <none>:0 0 EOF",
      "lock:\t1: FLOCK  ADVISORY  WRITE 4334 fe:00:2146673 0 EOF",
      "",
    ].join("\n");
    expect(parseProcLocks(text)).toEqual([
      { waiting: false, family: "POSIX", type: "WRITE", pid: 1234, major: 8, minor: 1, inode: 123456n },
      { waiting: true, family: "POSIX", type: "WRITE", pid: 4321, major: 8, minor: 1, inode: 123456n },
      { waiting: false, family: "FLOCK", type: "READ", pid: 77, major: 0xfe, minor: 0, inode: 2146673n },
      { waiting: false, family: "OFDLCK", type: "WRITE", pid: -1, major: 0, minor: 0x2b, inode: 99n },
      { waiting: false, family: "LEASE", type: "READ", pid: 5, major: 0x103, minor: 2, inode: 7n },
      { waiting: false, family: "FLOCK", type: "WRITE", pid: 4334, major: 0xfe, minor: 0, inode: 2146673n },
    ]);
  });
});

describe.runIf(process.platform === "linux")("locks within one process (OFD semantics)", () => {
  it("a write lock excludes a second open file description's read and write locks", async () => {
    const a = open("r+");
    const b = open("r+");
    const lock = await lockFile(a, "write");
    expect(lock.mode).toBe("write");
    expect(tryLockFile(b, "read")).toBeUndefined();
    expect(tryLockFile(b, "write")).toBeUndefined();
    lock.release();
    expect(keep(tryLockFile(b, "write"))).toBeDefined();
  });

  it("read locks share, and keep writers out", () => {
    const a = open("r");
    const b = open("r");
    const c = open("r+");
    expect(keep(tryLockFile(a, "read"))).toBeDefined();
    expect(keep(tryLockFile(b, "read"))).toBeDefined();
    expect(tryLockFile(c, "write")).toBeUndefined();
    // Both halves conflict; the fcntl family is reported first.
    expect(findLockHolder(c, "write")).toMatchObject({ kind: "ofd", pid: process.pid });
    expect(findLockHolder(c, "read")).toBeUndefined();
  });

  it("release is idempotent and frees both locks", () => {
    const a = open("r+");
    const b = open("r+");
    const lock = tryLockFile(a, "write")!;
    lock.release();
    lock.release();
    expect(keep(tryLockFile(b, "write"))).toBeDefined();
  });

  it("times out naming this process when another descriptor of it holds the lock", async () => {
    const a = open("r+");
    const b = open("r+");
    keep(await lockFile(a, "write"));
    const message = await expectLocked(lockFile(b, "read", { timeoutMs: 50, describe: "pool 1 (guest) test" }));
    expect(message).toContain("pool 1 (guest) test is locked");
    expect(message).toContain(`held by pid ${process.pid}`);
  });

  it("names the holder of a bare OFD lock (found through /proc/PID/fdinfo)", async () => {
    const a = open("r+");
    const b = open("r+");
    // Only the fcntl half, as a program using OFD locks alone would hold it.
    const { errno } = libc().fcntlLock(a, F_OFD_SETLK, {
      l_type: F_WRLCK,
      l_whence: SEEK_SET,
      l_start: 0,
      l_len: 0,
      l_pid: 0,
    });
    expect(errno).toBe(0);
    expect(findLockHolder(b, "read")).toMatchObject({ kind: "ofd", pid: process.pid });
    const message = await expectLocked(lockFile(b, "write", { timeoutMs: 30 }));
    expect(message).toContain(`held by pid ${process.pid}`);
    expect(message).toContain("OFD fcntl lock");
    // Giving up released the flock that was taken first.
    expect(libc().flock(open("r"), LOCK_EX | LOCK_NB)).toBe(0);
  });

  it("a write lock on a read-only descriptor is an io error and leaves nothing locked", async () => {
    const ro = open("r");
    const error = await lockFile(ro, "write").catch((e: unknown) => e);
    expect(isPoolFileError(error, "io")).toBe(true);
    expect((error as Error).message).toContain("EBADF");
    expect(keep(tryLockFile(open("r+"), "write"))).toBeDefined();
  });

  it("rejects a negative timeout and an already aborted signal", async () => {
    const a = open("r+");
    const invalid = await lockFile(a, "write", { timeoutMs: -1 }).catch((e: unknown) => e);
    expect(isPoolFileError(invalid, "invalid")).toBe(true);
    const reason = new Error("stop");
    await expect(lockFile(a, "write", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});

describe.runIf(process.platform === "linux")("locks against other processes", () => {
  if (standInForMissingTools(ccPolicy)) return;

  it("a classic fcntl lock (as hv_kvp_daemon takes) blocks us; the timeout names its pid and command", async () => {
    const daemon = startHelper("fcntl");
    await daemon.until("locked");
    const fd = open("r+");
    for (const mode of ["read", "write"] as const) {
      const message = await expectLocked(lockFile(fd, mode, { timeoutMs: 100 }));
      expect(message).toContain(`held by pid ${daemon.pid} (${HELPER_NAME}) with a POSIX fcntl lock`);
      expect(message).toContain(file);
    }
    expect(findLockHolder(fd, "write")).toEqual({ kind: "posix", pid: daemon.pid, command: HELPER_NAME });
    expect(tryLockFile(fd, "write")).toBeUndefined();
    // Nothing was left held: a flock is free again.
    expect(libc().flock(open("r"), LOCK_EX | LOCK_NB)).toBe(0);
  });

  it("our OFD write lock makes the daemon-style F_SETLKW wait until we release", async () => {
    const fd = open("r+");
    const lock = await lockFile(fd, "write");
    const daemon = startHelper("fcntl");
    await daemon.until("waiting");
    // Proof it is blocked in the kernel on our lock: /proc/locks lists it as a waiter.
    const { ino } = fstatSync(fd, { bigint: true });
    await eventually(
      () =>
        parseProcLocks(readFileSync("/proc/locks", "utf8")).some(
          (l) => l.waiting && l.pid === daemon.pid && l.inode === ino,
        ),
      "the helper to block on our lock",
    );
    expect(daemon.output()).not.toContain("locked");
    lock.release();
    await daemon.until("locked");
  });

  it("a flock holder in another process (as cloud-init, open for writing) blocks our writers", async () => {
    const cloudInit = startHelper("flock");
    await cloudInit.until("locked");
    const fd = open("r+");
    const message = await expectLocked(lockFile(fd, "write", { timeoutMs: 100 }));
    expect(message).toContain(`held by pid ${cloudInit.pid} (${HELPER_NAME}) with a flock`);
    expect(findLockHolder(fd, "write")).toEqual({ kind: "flock", pid: cloudInit.pid, command: HELPER_NAME });
  });

  it("a shared flock lets us read but not write", async () => {
    const reader = startHelper("flock-sh");
    await reader.until("locked");
    const fd = open("r+");
    keep(await lockFile(fd, "read", { timeoutMs: 5000 }));
    const other = open("r+");
    await expectLocked(lockFile(other, "write", { timeoutMs: 50 }));
  });

  it("waiting does not block the event loop: a timer releases the holder and we get the lock", async () => {
    const daemon = startHelper("fcntl");
    await daemon.until("locked");
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    // Only a running event loop can fire this timer; if lockFile blocked, it would time out.
    const release = setTimeout(() => void daemon.stop(), 200);
    try {
      const fd = open("r+");
      const lock = keep(await lockFile(fd, "write", { timeoutMs: 30_000 }));
      expect(lock?.mode).toBe("write");
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(interval);
      clearTimeout(release);
    }
  });

  it("an AbortSignal ends the wait and leaves nothing held", async () => {
    const daemon = startHelper("fcntl");
    await daemon.until("locked");
    const fd = open("r+");
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 50);
    await expect(lockFile(fd, "write", { timeoutMs: 60_000, signal: controller.signal })).rejects.toBe(reason);
    // The flock taken before waiting for the fcntl lock is gone.
    const probe = open("r");
    expect(libc().flock(probe, LOCK_EX | LOCK_NB)).toBe(0);
    expect(libc().flock(probe, LOCK_UN)).toBe(0);
  });
});

// Last: what the tests above went through. The global setup builds the kvp-lock addon into
// dist/, where the sources find it; the locks must have been taken through it, koffi unloaded.
describe("the lock calls of these tests", () => {
  if (standInForMissingTools(toolPolicy([GCC]))) return;
  it("went through the kvp-lock addon, and koffi never loaded", () => {
    expect(lockCallsPath()).toBe("addon");
    expect(koffiLoadPath()).toBeUndefined();
  });
});
