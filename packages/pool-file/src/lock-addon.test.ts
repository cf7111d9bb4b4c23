// The kvp-lock addon (native/kvp-lock.c) makes the pool lock's two libc calls in place of
// koffi: each call here is made both ways, on the same files and descriptors, and must get the
// same answer (errno and struct flock), errors included as errno values, never exceptions.
// The addon is the one the global setup built into dist/, which libc() loads from the sources.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { GCC, describeNeeding } from "@hyperv-kvp/test-support/tools";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  EACCES,
  EAGAIN,
  F_OFD_GETLK,
  F_OFD_SETLK,
  F_RDLCK,
  F_SETLK,
  F_UNLCK,
  F_WRLCK,
  type FlockFields,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  type LockCalls,
  SEEK_SET,
  composeLibc,
  defaultLockAddonPath,
  koffiLoadPath,
  libc,
  loadKoffiLibc,
  loadLockAddon,
  lockCallsPath,
  looksLikeMusl,
} from "./libc.js";

const { EBADF, EINVAL } = osConstants.errno;
const ELF_MACHINE_X86_64 = 62;
const ELF_MACHINE_AARCH64 = 183;

const dir = mkdtempSync(join(tmpdir(), "kvp-lock-addon-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A whole-file lock of `type`, as lock.ts asks for it. */
function whole(type: number, pid = 0): FlockFields {
  return { l_type: type, l_whence: SEEK_SET, l_start: 0, l_len: 0, l_pid: pid };
}

describeNeeding("the kvp-lock addon", [GCC], () => {
  // Loaded before anything else in this file: libc() must take the lock calls without koffi.
  it("is how libc() makes the lock calls, and they load no koffi", () => {
    const file = join(dir, "first");
    writeFileSync(file, "");
    const fd = openSync(file, "r+");
    try {
      const c = libc();
      expect(lockCallsPath()).toBe("addon");
      expect(c.flock(fd, LOCK_EX | LOCK_NB)).toBe(0);
      expect(c.fcntlLock(fd, F_OFD_SETLK, whole(F_WRLCK)).errno).toBe(0);
      expect(c.fcntlLock(fd, F_OFD_SETLK, whole(F_UNLCK)).errno).toBe(0);
      expect(c.flock(fd, LOCK_UN)).toBe(0);
      expect(koffiLoadPath()).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });

  const ways: [string, () => LockCalls][] = [];
  let addon: LockCalls | undefined;
  let koffi: LockCalls | undefined;
  ways.push(["addon", () => (addon ??= loadLockAddon(defaultLockAddonPath()) ?? expect.fail("no addon"))]);
  ways.push(["koffi", () => (koffi ??= loadKoffiLibc())]);

  let file = "";
  let n = 0;
  beforeEach(() => {
    file = join(dir, `pool-${n++}`);
    writeFileSync(file, "x".repeat(100));
  });

  /** Runs `body` once per way, each on its own file, and returns what each way answered. */
  function both<T>(body: (calls: LockCalls, path: string) => T): T[] {
    return ways.map(([, calls], i) => {
      const path = `${file}.${i}`;
      writeFileSync(path, "x".repeat(100));
      return body(calls(), path);
    });
  }

  /** Opens `path` twice (two open file descriptions) and closes both after `body`. */
  function twoDescriptors<T>(path: string, body: (a: number, b: number) => T): T {
    const a = openSync(path, "r+");
    const b = openSync(path, "r+");
    try {
      return body(a, b);
    } finally {
      closeSync(a);
      closeSync(b);
    }
  }

  it("an OFD write lock held through another descriptor: SETLK fails with EAGAIN or EACCES, GETLK names an OFD holder", () => {
    const answers = both((c, path) =>
      twoDescriptors(path, (a, b) => {
        const held = c.fcntlLock(a, F_OFD_SETLK, whole(F_WRLCK));
        const refused = c.fcntlLock(b, F_OFD_SETLK, whole(F_RDLCK));
        const probe = c.fcntlLock(b, F_OFD_GETLK, whole(F_WRLCK));
        const unlocked = c.fcntlLock(a, F_OFD_SETLK, whole(F_UNLCK));
        const after = c.fcntlLock(b, F_OFD_GETLK, whole(F_WRLCK));
        return { held: held.errno, refused: refused.errno, probe, unlocked: unlocked.errno, after };
      }),
    );
    const [viaAddon, viaKoffi] = answers;
    expect(viaAddon).toEqual(viaKoffi);
    expect(viaAddon?.held).toBe(0);
    expect([EAGAIN, EACCES]).toContain(viaAddon?.refused);
    // An OFD holder has no process: l_pid is -1.
    expect(viaAddon?.probe).toEqual({ errno: 0, lock: whole(F_WRLCK, -1) });
    expect(viaAddon?.unlocked).toBe(0);
    expect(viaAddon?.after).toEqual({ errno: 0, lock: whole(F_UNLCK) });
  });

  it("a range lock: GETLK reports the holder's range as the kernel has it", () => {
    const [viaAddon, viaKoffi] = both((c, path) =>
      twoDescriptors(path, (a, b) => {
        c.fcntlLock(a, F_OFD_SETLK, { ...whole(F_RDLCK), l_start: 2560, l_len: 512 });
        return c.fcntlLock(b, F_OFD_GETLK, whole(F_WRLCK));
      }),
    );
    expect(viaAddon).toEqual(viaKoffi);
    expect(viaAddon).toEqual({ errno: 0, lock: { ...whole(F_RDLCK, -1), l_start: 2560, l_len: 512 } });
  });

  it("a classic lock held by another process: GETLK reports that process's pid", async () => {
    const holder = await classicHolder(file);
    try {
      const [viaAddon, viaKoffi] = ways.map(([, calls]) =>
        twoDescriptors(file, (a) => ({
          set: calls().fcntlLock(a, F_OFD_SETLK, whole(F_RDLCK)).errno,
          get: calls().fcntlLock(a, F_OFD_GETLK, whole(F_RDLCK)),
        })),
      );
      expect(viaAddon).toEqual(viaKoffi);
      expect([EAGAIN, EACCES]).toContain(viaAddon?.set);
      expect(viaAddon?.get).toEqual({ errno: 0, lock: whole(F_WRLCK, holder.pid) });
    } finally {
      await holder.stop();
    }
  });

  it("flock: an exclusive flock through another descriptor refuses LOCK_NB with EAGAIN until unlocked", () => {
    const [viaAddon, viaKoffi] = both((c, path) =>
      twoDescriptors(path, (a, b) => [
        c.flock(a, LOCK_EX | LOCK_NB),
        c.flock(b, LOCK_EX | LOCK_NB),
        c.flock(b, LOCK_SH | LOCK_NB),
        c.flock(a, LOCK_UN),
        c.flock(b, LOCK_SH | LOCK_NB),
        c.flock(b, LOCK_UN),
      ]),
    );
    expect(viaAddon).toEqual(viaKoffi);
    expect(viaAddon).toEqual([0, EAGAIN, EAGAIN, 0, 0, 0]);
  });

  it("errors come back as errno values: a closed descriptor, a read-only descriptor, a bad struct", () => {
    const [viaAddon, viaKoffi] = both((c, path) => {
      const readOnly = openSync(path, "r");
      // Opened after readOnly, so that readOnly cannot take its number once it is closed.
      const closed = openSync(path, "r");
      closeSync(closed);
      try {
        return {
          closedSet: c.fcntlLock(closed, F_OFD_SETLK, whole(F_WRLCK)).errno,
          closedGet: c.fcntlLock(closed, F_OFD_GETLK, whole(F_WRLCK)).errno,
          closedFlock: c.flock(closed, LOCK_EX | LOCK_NB),
          negativeFd: c.fcntlLock(-1, F_OFD_SETLK, whole(F_RDLCK)).errno,
          // A write lock needs a descriptor open for writing.
          readOnlyWrite: c.fcntlLock(readOnly, F_OFD_SETLK, whole(F_WRLCK)).errno,
          // OFD locks must be asked for with l_pid 0.
          ofdWithPid: c.fcntlLock(readOnly, F_OFD_SETLK, whole(F_RDLCK, 1)).errno,
          badType: c.fcntlLock(readOnly, F_OFD_SETLK, whole(7)).errno,
          badOperation: c.flock(readOnly, 0),
        };
      } finally {
        closeSync(readOnly);
      }
    });
    expect(viaAddon).toEqual(viaKoffi);
    expect(viaAddon).toEqual({
      closedSet: EBADF,
      closedGet: EBADF,
      closedFlock: EBADF,
      negativeFd: EBADF,
      readOnlyWrite: EBADF,
      ofdWithPid: EINVAL,
      badType: EINVAL,
      badOperation: EINVAL,
    });
  });

  it("refuses, as a bug of its caller, a command that is not a non-waiting lock command", () => {
    const calls = ways[0]?.[1]() ?? expect.fail("no addon");
    // F_SETLKW (7) would wait in the kernel; F_GETFL (3) does not take a struct flock.
    for (const cmd of [7, 3])
      expect(() => calls.fcntlLock(0, cmd, whole(F_RDLCK))).toThrow(/cmd must be F_GETLK, F_SETLK/);
  });

  it("does not load from a missing file, a file for another CPU, nor a file that is not the addon", () => {
    expect(loadLockAddon(join(dir, "absent.node"))).toBeUndefined();
    // The addon itself, but for the other CPU as far as its ELF header says (e_machine at 18).
    const otherCpu = join(dir, "other-cpu.node");
    const bytes = readFileSync(defaultLockAddonPath());
    bytes.writeUInt16LE(bytes.readUInt16LE(18) === ELF_MACHINE_X86_64 ? ELF_MACHINE_AARCH64 : ELF_MACHINE_X86_64, 18);
    writeFileSync(otherCpu, bytes);
    expect(loadLockAddon(otherCpu)).toBeUndefined();
    const notAddon = join(dir, "not-an-addon.node");
    writeFileSync(notAddon, "not ELF");
    expect(loadLockAddon(notAddon)).toBeUndefined();
  });
});

describe("looksLikeMusl: musl systems take koffi's musl build for the lock calls", () => {
  it.each([
    ["glibc's loader only", ["glibc"], false],
    ["musl's loader only (Alpine)", ["musl"], true],
    ["both (a glibc system with musl installed)", ["glibc", "musl"], false],
    ["neither (qemu-user with a glibc sysroot)", [], false],
  ])("%s", (_what, present, musl) => {
    const exists = (path: string) => present.some((kind) => path.includes(kind === "glibc" ? "ld-linux-" : "ld-musl-"));
    expect(looksLikeMusl(exists)).toBe(musl);
  });
  it("is false on this machine", () => {
    expect(looksLikeMusl()).toBe(false);
  });
});

describe("without the addon (musl, a missing file, another CPU)", () => {
  it("libc() makes the lock calls through koffi, with the same answers", () => {
    const c = composeLibc(join(dir, "absent.node"));
    expect(lockCallsPath()).toBe("koffi");
    const path = join(dir, "fallback");
    writeFileSync(path, "");
    const a = openSync(path, "r+");
    const b = openSync(path, "r+");
    try {
      expect(c.flock(a, LOCK_EX | LOCK_NB)).toBe(0);
      expect(c.flock(b, LOCK_EX | LOCK_NB)).toBe(EAGAIN);
      expect(c.fcntlLock(a, F_OFD_SETLK, whole(F_WRLCK)).errno).toBe(0);
      expect([EAGAIN, EACCES]).toContain(c.fcntlLock(b, F_OFD_SETLK, whole(F_WRLCK)).errno);
      expect(c.fcntlLock(b, F_OFD_GETLK, whole(F_RDLCK))).toEqual({ errno: 0, lock: whole(F_WRLCK, -1) });
      expect(c.flock(-1, LOCK_UN)).toBe(EBADF);
    } finally {
      closeSync(a);
      closeSync(b);
    }
    expect(koffiLoadPath()).toBe("direct");
  });
});

/** A child process holding a classic (process-owned) F_SETLK write lock on `file`, through the addon. */
async function classicHolder(file: string): Promise<{ pid: number; stop(): Promise<void> }> {
  const source = `
const [addonPath, file] = process.argv.slice(1);
const m = { exports: {} };
process.dlopen(m, addonPath);
const fd = require("node:fs").openSync(file, "r+");
const rc = m.exports.fcntlLock(fd, ${F_SETLK}, Float64Array.of(${F_WRLCK}, 0, 0, 0, 0));
if (rc !== 0) { console.error("lock failed: errno " + rc); process.exit(1); }
console.log("locked");
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
`;
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["-e", source, defaultLockAddonPath(), file], {
    stdio: "pipe",
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("locked")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`the lock holder exited (${code}): ${stderr}`)));
  });
  return {
    pid: child.pid ?? expect.fail("no pid"),
    stop: () =>
      new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.stdin.end();
      }),
  };
}
