import { readFileSync } from "node:fs";
import { machine, release, type } from "node:os";
import { encodeUtf8, utf8BoundaryAtOrBefore } from "@hyperv-kvp/kvp-core";
import { errnoCode } from "./errors.js";
import {
  AF_INET,
  AF_INET6,
  AI_CANONNAME,
  type CanonicalNameResult,
  IFF_LOOPBACK,
  type InterfaceAddress,
  SOCK_STREAM,
  libc,
} from "./libc.js";

// Pool 2 (KVP_POOL_AUTO) is never stored: hv_kvp_daemon makes its ten items up on every
// ENUMERATE. This module predicts them for this machine from the daemon's own sources and
// rules (tools/hv/hv_kvp_daemon.c as shipped in Debian's hyperv-daemons 6.1: kvp_get_os_info,
// kvp_get_domain_name, kvp_get_ip_info with KVP_OP_ENUMERATE), so that a comparison with the
// real daemon can be exact. The decisions are pure functions over bytes and strings; the
// system calls (uname through node:os, getifaddrs, gethostname, getaddrinfo) sit in
// synthesizeAutoPool at the edge.

/** The keys of pool 2, in the daemon's enumeration order (its `enum key_index`). */
export const AUTO_POOL_KEYS = [
  "FullyQualifiedDomainName",
  "IntegrationServicesVersion",
  "NetworkAddressIPv4",
  "NetworkAddressIPv6",
  "OSBuildNumber",
  "OSName",
  "OSMajorVersion",
  "OSMinorVersion",
  "OSVersion",
  "ProcessorArchitecture",
] as const;

/** One pool 2 item. */
export interface AutoPoolItem {
  readonly key: (typeof AUTO_POOL_KEYS)[number];
  readonly value: string;
}

/** Options of {@link synthesizeAutoPool}. */
export interface AutoPoolOptions {
  /** The os-release file the daemon reads (default `/etc/os-release`). */
  readonly osReleasePath?: string;
  /**
   * What the kernel told the daemon at registration (default `"3.1"`, the kernel's fixed
   * HV_DRV_VERSION, which is what real hosts see).
   */
  readonly integrationServicesVersion?: string;
}

/** The kernel's registration version string (HV_DRV_VERSION in drivers/hv/hv_kvp.c). */
export const KERNEL_KVP_VERSION = "3.1";

/** The os-release file hv_kvp_daemon reads; it knows no other location. */
export const OS_RELEASE_PATH = "/etc/os-release";

/** Files the daemon falls back to, in order, when it cannot open os-release. */
export const LEGACY_RELEASE_PATHS = ["/etc/SuSE-release", "/etc/redhat-release"] as const;

/** The daemon's line buffer for release files (`char buf[512]` read with fgets), in bytes. */
export const RELEASE_LINE_BYTES = 512;

/** Size of a value field the daemon fills (HV_KVP_EXCHANGE_MAX_VALUE_SIZE), NUL included, in bytes. */
export const AUTO_VALUE_BYTES = 2048;

/** The daemon's room for one address (INET_ADDRSTRLEN / INET6_ADDRSTRLEN), in bytes. */
const ADDRESS_ROOM = { 4: 16, 6: 46 } as const;

/** An IP family as the pool 2 keys name it. */
export type IpVersion = 4 | 6;

/**
 * The ten items hv_kvp_daemon would send the host for pool 2 on this machine, in its order.
 * Unlike the daemon, which resolves the host name once at start-up, this resolves it on every
 * call, and may block as long as the resolver takes (as the daemon's start-up does).
 * @throws {PoolFileError} `io` when the C library cannot be loaded (not Linux x86_64/arm64).
 */
