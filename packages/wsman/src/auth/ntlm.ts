/**
 * NTLMv2 (MS-NLMP) over bytes: the three messages, the NTLMv2 response, key exchange and MIC,
 * for a client and for a server that checks a user/password table. HMAC-MD5 and MD5 come
 * from node:crypto (they are in OpenSSL 3's default provider); MD4 and RC4 are our own.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { concatBytes as concat } from "../bytes.js";
import { WsmanError } from "../errors.js";
import { md4 } from "./md4.js";
import { rc4 } from "./rc4.js";

/** NEGOTIATE flags (MS-NLMP 2.2.2.5) this package reads or sets. */
export const NTLM_FLAGS = Object.freeze({
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  KEY_EXCH: 0x40000000,
  N56: 0x80000000,
} as const);

/** AV pair ids (MS-NLMP 2.2.2.1). */
export const AV_IDS = Object.freeze({
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10,
} as const);

/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC. */
export const AV_FLAG_MIC = 0x00000002;

const SIGNATURE = [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00]; // "NTLMSSP\0"
/** Most bytes an NTLM message may have here (real ones are a few hundred bytes). */
export const MAX_NTLM_MESSAGE_BYTES = 8192;
/**
 * Flags a client asks for in its NEGOTIATE: what a Windows client sends (0xE20882B7 from
 * Windows Server 2019's own NTLM client, `test/recordings/pyspnego/ntlm_negotiate.bin`) less
 * OEM and LM_KEY, which it offers as fallbacks and this package never speaks (Unicode only,
 * NTLMv2 with extended session security only), plus TARGET_INFO: Windows leaves that out of its
 * NEGOTIATE but echoes it in its AUTHENTICATE, whose flags `buildClientAuthenticate` takes
 * from the challenge masked with these. Sign and seal are asked for because WinRM over HTTP
 * needs them (docs/ws-management.md#message-sealing-over-http). The server side masks a
 * client's flags with these too, so it never grants a flag it cannot honour.
 */
export const DEFAULT_CLIENT_FLAGS =
  NTLM_FLAGS.UNICODE |
  NTLM_FLAGS.REQUEST_TARGET |
  NTLM_FLAGS.SIGN |
  NTLM_FLAGS.SEAL |
  NTLM_FLAGS.NTLM |
  NTLM_FLAGS.ALWAYS_SIGN |
  NTLM_FLAGS.EXTENDED_SESSIONSECURITY |
  NTLM_FLAGS.TARGET_INFO |
  NTLM_FLAGS.VERSION |
  NTLM_FLAGS.N128 |
  NTLM_FLAGS.KEY_EXCH |
  NTLM_FLAGS.N56;

/** One AV pair of a target info block. */
export interface AvPair {
  readonly id: number;
  readonly value: Uint8Array;
}

// ---------------------------------------------------------------------------------------
// Primitives

function bad(message: string): WsmanError {
  return new WsmanError("invalid-message", `invalid NTLM message: ${message}`);
}

/** UTF-16LE bytes of `text`. */
export function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    out[2 * i] = u & 0xff;
    out[2 * i + 1] = u >> 8;
  }
  return out;
}

function fromUtf16le(bytes: Uint8Array): string {
  if (bytes.length % 2 !== 0) throw bad("odd length of a UTF-16 string");
  let out = "";
  for (let i = 0; i < bytes.length; i += 2) out += String.fromCharCode(bytes[i]! | (bytes[i + 1]! << 8));
  return out;
}

