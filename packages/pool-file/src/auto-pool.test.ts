import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  AUTO_POOL_KEYS,
  describeOs,
  formatAddressList,
  formatDomainName,
  parseLegacyRelease,
  parseOsRelease,
  selectAddresses,
  stripBuildSuffix,
  synthesizeAutoPool,
} from "./auto-pool.js";
import { AF_INET, AF_INET6, IFF_LOOPBACK, type InterfaceAddress } from "./libc.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseOsRelease", () => {
  it("reads NAME and VERSION_ID of a typical file", () => {
    const debian = [
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
      'NAME="Debian GNU/Linux"',
      'VERSION_ID="12"',
      'VERSION="12 (bookworm)"',
      "ID=debian",
      "",
    ].join("\n");
    expect(parseOsRelease(bytes(debian))).toEqual({ name: "Debian GNU/Linux", versionId: "12" });
  });

  it.each([
    ["drops every quote wherever it stands", `NAME="it's "quoted" here"\n`, "its quoted here"],
    ["keeps a backslash-escaped quote", `NAME="Foo \\"Bar\\""\n`, 'Foo "Bar"'],
    ["turns \\x into x, so \\n is an n", `NAME=a\\nb\\\\c\n`, "anb\\c"],
    ["keeps a newline escaped by a backslash", "NAME=abc\\\n", "abc\n"],
    ["ends at a lone trailing backslash", "NAME=abc\\", "abc"],
    ["keeps a carriage return", "NAME=Foo\r\n", "Foo\r"],
    ["keeps spaces", "NAME=  spaced out  \n", "  spaced out  "],
    ["ends the line at a NUL", "NAME=ab\0cd\n", "ab"],
    ["takes an empty value", "NAME=\n", ""],
  ])("%s", (_, text, name) => {
    expect(parseOsRelease(bytes(text)).name).toBe(name);
  });

  it("matches keys exactly, skips first-column comments and lets the last one win", () => {
    const text = [
      "#NAME=comment",
      "NAME = spaced",
      " NAME=indented",
      "name=lower",
      "NAME=first",
      "NAME=second",
      "",
    ].join("\n");
    expect(parseOsRelease(bytes(text))).toEqual({ name: "second" });
  });

  it("reads in 511-byte pieces like fgets(buf, 512): a long line is cut and its tail is a line of its own", () => {
    const long = `NAME=${"a".repeat(600)}\n`;
    expect(parseOsRelease(bytes(long)).name).toBe("a".repeat(506));
    const smuggled = `X=${"a".repeat(509)}NAME=tail\n`;
    expect(parseOsRelease(bytes(smuggled)).name).toBe("tail");
  });

  it("finds nothing in an empty file", () => {
    expect(parseOsRelease(new Uint8Array(0))).toEqual({});
  });
});

describe("parseLegacyRelease", () => {
  it("takes up to three lines as name, major and minor", () => {
    expect(parseLegacyRelease(bytes("CentOS release 6.5 (Final)\nKernel \\r on an \\m\n\nmore\n"))).toEqual({
      name: "CentOS release 6.5 (Final)",
      major: "Kernel \\r on an \\m",
      minor: "",
    });
    expect(parseLegacyRelease(bytes("SUSE Linux Enterprise Server 11"))).toEqual({
      name: "SUSE Linux Enterprise Server 11",
    });
    expect(parseLegacyRelease(new Uint8Array(0))).toEqual({});
  });
});

describe("describeOs", () => {
  const uname = { sysname: "Linux", release: "6.1.0-18-amd64", machine: "x86_64" };

  it("uses os-release when it opens, and never the legacy files then", () => {
    const info = describeOs({
      ...uname,
      osRelease: bytes('NAME="Debian GNU/Linux"\nVERSION_ID="12"\n'),
      legacyRelease: () => {
        throw new Error("must not be read");
      },
    });
    expect(info).toEqual({
      name: "Debian GNU/Linux",
      major: "12",
      minor: "",
      version: "6.1.0",
      build: "6.1.0-18-amd64",
      architecture: "x86_64",
    });
  });

  it("keeps uname's sysname and empty versions when os-release names nothing", () => {
    expect(describeOs({ ...uname, osRelease: bytes("ID=x\n"), legacyRelease: undefined })).toMatchObject({
      name: "Linux",
      major: "",
      minor: "",
    });
  });

  it("falls back to the legacy file, then to uname", () => {
    const legacy = bytes("Red Hat Enterprise Linux Server release 6.4 (Santiago)\n6\n4\n");
    expect(describeOs({ ...uname, osRelease: undefined, legacyRelease: legacy })).toMatchObject({
      name: "Red Hat Enterprise Linux Server release 6.4 (Santiago)",
      major: "6",
      minor: "4",
    });
    expect(describeOs({ ...uname, osRelease: undefined, legacyRelease: undefined })).toMatchObject({
      name: "Linux",
      major: "",
      minor: "",
    });
  });
});

describe("stripBuildSuffix", () => {
  it.each([
    ["6.1.0-18-amd64", "6.1.0"],
    ["5.15.0-1057-azure", "5.15.0"],
    ["6.18.44", "6.18.44"],
    ["-x", ""],
  ])("%s → %s", (release, version) => {
    expect(stripBuildSuffix(release)).toBe(version);
  });
});

