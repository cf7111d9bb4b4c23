/**
 * NTLM session security (MS-NLMP 3.4) over bytes: sealing and signing of the messages that
 * follow an NTLMv2 authentication, as WinRM needs them to carry SOAP over plain HTTP. Only
 * the variant every Windows since Vista negotiates is implemented: extended session security
 * with 128-bit keys, with or without key exchange. No IO here; the state is the two RC4
 * streams and the two sequence numbers, which is why this is a small class.
 */
import { WsmanError } from "../errors.js";
import { NTLM_FLAGS, type NtlmSessionKeys, bytesEqual, deriveSessionKeys, hmacMd5 } from "./ntlm.js";
import { Rc4 } from "./rc4.js";

/** Bytes of an NTLMSSP_MESSAGE_SIGNATURE with extended session security (MS-NLMP 2.2.2.9.2). */
export const NTLM_SIGNATURE_BYTES = 16;
/** The signature's Version field (MS-NLMP 2.2.2.9.2: always 1). */
const SIGNATURE_VERSION = 1;
/** Bytes of the checksum inside a signature: the first 8 of an HMAC-MD5. */
const CHECKSUM_BYTES = 8;

/**
 * Flags a session must have negotiated to seal: SEAL itself, extended session security (the
 * HMAC-MD5 signature; without it NTLM falls back to CRC32 and 40-bit keys, which we refuse)
 * and 128-bit keys.
 */
export const NTLM_SEALING_FLAGS = NTLM_FLAGS.SEAL | NTLM_FLAGS.EXTENDED_SESSIONSECURITY | NTLM_FLAGS.N128;

/** Which end of the session this is: it decides which keys send and which receive. */
export type NtlmRole = "client" | "server";

/** What {@link NtlmSession.wrap} produces: the sealed bytes and their signature. */
export interface WrappedMessage {
  /** The message RC4-encrypted with the sender's sealing stream; as long as the message. */
  readonly sealed: Uint8Array;
  /** 16 bytes: version 1, the RC4-encrypted checksum, the sequence number (little endian). */
  readonly signature: Uint8Array;
}

/** Names of the NTLM_SEALING_FLAGS missing from `flags`, for messages; empty when none is. */
export function missingSealingFlags(flags: number): string[] {
  const out: string[] = [];
  if (!(flags & NTLM_FLAGS.SEAL)) out.push("SEAL");
  if (!(flags & NTLM_FLAGS.EXTENDED_SESSIONSECURITY)) out.push("EXTENDED_SESSIONSECURITY");
  if (!(flags & NTLM_FLAGS.N128)) out.push("128");
  return out;
}

/**
 * One direction's state: the signing key, the sealing RC4 stream and the next sequence
 * number. The stream is shared by the message and the checksum, in that order (GSS_WrapEx),
 * and continues from one message to the next.
 */
interface Direction {
  readonly signingKey: Uint8Array;
  readonly handle: Rc4;
  sequence: number;
}

/**
 * The checksum of MS-NLMP 3.4.4.2 (with extended session security): the first 8 bytes of
 * HMAC-MD5(SigningKey, SeqNum ‖ Message), RC4-encrypted with the sealing stream when keys
 * were exchanged. Advances `handle` by 8 bytes in that case.
 */
function checksum(direction: Direction, sequence: Uint8Array, message: Uint8Array, keyExchange: boolean): Uint8Array {
  const mac = hmacMd5(direction.signingKey, sequence, message).subarray(0, CHECKSUM_BYTES);
  return keyExchange ? direction.handle.update(mac) : mac.slice();
}

function sequenceBytes(sequence: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, sequence >>> 0, true);
  return out;
}

function integrity(message: string): WsmanError {
  return new WsmanError("integrity", message);
}

/**
 * A sealed NTLM session between a client and a server (MS-NLMP 3.4.6 GSS_WrapEx and 3.4.7
 * GSS_UnwrapEx), one per authenticated connection. Each side seals with its own key and
 * unseals with the other's; sequence numbers start at 0 in each direction and must arrive
 * in order, so a replayed, reordered, dropped or altered message fails verification. After
 * a failure the session is unusable (its RC4 stream is out of step) and every later call
 * throws: authenticate again on a new connection.
 */
export class NtlmSession {
  /** The negotiated flags the session runs with. */
  readonly flags: number;
  private readonly keyExchange: boolean;
  private readonly outgoing: Direction;
  private readonly incoming: Direction;
  private broken: string | undefined;

