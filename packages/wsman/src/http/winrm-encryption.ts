/**
 * WinRM's HTTP message encryption (MS-WSMV 2.2.9.1.1, "Negotiate Encrypted Message") over
 * bytes: the multipart/encrypted body that carries a SOAP message sealed with the NTLM
 * session over plain HTTP. We write exactly the layout Windows and pywinrm write (some
 * readers compare it byte for byte) and read tolerantly what servers send: header names in
 * any case, spaces or tabs around them, LF for CRLF, quoted or bare parameters.
 *
 * One part pair is:
 *   --Encrypted Boundary\r\n
 *   \tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n
 *   \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext bytes>\r\n
 *   --Encrypted Boundary\r\n
 *   \tContent-Type: application/octet-stream\r\n
 *   <uint32 LE signature length><signature><sealed bytes>
 * and the body ends with `--Encrypted Boundary--\r\n`.
 */
import { concatBytes } from "../bytes.js";
import { WsmanError } from "../errors.js";
import type { NtlmSession } from "../auth/ntlm-session.js";

/** The protocol parameter of NTLM/Kerberos (SPNEGO) encrypted messages. */
export const SPNEGO_ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted";
/** The boundary Windows uses (MS-WSMV 2.2.9.1.1 fixes it). */
export const ENCRYPTED_BOUNDARY = "Encrypted Boundary";
/** The Content-Type of a sealed request or reply, exactly as Windows and pywinrm write it. */
export const ENCRYPTED_CONTENT_TYPE = `multipart/encrypted;protocol="${SPNEGO_ENCRYPTED_PROTOCOL}";boundary="${ENCRYPTED_BOUNDARY}"`;
/** The media type of the plaintext: SOAP 1.2 in UTF-8. */
export const SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8";
/** Most encrypted parts one body may have (NTLM bodies have one; CredSSP chunks by 16 KiB). */
export const MAX_ENCRYPTED_PARTS = 1024;
/** Largest signature (encryption header) accepted; NTLM's is 16 bytes, Kerberos' tens. */
export const MAX_SIGNATURE_BYTES = 1024;

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** One sealed message inside an encrypted body. */
export interface EncryptedPart {
  /** OriginalContent's `type`, with its own parameters (e.g. `application/soap+xml;charset=UTF-8`). */
  readonly originalType: string;
  /** OriginalContent's `Length`: bytes of the plaintext (and so of `sealed`, for RC4). */
  readonly originalLength: number;
  /** The encryption header: for NTLM the 16-byte message signature. */
  readonly signature: Uint8Array;
  /** The sealed bytes. */
  readonly sealed: Uint8Array;
}

function invalid(message: string): WsmanError {
  return new WsmanError("invalid-message", `invalid encrypted message: ${message}`);
}

/**
 * The body for `parts`, in Windows' exact layout.
 * @throws {WsmanError} `invalid-argument` for a type with a line break or a length that
 *   does not fit.
 */
export function encodeEncryptedBody(parts: readonly EncryptedPart[], boundary = ENCRYPTED_BOUNDARY): Uint8Array {
  const out: Uint8Array[] = [];
  for (const part of parts) {
    if (/[\r\n]/.test(part.originalType) || /[\r\n]/.test(boundary))
      throw new WsmanError("invalid-argument", "invalid encrypted part: a line break in a header");
    if (!Number.isSafeInteger(part.originalLength) || part.originalLength < 0)
      throw new WsmanError("invalid-argument", `invalid encrypted part: Length ${part.originalLength}`);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, part.signature.length, true);
    out.push(
      encoder.encode(
        `--${boundary}\r\n\tContent-Type: ${SPNEGO_ENCRYPTED_PROTOCOL}\r\n\tOriginalContent: type=${part.originalType};Length=${part.originalLength}\r\n` +
          `--${boundary}\r\n\tContent-Type: application/octet-stream\r\n`,
      ),
      length,
      part.signature,
      part.sealed,
    );
  }
  out.push(encoder.encode(`--${boundary}--\r\n`));
  return concatBytes(...out);
}

/**
 * Splits a header value into its first item and `name=value` parameters, honouring quotes;
 * parameter names lower-cased.
 */
export function parseHeaderParameters(value: string): { value: string; parameters: Map<string, string> } {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === "\\" && i + 1 < value.length) current += value[++i]!;
      else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ";") {
      items.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  items.push(current);
  const parameters = new Map<string, string>();
  for (const item of items.slice(1)) {
    const eq = item.indexOf("=");
    if (eq < 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    // A repeated parameter is ambiguous; the first one wins, as in most MIME readers.
    if (name !== "" && !parameters.has(name)) parameters.set(name, item.slice(eq + 1).trim());
  }
  return { value: items[0]!.trim(), parameters };
}

/**
 * The boundary of a Content-Type header when it is WinRM's SPNEGO-encrypted multipart
 * (`multipart/encrypted` or `multipart/x-multi-encrypted`, any case); undefined otherwise.
 */
export function encryptedBoundaryOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const { value, parameters } = parseHeaderParameters(contentType);
  const type = value.toLowerCase();
  if (type !== "multipart/encrypted" && type !== "multipart/x-multi-encrypted") return undefined;
  if (parameters.get("protocol")?.toLowerCase() !== SPNEGO_ENCRYPTED_PROTOCOL.toLowerCase()) return undefined;
  const boundary = parameters.get("boundary");
  return boundary === undefined || boundary === "" || boundary.length > 200 ? undefined : boundary;
}

