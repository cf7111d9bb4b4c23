import { describe, expect, it } from "vitest";
import { cacheCommand, cacheIdentity, cachePrefix, compileCacheDir, ownedAndPrivate } from "./compile-cache.js";

describe("compileCacheDir", () => {
  it("is the user's: XDG_CACHE_HOME, then HOME, then /var/cache for root without a home", () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }, 1000)).toBe("/x/hyperv-kvp/compile-cache");
    expect(compileCacheDir({ HOME: "/h" }, 1000)).toBe("/h/.cache/hyperv-kvp/compile-cache");
    expect(compileCacheDir({}, 0)).toBe("/var/cache/hyperv-kvp/compile-cache");
    expect(compileCacheDir({}, 1000)).toBeUndefined();
    expect(compileCacheDir({}, undefined)).toBeUndefined();
  });

  it("is in the profile's local application data on Windows", () => {
    expect(compileCacheDir({ LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local", HOME: "/h" }, undefined, "win32")).toMatch(
      /AppData.Local.hyperv-kvp.compile-cache$/,
    );
    expect(compileCacheDir({ HOME: "/h" }, undefined, "win32")).toBeUndefined();
    expect(ownedAndPrivate({ uid: 0, mode: 0o40777 }, undefined, "win32")).toBe(true);
  });

  it("is off or elsewhere when asked", () => {
    expect(compileCacheDir({ HOME: "/h", KVP_COMPILE_CACHE: "off" }, 0)).toBeUndefined();
    expect(compileCacheDir({ HOME: "/h", NODE_DISABLE_COMPILE_CACHE: "1" }, 0)).toBeUndefined();
    expect(compileCacheDir({ HOME: "/h", KVP_COMPILE_CACHE: "/c" }, 0)).toBe("/c");
    expect(compileCacheDir({ HOME: "/h", KVP_COMPILE_CACHE: "" }, 0)).toBe("/h/.cache/hyperv-kvp/compile-cache");
  });
});

describe("cache names", () => {
  it("name a run after its first argument that is a command, not an option's value", () => {
    const commands = ["list", "get", "set"];
    expect(cacheCommand(["--dir", "/tmp/x", "get", "set"], commands)).toBe("get");
    expect(cacheCommand(["--vm", "web01", "list"], commands)).toBe("list");
    expect(cacheCommand(["--help"], commands)).toBe("none");
    expect(cacheCommand(["--", "get"], commands)).toBe("none");
  });

  it("change with the build, the Node and the place a copy is installed", () => {
    const node = { version: "v20.20.2", arch: "x64" };
    const id = cacheIdentity("0123456789abcdef", node);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(cacheIdentity("0123456789abcdee", node)).not.toBe(id);
    expect(cacheIdentity("0123456789abcdef", { ...node, version: "v22.23.3" })).not.toBe(id);
    expect(cacheIdentity("0123456789abcdef", { ...node, arch: "arm64" })).not.toBe(id);
    expect(cachePrefix("kvp-pool", "/usr/lib/kvp-agent/kvp-pool.cjs")).not.toBe(
      cachePrefix("kvp-pool", "/usr/lib/node_modules/@hyperv-kvp/pool-tools/dist/kvp-pool.cjs"),
    );
    // No "." inside a prefix or an identity: the name's parts are split on it.
    expect(cachePrefix("kvp-pool", "/a.b/c.cjs")).toMatch(/^kvp-pool-[0-9a-f]{8}$/);
  });
});

describe("ownedAndPrivate", () => {
  it("wants the user's own file that nobody else may write", () => {
    expect(ownedAndPrivate({ uid: 1000, mode: 0o40700 }, 1000)).toBe(true);
    expect(ownedAndPrivate({ uid: 1000, mode: 0o100644 }, 1000)).toBe(true);
    expect(ownedAndPrivate({ uid: 1000, mode: 0o40770 }, 1000)).toBe(false);
    expect(ownedAndPrivate({ uid: 1000, mode: 0o100602 }, 1000)).toBe(false);
    expect(ownedAndPrivate({ uid: 0, mode: 0o40700 }, 1000)).toBe(false);
    expect(ownedAndPrivate({ uid: 0, mode: 0o40700 }, undefined, "linux")).toBe(false);
  });
});