  /**
   * @param keys the exported session key and the negotiated flags of the authentication
   *   (what {@link buildClientAuthenticate} and {@link verifyAuthenticate} return).
   * @throws {WsmanError} `invalid-argument` when the flags do not allow sealing (see
   *   {@link NTLM_SEALING_FLAGS}) or the key is not 16 bytes.
   */
  constructor(keys: Pick<NtlmSessionKeys, "exportedSessionKey" | "flags">, role: NtlmRole) {
    const missing = missingSealingFlags(keys.flags);
    if (missing.length > 0) {
      throw new WsmanError(
        "invalid-argument",
        `cannot seal: the NTLM session did not negotiate ${missing.join(", ")} (flags 0x${(keys.flags >>> 0).toString(16).padStart(8, "0")})`,
      );
    }
    if (keys.exportedSessionKey.length !== 16) {
      throw new WsmanError(
        "invalid-argument",
        `cannot seal: the session key has ${keys.exportedSessionKey.length} bytes, not 16`,
      );
    }
    this.flags = keys.flags;
    this.keyExchange = (keys.flags & NTLM_FLAGS.KEY_EXCH) !== 0;
    const k = deriveSessionKeys(keys.exportedSessionKey);
    const client: Direction = { signingKey: k.clientSigningKey, handle: new Rc4(k.clientSealingKey), sequence: 0 };
    const server: Direction = { signingKey: k.serverSigningKey, handle: new Rc4(k.serverSealingKey), sequence: 0 };
    this.outgoing = role === "client" ? client : server;
    this.incoming = role === "client" ? server : client;
  }

  /** The sequence number the next {@link wrap} uses. */
  get sendSequence(): number {
    return this.outgoing.sequence;
  }

  /** The sequence number the next {@link unwrap} expects. */
  get receiveSequence(): number {
    return this.incoming.sequence;
  }

  /**
   * Seals and signs `message` (GSS_WrapEx): sealed = RC4(message), then the checksum over the
   * plaintext, RC4-encrypted by the same stream.
   * @throws {WsmanError} `integrity` after an earlier verification failure.
   */
  wrap(message: Uint8Array): WrappedMessage {
    this.assertUsable();
    const d = this.outgoing;
    const sequence = sequenceBytes(d.sequence);
    const sealed = d.handle.update(message);
    const signature = new Uint8Array(NTLM_SIGNATURE_BYTES);
    new DataView(signature.buffer).setUint32(0, SIGNATURE_VERSION, true);
    signature.set(checksum(d, sequence, message, this.keyExchange), 4);
    signature.set(sequence, 12);
    d.sequence = (d.sequence + 1) >>> 0;
    return { sealed, signature };
  }

  /**
   * Unseals `sealed` and verifies `signature` (GSS_UnwrapEx); returns the plaintext.
   * @throws {WsmanError} `integrity` when the signature is malformed, its sequence number is
   *   not the one expected (replayed, reordered or dropped message), or its checksum does not
   *   match (altered message, or other keys); the session is unusable afterwards.
   */
  unwrap(sealed: Uint8Array, signature: Uint8Array): Uint8Array {
    this.assertUsable();
    const d = this.incoming;
    try {
      if (signature.length !== NTLM_SIGNATURE_BYTES)
        throw integrity(`NTLM signature of ${signature.length} bytes, expected ${NTLM_SIGNATURE_BYTES}`);
      const view = new DataView(signature.buffer, signature.byteOffset, signature.byteLength);
      const version = view.getUint32(0, true);
      if (version !== SIGNATURE_VERSION)
        throw integrity(`NTLM signature version ${version}, expected ${SIGNATURE_VERSION}`);
      const sequence = view.getUint32(12, true);
      if (sequence !== d.sequence) {
        throw integrity(
          `sealed message has sequence number ${sequence} where ${d.sequence} was expected: it was replayed, reordered or dropped (or altered)`,
        );
      }
      const message = d.handle.update(sealed);
      const expected = checksum(d, signature.subarray(12, 16), message, this.keyExchange);
      if (!bytesEqual(expected, signature.subarray(4, 12))) {
        throw integrity(
          `sealed message number ${sequence} does not match its signature: it was altered in transit (or sealed with other keys)`,
        );
      }
      d.sequence = (d.sequence + 1) >>> 0;
      return message;
    } catch (error) {
      this.broken = (error as Error).message;
      throw error;
    }
  }

  private assertUsable(): void {
    if (this.broken !== undefined)
      throw integrity(
        `the sealed NTLM session is unusable after an earlier failure (${this.broken}); authenticate again`,
      );
  }
}
