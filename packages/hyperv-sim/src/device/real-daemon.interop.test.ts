import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { decodePool, poolFileName } from "@hyperv-kvp/kvp-core";
import { findLockHolder, lockFile, tryLockFile } from "@hyperv-kvp/pool-file";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildShim } from "./build-shim.js";
import { isSimError } from "../errors.js";
import { toDaemonRequest } from "./kernel-relay.js";
import { DAEMON_PATH_ENV, RealDaemon } from "./real-daemon.js";
import { startSimulatedHost } from "./simulated-host.js";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";

// The lifecycle of the real daemon behind the simulated device: start-up, the daemon dying,
// timeouts, clean shutdown. Behaviour through the device is in simulated-host.test.ts.

const policy = realDaemonPolicy();
const setRequest = (key: string) => toDaemonRequest({ operation: "set", pool: 0, key, value: "v" });

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("RealDaemon without the daemon installed", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("says to apt-get install hyperv-daemons", async () => {
    const error = await RealDaemon.start({ daemonPath: "/nonexistent/hv_kvp_daemon" }).catch((e: unknown) => e);
    expect(isSimError(error, "daemon-missing")).toBe(true);
    expect(String((error as Error).message)).toMatch(/apt-get install hyperv-daemons/);
    expect(String((error as Error).message)).toMatch(/\/nonexistent\/hv_kvp_daemon/);
  });

  it(`takes the daemon's path from ${DAEMON_PATH_ENV}`, async () => {
    vi.stubEnv(DAEMON_PATH_ENV, "/nonexistent/from-env");
    const error = await RealDaemon.start().catch((e: unknown) => e);
    expect(isSimError(error, "daemon-missing")).toBe(true);
    expect(String((error as Error).message)).toMatch(/from-env/);
  });

  it("lets auto fall back to the model, and says so", async () => {
    const host = await startSimulatedHost({ daemon: "auto", real: { daemonPath: "/nonexistent/hv_kvp_daemon" } });
    try {
      expect(host.daemon).toBe("model");
    } finally {
      await host.close();
    }
  });

  it("leaves no temporary directory behind when it cannot start", async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith("hyperv-sim-") && !n.startsWith("hyperv-sim-shim"));
    await RealDaemon.start({ daemonPath: "/nonexistent/hv_kvp_daemon" }).catch(() => undefined);
    const after = readdirSync(tmpdir()).filter((n) => n.startsWith("hyperv-sim-") && !n.startsWith("hyperv-sim-shim"));
    expect(after.filter((n) => !before.includes(n))).toEqual([]);
  });
});

