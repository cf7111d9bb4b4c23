import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WsmanClient } from "@hyperv-kvp/wsman";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { isSimError } from "./errors.js";
import { parseServeArgs } from "./cli/serve-options.js";
import { type ServeInfo, describeServerEvent, serve } from "./serve.js";
import { realDaemonPolicy, standInForMissingTools } from "@hyperv-kvp/test-support/tools";
import { V2_RESOURCE_URI } from "./wmi/wmi-classes.js";

describe("parseServeArgs", () => {
  it("defaults to sealed HTTP (neither --https nor --allow-unencrypted), Administrator, one VM web01", () => {
    expect(parseServeArgs([])).toEqual({
      port: 0,
      https: false,
      allowUnencrypted: false,
      user: "Administrator",
      vms: ["web01"],
      daemon: "auto",
    });
  });
  it("reads every option", () => {
    expect(
      parseServeArgs([
        "--port",
        "5986",
        "--https",
        "--user",
        "u",
        "--password",
        "p",
        "--vms",
        "a, b,a",
        "--daemon",
        "real",
      ]),
    ).toEqual({
      port: 5986,
      https: true,
      allowUnencrypted: false,
      user: "u",
      password: "p",
      vms: ["a", "b", "a"],
      daemon: "real",
    });
    expect(parseServeArgs(["--allow-unencrypted"])).toMatchObject({ https: false, allowUnencrypted: true });
  });
  it("reads a cluster: --cluster NAME with one --node NODE:VMS per node", () => {
    expect(
      parseServeArgs(["--cluster", "HVCLU01", "--node", "HV01:web01, db01", "--node", "HV02:web02"]),
    ).toMatchObject({
      cluster: {
        name: "HVCLU01",
        nodes: [
          { name: "HV01", vms: ["web01", "db01"] },
          { name: "HV02", vms: ["web02"] },
        ],
      },
    });
    expect(parseServeArgs(["--cluster", "C", "--node", "N1"]).cluster?.nodes).toEqual([{ name: "N1", vms: [] }]);
  });
  it.each([
    ["--port", "70000"],
    ["--port"],
    ["--vms", "a,,b"],
    ["--bogus"],
    ["--https", "--allow-unencrypted"],
    ["--daemon", "x"],
    ["--user", ""],
    ["--node", "HV01:a"],
    ["--cluster", "C"],
    ["--cluster", "C", "--vms", "a", "--node", "N:b"],
    ["--cluster", "bad name", "--node", "N:a"],
    ["--cluster", "C", "--node", "N:a,,b"],
    ["--cluster", "C", "--node", ":a"],
    ["--cluster", "C", "--port", "65535", "--node", "A:a", "--node", "B:b"],
  ])("refuses %j", (...args) => {
    expect(
      isSimError(
        thrown(() => parseServeArgs(args)),
        "invalid-argument",
      ),
    ).toBe(true);
  });
});

const policy = realDaemonPolicy();

describe("serve (real daemon)", () => {
  if (standInForMissingTools(policy)) return;

  it("prints one JSON line, serves sealed HTTP with a generated password, and cleans up on close", async () => {
    let printed = "";
    const handle = await serve(parseServeArgs(["--vms", "web01,db01", "--daemon", "real"]), {
      write: (t: string) => (printed += t),
    });
    const lines = printed.split("\n");
    expect(lines).toHaveLength(2);
    const info = JSON.parse(lines[0]!) as ServeInfo;
    try {
      expect(info).toMatchObject({
        user: "Administrator",
        https: false,
        sealed: true,
        auth: ["ntlm"],
        caFile: null,
        pid: process.pid,
      });
      expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/wsman$/);
      expect(info.password.length).toBeGreaterThanOrEqual(20);
      expect(info.vms.map((v) => v.name)).toEqual(["web01", "db01"]);
      expect(
        info.vms.every((v) => v.daemon === "real" && existsSync(v.poolDir) && /^[0-9A-F-]{36}$/.test(v.guid)),
      ).toBe(true);
      const client = new WsmanClient({
        endpoint: info.endpoint,
        auth: { kind: "ntlm", user: info.user, password: info.password },
      });
      expect(client.sealed).toBe(true);
      const systems = await client.enumerate(
        `${V2_RESOURCE_URI}/*`,
        "SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'",
      );
      client.close();
      expect(systems.map((s) => s.properties.get("Name"))).toEqual(info.vms.map((v) => v.guid));
    } finally {
      await handle.close();
    }
    expect(info.vms.some((v) => existsSync(v.poolDir))).toBe(false);
  }, 20_000);
});

