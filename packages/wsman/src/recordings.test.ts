// Messages recorded from real Windows (and real clients of it), kept as data files in
// test/recordings/ with their source and licence in test/recordings/SOURCES.md. Each is read
// here by the same code that reads a live host's answers.
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  AV_FLAG_MIC,
  AV_IDS,
  type AvPair,
  DEFAULT_CLIENT_FLAGS,
  NTLM_FLAGS,
  buildClientAuthenticate,
  buildNegotiateMessage,
  decodeAvPairs,
  parseAuthenticateMessage,
  parseChallengeMessage,
  parseNegotiateMessage,
  verifyAuthenticate,
} from "./auth/ntlm.js";
import { missingSealingFlags } from "./auth/ntlm-session.js";
import { type WsmanFault, isWsmanError } from "./errors.js";
import { WsmanClient } from "./http/client.js";
import { parseEnumerateResponse, parseGetResponse, parseInvokeResponse, parsePullResponse } from "./soap/responses.js";

const DIR = new URL("../test/recordings/", import.meta.url);
const text = (path: string) => readFileSync(new URL(path, DIR), "utf8");
const bytes = (path: string) => new Uint8Array(readFileSync(new URL(path, DIR)));
/** A message kept as the base64 an HTTP header carries. */
const base64 = (path: string) => new Uint8Array(Buffer.from(text(path).trim(), "base64"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const utf16 = (b: Uint8Array) => Buffer.from(b).toString("utf16le");

/** The fault every response parser reports for `xml`. */
function faultOf(xml: string): WsmanFault {
  const faults: WsmanFault[] = [];
  for (const parse of [
    parseGetResponse,
    parseEnumerateResponse,
    parsePullResponse,
    (x: string) => parseInvokeResponse(x),
  ]) {
    try {
      parse(xml);
      throw new Error("a fault was read as an answer");
    } catch (error) {
      if (!isWsmanError(error, "fault") || error.fault === undefined) throw error;
      faults.push(error.fault);
    }
  }
  for (const f of faults) expect(f).toEqual(faults[0]);
  return faults[0]!;
}

describe("faults recorded from Windows", () => {
  it("WinRM 2008 R2, WMIv1 plugin: an unknown class in a WQL filter (n:CannotProcessFilter)", () => {
    const fault = faultOf(text("winrb-winrm/soap_fault_v1.xml"));
    expect(fault).toMatchObject({ code: "s:Sender", subcode: "n:CannotProcessFilter", wsmanFaultCode: "2150858778" });
    expect(fault.reason).toMatch(/^The data source could not process the filter\./);
    expect(fault.detail).toContain("The specified class does not exist in the given namespace.");
    expect(fault.wmiErrorCode).toBeUndefined();
  });

  it("the same with the WMI provider's __ExtendedStatus in the detail", () => {
    const fault = faultOf(text("winrb-winrm/soap_fault_v2.xml"));
    expect(fault).toMatchObject({ code: "s:Sender", subcode: "n:CannotProcessFilter", wsmanFaultCode: "2150858778" });
    // The provider's words, its operation and the query it refused all reach the detail.
    expect(fault.detail).toContain("The specified class does not exist in the given namespace.");
    expect(fault.detail).toContain("ExecQuery");
    expect(fault.detail).toContain('Select * from Win32_Processa where name="sshd.exe"');
  });

  it("an MSFT_WmiError detail instead of a WSManFault (w:QuotaLimit): its error_Code is kept", () => {
    const fault = faultOf(text("winrb-winrm/wmi_error_v2.xml"));
    expect(fault).toMatchObject({ code: "s:Sender", subcode: "w:QuotaLimit", wmiErrorCode: "2150859173" });
    expect(Number(fault.wmiErrorCode)).toBe(0x803381a5);
    expect(fault.wsmanFaultCode).toBeUndefined();
    expect(fault.detail).toContain("maximum number of 30 concurrent shells");
  });

  it("w:InvalidSelectors with a provider fault and a w:FaultDetail", () => {
    const fault = faultOf(text("pypsrp/fault-invalid-selectors.xml"));
    expect(fault).toMatchObject({
      code: "s:Sender",
      subcode: "w:InvalidSelectors",
      wsmanFaultCode: "2150858843",
      faultDetail: "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
    });
    expect(fault.detail).toContain("invalid selectors for the resource");
  });

  it("w:InvalidSelectors with an ActivityId header and the shell's own message", () => {
    const fault = faultOf(text("pypsrp/fault-invalid-command-id.xml"));
    expect(fault).toMatchObject({ subcode: "w:InvalidSelectors", wsmanFaultCode: "2150858843" });
    expect(fault.detail).toContain("command identifier that does not exist");
  });

  it("s:Receiver w:TimedOut (OperationTimeout passed)", () => {
    const fault = faultOf(text("pypsrp/fault-timed-out.xml"));
    expect(fault).toMatchObject({ code: "s:Receiver", subcode: "w:TimedOut", wsmanFaultCode: "2150858793" });
    expect(fault.faultDetail).toBeUndefined();
  });
});

describe("enumerations recorded from Windows", () => {
  it("optimized: items in w:Items, an empty EnumerationContext and w:EndOfSequence in one reply", () => {
    const page = parseEnumerateResponse(text("pypsrp/enumerate-shells.xml"));
    expect(page.endOfSequence).toBe(true);
    expect(page.context).toBeUndefined();
    expect(page.skipped ?? []).toEqual([]);
    expect(page.items.map((i) => [i.className, i.properties.get("ShellId")])).toEqual([
      ["Shell", "B6631D8E-65A0-49F2-9053-A1B156C95777"],
      ["Shell", "01AA3E43-9E21-424B-A7FC-BC16AA34F4CE"],
    ]);
    const [first] = page.items;
    expect(first?.resourceUri).toBe("http://schemas.microsoft.com/wbem/wsman/1/windows/shell");
    expect(first?.properties.get("Owner")).toBe("WIN-NNMU24VVKJ0\\vagrant");
    expect(first?.properties.get("State")).toBe("Disconnected");
  });

  it("optimized and empty: no items at all, ended at once", () => {
    const page = parseEnumerateResponse(text("pypsrp/enumerate-empty.xml"));
    expect(page).toEqual({ items: [], endOfSequence: true });
  });
});

describe("the client over HTTP, answered with recordings", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });
  async function serve(...bodies: string[]): Promise<WsmanClient> {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const body = bodies.shift() ?? "";
        res.writeHead(body.includes("s:Fault") ? 500 : 200, { "content-type": "application/soap+xml;charset=UTF-8" });
        res.end(body);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    return new WsmanClient({
      endpoint: `http://127.0.0.1:${port}/wsman`,
      auth: { kind: "basic", user: "u", password: "p" },
      allowUnencrypted: true,
    });
  }

  it("enumerate ends at an optimized reply with an empty context, without a Pull", async () => {
    const client = await serve(text("pypsrp/enumerate-shells.xml"));
    try {
      const items = await client.enumerate("http://schemas.microsoft.com/wbem/wsman/1/windows/shell", "SELECT *");
      expect(items).toHaveLength(2);
      expect(client.enumerationSkipped).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("a recorded fault becomes a fault error with the server's words kept apart", async () => {
    const client = await serve(text("winrb-winrm/soap_fault_v2.xml"));
    try {
      const error = await client.enumerate("u:x", "SELECT *").catch((e: unknown) => e);
      expect(isWsmanError(error, "fault")).toBe(true);
      expect((error as Error).message).not.toContain("sshd");
      expect(isWsmanError(error) && error.serverText).toContain("CannotProcessFilter");
    } finally {
      client.close();
    }
  });

  it("an item that cannot be read is reported, the rest returned", async () => {
    // The recorded reply with one instance made unreadable (an unexpected child element).
    const broken = text("pypsrp/enumerate-shells.xml").replace(
      "<rsp:ProcessId>2792</rsp:ProcessId>",
      "<rsp:ProcessId><rsp:Odd/></rsp:ProcessId>",
    );
    const client = await serve(broken);
    try {
      const items = await client.enumerate("http://schemas.microsoft.com/wbem/wsman/1/windows/shell", "SELECT *");
      expect(items.map((i) => i.properties.get("ShellId"))).toEqual(["01AA3E43-9E21-424B-A7FC-BC16AA34F4CE"]);
      expect(client.enumerationSkipped).toEqual([
        { index: 0, className: "Shell", message: expect.stringContaining("Odd") },
      ]);
    } finally {
      client.close();
    }
  });
});

const name = (pairs: readonly AvPair[], id: number) => {
  const pair = pairs.find((p) => p.id === id);
  return pair === undefined ? undefined : utf16(pair.value);
};
/** A FILETIME (100 ns since 1601) as an ISO date, to the millisecond. */
const fileTimeIso = (b: Uint8Array) =>
  new Date(
    Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) / 10_000n - 11_644_473_600_000n),
  ).toISOString();

