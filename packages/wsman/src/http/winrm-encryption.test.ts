import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isWsmanError } from "../errors.js";
import { NtlmSession } from "../auth/ntlm-session.js";
import { fromHex, thrown, toHex } from "@hyperv-kvp/test-support";
import {
  ENCRYPTED_CONTENT_TYPE,
  MAX_ENCRYPTED_PARTS,
  decodeEncryptedBody,
  decodeSoapText,
  encodeEncryptedBody,
  encryptedBoundaryOf,
  isEncryptedContentType,
  parseHeaderParameters,
  sealBody,
  unsealBody,
} from "./winrm-encryption.js";

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const bytes = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));
const SIGNATURE = fromHex("010000007fb38ec5c55d497600000000");
const SEALED = fromHex("54e50165bf1936dc996020c1811b0f06fb5f");

describe("the multipart/encrypted layout (MS-WSMV 2.2.9.1.1, as pywinrm and Windows write it)", () => {
  it("writes the exact Content-Type", () => {
    expect(ENCRYPTED_CONTENT_TYPE).toBe(
      'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"',
    );
  });

  it("writes the exact body: two parts, tab-indented headers, length field, signature, sealed data, closing boundary", () => {
    const body = encodeEncryptedBody([
      { originalType: "application/soap+xml;charset=UTF-8", originalLength: 18, signature: SIGNATURE, sealed: SEALED },
    ]);
    const expected =
      "--Encrypted Boundary\r\n" +
      "\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
      "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=18\r\n" +
      "--Encrypted Boundary\r\n" +
      "\tContent-Type: application/octet-stream\r\n" +
      latin1(fromHex("10000000")) +
      latin1(SIGNATURE) +
      latin1(SEALED) +
      "--Encrypted Boundary--\r\n";
    expect(latin1(body)).toBe(expected);
    expect(decodeEncryptedBody(body, ENCRYPTED_CONTENT_TYPE)).toEqual([
      { originalType: "application/soap+xml;charset=UTF-8", originalLength: 18, signature: SIGNATURE, sealed: SEALED },
    ]);
  });

  it("carries the MS-NLMP 4.2.4.4 message through a session: seal, then unseal on the other side", () => {
    const key = { exportedSessionKey: new Uint8Array(16).fill(0x55), flags: 0xe2888235 };
    const plaintext = fromHex("50006c00610069006e007400650078007400");
    const body = sealBody(new NtlmSession(key, "client"), plaintext, "text/plain;charset=UTF-16");
    const [part] = decodeEncryptedBody(body, ENCRYPTED_CONTENT_TYPE);
    expect(toHex(part!.signature)).toBe(toHex(SIGNATURE));
    expect(toHex(part!.sealed)).toBe(toHex(SEALED));
    const opened = unsealBody(new NtlmSession(key, "server"), body, ENCRYPTED_CONTENT_TYPE);
    expect(opened.originalType).toBe("text/plain;charset=UTF-16");
    expect(decodeSoapText(opened.message, opened.originalType)).toBe("Plaintext");
  });
});