describe("serve's transport modes (model daemon)", () => {
  it("--https: HTTPS with Basic and NTLM and a CA file, removed on close", async () => {
    let printed = "";
    const handle = await serve(parseServeArgs(["--https", "--daemon", "model", "--password", "pw"]), {
      write: (t: string) => (printed += t),
    });
    const info = JSON.parse(printed) as ServeInfo;
    try {
      expect(info).toMatchObject({ https: true, sealed: false, auth: ["basic", "ntlm"] });
      expect(info.endpoint).toMatch(/^https:/);
      const ca = readFileSync(info.caFile!, "utf8");
      for (const kind of ["basic", "ntlm"] as const) {
        const client = new WsmanClient({
          endpoint: info.endpoint,
          ca,
          auth: { kind, user: info.user, password: "pw" },
        });
        expect(
          await client.enumerate(
            `${V2_RESOURCE_URI}/*`,
            "SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'",
          ),
        ).toHaveLength(1);
        client.close();
      }
    } finally {
      await handle.close();
    }
    expect(existsSync(info.caFile!)).toBe(false);
  }, 20_000);

  it("--allow-unencrypted: plain HTTP accepting unsealed messages and Basic", async () => {
    let printed = "";
    const handle = await serve(parseServeArgs(["--allow-unencrypted", "--daemon", "model", "--password", "pw"]), {
      write: (t: string) => (printed += t),
    });
    const info = JSON.parse(printed) as ServeInfo;
    try {
      expect(info).toMatchObject({ https: false, sealed: false, auth: ["basic", "ntlm"], caFile: null });
      const client = new WsmanClient({
        endpoint: info.endpoint,
        allowUnencrypted: true,
        auth: { kind: "basic", user: info.user, password: "pw" },
      });
      expect(
        await client.enumerate(
          `${V2_RESOURCE_URI}/*`,
          "SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'",
        ),
      ).toHaveLength(1);
      client.close();
    } finally {
      await handle.close();
    }
  }, 20_000);

  it("the default (sealed) host refuses Basic and unsealed messages, and tells the operator why logins failed", async () => {
    let printed = "";
    let diagnostics = "";
    const handle = await serve(
      parseServeArgs(["--daemon", "model", "--password", "pw"]),
      { write: (t: string) => (printed += t) },
      { write: (t: string) => (diagnostics += t) },
    );
    const info = JSON.parse(printed) as ServeInfo;
    const query = (client: WsmanClient) =>
      client.enumerate(`${V2_RESOURCE_URI}/*`, "SELECT * FROM Msvm_ComputerSystem");
    try {
      const attempts: [WsmanClient, string][] = [
        [
          new WsmanClient({ endpoint: info.endpoint, auth: { kind: "ntlm", user: info.user, password: "wrong" } }),
          "unauthorized",
        ],
        [
          new WsmanClient({ endpoint: info.endpoint, auth: { kind: "ntlm", user: "mallory", password: "pw" } }),
          "unauthorized",
        ],
        [
          new WsmanClient({
            endpoint: info.endpoint,
            allowUnencrypted: true,
            auth: { kind: "basic", user: info.user, password: "pw" },
          }),
          "unauthorized",
        ],
        [
          new WsmanClient({
            endpoint: info.endpoint,
            allowUnencrypted: true,
            auth: { kind: "ntlm", user: info.user, password: "pw" },
          }),
          "fault",
        ],
      ];
      for (const [client, code] of attempts) {
        await expect(query(client)).rejects.toMatchObject({ code });
        client.close();
      }
      expect(diagnostics.split("\n").filter(Boolean)).toEqual([
        'hyperv-sim: NTLM authentication of "Administrator" refused: wrong password (the client only sees HTTP 401)',
        'hyperv-sim: NTLM authentication of "mallory" refused: unknown user (the client only sees HTTP 401)',
        'hyperv-sim: Basic authentication of "Administrator" refused: Basic is refused over plain HTTP (it cannot be sealed; use NTLM, or serve with --https or --allow-unencrypted) (the client only sees HTTP 401)',
        'hyperv-sim: refused an unsealed request of "Administrator" (HTTP 500): this host requires sealed messages over HTTP',
      ]);
    } finally {
      await handle.close();
    }
  }, 20_000);

  it("describes integrity failures", () => {
    expect(
      describeServerEvent({
        kind: "integrity-failure",
        user: "u",
        reason: "sealed message has sequence number 1 where 2 was expected",
      }),
    ).toBe(
      'refused a sealed request of "u" and closed the connection: sealed message has sequence number 1 where 2 was expected',
    );
  });
});

