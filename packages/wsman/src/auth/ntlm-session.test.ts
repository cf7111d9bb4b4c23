import { describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import { NTLM_FLAGS, deriveSessionKeys } from "./ntlm.js";
import { NTLM_SEALING_FLAGS, NtlmSession, missingSealingFlags } from "./ntlm-session.js";
import { fromHex, thrown, toHex } from "@hyperv-kvp/test-support";

// MS-NLMP 4.2.4.4 (GSS_WrapEx examples, NTLMv2): RandomSessionKey 55…55 (the exported session
// key, with key exchange), the negotiated flags of the 4.2.4.3 AUTHENTICATE_MESSAGE, SeqNum 0,
// Plaintext "Plaintext" in UTF-16LE.
const EXPORTED_SESSION_KEY = new Uint8Array(16).fill(0x55);
const FLAGS = 0xe2888235;
const PLAINTEXT = fromHex("50006c00610069006e007400650078007400");

describe("MS-NLMP 4.2.4.4 NTLMv2 GSS_WrapEx vectors", () => {
  it("the negotiated flags are the sealing variant the vector uses", () => {
    expect(FLAGS & NTLM_SEALING_FLAGS).toBe(NTLM_SEALING_FLAGS);
    expect(FLAGS & NTLM_FLAGS.KEY_EXCH).not.toBe(0);
    const keys = deriveSessionKeys(EXPORTED_SESSION_KEY);
    expect(toHex(keys.clientSealingKey)).toBe("59f600973cc4960a25480a7c196e4c58");
    expect(toHex(keys.clientSigningKey)).toBe("4788dc861b4782f35d43fd98fe1a2d39");
  });

  it("the client seals and signs Plaintext byte for byte as published", () => {
    const { sealed, signature } = new NtlmSession(
      { exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS },
      "client",
    ).wrap(PLAINTEXT);
    expect(toHex(sealed)).toBe("54e50165bf1936dc996020c1811b0f06fb5f");
    expect(toHex(signature)).toBe("010000007fb38ec5c55d497600000000");
  });

  it("the server unseals the published message and verifies its signature", () => {
    const server = new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS }, "server");
    const message = server.unwrap(
      fromHex("54e50165bf1936dc996020c1811b0f06fb5f"),
      fromHex("010000007fb38ec5c55d497600000000"),
    );
    expect(toHex(message)).toBe(toHex(PLAINTEXT));
    expect(new TextDecoder("utf-16le").decode(message)).toBe("Plaintext");
    expect(server.receiveSequence).toBe(1);
  });

  it("without key exchange the checksum is the bare HMAC (4.2.4.4's value before RC4)", () => {
    const flags = FLAGS & ~NTLM_FLAGS.KEY_EXCH;
    const { sealed, signature } = new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags }, "client").wrap(
      PLAINTEXT,
    );
    expect(toHex(sealed)).toBe("54e50165bf1936dc996020c1811b0f06fb5f");
    expect(toHex(signature)).toBe("0100000070352851f256430900000000");
  });
});

// MS-NLMP publishes only the client's first message. The server direction and the second
// message (RC4 streams continuing, SeqNum 1) were computed with python3-ntlm-auth 1.4's
// SessionSecurity (an independent implementation, Debian bookworm) from the same inputs.
describe("continuation and the server direction (cross-checked with ntlm-auth)", () => {
  it("the client's second message continues both RC4 streams with SeqNum 1", () => {
    const client = new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS }, "client");
    client.wrap(PLAINTEXT);
    const second = client.wrap(PLAINTEXT);
    expect(toHex(second.sealed)).toBe("64c308e09ea236e7f4232553c94a01e700fa");
    expect(toHex(second.signature)).toBe("01000000255405955d31d8c401000000");
    expect(client.sendSequence).toBe(2);
  });

  it("the server seals with the server-to-client keys", () => {
    const server = new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS }, "server");
    const first = server.wrap(PLAINTEXT);
    expect(toHex(first.sealed)).toBe("160871b730ba74e946c453d7465b54278dd0");
    expect(toHex(first.signature)).toBe("01000000b298b847ce7c580700000000");
    const second = server.wrap(PLAINTEXT);
    expect(toHex(second.sealed)).toBe("3db8ae180836dceebba76946aab5e969c977");
    expect(toHex(second.signature)).toBe("010000001c358b931a2feeb201000000");
  });
});