/** HMAC-MD5 of the concatenated `data` under `key`. */
export function hmacMd5(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac("md5", key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

function md5(...data: Uint8Array[]): Uint8Array {
  const h = createHash("md5");
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** Constant-time equality of two byte strings (false, quickly, for different lengths). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The NT hash: MD4 of the UTF-16LE password (MS-NLMP 3.3.1 NTOWFv1). */
export function ntHash(password: string): Uint8Array {
  return md4(utf16le(password));
}

/** NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5(NT hash, UTF-16LE(upper(user) + domain)). */
export function ntowfv2(user: string, domain: string, password: string): Uint8Array {
  return hmacMd5(ntHash(password), utf16le(user.toUpperCase() + domain));
}

/** Encodes AV pairs, adding MsvAvEOL. */
export function encodeAvPairs(pairs: readonly AvPair[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of pairs) {
    if (p.id === AV_IDS.EOL) continue;
    const head = new Uint8Array(4);
    const v = new DataView(head.buffer);
    v.setUint16(0, p.id, true);
    v.setUint16(2, p.value.length, true);
    parts.push(head, p.value);
  }
  parts.push(new Uint8Array(4));
  return concat(...parts);
}

/** Decodes AV pairs up to MsvAvEOL (not included). @throws {WsmanError} `invalid-message`. */
export function decodeAvPairs(bytes: Uint8Array): AvPair[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: AvPair[] = [];
  let at = 0;
  for (;;) {
    if (at + 4 > bytes.length) throw bad("target info has no MsvAvEOL");
    const id = v.getUint16(at, true);
    const len = v.getUint16(at + 2, true);
    if (id === AV_IDS.EOL) return out;
    if (at + 4 + len > bytes.length) throw bad("an AV pair runs past the target info");
    out.push({ id, value: bytes.slice(at + 4, at + 4 + len) });
    at += 4 + len;
  }
}

/** A FILETIME (100 ns ticks since 1601-01-01 UTC) of `ms` (Unix milliseconds), little endian. */
export function fileTime(ms: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, (BigInt(Math.round(ms)) + 11_644_473_600_000n) * 10_000n, true);
  return out;
}

/** The NTLMv2 responses and keys for one authentication (MS-NLMP 3.3.2). */
export interface Ntlmv2Responses {
  readonly ntChallengeResponse: Uint8Array;
  readonly lmChallengeResponse: Uint8Array;
  readonly ntProofStr: Uint8Array;
  readonly sessionBaseKey: Uint8Array;
}

/**
 * NTLMv2 responses: temp = 0x0101, zeros, time, client challenge, zeros, target info, zeros;
 * NTProofStr = HMAC-MD5(ResponseKeyNT, ServerChallenge ‖ temp).
 * @param targetInfo the encoded AV pairs as they go into temp.
 * @param zeroLm an all-zero LmChallengeResponse, as MS-NLMP requires when the server sent a
 *   timestamp (the MIC then protects the messages).
 */
export function computeNtlmv2(init: {
  readonly responseKeyNt: Uint8Array;
  readonly serverChallenge: Uint8Array;
  readonly clientChallenge: Uint8Array;
  readonly time: Uint8Array;
  readonly targetInfo: Uint8Array;
  readonly zeroLm?: boolean;
}): Ntlmv2Responses {
  const temp = concat(
    Uint8Array.of(1, 1, 0, 0, 0, 0, 0, 0),
    init.time,
    init.clientChallenge,
    new Uint8Array(4),
    init.targetInfo,
    new Uint8Array(4),
  );
  const ntProofStr = hmacMd5(init.responseKeyNt, init.serverChallenge, temp);
  const lm = init.zeroLm
    ? new Uint8Array(24)
    : concat(hmacMd5(init.responseKeyNt, init.serverChallenge, init.clientChallenge), init.clientChallenge);
  return {
    ntChallengeResponse: concat(ntProofStr, temp),
    lmChallengeResponse: lm,
    ntProofStr,
    sessionBaseKey: hmacMd5(init.responseKeyNt, ntProofStr),
  };
}

// ---------------------------------------------------------------------------------------
// Messages

class Writer {
  private readonly head: Uint8Array;
  private readonly view: DataView;
  private readonly payload: Uint8Array[] = [];
  private payloadLength = 0;
  constructor(
    private readonly headLength: number,
    type: number,
  ) {
    this.head = new Uint8Array(headLength);
    this.view = new DataView(this.head.buffer);
    this.head.set(SIGNATURE);
    this.view.setUint32(8, type, true);
  }
  u32(at: number, value: number): void {
    this.view.setUint32(at, value >>> 0, true);
  }
  bytes(at: number, value: Uint8Array): void {
    this.head.set(value, at);
  }
  /** Appends `value` to the payload and writes its Len/MaxLen/Offset fields at `at`. */
  field(at: number, value: Uint8Array): void {
    this.view.setUint16(at, value.length, true);
    this.view.setUint16(at + 2, value.length, true);
    this.view.setUint32(at + 4, this.headLength + this.payloadLength, true);
    this.payload.push(value);
    this.payloadLength += value.length;
  }
  finish(): Uint8Array {
    return concat(this.head, ...this.payload);
  }
}

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    type: number,
    minLength: number,
  ) {
    if (!(bytes instanceof Uint8Array)) throw bad("not bytes");
    if (bytes.length > MAX_NTLM_MESSAGE_BYTES) {
      throw new WsmanError(
        "limit-exceeded",
        `NTLM message too long: ${bytes.length} bytes, limit ${MAX_NTLM_MESSAGE_BYTES}`,
      );
    }
    if (bytes.length < minLength) throw bad(`${bytes.length} bytes, a type ${type} message has at least ${minLength}`);
    if (!SIGNATURE.every((b, i) => bytes[i] === b)) throw bad("no NTLMSSP signature");
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const actual = this.u32(8);
    if (actual !== type) throw bad(`message type ${actual}, expected ${type}`);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  field(at: number, what: string): Uint8Array {
    const len = this.view.getUint16(at, true);
    const offset = this.u32(at + 4);
    if (len === 0) return new Uint8Array(0);
    if (offset + len > this.bytes.length) throw bad(`${what} runs past the end of the message`);
    return this.bytes.slice(offset, offset + len);
  }
}

/** A NEGOTIATE_MESSAGE (type 1). */
export interface NegotiateMessage {
  readonly flags: number;
  /** The 8-byte version, when the VERSION flag is set. */
  readonly version?: Uint8Array;
}

/** Windows 10 / NTLM revision 15, what a modern client says in VERSION. */
export const DEFAULT_VERSION = Uint8Array.of(10, 0, 0x61, 0x4a, 0, 0, 0, 15);

/** Builds a NEGOTIATE_MESSAGE without domain or workstation (40 bytes). */
export function buildNegotiateMessage(init: Partial<NegotiateMessage> = {}): Uint8Array {
  const w = new Writer(40, 1);
  w.u32(12, init.flags ?? DEFAULT_CLIENT_FLAGS);
  w.field(16, new Uint8Array(0));
  w.field(24, new Uint8Array(0));
  w.bytes(32, init.version ?? DEFAULT_VERSION);
  return w.finish();
}

/** Parses a NEGOTIATE_MESSAGE. @throws {WsmanError} `invalid-message`, `limit-exceeded`. */
export function parseNegotiateMessage(bytes: Uint8Array): NegotiateMessage {
  const r = new Reader(bytes, 1, 16);
  const flags = r.u32(12);
  return flags & NTLM_FLAGS.VERSION && bytes.length >= 40 ? { flags, version: bytes.slice(32, 40) } : { flags };
}

/** A CHALLENGE_MESSAGE (type 2). */
export interface ChallengeMessage {
  readonly flags: number;
  readonly targetName: string;
  readonly serverChallenge: Uint8Array;
  readonly targetInfo: readonly AvPair[];
  /** Exactly as received: the MIC covers these bytes. */
  readonly targetInfoBytes: Uint8Array;
  readonly version?: Uint8Array;
}

/** Builds a CHALLENGE_MESSAGE (Unicode target name, target info and version, 56-byte head). */
export function buildChallengeMessage(init: {
  readonly flags: number;
  readonly targetName: string;
  readonly serverChallenge: Uint8Array;
  readonly targetInfo: readonly AvPair[];
  readonly version?: Uint8Array;
}): Uint8Array {
  if (init.serverChallenge.length !== 8)
    throw new WsmanError("invalid-argument", "invalid server challenge: must be 8 bytes");
  const w = new Writer(56, 2);
  w.field(12, utf16le(init.targetName));
  w.u32(20, init.flags);
  w.bytes(24, init.serverChallenge);
  w.field(40, encodeAvPairs(init.targetInfo));
  w.bytes(48, init.version ?? DEFAULT_VERSION);
  return w.finish();
}

/** Parses a CHALLENGE_MESSAGE. @throws {WsmanError} `invalid-message`, `limit-exceeded`. */
export function parseChallengeMessage(bytes: Uint8Array): ChallengeMessage {
  const r = new Reader(bytes, 2, 48);
  const flags = r.u32(20);
  const name = r.field(12, "TargetName");
  const info = r.field(40, "TargetInfo");
  const result = {
    flags,
    targetName: flags & NTLM_FLAGS.UNICODE ? fromUtf16le(name) : String.fromCharCode(...name),
    serverChallenge: bytes.slice(24, 32),
    targetInfo: info.length === 0 ? [] : decodeAvPairs(info),
    targetInfoBytes: info,
  };
  return flags & NTLM_FLAGS.VERSION && bytes.length >= 56 ? { ...result, version: bytes.slice(48, 56) } : result;
}

/** An AUTHENTICATE_MESSAGE (type 3). */
export interface AuthenticateMessage {
  readonly flags: number;
  readonly lmChallengeResponse: Uint8Array;
  readonly ntChallengeResponse: Uint8Array;
  readonly domain: string;
  readonly user: string;
  readonly workstation: string;
  readonly encryptedRandomSessionKey: Uint8Array;
  readonly version?: Uint8Array;
  /** The MIC, when the message has room for one (a 16-byte field at offset 72). */
  readonly mic?: Uint8Array;
}

const MIC_OFFSET = 72;

/**
 * Builds an AUTHENTICATE_MESSAGE. Payload order: domain, user, workstation, LM, NT, session
 * key (as in MS-NLMP 4.2.4.3). With `mic`, a 16-byte MIC field follows the version (head 88
 * bytes); it is written as given (zeros while computing the MIC).
 */
export function buildAuthenticateMessage(
  init: Omit<AuthenticateMessage, "version" | "mic"> & { readonly version?: Uint8Array; readonly mic?: Uint8Array },
): Uint8Array {
  const unicode = (init.flags & NTLM_FLAGS.UNICODE) !== 0;
  const str = (s: string) => (unicode ? utf16le(s) : Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff));
  const w = new Writer(init.mic === undefined ? 72 : 88, 3);
  w.field(28, str(init.domain));
  w.field(36, str(init.user));
  w.field(44, str(init.workstation));
  w.field(12, init.lmChallengeResponse);
  w.field(20, init.ntChallengeResponse);
  w.field(52, init.encryptedRandomSessionKey);
  w.u32(60, init.flags);
  w.bytes(64, init.version ?? DEFAULT_VERSION);
  if (init.mic !== undefined) w.bytes(MIC_OFFSET, init.mic);
  return w.finish();
}

