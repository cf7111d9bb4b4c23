// Interop: a flock any local user can take on the world-readable pool files stalls neither
// the real daemon nor kvp-pool (docs/daemon-and-locks.md#locks-other-users-can-take).
// Needs the REAL hv_kvp_daemon (apt-get install hyperv-daemons), cc for its LD_PRELOAD shim,
// and util-linux's flock(1), which opens the file read-only as an unprivileged user can;
// runs the built bundle dist/kvp-pool.cjs. See interop-support.ts.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { HvStatus } from "@hyperv-kvp/hyperv-sim";
import { afterEach, expect, it } from "vitest";
import { describeWithRealDaemon, expectExit, kvpAsync, poolFile, startRealHost, whole } from "./interop-support.js";

const TEST_TIMEOUT_MS = 60_000;

const holders: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const child of holders.splice(0)) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdin.end();
    await exited;
  }
});

/** `flock --exclusive FILE`, held until the test ends; resolves once it is held. */
async function holdFlock(file: string): Promise<void> {
  const child = spawn("flock", ["--exclusive", file, "-c", "echo locked; cat >/dev/null"]);
  holders.push(child);
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", () => reject(new Error(`flock exited: ${err}`)));
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      if (out.includes("locked\n")) resolve();
    });
  });
}

describeWithRealDaemon("a local user's flock on the pool files, beside the real hv_kvp_daemon", () => {
  it(
    "stalls neither the host's SET on pool 0, kvp-pool get of it, kvp-pool set on pool 1, nor the host's ENUMERATE of it",
    async () => {
      const host = await startRealHost();
      const dir = host.poolDir;
      await holdFlock(poolFile(dir, 0));
      await holdFlock(poolFile(dir, 1));
      expect(await host.set(0, "from-host", "hello")).toBe(HvStatus.OK);
      const got = expectExit(await kvpAsync(dir, ["get", "--pool", "external", "from-host"]), 0);
      expect(got.stdout).toBe("hello\n");
      expectExit(await kvpAsync(dir, ["set", "to-host", "ready"]), 0);
      expect((await host.enumerate(1)).records).toEqual(whole([{ key: "to-host", value: "ready" }]));
    },
    TEST_TIMEOUT_MS,
  );
});
