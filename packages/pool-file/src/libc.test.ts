// koffi's native module is loaded directly on glibc (koffi's own loader costs ~3 ms a start):
// in this checkout, the path taken must be the direct one, and what it loaded must work. koffi
// loads only when a call needs it (the lock calls go through the kvp-lock addon where it loads:
// lock-addon.test.ts).
import { constants, hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { EACCES, EAGAIN, EINTR, F_UNLCK, koffiLoadPath, libc } from "./libc.js";

describe("libc through koffi", () => {
  it("loads koffi on the first call that needs it, its native module directly on glibc, and the bindings work", () => {
    const c = libc();
    expect(koffiLoadPath()).toBeUndefined();
    // A call through the loaded module: this host's name, as the kernel has it.
    expect(c.gethostname(256)).toBe(hostname());
    expect(koffiLoadPath()).toBe("direct");
    expect(F_UNLCK).toBe(2);
  });
});

describe("errno values written out", () => {
  it("are the platform's own", () => {
    expect({ EAGAIN, EACCES, EINTR }).toEqual({
      EAGAIN: constants.errno.EAGAIN,
      EACCES: constants.errno.EACCES,
      EINTR: constants.errno.EINTR,
    });
  });
});