/**
 * Parses an AUTHENTICATE_MESSAGE. The MIC is read when the payload starts at or after 88.
 * @throws {WsmanError} `invalid-message`, `limit-exceeded`.
 */
export function parseAuthenticateMessage(bytes: Uint8Array): AuthenticateMessage {
  const r = new Reader(bytes, 3, 64);
  const flags = r.u32(60);
  const unicode = (flags & NTLM_FLAGS.UNICODE) !== 0;
  const str = (b: Uint8Array) => (unicode ? fromUtf16le(b) : String.fromCharCode(...b));
  const offsets = [12, 20, 28, 36, 44, 52].map((at) => (r.view.getUint16(at, true) > 0 ? r.u32(at + 4) : bytes.length));
  const payloadStart = Math.min(...offsets);
  const result: { -readonly [K in keyof AuthenticateMessage]: AuthenticateMessage[K] } = {
    flags,
    lmChallengeResponse: r.field(12, "LmChallengeResponse"),
    ntChallengeResponse: r.field(20, "NtChallengeResponse"),
    domain: str(r.field(28, "DomainName")),
    user: str(r.field(36, "UserName")),
    workstation: str(r.field(44, "Workstation")),
    encryptedRandomSessionKey: r.field(52, "EncryptedRandomSessionKey"),
  };
  if (flags & NTLM_FLAGS.VERSION && payloadStart >= 72) result.version = bytes.slice(64, 72);
  if (payloadStart >= MIC_OFFSET + 16) result.mic = bytes.slice(MIC_OFFSET, MIC_OFFSET + 16);
  return result;
}