describe("selectAddresses", () => {
  const v4 = (a: number, b: number, c: number, d: number) => Uint8Array.of(a, b, c, d);
  const entries: InterfaceAddress[] = [
    { name: "lo", flags: 0x49, family: 17, address: undefined },
    { name: "eth0", flags: 0x1043, family: 17, address: undefined },
    { name: "tun0", flags: 0x10d1, family: undefined, address: undefined },
    { name: "lo", flags: 0x49 | IFF_LOOPBACK, family: AF_INET, address: v4(127, 0, 0, 1) },
    { name: "eth0", flags: 0x1043, family: AF_INET, address: v4(192, 0, 2, 2) },
    // down (no IFF_UP), still reported
    { name: "eth1", flags: 0x1002, family: AF_INET, address: v4(198, 51, 100, 7) },
    { name: "eth0", flags: 0x1043, family: AF_INET6, address: new Uint8Array(16).fill(1) },
  ];

  it("keeps the family's non-loopback addresses in getifaddrs order, up or down", () => {
    expect(selectAddresses(entries, 4)).toEqual([v4(192, 0, 2, 2), v4(198, 51, 100, 7)]);
    expect(selectAddresses(entries, 6)).toEqual([new Uint8Array(16).fill(1)]);
  });
});

describe("formatAddressList", () => {
  it("joins with semicolons, and gives an empty value without addresses", () => {
    expect(formatAddressList([], 4)).toBe("");
    expect(formatAddressList(["192.0.2.2"], 4)).toBe("192.0.2.2");
    expect(formatAddressList(["fd00::2", "fe80::fc:ff:fe00:1"], 6)).toBe("fd00::2;fe80::fc:ff:fe00:1");
  });

  it("replaces everything with the daemon's text when inet_ntop fails", () => {
    expect(formatAddressList(["192.0.2.2", null, "192.0.2.3"], 4)).toBe("inet_ntop failed\n");
  });

  it("stops when the 2048-byte value has no room for the longest address of the family plus 2", () => {
    // Each 15-character IPv4 address uses 16 bytes; before the 128th only 2048 - 2032 = 16 < 18 remain.
    const v4 = formatAddressList(
      Array.from({ length: 200 }, () => "255.255.255.255"),
      4,
    );
    expect(v4.split(";")).toHaveLength(127);
    expect(v4).toHaveLength(127 * 16 - 1);
    // 39-character IPv6 addresses use 40 bytes; 51 fit before fewer than 48 remain.
    const six = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const v6 = formatAddressList(
      Array.from({ length: 100 }, () => six),
      6,
    );
    expect(v6.split(";")).toHaveLength(51);
    // Short addresses fit more: the check is on bytes used, not on a count.
    expect(
      formatAddressList(
        Array.from({ length: 1000 }, () => "10.0.0.1"),
        4,
      ).split(";"),
    ).toHaveLength(226);
  });
});

describe("formatDomainName", () => {
  it("gives the canonical name, or the daemon's error text", () => {
    expect(formatDomainName({ ok: true, canonicalName: "web01.example.test" })).toBe("web01.example.test");
    expect(formatDomainName({ ok: true, canonicalName: null })).toBe("(null)");
    expect(formatDomainName({ ok: false, error: -2, message: "Name or service not known" })).toBe(
      "getaddrinfo failed: 0xfffffffe Name or service not known",
    );
    expect(formatDomainName({ ok: false, error: -3, message: "Temporary failure in name resolution" })).toBe(
      "getaddrinfo failed: 0xfffffffd Temporary failure in name resolution",
    );
  });

  it("cuts to the 2047 bytes snprintf leaves", () => {
    expect(formatDomainName({ ok: true, canonicalName: "a".repeat(3000) })).toHaveLength(2047);
    // never inside a character: 2046 bytes of "a" then a 2-byte "é" would end at 2048
    expect(formatDomainName({ ok: true, canonicalName: `${"a".repeat(2046)}é` })).toBe("a".repeat(2046));
  });
});

const onLinux = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
const dir = mkdtempSync(join(tmpdir(), "kvp-auto-pool-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(onLinux)("synthesizeAutoPool on this machine", () => {
  it("gives the ten keys in the daemon's order, with uname's and os-release's values", () => {
    const osRelease = join(dir, "os-release");
    writeFileSync(osRelease, 'NAME="Test \\"OS\\""\nVERSION_ID=42\n');
    const items = synthesizeAutoPool({ osReleasePath: osRelease });
    expect(items.map((i) => i.key)).toEqual([...AUTO_POOL_KEYS]);
    const value = Object.fromEntries(items.map((i) => [i.key, i.value]));
    expect(value).toMatchObject({
      IntegrationServicesVersion: "3.1",
      OSName: 'Test "OS"',
      OSMajorVersion: "42",
      OSMinorVersion: "",
      OSBuildNumber: release(),
      OSVersion: stripBuildSuffix(release()),
    });
    expect(value["ProcessorArchitecture"]).toBe(process.arch === "x64" ? "x86_64" : "aarch64");
    expect(value["FullyQualifiedDomainName"]).not.toBe("");
  });

  it("reports the version the kernel registered with", () => {
    const items = synthesizeAutoPool({ integrationServicesVersion: "4.0" });
    expect(items.find((i) => i.key === "IntegrationServicesVersion")?.value).toBe("4.0");
  });
});