export function synthesizeAutoPool(options: AutoPoolOptions = {}): AutoPoolItem[] {
  const c = libc();
  const os = describeOs({
    sysname: type(),
    release: release(),
    machine: machine(),
    osRelease: readLikeFopen(options.osReleasePath ?? OS_RELEASE_PATH),
    legacyRelease: () => {
      for (const path of LEGACY_RELEASE_PATHS) {
        const bytes = readLikeFopen(path);
        if (bytes !== undefined) return bytes;
      }
      return undefined;
    },
  });
  // The daemon's buffer is the 2048-byte value array; a failed gethostname leaves it empty.
  const hostname = c.gethostname(AUTO_VALUE_BYTES) ?? "";
  const fqdn = formatDomainName(
    c.getCanonicalName(hostname, { flags: AI_CANONNAME, family: AF_INET, socktype: SOCK_STREAM }),
  );
  const interfaces = c.getifaddrs();
  const addresses = (version: IpVersion): string => {
    if (!interfaces.ok) return "getifaddrs failed\n";
    const family = version === 4 ? AF_INET : AF_INET6;
    const texts = selectAddresses(interfaces.entries, version).map((a) => c.inetNtop(family, a));
    return formatAddressList(texts, version);
  };
  const values: Record<AutoPoolItem["key"], string> = {
    FullyQualifiedDomainName: fqdn,
    IntegrationServicesVersion: options.integrationServicesVersion ?? KERNEL_KVP_VERSION,
    NetworkAddressIPv4: addresses(4),
    NetworkAddressIPv6: addresses(6),
    OSBuildNumber: os.build,
    OSName: os.name,
    OSMajorVersion: os.major,
    OSMinorVersion: os.minor,
    OSVersion: os.version,
    ProcessorArchitecture: os.architecture,
  };
  return AUTO_POOL_KEYS.map((key) => ({ key, value: values[key] }));
}

/** The OS items of pool 2, as kvp_get_os_info leaves them. */
export interface OsInfo {
  /** OSName: os-release NAME, else the legacy file's first line, else uname's sysname. */
  readonly name: string;
  /** OSMajorVersion: os-release VERSION_ID, else the legacy file's second line, else "". */
  readonly major: string;
  /** OSMinorVersion: the legacy file's third line, else "" (os-release never sets it). */
  readonly minor: string;
  /** OSVersion: uname's release up to its first "-". */
  readonly version: string;
  /** OSBuildNumber: uname's whole release. */
  readonly build: string;
  /** ProcessorArchitecture: uname's machine. */
  readonly architecture: string;
}

/** What kvp_get_os_info reads: uname's fields and the release files' bytes. */
export interface OsSources {
  readonly sysname: string;
  readonly release: string;
  readonly machine: string;
  /** Bytes of os-release, or undefined when it could not be opened. */
  readonly osRelease: Uint8Array | undefined;
  /**
   * The first legacy release file that opens (SuSE-release, then redhat-release), asked for
   * only when os-release could not be opened.
   */
  readonly legacyRelease: Uint8Array | undefined | (() => Uint8Array | undefined);
}

/**
 * The OS items the daemon derives from uname and the release files: os-release wins whenever
 * it can be opened (even when it names nothing, then uname's sysname and "" remain); the
 * legacy files give up to three lines, name, major and minor.
 */
export function describeOs(sources: OsSources): OsInfo {
  const base = {
    version: stripBuildSuffix(sources.release),
    build: sources.release,
    architecture: sources.machine,
  };
  if (sources.osRelease !== undefined) {
    const parsed = parseOsRelease(sources.osRelease);
    return { ...base, name: parsed.name ?? sources.sysname, major: parsed.versionId ?? "", minor: "" };
  }
  const legacy = typeof sources.legacyRelease === "function" ? sources.legacyRelease() : sources.legacyRelease;
  const lines = legacy === undefined ? {} : parseLegacyRelease(legacy);
  return { ...base, name: lines.name ?? sources.sysname, major: lines.major ?? "", minor: lines.minor ?? "" };
}

/**
 * The kernel release as the daemon sends it for OSVersion: everything before the first "-"
 * (`6.1.0-18-amd64` → `6.1.0`), because old hosts expect `x.y.z`.
 */
export function stripBuildSuffix(release: string): string {
  const dash = release.indexOf("-");
  return dash === -1 ? release : release.slice(0, dash);
}

/**
 * NAME and VERSION_ID of an os-release file, parsed as the daemon does rather than as the
 * os-release specification says: the file is read in fgets pieces of at most 511 bytes (a
 * longer line becomes several "lines"), a piece ends at its first NUL, `#` only in the first
 * column starts a comment, the key is everything before the first `=` (no trimming), and in
 * the value every `'`, `"` and newline is dropped wherever it stands while `\x` becomes `x`
 * (a trailing lone backslash ends the value). The last NAME and the last VERSION_ID win.
 */
export function parseOsRelease(bytes: Uint8Array): { name?: string; versionId?: string } {
  const result: { name?: string; versionId?: string } = {};
  for (const line of fgetsLines(bytes)) {
    if (line[0] === HASH) continue;
    const eq = line.indexOf(EQUALS);
    if (eq === -1) continue;
    const key = decodeText(line.subarray(0, eq));
    if (key !== "NAME" && key !== "VERSION_ID") continue;
    const value = decodeText(unquote(line.subarray(eq + 1)));
    if (key === "NAME") result.name = value;
    else result.versionId = value;
  }
  return result;
}

