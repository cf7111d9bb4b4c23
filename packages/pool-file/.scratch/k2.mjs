import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const koffi = require("koffi");
const libc = koffi.load(null);
const IfAddrs = koffi.struct("ifaddrs", { ifa_next: "void *", ifa_name: "const char *", ifa_flags: "uint", ifa_addr: "void *", ifa_netmask: "void *", ifa_ifu: "void *", ifa_data: "void *" });
console.log(koffi.sizeof(IfAddrs), koffi.offsetof(IfAddrs,"ifa_addr"));
const getifaddrs = libc.func("int getifaddrs(_Out_ void **ifap)");
const freeifaddrs = libc.func("void freeifaddrs(void *ifa)");
const inet_ntop = libc.func("const char *inet_ntop(int af, const void *src, _Out_ char *dst, uint32 size)");
const out = [null];
console.log(getifaddrs(out), out);
let p = out[0];
while (p) {
  const e = koffi.decode(p, IfAddrs);
  let fam = e.ifa_addr ? koffi.decode(e.ifa_addr, "uint16") : null;
  let txt = null;
  if (fam === 2 || fam === 10) {
    const off = fam === 2 ? 4 : 8, len = fam === 2 ? 4 : 16;
    const bytes = Buffer.from(koffi.decode(e.ifa_addr, off, koffi.array("uint8", len, "Typed")));
    const dst = Buffer.alloc(50);
    txt = inet_ntop(fam, bytes, dst, 50);
  }
  console.log(e.ifa_name, e.ifa_flags.toString(16), fam, txt);
  p = e.ifa_next;
}
freeifaddrs(out[0]);
const AddrInfo = koffi.struct("addrinfo", { ai_flags: "int", ai_family: "int", ai_socktype: "int", ai_protocol: "int", ai_addrlen: "uint32", ai_addr: "void *", ai_canonname: "const char *", ai_next: "void *" });
console.log(koffi.sizeof(AddrInfo));
const getaddrinfo = libc.func("int getaddrinfo(const char *node, const char *service, const addrinfo *hints, _Out_ void **res)");
const freeaddrinfo = libc.func("void freeaddrinfo(void *res)");
const gai_strerror = libc.func("const char *gai_strerror(int errcode)");
const gethostname = libc.func("int gethostname(_Out_ uint8_t *name, size_t len)");
const hb = Buffer.alloc(2048);
console.log(gethostname(hb, 2048), hb.subarray(0, hb.indexOf(0)).toString());
for (const host of [hb.subarray(0, hb.indexOf(0)).toString(), "nonexistent.invalid", "localhost"]) {
  const res = [null];
  const rc = getaddrinfo(host, null, { ai_flags: 2, ai_family: 2, ai_socktype: 1, ai_protocol: 0, ai_addrlen: 0, ai_addr: null, ai_canonname: null, ai_next: null }, res);
  if (rc) console.log(rc, (rc >>> 0).toString(16), gai_strerror(rc));
  else { console.log(koffi.decode(res[0], AddrInfo).ai_canonname); freeaddrinfo(res[0]); }
}