// ---------------------------------------------------------------------------------------
// Client

/** Keys of an authenticated NTLM session, for signing and sealing (docs/ws-management.md#message-sealing-over-http). */
export interface NtlmSessionKeys {
  readonly sessionBaseKey: Uint8Array;
  /** KeyExchangeKey for NTLMv2 is the session base key. */
  readonly keyExchangeKey: Uint8Array;
  /** The key signing and sealing keys derive from (MS-NLMP 3.4.5). */
  readonly exportedSessionKey: Uint8Array;
  /** The negotiated flags (those of the AUTHENTICATE message). */
  readonly flags: number;
}

/** Inputs of {@link buildClientAuthenticate}; the random parts can be fixed for tests. */
export interface ClientAuthenticateInit {
  readonly user: string;
  readonly password: string;
  /** Default: empty (the server's domain is not needed for a local account). */
  readonly domain?: string;
  readonly workstation?: string;
  /** The NEGOTIATE message sent (the MIC covers it). */
  readonly negotiate: Uint8Array;
  /** The CHALLENGE message received. */
  readonly challenge: Uint8Array;
  /** Default: 8 random bytes. */
  readonly clientChallenge?: Uint8Array;
  /** Default: 16 random bytes. */
  readonly randomSessionKey?: Uint8Array;
  /** FILETIME to use when the server sent no MsvAvTimestamp; default now. */
  readonly time?: Uint8Array;
  readonly version?: Uint8Array;
}