describe("serve --cluster (model daemon)", () => {
  it("serves every node, prints the cluster's namespace and nodes, and each VM's node", async () => {
    let printed = "";
    const handle = await serve(
      parseServeArgs([
        "--cluster",
        "HVCLU01",
        "--node",
        "HV01:web01",
        "--node",
        "HV02:web02,db02",
        "--daemon",
        "model",
      ]),
      {
        write: (t: string) => (printed += t),
      },
    );
    try {
      const info = JSON.parse(printed) as ServeInfo;
      expect(info.cluster).toMatchObject({ name: "HVCLU01", namespace: "root/HyperVCluster/v2" });
      expect(info.cluster?.nodes.map((n) => n.name)).toEqual(["HV01", "HV02"]);
      expect(info.endpoint).toBe(info.cluster?.nodes[0]?.endpoint);
      expect(info.vms.map((v) => `${v.name}@${v.node}`)).toEqual(["web01@HV01", "web02@HV02", "db02@HV02"]);
      // The second node answers the cluster namespace for every VM.
      const client = new WsmanClient({
        endpoint: info.cluster!.nodes[1]!.endpoint,
        auth: { kind: "ntlm", user: info.user, password: info.password },
      });
      const systems = await client.enumerate(
        "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/HyperVCluster/v2/*",
        "SELECT * FROM Msvm_ComputerSystem WHERE Description='Microsoft Virtual Machine'",
      );
      client.close();
      expect(systems.map((s) => s.properties.get("ElementName")).sort()).toEqual(["db02", "web01", "web02"]);
      await handle.cluster!.migrateVm(info.vms[0]!.guid, "HV02");
      expect(handle.cluster!.ownerOf(info.vms[0]!.guid)).toBe("HV02");
    } finally {
      await handle.close();
    }
  }, 20_000);
});

describe("hyperv-sim --version, the built command", () => {
  it("prints the version in package.json, as -V too", () => {
    const bin = fileURLToPath(new URL("../dist/hyperv-sim.mjs", import.meta.url));
    expect(existsSync(bin), "packages/hyperv-sim/dist/hyperv-sim.mjs: run `pnpm -s build` first").toBe(true);
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-V"]) {
      expect(spawnSync(process.execPath, [bin, flag], { encoding: "utf8" })).toMatchObject({
        status: 0,
        stdout: `${version}\n`,
        stderr: "",
      });
    }
  });
});

describe("hyperv-sim serve --cluster, the built command", () => {
  it("prints its line, migrates on `migrate VM NODE` from a pipe, reports bad commands, and exits 0 on SIGTERM", async () => {
    const bin = fileURLToPath(new URL("../dist/hyperv-sim.mjs", import.meta.url));
    expect(existsSync(bin), "packages/hyperv-sim/dist/hyperv-sim.mjs: run `pnpm -s build` first").toBe(true);
    const child = spawn(
      process.execPath,
      [bin, "serve", "--cluster", "HVCLU01", "--node", "HV01:web01", "--node", "HV02:web02", "--daemon", "model"],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const until = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
      if (!check()) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
    };
    try {
      await until(() => stdout.includes("\n"), "the JSON line");
      const info = JSON.parse(stdout.split("\n")[0]!) as ServeInfo;
      const web02 = info.vms.find((v) => v.name === "web02")!;
      child.stdin.write("migrate web02 HV01\n");
      await until(() => stdout.split("\n").length > 2, "the migration");
      expect(JSON.parse(stdout.split("\n")[1]!)).toEqual({
        migrated: { vm: "web02", guid: web02.guid, from: "HV02", to: "HV01" },
      });
      child.stdin.write("fly web02 HV02\n");
      await until(() => stderr.includes("unknown command"), "the refusal");
      expect(stderr).toContain('hyperv-sim: unknown command "fly web02 HV02": migrate VM NODE');
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 20_000);
});
