// synthesizeAutoPool's libc calls through koffi, checked against the same calls compiled from
// C here. Needs Linux (x86_64 or arm64) and a C compiler (`cc`): without one the test fails
// (@hyperv-kvp/test-support/tools says how to skip it knowingly).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { C_COMPILER, standInForMissingTools, toolPolicy } from "@hyperv-kvp/test-support/tools";
import { afterAll, describe, expect, it } from "vitest";
import { synthesizeAutoPool } from "./auto-pool.js";

const onLinux = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
const dir = mkdtempSync(join(tmpdir(), "kvp-auto-pool-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A few lines of C calling the same libc functions directly, to check koffi's struct
// decoding (ifaddrs, sockaddr, addrinfo) against the compiler's idea of the layouts.
const REFERENCE_SOURCE = String.raw`
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void list(struct ifaddrs *all, int family) {
  const char *sep = "";
  for (struct ifaddrs *p = all; p; p = p->ifa_next) {
    if (!p->ifa_addr || p->ifa_addr->sa_family != family || (p->ifa_flags & IFF_LOOPBACK)) continue;
    const void *src = family == AF_INET
      ? (const void *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr
      : (const void *)&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
    char text[64];
    printf("%s%s", sep, inet_ntop(family, src, text, sizeof text));
    sep = ";";
  }
  printf("\n");
}

int main(void) {
  struct ifaddrs *all;
  if (getifaddrs(&all)) return 1;
  list(all, AF_INET);
  list(all, AF_INET6);
  freeifaddrs(all);
  char host[256] = "";
  gethostname(host, sizeof host);
  struct addrinfo hints, *info;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_CANONNAME;
  int error = getaddrinfo(host, NULL, &hints, &info);
  if (error) printf("error %d\n", error);
  else { printf("%s\n", info->ai_canonname); freeaddrinfo(info); }
  return 0;
}
`;

describe.runIf(onLinux)("synthesizeAutoPool agrees with the same calls made from C", () => {
  if (standInForMissingTools(toolPolicy([C_COMPILER]))) return;

  it("addresses and canonical name", () => {
    writeFileSync(join(dir, "reference.c"), REFERENCE_SOURCE);
    const program = join(dir, "reference");
    execFileSync("cc", ["-o", program, join(dir, "reference.c")], { stdio: "pipe" });
    const [ipv4, ipv6, fqdn] = execFileSync(program, { encoding: "utf8" }).split("\n");
    const value = Object.fromEntries(synthesizeAutoPool().map((i) => [i.key, i.value]));
    expect(value["NetworkAddressIPv4"]).toBe(ipv4);
    expect(value["NetworkAddressIPv6"]).toBe(ipv6);
    if (fqdn?.startsWith("error ")) {
      const code = Number(fqdn.slice("error ".length)) >>> 0;
      expect(value["FullyQualifiedDomainName"]).toMatch(new RegExp(`^getaddrinfo failed: 0x${code.toString(16)} `));
    } else {
      expect(value["FullyQualifiedDomainName"]).toBe(fqdn);
    }
  });
});