/**
 * The client's AUTHENTICATE message for a CHALLENGE. When the server sent MsvAvTimestamp,
 * uses it, sends an all-zero LM response, sets MsvAvFlags' MIC bit and includes the MIC
 * (MS-NLMP 3.1.5.1.2). With KEY_EXCH, the exported session key is random and travels RC4
 * encrypted under the key exchange key.
 * @throws {WsmanError} `invalid-message` for a bad CHALLENGE.
 */
export function buildClientAuthenticate(init: ClientAuthenticateInit): { message: Uint8Array; keys: NtlmSessionKeys } {
  const challenge = parseChallengeMessage(init.challenge);
  const negotiateFlags = parseNegotiateMessage(init.negotiate).flags;
  // The server's answer decides; keep only what we also asked for.
  const flags = (challenge.flags & negotiateFlags) | NTLM_FLAGS.NTLM | (challenge.flags & NTLM_FLAGS.UNICODE);
  const timestamp = challenge.targetInfo.find((p) => p.id === AV_IDS.Timestamp);
  const useMic = timestamp !== undefined && timestamp.value.length === 8;
  let pairs = challenge.targetInfo;
  if (useMic) {
    const flagsPair = pairs.find((p) => p.id === AV_IDS.Flags);
    const old =
      flagsPair && flagsPair.value.length === 4
        ? new DataView(flagsPair.value.buffer, flagsPair.value.byteOffset).getUint32(0, true)
        : 0;
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, old | AV_FLAG_MIC, true);
    pairs = [...pairs.filter((p) => p.id !== AV_IDS.Flags), { id: AV_IDS.Flags, value }];
  }
  const responseKeyNt = ntowfv2(init.user, init.domain ?? "", init.password);
  const r = computeNtlmv2({
    responseKeyNt,
    serverChallenge: challenge.serverChallenge,
    clientChallenge: init.clientChallenge ?? new Uint8Array(randomBytes(8)),
    time: useMic ? timestamp.value : (init.time ?? fileTime(Date.now())),
    // Without changes, the target info goes back exactly as received.
    targetInfo: pairs === challenge.targetInfo ? challenge.targetInfoBytes : encodeAvPairs(pairs),
    zeroLm: useMic,
  });
  const keyExchangeKey = r.sessionBaseKey;
  let exportedSessionKey = keyExchangeKey;
  let encryptedRandomSessionKey: Uint8Array = new Uint8Array(0);
  if (flags & NTLM_FLAGS.KEY_EXCH) {
    exportedSessionKey = init.randomSessionKey ?? new Uint8Array(randomBytes(16));
    encryptedRandomSessionKey = rc4(keyExchangeKey, exportedSessionKey);
  }
  const fields = {
    flags,
    lmChallengeResponse: r.lmChallengeResponse,
    ntChallengeResponse: r.ntChallengeResponse,
    domain: init.domain ?? "",
    user: init.user,
    workstation: init.workstation ?? "",
    encryptedRandomSessionKey,
    ...(init.version === undefined ? {} : { version: init.version }),
  };
  let message: Uint8Array;
  if (useMic) {
    const zeroed = buildAuthenticateMessage({ ...fields, mic: new Uint8Array(16) });
    const mic = hmacMd5(exportedSessionKey, init.negotiate, init.challenge, zeroed);
    message = zeroed;
    message.set(mic, MIC_OFFSET);
  } else {
    message = buildAuthenticateMessage(fields);
  }
  return { message, keys: { sessionBaseKey: r.sessionBaseKey, keyExchangeKey, exportedSessionKey, flags } };
}