describe("RealDaemon lifecycle", () => {
  if (standInForMissingTools(policy)) return;

  const started: RealDaemon[] = [];
  const start = async (options: Parameters<typeof RealDaemon.start>[0] = {}) => {
    const daemon = await RealDaemon.start(options);
    started.push(daemon);
    return daemon;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.close()));
  });

  it("is picked by auto when installed", async () => {
    const host = await startSimulatedHost({ daemon: "auto" });
    try {
      expect(host.daemon).toBe("real");
    } finally {
      await host.close();
    }
  });

  it("stops the daemon and removes its temporary pool directory on close", async () => {
    const daemon = await start();
    const { pid, poolDir } = daemon;
    expect(isRunning(pid)).toBe(true);
    expect(existsSync(join(poolDir, poolFileName(0)))).toBe(true);
    await daemon.close();
    await daemon.close();
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(poolDir)).toBe(false);
    const error = await daemon.request(setRequest("late")).catch((e: unknown) => e);
    expect(isSimError(error, "closed")).toBe(true);
  });

  it("keeps a pool directory it was given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hyperv-sim-test-"));
    try {
      const daemon = await start({ poolDir: join(dir, "hyperv") });
      await daemon.request(setRequest("kept"));
      await daemon.close();
      expect(readdirSync(join(dir, "hyperv")).sort()).toEqual([0, 1, 2, 3, 4].map((n) => poolFileName(n as 0)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects with the daemon's own output when it dies", async () => {
    const daemon = await start();
    process.kill(daemon.pid!, "SIGKILL");
    const error = await daemon.request(setRequest("after-death")).catch((e: unknown) => e);
    expect(isSimError(error, "daemon-exited")).toBe(true);
    expect(String((error as Error).message)).toMatch(/SIGKILL/);
    expect(String((error as Error).message)).toMatch(/KVP starting/);
  });

  it("rejects a pending request when the daemon dies while it waits", async () => {
    const daemon = await start();
    const fd = openSync(join(daemon.poolDir, poolFileName(0)), "r+");
    const lock = await lockFile(fd, "write");
    try {
      // The daemon blocks in F_SETLKW on our lock; then it is killed.
      const pending = daemon.request(setRequest("blocked")).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      process.kill(daemon.pid!, "SIGTERM");
      const error = await pending;
      expect(isSimError(error, "daemon-exited")).toBe(true);
      expect(String((error as Error).message)).toMatch(/SIGTERM/);
    } finally {
      lock.release();
      closeSync(fd);
    }
  });

  it("times out a request the daemon does not answer, and refuses later ones", async () => {
    const daemon = await start({ requestTimeoutMs: 200 });
    const fd = openSync(join(daemon.poolDir, poolFileName(0)), "r+");
    const lock = await lockFile(fd, "write");
    try {
      const error = await daemon.request(setRequest("slow")).catch((e: unknown) => e);
      expect(isSimError(error, "timeout")).toBe(true);
      const next = await daemon.request(setRequest("next")).catch((e: unknown) => e);
      expect(isSimError(next, "timeout")).toBe(true);
    } finally {
      lock.release();
      closeSync(fd);
    }
  });

  it("holds its pool lock while the stall file exists (the stallFile test hook)", async () => {
    const stallFile = join(mkdtempSync(join(tmpdir(), "hyperv-sim-test-")), "stall");
    try {
      const daemon = await start({ stallFile });
      writeFileSync(stallFile, "");
      let settled = false;
      const pending = daemon.request(setRequest("stalled")).finally(() => {
        settled = true;
      });
      const deadline = Date.now() + 5000;
      while (!daemon.output.includes("stalling in fopen(")) {
        if (Date.now() > deadline) throw new Error(`the daemon never stalled; its output: ${daemon.output}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Stalled inside its lock: nobody else gets the pool until the file goes.
      const fd = openSync(join(daemon.poolDir, poolFileName(0)), "r+");
      try {
        expect(tryLockFile(fd, "write")).toBeUndefined();
        expect(findLockHolder(fd, "write")).toMatchObject({ kind: "posix", pid: daemon.pid, command: "hv_kvp_daemon" });
      } finally {
        closeSync(fd);
      }
      expect(settled).toBe(false);
      rmSync(stallFile);
      await pending;
      expect(decodePool(readFileSync(join(daemon.poolDir, poolFileName(0)))).records.map((r) => r.key)).toEqual([
        "stalled",
      ]);
    } finally {
      rmSync(dirname(stallFile), { recursive: true, force: true });
    }
  });

  it("says so when the daemon cannot be started at all", async () => {
    const error = await start({ daemonPath: tmpdir() }).catch((e: unknown) => e);
    expect(isSimError(error, "daemon-exited")).toBe(true);
    expect(String((error as Error).message)).toMatch(/could not be started \(spawn .*EACCES/);
  });

  it("reports the daemon's complaint when it cannot create its pool directory", async () => {
    const error = await start({ poolDir: "/nonexistent/deeper/hyperv" }).catch((e: unknown) => e);
    expect(isSimError(error, "daemon-exited")).toBe(true);
    expect(String((error as Error).message)).toMatch(/Failed to create/);
  });

  it("builds the shim once and reuses it", async () => {
    const first = await buildShim();
    expect(await buildShim()).toBe(first);
    expect(existsSync(first)).toBe(true);
  });

  it("reports a missing C compiler", async () => {
    const error = await buildShim({
      compiler: "/nonexistent/cc",
      cacheDir: join(tmpdir(), "hyperv-sim-shim-test-none"),
    }).catch((e: unknown) => e);
    expect(isSimError(error, "compiler-missing")).toBe(true);
    rmSync(join(tmpdir(), "hyperv-sim-shim-test-none"), { recursive: true, force: true });
  });
});