describe("reading what servers send, tolerantly", () => {
  const content = (s: string) => bytes(s);
  const binary = latin1(fromHex("10000000")) + latin1(SIGNATURE) + latin1(SEALED);

  it.each([
    [
      "lower case, no tabs, LF line ends",
      "--Encrypted Boundary\ncontent-type: application/http-spnego-session-encrypted\noriginalcontent: type=application/soap+xml;charset=UTF-8;length=18\n--Encrypted Boundary\ncontent-type: Application/Octet-Stream\n" +
        binary +
        "--Encrypted Boundary--\n",
    ],
    [
      "spaces around names and values, a preamble line",
      "\r\n--Encrypted Boundary\r\n  Content-Type :  application/HTTP-SPNEGO-session-encrypted \r\n\tOriginalContent: type=application/soap+xml; charset=UTF-8; Length=18\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n" +
        binary +
        "\r\n--Encrypted Boundary--\r\n",
    ],
    [
      "a MIME blank line before the data, no final CRLF",
      "--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=18\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\r\n" +
        binary +
        "--Encrypted Boundary--",
    ],
  ])("%s", (_name, text) => {
    const [part] = decodeEncryptedBody(
      content(text),
      'Multipart/Encrypted; protocol="application/HTTP-SPNEGO-session-encrypted"; boundary="Encrypted Boundary"',
    );
    expect(toHex(part!.sealed)).toBe(toHex(SEALED));
    expect(toHex(part!.signature)).toBe(toHex(SIGNATURE));
    expect(part!.originalLength).toBe(18);
    expect(part!.originalType.toLowerCase()).toBe("application/soap+xml;charset=utf-8");
  });

  it("reads several parts in order and any boundary the header names", () => {
    const parts = [0, 1, 2].map((i) => ({
      originalType: "application/soap+xml;charset=UTF-8",
      originalLength: 3,
      signature: new Uint8Array(16).fill(i),
      sealed: Uint8Array.of(i, i, i),
    }));
    const body = encodeEncryptedBody(parts, "b-42");
    expect(
      decodeEncryptedBody(
        body,
        "multipart/x-multi-encrypted;protocol=application/HTTP-SPNEGO-session-encrypted;boundary=b-42",
      ),
    ).toEqual(parts);
  });

  it("binary data that looks like a boundary does not cut a part short (Length decides)", () => {
    const sealed = bytes("--Encrypted Boundary--\r\n--Encrypted Boundary\r\n");
    const part = {
      originalType: "application/soap+xml;charset=UTF-8",
      originalLength: sealed.length,
      signature: SIGNATURE,
      sealed,
    };
    expect(decodeEncryptedBody(encodeEncryptedBody([part]), ENCRYPTED_CONTENT_TYPE)).toEqual([part]);
  });

  it("recognizes the Content-Type in its spellings, and nothing else", () => {
    expect(isEncryptedContentType(ENCRYPTED_CONTENT_TYPE)).toBe(true);
    expect(
      encryptedBoundaryOf(
        'multipart/encrypted ; Protocol="application/http-spnego-session-encrypted" ; Boundary="Encrypted Boundary"',
      ),
    ).toBe("Encrypted Boundary");
    expect(isEncryptedContentType("application/soap+xml;charset=UTF-8")).toBe(false);
    expect(
      isEncryptedContentType(
        'multipart/encrypted;protocol="application/HTTP-CredSSP-session-encrypted";boundary="Encrypted Boundary"',
      ),
    ).toBe(false);
    expect(isEncryptedContentType('multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"')).toBe(
      false,
    );
    expect(isEncryptedContentType(undefined)).toBe(false);
    expect(parseHeaderParameters('a; x="q;\\"uoted"; Y=1').parameters).toEqual(
      new Map([
        ["x", 'q;"uoted'],
        ["y", "1"],
      ]),
    );
  });

  it("decodes UTF-8 and UTF-16 SOAP text", () => {
    expect(decodeSoapText(new TextEncoder().encode("<a>é</a>"), "application/soap+xml;charset=UTF-8")).toBe("<a>é</a>");
    expect(
      decodeSoapText(new Uint8Array(Buffer.from("\ufeff<a/>", "utf16le")), "application/soap+xml;charset=UTF-16"),
    ).toBe("<a/>");
    expect(decodeSoapText(new Uint8Array(Buffer.from("<a/>")), "application/soap+xml")).toBe("<a/>");
    expect(thrown(() => decodeSoapText(new Uint8Array(1), "application/soap+xml;charset=EBCDIC"))).toMatchObject({
      code: "invalid-message",
    });
  });
});