/**
 * The daemon's reading of /etc/SuSE-release or /etc/redhat-release: the first three fgets
 * pieces, each without its first newline, are the name, the major and the minor version.
 */
export function parseLegacyRelease(bytes: Uint8Array): { name?: string; major?: string; minor?: string } {
  const [first, second, third] = fgetsLines(bytes, 3).map((line) => {
    const newline = line.indexOf(NEWLINE);
    return decodeText(newline === -1 ? line : line.subarray(0, newline));
  });
  return {
    ...(first === undefined ? {} : { name: first }),
    ...(second === undefined ? {} : { major: second }),
    ...(third === undefined ? {} : { minor: third }),
  };
}

/**
 * The interface addresses the daemon reports for `version`, in getifaddrs order: entries
 * with an address of that family, on interfaces without IFF_LOOPBACK. Interfaces that are
 * down are included (the daemon does not look at IFF_UP).
 */
export function selectAddresses(entries: readonly InterfaceAddress[], version: IpVersion): Uint8Array[] {
  const family = version === 4 ? AF_INET : AF_INET6;
  const selected: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.family !== family || (entry.flags & IFF_LOOPBACK) !== 0 || entry.address === undefined) continue;
    selected.push(entry.address);
  }
  return selected;
}

/**
 * The value of NetworkAddressIPv4/IPv6 from the addresses' inet_ntop texts (null where
 * inet_ntop failed), joined with ";" as kvp_process_ip_address does: before each address it
 * wants room for the family's longest form plus 2 in the 2048-byte value, and stops quietly
 * when there is none; a failed conversion replaces everything with "inet_ntop failed\n".
 * No addresses gives "" (the kernel's request arrives zeroed).
 */
export function formatAddressList(texts: readonly (string | null)[], version: IpVersion): string {
  let value = "";
  let used = 0; // the daemon's offset: bytes used including the NUL
  for (const text of texts) {
    if (AUTO_VALUE_BYTES - used < ADDRESS_ROOM[version] + 2) break;
    if (text === null) return "inet_ntop failed\n";
    value = used === 0 ? text : `${value};${text}`;
    used += utf8Length(text) + 1;
  }
  return value;
}

/**
 * The value of FullyQualifiedDomainName from getaddrinfo's answer: the canonical name, or
 * the daemon's own error text `getaddrinfo failed: 0x<code as unsigned hex> <gai_strerror>`
 * (EAI_NONAME gives `getaddrinfo failed: 0xfffffffe Name or service not known`); a missing
 * canonical name prints as glibc's "(null)". Cut to the 2047 bytes snprintf leaves room for.
 */
export function formatDomainName(answer: CanonicalNameResult): string {
  const text = answer.ok
    ? (answer.canonicalName ?? "(null)")
    : `getaddrinfo failed: 0x${(answer.error >>> 0).toString(16)} ${answer.message}`;
  return limitBytes(text, AUTO_VALUE_BYTES - 1);
}

const HASH = 0x23;
const EQUALS = 0x3d;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;

/**
 * The pieces fgets(buf, 512, file) returns, each cut at its first NUL as the C string
 * functions that follow see it; at most `limit` pieces.
 */
function fgetsLines(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length && lines.length < limit) {
    const max = Math.min(bytes.length, start + RELEASE_LINE_BYTES - 1);
    let end = start;
    while (end < max) {
      end++;
      if (bytes[end - 1] === NEWLINE) break;
    }
    const piece = bytes.subarray(start, end);
    const nul = piece.indexOf(0);
    lines.push(nul === -1 ? piece : piece.subarray(0, nul));
    start = end;
  }
  return lines;
}

/** The daemon's in-place un-escape: drop quotes and newlines, `\x` → `x`. */
function unquote(value: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (b === BACKSLASH) {
      i++;
      if (i >= value.length) break;
      out.push(value[i]!);
    } else if (b !== QUOTE && b !== DOUBLE_QUOTE && b !== NEWLINE) {
      out.push(b);
    }
  }
  return Uint8Array.from(out);
}

function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** `text` cut to at most `max` UTF-8 bytes, never inside a character. */
function limitBytes(text: string, max: number): string {
  const bytes = encodeUtf8(text);
  if (bytes.length <= max) return text;
  return decodeText(bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, max)));
}

/**
 * A file's bytes if fopen(path, "r") would succeed, else undefined. A directory opens but
 * reads nothing, so it counts as an empty file, as it does for the daemon.
 */
function readLikeFopen(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    return errnoCode(error) === "EISDIR" ? new Uint8Array(0) : undefined;
  }
}
