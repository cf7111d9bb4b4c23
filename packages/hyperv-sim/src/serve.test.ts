import { existsSync, readFileSync } from "node:fs";
import { WsmanClient } from "@hyperv-kvp/wsman";
import { describe, expect, it } from "vitest";
import { isSimError } from "./errors.js";
import { type ServeInfo, parseServeArgs, serve } from "./serve.js";
import { realDaemonPolicy, standInForMissingDaemon } from "./test-support/real-daemon-policy.js";
import { V2_RESOURCE_URI } from "./wmi/host-model.js";

describe("parseServeArgs", () => {
  it("defaults to HTTPS, Administrator, one VM web01", () => {
    expect(parseServeArgs([])).toEqual({ port: 0, https: true, allowUnencrypted: false, user: "Administrator", vms: ["web01"], daemon: "auto" });
  });
  it("reads every option", () => {
    expect(parseServeArgs(["--port", "5986", "--https", "--user", "u", "--password", "p", "--vms", "a, b,a", "--daemon", "real"])).toEqual({
      port: 5986, https: true, allowUnencrypted: false, user: "u", password: "p", vms: ["a", "b", "a"], daemon: "real",
    });
    expect(parseServeArgs(["--allow-unencrypted"])).toMatchObject({ https: false, allowUnencrypted: true });
  });
  it.each([["--port", "70000"], ["--port"], ["--vms", "a,,b"], ["--bogus"], ["--https", "--allow-unencrypted"], ["--daemon", "x"], ["--user", ""]])("refuses %j", (...args) => {
    let caught: unknown;
    try {
      parseServeArgs(args);
    } catch (error) {
      caught = error;
    }
    expect(isSimError(caught, "invalid-argument")).toBe(true);
  });
});

const policy = realDaemonPolicy();

describe("serve (real daemon)", () => {
  if (standInForMissingDaemon(policy)) return;

  it("prints one JSON line, serves with a generated password, and cleans up on close", async () => {
    let printed = "";
    const handle = await serve(parseServeArgs(["--vms", "web01,db01", "--daemon", "real"]), { write: (t: string) => (printed += t) });
    const lines = printed.split("\n");
    expect(lines).toHaveLength(2);
    const info = JSON.parse(lines[0]!) as ServeInfo;
    try {
      expect(info).toMatchObject({ user: "Administrator", https: true, auth: ["basic", "ntlm"], pid: process.pid });
      expect(info.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/wsman$/);
      expect(info.password.length).toBeGreaterThanOrEqual(20);
      expect(info.vms.map((v) => v.name)).toEqual(["web01", "db01"]);
      expect(info.vms.every((v) => v.daemon === "real" && existsSync(v.poolDir) && /^[0-9A-F-]{36}$/.test(v.guid))).toBe(true);
      const client = new WsmanClient({ endpoint: info.endpoint, ca: readFileSync(info.caFile!, "utf8"), auth: { kind: "ntlm", user: info.user, password: info.password } });
      const systems = await client.enumerate(`${V2_RESOURCE_URI}/*`, "SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'");
      client.close();
      expect(systems.map((s) => s.properties.get("Name"))).toEqual(info.vms.map((v) => v.guid));
    } finally {
      await handle.close();
    }
    expect(existsSync(info.caFile!)).toBe(false);
    expect(info.vms.some((v) => existsSync(v.poolDir))).toBe(false);
  }, 20_000);
});
