// What an ELF file needs to run, read from its headers: the CPU it is for, its program
// interpreter (glibc's ld-linux-*, musl's ld-musl-*), the libraries it links and the symbol
// versions it needs from them (GLIBC_2.28, GLIBCXX_3.4.21, ...). The builders check every
// binary they pack with it and derive the packages' libc minimum from it; the release checks
// read the packed files with it. Written here rather than run through readelf so that it reads
// foreign-CPU binaries the same way on any machine, with nothing to install.
import { closeSync, openSync, readSync } from "node:fs";

/** e_machine values of the CPUs we meet, for messages. */
export const ELF_MACHINE_NAMES = Object.freeze({ 3: "i386", 40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V" });

/** Program header types (p_type) and dynamic tags (d_tag) read below. */
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_VERNEED = 0x6ffffffen;
const DT_VERNEEDNUM = 0x6fffffffn;

/** Longest string read from the string table (a library or version name), in bytes. */
const MAX_NAME = 4096;

/**
 * @typedef {object} ElfInfo
 * @property {32 | 64} bits ELF class
 * @property {number} machine e_machine (62 x86-64, 183 AArch64)
 * @property {"executable" | "shared object" | "other"} kind e_type (PIE executables say shared object)
 * @property {string | undefined} interpreter PT_INTERP, for executables
 * @property {string[]} needed DT_NEEDED library names, in order
 * @property {Record<string, string[]>} versionNeeds per needed library, the symbol versions required of it
 */

/**
 * Reads `path`'s ELF headers; undefined when it is not an ELF file. Only 64-bit
 * little-endian files get `needed` and `versionNeeds` (the others get empty ones): every
 * target we build for is one.
 * @param {string} path
 * @returns {ElfInfo | undefined}
 * @throws {Error} when the file claims to be ELF but its headers do not hold together.
 */
export function readElf(path) {
  const fd = openSync(path, "r");
  try {
    const read = (offset, length) => {
      const buf = Buffer.alloc(length);
      const got = readSync(fd, buf, 0, length, offset);
      if (got !== length) throw new Error(`${path}: truncated ELF (wanted ${length} bytes at ${offset})`);
      return buf;
    };
    const ident = Buffer.alloc(64);
    const got = readSync(fd, ident, 0, 64, 0);
    if (got < 20 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const bits = ident[4] === 2 ? 64 : 32;
    const little = ident[5] === 1;
    const u16 = (b, o) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const type = u16(ident, 16);
    const info = {
      bits,
      machine: u16(ident, 18),
      kind: type === 2 ? "executable" : type === 3 ? "shared object" : "other",
      interpreter: undefined,
      needed: [],
      versionNeeds: {},
    };
    if (bits !== 64 || !little) return info;

    const phoff = Number(ident.readBigUInt64LE(32));
    const phentsize = ident.readUInt16LE(54);
    const phnum = ident.readUInt16LE(56);
    if (phentsize !== 56) throw new Error(`${path}: unexpected program header size ${phentsize}`);
    const headers = read(phoff, phnum * phentsize);
    const loads = [];
    let dynamic;
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      const p = {
        type: headers.readUInt32LE(at),
        offset: Number(headers.readBigUInt64LE(at + 8)),
        vaddr: Number(headers.readBigUInt64LE(at + 16)),
        filesz: Number(headers.readBigUInt64LE(at + 32)),
      };
      if (p.type === PT_LOAD) loads.push(p);
      else if (p.type === PT_DYNAMIC) dynamic = p;
      else if (p.type === PT_INTERP)
        info.interpreter = read(p.offset, p.filesz).toString("latin1").replace(/\0.*$/s, "");
    }
    if (dynamic === undefined) return info;

    // Dynamic entries hold virtual addresses: map them to file offsets through PT_LOAD.
    const fileOffset = (vaddr) => {
      const load = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
      if (load === undefined) throw new Error(`${path}: address 0x${vaddr.toString(16)} is in no loaded segment`);
      return vaddr - load.vaddr + load.offset;
    };
    const entries = read(dynamic.offset, dynamic.filesz);
    const neededOffsets = [];
    let strtab;
    let verneed;
    let verneedCount = 0;
    for (let at = 0; at + 16 <= entries.length; at += 16) {
      const tag = entries.readBigUInt64LE(at);
      const value = entries.readBigUInt64LE(at + 8);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) neededOffsets.push(Number(value));
      else if (tag === DT_STRTAB) strtab = fileOffset(Number(value));
      else if (tag === DT_VERNEED) verneed = fileOffset(Number(value));
      else if (tag === DT_VERNEEDNUM) verneedCount = Number(value);
    }
    if (strtab === undefined) return info;
    const string = (offset) => {
      const buf = Buffer.alloc(MAX_NAME);
      const n = readSync(fd, buf, 0, MAX_NAME, strtab + offset);
      const end = buf.subarray(0, n).indexOf(0);
      if (end < 0) throw new Error(`${path}: unterminated string in the dynamic string table`);
      return buf.toString("latin1", 0, end);
    };
    info.needed = neededOffsets.map(string);
    // Elf64_Verneed (16 bytes: version, count, file, aux, next) each followed by a chain of
    // Elf64_Vernaux (16 bytes: hash, flags, other, name, next).
    let need = verneed;
    for (let i = 0; need !== undefined && i < verneedCount; i++) {
      const vn = read(need, 16);
      const file = string(vn.readUInt32LE(4));
      info.versionNeeds[file] ??= [];
      const versions = info.versionNeeds[file];
      let aux = need + vn.readUInt32LE(8);
      for (let j = 0; j < vn.readUInt16LE(2); j++) {
        const vna = read(aux, 16);
        versions.push(string(vna.readUInt32LE(8)));
        aux += vna.readUInt32LE(12);
      }
      const next = vn.readUInt32LE(12);
      need = next === 0 ? undefined : need + next;
    }
    return info;
  } finally {
    closeSync(fd);
  }
}

/**
 * True when `info` is built for musl rather than glibc: its interpreter is ld-musl-*, or
 * (a shared object has none) it links musl's libc.
 * @param {ElfInfo} info
 * @returns {boolean}
 */
export function isMusl(info) {
  return (info.interpreter ?? "").includes("ld-musl-") || info.needed.some((lib) => lib.startsWith("libc.musl-"));
}

/**
 * The highest version of the form `PREFIX<dotted numbers>` (GLIBC_2.28) that `info` needs
 * from any library, as the dotted number ("2.28"); undefined when it needs none.
 * @param {ElfInfo} info
 * @param {string} prefix e.g. "GLIBC_", "GLIBCXX_", "CXXABI_"
 * @returns {string | undefined}
 */
export function highestVersionNeeded(info, prefix) {
  const versions = Object.values(info.versionNeeds)
    .flat()
    .filter((v) => v.startsWith(prefix) && /^\d+(\.\d+)*$/.test(v.slice(prefix.length)))
    .map((v) => v.slice(prefix.length));
  return versions.sort(compareDotted).at(-1);
}

/**
 * Orders dotted version numbers numerically ("2.9" < "2.28").
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareDotted(a, b) {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