/** True when `contentType` announces a WinRM SPNEGO-encrypted body. */
export function isEncryptedContentType(contentType: string | undefined): boolean {
  return encryptedBoundaryOf(contentType) !== undefined;
}

/** Reads one line starting at `at` (up to LF, CR dropped); undefined at the end. */
function readLine(body: Uint8Array, at: number): { line: string; next: number } | undefined {
  if (at >= body.length) return undefined;
  const lf = body.indexOf(0x0a, at);
  const end = lf < 0 ? body.length : lf;
  const line = latin1.decode(body.subarray(at, end > at && body[end - 1] === 0x0d ? end - 1 : end));
  return { line, next: lf < 0 ? body.length : lf + 1 };
}

function headerOf(line: string): { name: string; value: string } | undefined {
  const colon = line.indexOf(":");
  return colon < 0
    ? undefined
    : { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() };
}

/**
 * The encrypted parts of a body announced by `contentType`, in order. The sealed bytes of a
 * part are exactly `Length` long (RC4 keeps the length), so binary data that happens to look
 * like a boundary cannot cut a part short.
 * @throws {WsmanError} `invalid-message` for a body or header that is not this layout,
 *   `limit-exceeded` past {@link MAX_ENCRYPTED_PARTS}, `integrity` when the sealed data is
 *   not as long as its OriginalContent Length says.
 */
export function decodeEncryptedBody(body: Uint8Array, contentType: string): EncryptedPart[] {
  const boundary = encryptedBoundaryOf(contentType);
  if (boundary === undefined)
    throw invalid(
      `Content-Type ${JSON.stringify(contentType.slice(0, 200))} is not multipart/encrypted with protocol ${SPNEGO_ENCRYPTED_PROTOCOL}`,
    );
  const delimiter = `--${boundary}`;
  const isDelimiter = (line: string) => line.trim() === delimiter;
  const parts: EncryptedPart[] = [];
  let at = 0;
  // Anything before the first delimiter is preamble (none in practice); skip blank lines.
  for (;;) {
    const l = readLine(body, at);
    if (l === undefined) throw invalid(`no ${delimiter} line`);
    at = l.next;
    if (isDelimiter(l.line)) break;
    if (l.line.trim() !== "") throw invalid(`unexpected text before the first boundary`);
  }
  for (;;) {
    if (parts.length >= MAX_ENCRYPTED_PARTS)
      throw new WsmanError("limit-exceeded", `encrypted message with more than ${MAX_ENCRYPTED_PARTS} parts`);
    // The first part: headers up to the next delimiter.
    let protocol: string | undefined;
    let original: string | undefined;
    for (;;) {
      const l = readLine(body, at);
      if (l === undefined) throw invalid("the body ends inside the encryption header part");
      at = l.next;
      if (isDelimiter(l.line)) break;
      if (l.line.trim() === "") continue;
      const h = headerOf(l.line);
      if (h === undefined) throw invalid(`a header line without a colon: ${JSON.stringify(l.line.slice(0, 100))}`);
      if (h.name === "content-type") protocol = h.value;
      else if (h.name === "originalcontent") original = h.value;
    }
    if (protocol === undefined || protocol.toLowerCase() !== SPNEGO_ENCRYPTED_PROTOCOL.toLowerCase()) {
      throw invalid(
        `the first part's Content-Type is ${JSON.stringify(protocol ?? "")}, expected ${SPNEGO_ENCRYPTED_PROTOCOL}`,
      );
    }
    if (original === undefined) throw invalid("no OriginalContent header");
    const { value: typeValue, parameters } = parseHeaderParameters(original);
    // OriginalContent is `type=<media type with its parameters>;Length=N`: the media type's
    // own parameters (charset) follow `type=` as further `;` items.
    const typeMatch = /^type\s*=\s*(.*)$/i.exec(typeValue);
    if (typeMatch === null) throw invalid(`OriginalContent ${JSON.stringify(original.slice(0, 200))} has no type`);
    const lengthText = parameters.get("length");
    if (lengthText === undefined || !/^[0-9]{1,15}$/.test(lengthText))
      throw invalid(`OriginalContent ${JSON.stringify(original.slice(0, 200))} has no valid Length`);
    const originalLength = Number(lengthText);
    const typeParameters = [...parameters].filter(([name]) => name !== "length").map(([name, v]) => `${name}=${v}`);
    const originalType = [typeMatch[1]!.trim(), ...typeParameters].join(";");

    // The second part: one Content-Type line, then the binary data right after it.
    const l = readLine(body, at);
    const h = l === undefined ? undefined : headerOf(l.line);
    if (
      l === undefined ||
      h === undefined ||
      h.name !== "content-type" ||
      h.value.toLowerCase() !== "application/octet-stream"
    ) {
      throw invalid(`the second part does not start with Content-Type: application/octet-stream`);
    }
    at = l.next;
    // Tolerate a blank line there (MIME style); a length field cannot start with CR LF.
    if (body[at] === 0x0d && body[at + 1] === 0x0a) at += 2;
    else if (body[at] === 0x0a) at += 1;
    if (at + 4 > body.length) throw invalid("the body ends before the signature length");
    const signatureLength = new DataView(body.buffer, body.byteOffset + at, 4).getUint32(0, true);
    at += 4;
    if (signatureLength > MAX_SIGNATURE_BYTES)
      throw invalid(`signature length ${signatureLength} exceeds ${MAX_SIGNATURE_BYTES}`);
    if (at + signatureLength > body.length) throw invalid("the body ends inside the signature");
    const signature = body.slice(at, at + signatureLength);
    at += signatureLength;
    const end = at + originalLength;
    const next = end <= body.length ? nextDelimiter(body, end, delimiter) : undefined;
    if (next === undefined) {
      // Only for the message. A byte-by-byte search pays the boundary's length at every byte
      // of hostile data (a 200-character boundary over 8 MiB of near-misses: about a second);
      // the engine's string search (Boyer-Moore) does not. latin1 decodes one byte to one
      // character, so the index is a byte offset.
      const found = latin1.decode(body.subarray(at)).indexOf(delimiter);
      const actual = found < 0 ? body.length - at : found;
      throw new WsmanError(
        "integrity",
        `encrypted message says Length=${originalLength} but carries ${actual} sealed bytes: it was altered or truncated`,
      );
    }
    parts.push({ originalType, originalLength, signature, sealed: body.slice(at, end) });
    at = next.next;
    if (next.close) return parts;
  }
}