describe("hostile encrypted bodies", () => {
  const good = latin1(
    encodeEncryptedBody([
      { originalType: "application/soap+xml;charset=UTF-8", originalLength: 18, signature: SIGNATURE, sealed: SEALED },
    ]),
  );

  it.each([
    ["empty", ""],
    ["no boundary", "hello"],
    ["text before the boundary", "junk\r\n" + good],
    [
      "wrong protocol in the part",
      good.replace("application/HTTP-SPNEGO-session-encrypted", "application/HTTP-Kerberos-session-encrypted"),
    ],
    ["no OriginalContent", good.replace("OriginalContent", "Original-Content")],
    ["no Length", good.replace(";Length=18", "")],
    ["negative Length", good.replace("Length=18", "Length=-18")],
    ["no type", good.replace("type=", "kind=")],
    ["second part not octet-stream", good.replace("application/octet-stream", "text/plain")],
    ["truncated in the signature", good.slice(0, good.indexOf("octet-stream\r\n") + 20)],
    ["truncated in the headers", good.slice(0, 60)],
    ["a header line without a colon", good.replace("\tOriginalContent:", "\tOriginalContent")],
    ["a huge signature length", good.replace(latin1(fromHex("10000000")), latin1(fromHex("ffffff7f")))],
  ])("refuses %s with invalid-message", (_name, text) => {
    expect(thrown(() => decodeEncryptedBody(bytes(text), ENCRYPTED_CONTENT_TYPE))).toMatchObject({
      code: "invalid-message",
    });
  });

  it("refuses a Content-Type that is not SPNEGO-encrypted", () => {
    expect(thrown(() => decodeEncryptedBody(bytes(good), "application/soap+xml"))).toMatchObject({
      code: "invalid-message",
    });
  });

  it.each([
    ["Length larger than the data", good.replace("Length=18", "Length=19")],
    ["Length smaller than the data", good.replace("Length=18", "Length=10")],
    ["data cut off", good.replace(latin1(SEALED), latin1(SEALED.subarray(0, 9)))],
  ])("%s is an integrity failure", (_name, text) => {
    expect(thrown(() => decodeEncryptedBody(bytes(text), ENCRYPTED_CONTENT_TYPE))).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/Length=\d+ but carries \d+ sealed bytes/),
    });
  });

  it("says how many sealed bytes there really are", () => {
    for (const [length, carried] of [
      [19, 18],
      [10, 18],
    ] as const) {
      const error = thrown(() =>
        decodeEncryptedBody(bytes(good.replace("Length=18", `Length=${length}`)), ENCRYPTED_CONTENT_TYPE),
      );
      expect(error).toMatchObject({
        code: "integrity",
        message: `encrypted message says Length=${length} but carries ${carried} sealed bytes: it was altered or truncated`,
      });
    }
  });

  it("a long boundary over 8 MiB of near-misses is refused with the exact count", () => {
    // 200 dashes (the longest boundary read), then data that nearly repeats the delimiter at
    // every byte: a byte-by-byte search compares ~200 bytes at each of 8 Mi positions.
    const boundary = "-".repeat(200);
    const head = bytes(
      `--${boundary}\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=99999999\r\n` +
        `--${boundary}\r\n\tContent-Type: application/octet-stream\r\n`,
    );
    const body = new Uint8Array(8 * 1024 * 1024).fill(0x2d);
    body.set(head);
    body.set([16, 0, 0, 0], head.length);
    body.set(SIGNATURE, head.length + 4);
    for (let i = head.length + 20 + 201; i < body.length; i += 202) body[i] = 0x78;
    const contentType = `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="${boundary}"`;
    // (The search is the engine's string search, tens of milliseconds here where the old
    // byte-by-byte one took about a second; no timing is asserted, by house rule.)
    const error = thrown(() => decodeEncryptedBody(body, contentType));
    expect(error).toMatchObject({
      code: "integrity",
      message: expect.stringMatching(/Length=99999999 but carries \d+ sealed bytes/),
    });
  });

  it("refuses more than MAX_ENCRYPTED_PARTS parts", () => {
    const part = { originalType: "t", originalLength: 0, signature: new Uint8Array(0), sealed: new Uint8Array(0) };
    const body = encodeEncryptedBody(Array.from({ length: MAX_ENCRYPTED_PARTS + 1 }, () => part));
    expect(thrown(() => decodeEncryptedBody(body, ENCRYPTED_CONTENT_TYPE))).toMatchObject({ code: "limit-exceeded" });
  });

  it("refuses to write a header with a line break", () => {
    expect(
      thrown(() =>
        encodeEncryptedBody([
          { originalType: "a\r\nX: y", originalLength: 0, signature: SIGNATURE, sealed: new Uint8Array(0) },
        ]),
      ),
    ).toMatchObject({ code: "invalid-argument" });
  });
});

describe("fuzz", () => {
  const key = { exportedSessionKey: new Uint8Array(16).fill(0x55), flags: 0xe2888235 };
  const sealedGood = (message: Uint8Array) =>
    encodeEncryptedBody([
      {
        originalType: "application/soap+xml;charset=UTF-8",
        originalLength: message.length,
        signature: SIGNATURE,
        sealed: message,
      },
    ]);

  it("random edits of a valid body fail only with WsmanErrors", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (payload, edits, cut) => {
          const body = sealedGood(payload).slice();
          for (const [at, value] of edits) body[at % body.length] = value;
          const input = cut % 3 === 0 ? body.subarray(0, cut % (body.length + 1)) : body;
          try {
            decodeEncryptedBody(input, ENCRYPTED_CONTENT_TYPE);
          } catch (error) {
            expect(isWsmanError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("any message round-trips through sealBody/unsealBody", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }), (messages) => {
        const client = new NtlmSession(key, "client");
        const server = new NtlmSession(key, "server");
        for (const m of messages)
          expect(unsealBody(server, sealBody(client, m), ENCRYPTED_CONTENT_TYPE).message).toEqual(m);
      }),
      { numRuns: 200 },
    );
  });
});