describe("a session between our client and server", () => {
  const pair = () => ({
    client: new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS }, "client"),
    server: new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS }, "server"),
  });
  const text = (n: number) => new TextEncoder().encode(`<s:Envelope>message ${n} ${"x".repeat(n * 37)}</s:Envelope>`);

  it("round-trips interleaved messages both ways, sequence numbers per direction", () => {
    const { client, server } = pair();
    for (let i = 0; i < 20; i++) {
      const request = client.wrap(text(i));
      expect(new TextDecoder().decode(server.unwrap(request.sealed, request.signature))).toContain(`message ${i} `);
      for (let j = 0; j < i % 3; j++) {
        const reply = server.wrap(text(100 + j));
        expect(client.unwrap(reply.sealed, reply.signature)).toEqual(text(100 + j));
      }
    }
    expect(client.sendSequence).toBe(20);
    expect(server.receiveSequence).toBe(20);
    expect(server.sendSequence).toBe(client.receiveSequence);
  });

  it("an empty message seals to nothing but is still signed", () => {
    const { client, server } = pair();
    const m = client.wrap(new Uint8Array(0));
    expect(m.sealed.length).toBe(0);
    expect(server.unwrap(m.sealed, m.signature).length).toBe(0);
  });

  it("refuses an altered message, then refuses to go on", () => {
    const { client, server } = pair();
    const m = client.wrap(text(1));
    const tampered = m.sealed.slice();
    tampered[5]! ^= 0x01;
    const error = thrown(() => server.unwrap(tampered, m.signature));
    expect(isWsmanError(error, "integrity")).toBe(true);
    expect((error as Error).message).toMatch(/does not match its signature: it was altered/);
    const next = client.wrap(text(2));
    expect(thrown(() => server.unwrap(next.sealed, next.signature))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/unusable/),
    });
    expect(thrown(() => server.wrap(text(3)))).toMatchObject({ code: "integrity" });
  });

  it("refuses an altered checksum", () => {
    const { client, server } = pair();
    const m = client.wrap(text(1));
    const signature = m.signature.slice();
    signature[4]! ^= 0x80;
    expect(thrown(() => server.unwrap(m.sealed, signature))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/altered/),
    });
  });

  it("refuses a replayed message", () => {
    const { client, server } = pair();
    const first = client.wrap(text(1));
    server.unwrap(first.sealed, first.signature);
    expect(thrown(() => server.unwrap(first.sealed, first.signature))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/sequence number 0 where 1 was expected: it was replayed, reordered or dropped/),
    });
  });

  it("refuses reordered messages", () => {
    const { client, server } = pair();
    client.wrap(text(1));
    const second = client.wrap(text(2));
    expect(thrown(() => server.unwrap(second.sealed, second.signature))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/sequence number 1 where 0/),
    });
  });

  it("refuses a message sealed with other keys", () => {
    const other = new NtlmSession({ exportedSessionKey: new Uint8Array(16).fill(0x66), flags: FLAGS }, "client");
    const m = other.wrap(text(1));
    expect(thrown(() => pair().server.unwrap(m.sealed, m.signature))).toMatchObject({ code: "integrity" });
  });

  it.each([
    ["short", fromHex("01000000")],
    ["long", new Uint8Array(17)],
    ["version 2", fromHex("020000007fb38ec5c55d497600000000")],
  ])("refuses a %s signature", (_name, signature) => {
    expect(thrown(() => pair().server.unwrap(new Uint8Array(4), signature))).toMatchObject({ code: "integrity" });
  });

  it("refuses flags that cannot seal, and a key of the wrong size", () => {
    for (const without of [NTLM_FLAGS.SEAL, NTLM_FLAGS.EXTENDED_SESSIONSECURITY, NTLM_FLAGS.N128]) {
      expect(
        thrown(() => new NtlmSession({ exportedSessionKey: EXPORTED_SESSION_KEY, flags: FLAGS & ~without }, "client")),
      ).toMatchObject({
        code: "invalid-argument",
      });
    }
    expect(missingSealingFlags(0)).toEqual(["SEAL", "EXTENDED_SESSIONSECURITY", "128"]);
    expect(
      thrown(() => new NtlmSession({ exportedSessionKey: new Uint8Array(8), flags: FLAGS }, "client")),
    ).toMatchObject({ code: "invalid-argument" });
  });
});