/** The delimiter line that must follow sealed data ending at `at` (a CRLF before it tolerated). */
function nextDelimiter(body: Uint8Array, at: number, delimiter: string): { next: number; close: boolean } | undefined {
  let start = at;
  if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
  else if (body[start] === 0x0a) start += 1;
  const attempt = (from: number) => {
    const l = readLine(body, from);
    if (l === undefined) return undefined;
    const t = l.line.trim();
    if (t === `${delimiter}--`) return { next: l.next, close: true };
    if (t === delimiter) return { next: l.next, close: false };
    return undefined;
  };
  // Sealed data ends exactly at `at` (RC4 keeps lengths); one line break before the
  // delimiter is tolerated.
  return attempt(at) ?? (start === at ? undefined : attempt(start));
}

/**
 * Seals `message` (the SOAP bytes) with `session` into an encrypted body; send it with
 * {@link ENCRYPTED_CONTENT_TYPE}.
 * @throws {WsmanError} `integrity` when the session already failed.
 */
export function sealBody(session: NtlmSession, message: Uint8Array, originalType = SOAP_CONTENT_TYPE): Uint8Array {
  const { sealed, signature } = session.wrap(message);
  return encodeEncryptedBody([{ originalType, originalLength: message.length, signature, sealed }]);
}

/**
 * Unseals and verifies an encrypted body with `session`: the plaintext of its parts, in
 * order, and the original media type (of the first part).
 * @throws {WsmanError} `invalid-message`/`limit-exceeded` for a malformed body, `integrity`
 *   when a part does not verify (altered, replayed, reordered) or its length is wrong.
 */
export function unsealBody(
  session: NtlmSession,
  body: Uint8Array,
  contentType: string,
): { message: Uint8Array; originalType: string } {
  const parts = decodeEncryptedBody(body, contentType);
  const messages = parts.map((part) => {
    const message = session.unwrap(part.sealed, part.signature);
    if (message.length !== part.originalLength) {
      throw new WsmanError(
        "integrity",
        `encrypted message says Length=${part.originalLength} but unseals to ${message.length} bytes`,
      );
    }
    return message;
  });
  return { message: concatBytes(...messages), originalType: parts[0]?.originalType ?? SOAP_CONTENT_TYPE };
}

/**
 * The text of a SOAP body of media type `type`: UTF-8 unless its charset says UTF-16
 * (WinRM answers in the charset it was asked in; a BOM decides the byte order).
 * @throws {WsmanError} `invalid-message` for a charset other than UTF-8 or UTF-16.
 */
export function decodeSoapText(bytes: Uint8Array, type: string): string {
  const charset = (parseHeaderParameters(type).parameters.get("charset") ?? "utf-8").toLowerCase();
  if (charset === "utf-8" || charset === "utf8") return new TextDecoder("utf-8").decode(bytes);
  if (charset === "utf-16" || charset === "utf-16le" || charset === "utf-16be") {
    const be = charset === "utf-16be" || (charset === "utf-16" && bytes[0] === 0xfe && bytes[1] === 0xff);
    return new TextDecoder(be ? "utf-16be" : "utf-16le").decode(bytes);
  }
  throw invalid(`unsupported charset ${JSON.stringify(charset)}`);
}