describe("NTLM messages recorded against Windows", () => {
  const WINDOWS_NEGOTIATE = bytes("pyspnego/ntlm_negotiate.bin");
  const CHALLENGE = bytes("pyspnego/ntlm_challenge.bin");

  it("a Windows Server 2019 client's NEGOTIATE: its flags and version", () => {
    const negotiate = parseNegotiateMessage(WINDOWS_NEGOTIATE);
    expect(negotiate.flags >>> 0).toBe(0xe20882b7);
    // 10.0 build 17763, NTLM revision 15.
    expect(hex(negotiate.version ?? new Uint8Array())).toBe("0a0063450000000f");
  });

  it("DEFAULT_CLIENT_FLAGS are Windows' NEGOTIATE flags less OEM and LM_KEY, plus TARGET_INFO", () => {
    const windows = parseNegotiateMessage(WINDOWS_NEGOTIATE).flags;
    expect((windows & ~(NTLM_FLAGS.OEM | NTLM_FLAGS.LM_KEY) & ~NTLM_FLAGS.TARGET_INFO) >>> 0).toBe(
      (DEFAULT_CLIENT_FLAGS & ~NTLM_FLAGS.TARGET_INFO) >>> 0,
    );
    expect(windows & NTLM_FLAGS.TARGET_INFO).toBe(0);
    // What WinRM over HTTP needs is in both.
    for (const flag of [
      NTLM_FLAGS.SIGN,
      NTLM_FLAGS.SEAL,
      NTLM_FLAGS.EXTENDED_SESSIONSECURITY,
      NTLM_FLAGS.N128,
      NTLM_FLAGS.KEY_EXCH,
    ]) {
      expect(windows & flag).toBe(flag);
      expect(DEFAULT_CLIENT_FLAGS & flag).toBe(flag);
    }
  });

  it("a Windows Server 2016 domain controller's CHALLENGE: flags, target, AV pairs, timestamp, version", () => {
    const challenge = parseChallengeMessage(CHALLENGE);
    expect(challenge.flags >>> 0).toBe(0xe2898235);
    expect(challenge.flags & NTLM_FLAGS.TARGET_TYPE_DOMAIN).toBe(NTLM_FLAGS.TARGET_TYPE_DOMAIN);
    expect(challenge.targetName).toBe("DOMAIN");
    expect(hex(challenge.serverChallenge)).toBe("e4101014cf8a90be");
    expect(challenge.targetInfo.map((p) => p.id)).toEqual([
      AV_IDS.NbDomainName,
      AV_IDS.NbComputerName,
      AV_IDS.DnsDomainName,
      AV_IDS.DnsComputerName,
      AV_IDS.DnsTreeName,
      AV_IDS.Timestamp,
    ]);
    expect(name(challenge.targetInfo, AV_IDS.NbComputerName)).toBe("DC01");
    expect(name(challenge.targetInfo, AV_IDS.DnsComputerName)).toBe("DC01.domain.local");
    const timestamp = challenge.targetInfo.find((p) => p.id === AV_IDS.Timestamp)?.value ?? new Uint8Array(8);
    expect(fileTimeIso(timestamp)).toBe("2020-04-30T02:46:22.414Z");
    expect(hex(challenge.version ?? new Uint8Array())).toBe("0a0039380000000f"); // 10.0.14393 rev 15
  });

  it("an AUTHENTICATE with a UPN user and an empty domain verifies, and gives the recorded session key", () => {
    const authenticate = bytes("pyspnego/ntlm_authenticate.bin");
    const message = parseAuthenticateMessage(authenticate);
    expect(message).toMatchObject({ user: "vagrant-domain@DOMAIN.LOCAL", domain: "", workstation: "JBOREAN-LINUX" });
    expect(message.mic).toBeUndefined();
    expect(message.lmChallengeResponse).toHaveLength(0);
    expect(hex(message.encryptedRandomSessionKey)).toBe("3765d5afd13ec3a6c97c0726ce9f30c9");
    const pairs = decodeAvPairs(message.ntChallengeResponse.subarray(16 + 28));
    expect(name(pairs, AV_IDS.TargetName)).toBe("dc01.domain.local");
    expect(hex(pairs.find((p) => p.id === AV_IDS.ChannelBindings)?.value ?? new Uint8Array())).toBe("0".repeat(32));
    // The password pyspnego's own test gives; it derives this exported session key from it.
    const result = verifyAuthenticate({
      negotiate: WINDOWS_NEGOTIATE,
      challenge: CHALLENGE,
      authenticate,
      users: new Map([["vagrant-domain@domain.local", "VagrantPass1"]]),
    });
    expect(result.ok).toBe(true);
    expect(result.ok && hex(result.keys.exportedSessionKey)).toBe("4e10f9b8aa8c2a5df0a2ad75a8ecf433");
    expect(result.ok && result.domain).toBe("");
    const wrong = verifyAuthenticate({
      negotiate: WINDOWS_NEGOTIATE,
      challenge: CHALLENGE,
      authenticate,
      users: new Map([["vagrant-domain@DOMAIN.LOCAL", "VagrantPass2"]]),
    });
    expect(wrong).toMatchObject({ ok: false, reason: "wrong-password" });
  });

  it("an AUTHENTICATE with a MIC, MsvAvFlags saying so, an SPN target name and no sign or seal", () => {
    const message = parseAuthenticateMessage(bytes("pyspnego/ntlm_authenticate_no_sign_seal.bin"));
    expect(message).toMatchObject({ user: "vagrant", domain: "", workstation: "JBOREAN-LINUX" });
    expect(hex(message.mic ?? new Uint8Array())).toBe("fe935dc88b782a1c01ae3965cf77627d");
    expect(message.flags & (NTLM_FLAGS.SIGN | NTLM_FLAGS.SEAL)).toBe(0);
    const pairs = decodeAvPairs(message.ntChallengeResponse.subarray(16 + 28));
    const flags = pairs.find((p) => p.id === AV_IDS.Flags)?.value ?? new Uint8Array(4);
    expect(flags[0]! & AV_FLAG_MIC).toBe(AV_FLAG_MIC);
    expect(name(pairs, AV_IDS.TargetName)).toBe("HOST/192.168.121.229");
    expect(name(pairs, AV_IDS.NbComputerName)).toBe("WIN-MJ44NRDC217");
  });

  it("a Windows Server 2012 CHALLENGE: our client answers it, with a MIC, and the answer verifies", () => {
    const challenge = base64("rubyntlm/type2-server-2012.b64");
    const parsed = parseChallengeMessage(challenge);
    expect(parsed.flags >>> 0).toBe(0xe28a8235);
    expect(parsed.targetName).toBe("SERVER");
    expect(hex(parsed.version ?? new Uint8Array())).toBe("0602f0230000000f"); // 6.2.9200 rev 15
    expect(name(parsed.targetInfo, AV_IDS.DnsComputerName)).toBe("server");
    expect(parsed.targetInfo.some((p) => p.id === AV_IDS.Timestamp)).toBe(true);
    const negotiate = buildNegotiateMessage();
    const { message, keys } = buildClientAuthenticate({ user: "kvp", password: "secret", negotiate, challenge });
    expect(missingSealingFlags(keys.flags)).toEqual([]);
    expect(parseAuthenticateMessage(message).mic).toBeDefined();
    const verified = verifyAuthenticate({
      negotiate,
      challenge,
      authenticate: message,
      users: new Map([["kvp", "secret"]]),
    });
    expect(verified.ok).toBe(true);
  });

  it("a Windows Server 2008 R2 CHALLENGE to a client that asked for little: sealing is refused, not downgraded", () => {
    const parsed = parseChallengeMessage(base64("rubyntlm/type2-vagrant-2008r2.b64"));
    expect(parsed.flags >>> 0).toBe(0x028a8205);
    expect(parsed.targetName).toBe("VAGRANT-2008R2");
    expect(hex(parsed.version ?? new Uint8Array())).toBe("0601b11d0000000f"); // 6.1.7601 rev 15
    expect(name(parsed.targetInfo, AV_IDS.NbDomainName)).toBe("VAGRANT-2008R2");
    expect(name(parsed.targetInfo, AV_IDS.DnsComputerName)).toBe("vagrant-2008R2");
    // The flags a session would run with: what we ask for that this server granted.
    expect(missingSealingFlags(parsed.flags & DEFAULT_CLIENT_FLAGS)).toEqual(["SEAL", "128"]);
  });
});
