// Interop with an independent WinRM client: Debian's python3-winrm (pywinrm 0.3, with
// requests-ntlm and ntlm-auth) talks NTLM with message sealing over plain HTTP to the
// simulator in WinRM's default mode (sealedHttp), with SOAP it writes itself
// (test-support/pywinrm-client.py). Needs /usr/bin/python3 (or $KVP_PYWINRM_PYTHON) with
// python3-winrm: in CI the suite fails without it; elsewhere too, unless
// KVP_ALLOW_NO_PYWINRM=1 (then it is skipped with a banner saying what was not tested).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  type WsmanServerEvent,
  parseEnumerateResponse,
  parseGetResponse,
  parseInvokeResponse,
} from "@hyperv-kvp/wsman";
import { PYWINRM, pywinrmPython, standInForMissingTools, toolPolicy } from "@hyperv-kvp/test-support/tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WmiHost, startWmiHost } from "./wmi-server.js";

const PYTHON = pywinrmPython();
const SCRIPT = fileURLToPath(new URL("../../test-support/pywinrm-client.py", import.meta.url));
const USER = "Administrator";
const PASSWORD = "Interop-Pa55";

interface ClientRun {
  readonly facts: {
    readonly encryptionUsed: boolean | null;
    readonly optimizedNames?: string[];
    readonly optimizedEnd?: boolean;
    readonly pulledNames?: string[];
    readonly getElementName?: string;
    readonly invokeReturnValue?: number;
    readonly jobInstanceId?: string;
    readonly jobState?: number;
    readonly error?: { readonly type: string; readonly code?: number; readonly text: string };
  };
  readonly answers: string[];
}

function runClient(args: Record<string, string>): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, JSON.stringify(args)], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`pywinrm-client.py failed (${error.message}):\n${stderr}`));
      else resolve(JSON.parse(stdout) as ClientRun);
    });
  });
}

const policy = toolPolicy([PYWINRM]);

describe("pywinrm (python3-winrm) against the simulator's sealed HTTP", () => {
  if (standInForMissingTools(policy)) return;

  let host: WmiHost;
  const events: WsmanServerEvent[] = [];
  beforeAll(async () => {
    host = await startWmiHost({
      vms: ["web01", "db01"],
      daemon: "model",
      sealedHttp: true,
      users: { [USER]: PASSWORD },
    });
    host.server.onEvent((e) => events.push(e));
  });
  afterAll(async () => {
    await host?.close();
  });
  const base = () => ({
    endpoint: host.endpoint,
    user: USER,
    password: PASSWORD,
    vm: host.vms[0]!.guid,
    key: "interop-key",
    value: "sealed by pywinrm",
  });

  it("Enumerate (optimized, and with Pull), Get and Invoke AddKvpItems over NTLM-sealed HTTP, on one connection", async () => {
    expect(host.server.mode).toBe("sealed-http");
    expect(host.endpoint).toMatch(/^http:/);
    const before = host.server.connectionCount;
    const { facts, answers } = await runClient({ ...base(), encryption: "always" });
    expect(facts.error).toBeUndefined();
    expect(facts.encryptionUsed).toBe(true);
    const guids = host.vms.map((v) => v.guid);
    expect(facts.optimizedNames).toEqual(guids);
    expect(facts.optimizedEnd).toBe(true);
    expect(facts.pulledNames).toEqual(expect.arrayContaining(guids));
    expect(facts.pulledNames!.length).toBe(guids.length + 1); // and the host itself
    expect(facts.getElementName).toBe("web01");
    expect(facts.invokeReturnValue).toBe(4096);
    expect(facts.jobInstanceId).toMatch(/\S/);
    expect([4, 7]).toContain(facts.jobState);
    // The same answers through our parsers: pywinrm unsealed exactly what the server sealed.
    expect(parseEnumerateResponse(answers[0]!).items.map((i) => i.properties.get("Name"))).toEqual(guids);
    expect(parseGetResponse(answers.at(-3)!).properties.get("ElementName")).toBe("web01");
    expect(parseInvokeResponse(answers.at(-2)!, "AddKvpItems")).toMatchObject({
      returnValue: 4096,
      jobInstanceId: facts.jobInstanceId,
    });
    // The item reached the guest's pool 0 through the job.
    await host.settle();
    const pool0 = await host.vms[0]!.host.enumerate(0);
    expect(pool0.records).toContainEqual(expect.objectContaining({ key: "interop-key", value: "sealed by pywinrm" }));
    // NTLM authenticates a connection: pywinrm's handshake and all its requests shared one.
    expect(host.server.connectionCount - before).toBe(1);
    expect(events).toEqual([]);
  }, 60_000);

  it("pywinrm with message_encryption='never' is refused (HTTP 500, as a default WinRM answers)", async () => {
    events.length = 0;
    const { facts } = await runClient({ ...base(), encryption: "never" });
    expect(facts.encryptionUsed).toBeNull();
    expect(facts.error).toMatchObject({ type: "WinRMTransportError", code: 500 });
    expect(facts.error!.text).toContain("refuses unencrypted messages");
    expect(events).toContainEqual({ kind: "unsealed-refused", user: USER });
  }, 60_000);

  it("a wrong password is a 401 to pywinrm and a wrong-password event on the server", async () => {
    events.length = 0;
    const { facts } = await runClient({ ...base(), password: "not-it", encryption: "always" });
    expect(facts.error?.type).toBe("InvalidCredentialsError");
    expect(events).toContainEqual({
      kind: "auth-failure",
      failure: { scheme: "ntlm", reason: "wrong-password", user: USER },
    });
  }, 60_000);
});
