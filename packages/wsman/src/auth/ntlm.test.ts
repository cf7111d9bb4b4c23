import { describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import {
  AV_IDS,
  NTLM_FLAGS,
  buildAuthenticateMessage,
  buildChallengeMessage,
  buildClientAuthenticate,
  buildNegotiateMessage,
  buildServerChallenge,
  computeNtlmv2,
  deriveSessionKeys,
  fileTime,
  ntHash,
  ntowfv2,
  parseAuthenticateMessage,
  parseChallengeMessage,
  parseNegotiateMessage,
  utf16le,
  verifyAuthenticate,
} from "./ntlm.js";
import { rc4 } from "./rc4.js";
import { fromHex, thrown, toHex } from "@hyperv-kvp/test-support";

// MS-NLMP 4.2.4 (NTLMv2 authentication): User "User", Domain "Domain", Password "Password",
// ServerChallenge 0123456789abcdef, ClientChallenge aaaaaaaaaaaaaaaa, Time 0,
// RandomSessionKey 55…55, AV pairs MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server".
const SERVER_CHALLENGE = fromHex("0123456789abcdef");
const CLIENT_CHALLENGE = fromHex("aaaaaaaaaaaaaaaa");
const RANDOM_SESSION_KEY = new Uint8Array(16).fill(0x55);
const TARGET_INFO = fromHex("02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000");
// 4.2.4.3: the CHALLENGE_MESSAGE and AUTHENTICATE_MESSAGE.
const CHALLENGE_MESSAGE = fromHex(
  "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000" +
    "060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000",
);
const AUTHENTICATE_MESSAGE = fromHex(`
  4e544c4d535350000300000018001800 6c00000054005400840000000c000c00
  48000000080008005400000010001000 5c00000010001000d8000000358288e2
  0501280a0000000f44006f006d006100 69006e00550073006500720043004f00
  4d005000550054004500520086c35097 ac9cec102554764a57cccc19aaaaaaaa
  aaaaaaaa68cd0ab851e51c96aabc927b ebef6a1c010100000000000000000000
  00000000aaaaaaaaaaaaaaaa00000000 02000c0044006f006d00610069006e00
  01000c00530065007200760065007200 0000000000000000c5dad2544fc97990
  94ce1ce90bc9d03e`);

describe("MS-NLMP 4.2.4 NTLMv2 test vectors", () => {
  it("NT hash (3.3.1 / 4.2.2.1.2) and NTOWFv2 (4.2.4.1.1)", () => {
    expect(toHex(ntHash("Password"))).toBe("a4f49c406510bdcab6824ee7c30fd852");
    expect(toHex(ntowfv2("User", "Domain", "Password"))).toBe("0c868a403bfd7a93a3001ef22ef02e3f");
  });

  const r = computeNtlmv2({
    responseKeyNt: ntowfv2("User", "Domain", "Password"),
    serverChallenge: SERVER_CHALLENGE,
    clientChallenge: CLIENT_CHALLENGE,
    time: new Uint8Array(8),
    targetInfo: TARGET_INFO,
  });

  it("LMv2 response (4.2.4.2.1), NTProofStr and NTLMv2 response (4.2.4.2.2), session base key (4.2.4.1.2)", () => {
    expect(toHex(r.lmChallengeResponse)).toBe("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
    expect(toHex(r.ntProofStr)).toBe("68cd0ab851e51c96aabc927bebef6a1c");
    expect(toHex(r.ntChallengeResponse)).toBe(
      "68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000" +
        "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000" +
        "00000000",
    );
    expect(toHex(r.sessionBaseKey)).toBe("8de40ccadbc14a82f15cb0ad0de95ca3");
  });

  it("encrypted session key (4.2.4.2.3) and the sealing/signing keys of 4.2.4.4", () => {
    expect(toHex(rc4(r.sessionBaseKey, RANDOM_SESSION_KEY))).toBe("c5dad2544fc9799094ce1ce90bc9d03e");
    const keys = deriveSessionKeys(RANDOM_SESSION_KEY);
    expect(toHex(keys.clientSealingKey)).toBe("59f600973cc4960a25480a7c196e4c58");
    expect(toHex(keys.clientSigningKey)).toBe("4788dc861b4782f35d43fd98fe1a2d39");
  });

  it("builds the CHALLENGE_MESSAGE of 4.2.4.3 byte for byte and parses it back", () => {
    const built = buildChallengeMessage({
      flags: 0xe28a8233,
      targetName: "Server",
      serverChallenge: SERVER_CHALLENGE,
      targetInfo: [
        { id: AV_IDS.NbDomainName, value: utf16le("Domain") },
        { id: AV_IDS.NbComputerName, value: utf16le("Server") },
      ],
      version: fromHex("060070170000000f"),
    });
    expect(toHex(built)).toBe(toHex(CHALLENGE_MESSAGE));
    const parsed = parseChallengeMessage(CHALLENGE_MESSAGE);
    expect(parsed.targetName).toBe("Server");
    expect(parsed.flags).toBe(0xe28a8233);
    expect(toHex(parsed.serverChallenge)).toBe("0123456789abcdef");
    expect(toHex(parsed.targetInfoBytes)).toBe(toHex(TARGET_INFO));
    expect(parsed.targetInfo.map((p) => p.id)).toEqual([AV_IDS.NbDomainName, AV_IDS.NbComputerName]);
  });

  it("builds the AUTHENTICATE_MESSAGE of 4.2.4.3 byte for byte and parses it back", () => {
    const built = buildAuthenticateMessage({
      flags: 0xe2888235,
      lmChallengeResponse: r.lmChallengeResponse,
      ntChallengeResponse: r.ntChallengeResponse,
      domain: "Domain",
      user: "User",
      workstation: "COMPUTER",
      encryptedRandomSessionKey: rc4(r.sessionBaseKey, RANDOM_SESSION_KEY),
      version: fromHex("0501280a0000000f"),
    });
    expect(toHex(built)).toBe(toHex(AUTHENTICATE_MESSAGE));
    const parsed = parseAuthenticateMessage(AUTHENTICATE_MESSAGE);
    expect(parsed).toMatchObject({ user: "User", domain: "Domain", workstation: "COMPUTER", flags: 0xe2888235 });
    expect(parsed.mic).toBeUndefined();
    expect(toHex(parsed.version!)).toBe("0501280a0000000f");
  });

  it("the client side reproduces the vector's responses and keys from the CHALLENGE_MESSAGE", () => {
    const { message, keys } = buildClientAuthenticate({
      user: "User",
      password: "Password",
      domain: "Domain",
      workstation: "COMPUTER",
      negotiate: buildNegotiateMessage(),
      challenge: CHALLENGE_MESSAGE,
      clientChallenge: CLIENT_CHALLENGE,
      randomSessionKey: RANDOM_SESSION_KEY,
      time: new Uint8Array(8),
    });
    const parsed = parseAuthenticateMessage(message);
    expect(toHex(parsed.ntChallengeResponse)).toBe(toHex(r.ntChallengeResponse));
    expect(toHex(parsed.lmChallengeResponse)).toBe(toHex(r.lmChallengeResponse));
    expect(toHex(parsed.encryptedRandomSessionKey)).toBe("c5dad2544fc9799094ce1ce90bc9d03e");
    expect(toHex(keys.sessionBaseKey)).toBe("8de40ccadbc14a82f15cb0ad0de95ca3");
    expect(toHex(keys.exportedSessionKey)).toBe(toHex(RANDOM_SESSION_KEY));
  });

  it("the server side accepts the vector's AUTHENTICATE_MESSAGE and recovers the session key", () => {
    const result = verifyAuthenticate({
      negotiate: buildNegotiateMessage(),
      challenge: CHALLENGE_MESSAGE,
      authenticate: AUTHENTICATE_MESSAGE,
      users: new Map([["user", "Password"]]),
    });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(toHex(result.keys.sessionBaseKey)).toBe("8de40ccadbc14a82f15cb0ad0de95ca3");
      expect(toHex(result.keys.exportedSessionKey)).toBe(toHex(RANDOM_SESSION_KEY));
    }
  });
});

describe("NTLM handshake between our client and server", () => {
  const users = new Map([["Administrator", "S3cret!"]]);

  function handshake(user: string, password: string) {
    const negotiate = buildNegotiateMessage();
    const { message: challenge } = buildServerChallenge(negotiate, { now: Date.UTC(2024, 0, 1) });
    const { message: authenticate, keys } = buildClientAuthenticate({ user, password, negotiate, challenge });
    return {
      negotiate,
      challenge,
      authenticate,
      keys,
      result: verifyAuthenticate({ negotiate, challenge, authenticate, users }),
    };
  }

  it("succeeds with a MIC (the server sends MsvAvTimestamp) and both sides agree on the keys", () => {
    const { authenticate, keys, result } = handshake("administrator", "S3cret!");
    const parsed = parseAuthenticateMessage(authenticate);
    expect(parsed.mic).toBeDefined();
    expect(toHex(parsed.lmChallengeResponse)).toBe("00".repeat(24));
    expect(result.ok).toBe(true);
    if (result.ok) expect(toHex(result.keys.exportedSessionKey)).toBe(toHex(keys.exportedSessionKey));
  });

  it("tells a wrong password from an unknown user", () => {
    expect(handshake("Administrator", "wrong").result).toMatchObject({ ok: false, reason: "wrong-password" });
    expect(handshake("nobody", "S3cret!").result).toMatchObject({ ok: false, reason: "unknown-user", user: "nobody" });
  });

  it("refuses a tampered message through the MIC", () => {
    const negotiate = buildNegotiateMessage();
    const { message: challenge } = buildServerChallenge(negotiate);
    const { message: authenticate } = buildClientAuthenticate({
      user: "Administrator",
      password: "S3cret!",
      negotiate,
      challenge,
    });
    // Flip a flag bit: the proof still matches, the MIC does not.
    const tampered = authenticate.slice();
    tampered[60]! ^= NTLM_FLAGS.SIGN;
    expect(verifyAuthenticate({ negotiate, challenge, authenticate: tampered, users })).toMatchObject({
      ok: false,
      reason: "bad-mic",
    });
  });

  it("round-trips the NEGOTIATE message", () => {
    const n = buildNegotiateMessage({ flags: 0x12345678 });
    expect(n.length).toBe(40);
    expect(parseNegotiateMessage(n).flags).toBe(0x12345678);
  });

  it("writes FILETIMEs", () => {
    expect(toHex(fileTime(0))).toBe("00803ed5deb19d01");
  });
});

describe("hostile NTLM input", () => {
  it.each([
    ["empty", new Uint8Array(0)],
    ["garbage", new TextEncoder().encode("not an NTLM message at all, just text")],
    ["wrong type", buildNegotiateMessage()],
    ["truncated", CHALLENGE_MESSAGE.subarray(0, 30)],
  ])("refuses %s as a CHALLENGE with invalid-message", (_name, bytes) => {
    const error = thrown(() => parseChallengeMessage(bytes));
    expect(isWsmanError(error, "invalid-message")).toBe(true);
  });

  it("refuses fields pointing past the end and oversize messages", () => {
    const bad = AUTHENTICATE_MESSAGE.slice();
    new DataView(bad.buffer).setUint32(24, 0xfffffff0, true);
    expect(() => parseAuthenticateMessage(bad)).toThrow(/runs past the end/);
    const big = new Uint8Array(9000);
    big.set(AUTHENTICATE_MESSAGE);
    expect(() => parseAuthenticateMessage(big)).toThrow(expect.objectContaining({ code: "limit-exceeded" }));
  });

  it("refuses AV pairs without EOL", () => {
    const bad = CHALLENGE_MESSAGE.slice(0, CHALLENGE_MESSAGE.length - 4);
    new DataView(bad.buffer).setUint16(40, 32, true);
    new DataView(bad.buffer).setUint16(42, 32, true);
    expect(() => parseChallengeMessage(bad)).toThrow(/MsvAvEOL/);
  });
});