// ---------------------------------------------------------------------------------------
// Server

/** Inputs of {@link buildServerChallenge}. */
export interface ServerChallengeInit {
  /** NetBIOS computer name for the target info; default `WSMAN`. */
  readonly computerName?: string;
  /** NetBIOS domain name (the target name too); default the computer name. */
  readonly domainName?: string;
  /** Default: 8 random bytes. */
  readonly serverChallenge?: Uint8Array;
  /** Unix milliseconds for MsvAvTimestamp; default now. */
  readonly now?: number;
}

/**
 * The server's CHALLENGE for a NEGOTIATE: the client's flags we support, a target info with
 * NetBIOS names and MsvAvTimestamp (which makes clients send a MIC).
 */
export function buildServerChallenge(
  negotiate: Uint8Array,
  init: ServerChallengeInit = {},
): { message: Uint8Array; serverChallenge: Uint8Array } {
  const clientFlags = parseNegotiateMessage(negotiate).flags;
  const computer = init.computerName ?? "WSMAN";
  const domain = init.domainName ?? computer;
  const serverChallenge = init.serverChallenge ?? new Uint8Array(randomBytes(8));
  const flags =
    (clientFlags & DEFAULT_CLIENT_FLAGS & ~NTLM_FLAGS.REQUEST_TARGET) |
    NTLM_FLAGS.UNICODE |
    NTLM_FLAGS.NTLM |
    NTLM_FLAGS.TARGET_INFO |
    NTLM_FLAGS.TARGET_TYPE_SERVER |
    NTLM_FLAGS.EXTENDED_SESSIONSECURITY;
  const message = buildChallengeMessage({
    flags,
    targetName: domain,
    serverChallenge,
    targetInfo: [
      { id: AV_IDS.NbDomainName, value: utf16le(domain) },
      { id: AV_IDS.NbComputerName, value: utf16le(computer) },
      { id: AV_IDS.Timestamp, value: fileTime(init.now ?? Date.now()) },
    ],
  });
  return { message, serverChallenge };
}

/** The outcome of checking an AUTHENTICATE message. */
export type NtlmVerification =
  | { readonly ok: true; readonly user: string; readonly domain: string; readonly keys: NtlmSessionKeys }
  | {
      readonly ok: false;
      /** `unknown-user`: not in the table; `wrong-password`: the proof did not match. */
      readonly reason: "unknown-user" | "wrong-password" | "anonymous" | "not-ntlmv2" | "bad-mic";
      readonly user: string;
    };

