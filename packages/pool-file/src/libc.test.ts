// koffi's native module is loaded directly on glibc (koffi's own loader costs ~3 ms a start):
// in this checkout, the path taken must be the direct one, and what it loaded must work.
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { F_UNLCK, koffiLoadPath, libc } from "./libc.js";

describe("libc through koffi", () => {
  it("loads koffi's native module directly on glibc, and the bindings work", () => {
    const c = libc();
    expect(koffiLoadPath()).toBe("direct");
    // A call through the loaded module: this host's name, as the kernel has it.
    expect(c.gethostname(256)).toBe(hostname());
    expect(F_UNLCK).toBe(2);
  });
});