/**
 * Checks a client's AUTHENTICATE against `users` (user name → password; names compared
 * ignoring case, as Windows does). Only NTLMv2 is accepted. The MIC is checked when the
 * client's MsvAvFlags says it sent one.
 * @throws {WsmanError} `invalid-message` for a message that is not an AUTHENTICATE.
 */
export function verifyAuthenticate(init: {
  readonly negotiate: Uint8Array;
  readonly challenge: Uint8Array;
  readonly authenticate: Uint8Array;
  readonly users: ReadonlyMap<string, string>;
}): NtlmVerification {
  const msg = parseAuthenticateMessage(init.authenticate);
  const challenge = parseChallengeMessage(init.challenge);
  const user = msg.user;
  if (user === "" && msg.ntChallengeResponse.length === 0) return { ok: false, reason: "anonymous", user };
  let password: string | undefined;
  for (const [name, pw] of init.users) if (name.toUpperCase() === user.toUpperCase()) password = pw;
  if (password === undefined) return { ok: false, reason: "unknown-user", user };
  if (msg.ntChallengeResponse.length < 16 + 28 + 4) return { ok: false, reason: "not-ntlmv2", user };
  const ntProofStr = msg.ntChallengeResponse.subarray(0, 16);
  const temp = msg.ntChallengeResponse.subarray(16);
  const responseKeyNt = ntowfv2(user, msg.domain, password);
  const expected = hmacMd5(responseKeyNt, challenge.serverChallenge, temp);
  if (!bytesEqual(expected, ntProofStr)) return { ok: false, reason: "wrong-password", user };
  const sessionBaseKey = hmacMd5(responseKeyNt, ntProofStr);
  const exportedSessionKey =
    msg.flags & NTLM_FLAGS.KEY_EXCH && msg.encryptedRandomSessionKey.length === 16
      ? rc4(sessionBaseKey, msg.encryptedRandomSessionKey)
      : sessionBaseKey;
  // temp = 28 bytes of header, then the AV pairs the client echoed (with its MsvAvFlags).
  let pairs: AvPair[] = [];
  try {
    pairs = decodeAvPairs(temp.subarray(28));
  } catch {
    return { ok: false, reason: "not-ntlmv2", user };
  }
  const avFlags = pairs.find((p) => p.id === AV_IDS.Flags);
  const claimsMic = avFlags !== undefined && avFlags.value.length === 4 && (avFlags.value[0]! & AV_FLAG_MIC) !== 0;
  if (claimsMic) {
    if (msg.mic === undefined) return { ok: false, reason: "bad-mic", user };
    const zeroed = init.authenticate.slice();
    zeroed.fill(0, MIC_OFFSET, MIC_OFFSET + 16);
    if (!bytesEqual(hmacMd5(exportedSessionKey, init.negotiate, init.challenge, zeroed), msg.mic)) {
      return { ok: false, reason: "bad-mic", user };
    }
  }
  return {
    ok: true,
    user,
    domain: msg.domain,
    keys: { sessionBaseKey, keyExchangeKey: sessionBaseKey, exportedSessionKey, flags: msg.flags },
  };
}

/** Client-to-server and server-to-client signing and sealing keys (MS-NLMP 3.4.5.2–3), 128-bit. */
export function deriveSessionKeys(exportedSessionKey: Uint8Array): {
  clientSigningKey: Uint8Array;
  serverSigningKey: Uint8Array;
  clientSealingKey: Uint8Array;
  serverSealingKey: Uint8Array;
} {
  const magic = (s: string) => Uint8Array.from(`${s}\0`, (c) => c.charCodeAt(0));
  return {
    clientSigningKey: md5(exportedSessionKey, magic("session key to client-to-server signing key magic constant")),
    serverSigningKey: md5(exportedSessionKey, magic("session key to server-to-client signing key magic constant")),
    clientSealingKey: md5(exportedSessionKey, magic("session key to client-to-server sealing key magic constant")),
    serverSealingKey: md5(exportedSessionKey, magic("session key to server-to-client sealing key magic constant")),
  };
}
