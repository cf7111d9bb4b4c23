import { WsmanClient } from "@hyperv-kvp/wsman";
import { thrown } from "@hyperv-kvp/test-support";
import { describe, expect, it } from "vitest";
import { HostCliError } from "./host-error.js";
import { type ConnectionArgs, clientOptionsOf, endpointOf } from "./connection.js";

const base: ConnectionArgs = { host: "hv01", user: "admin" };

describe("clientOptionsOf: plain HTTP, sealed (docs/ws-management.md#message-sealing-over-http)", () => {
  it("--http with NTLM needs nothing more: the client seals every message", () => {
    const options = clientOptionsOf({ ...base, http: true }, "pw", undefined);
    expect(options).toEqual({
      endpoint: "http://hv01:5985/wsman",
      auth: { kind: "ntlm", user: "admin", password: "pw" },
      timeoutMs: 60_000,
    });
    expect(new WsmanClient(options).sealed).toBe(true);
  });

  it("an http:// --endpoint with NTLM is sealed too", () => {
    const options = clientOptionsOf({ endpoint: "http://10.0.0.5:5985/wsman", user: "CORP\\admin" }, "pw", undefined);
    expect(options.auth).toEqual({ kind: "ntlm", user: "admin", domain: "CORP", password: "pw" });
    expect(options.allowUnencrypted).toBeUndefined();
    expect(new WsmanClient(options).sealed).toBe(true);
  });

  it("--allow-unencrypted with NTLM over HTTP sends unsealed (hosts with AllowUnencrypted=true)", () => {
    const options = clientOptionsOf({ ...base, http: true, allowUnencrypted: true }, "pw", undefined);
    expect(options.allowUnencrypted).toBe(true);
    expect(new WsmanClient(options).sealed).toBe(false);
  });

  it("--http --auth basic still needs --allow-unencrypted", () => {
    const error = thrown(() => clientOptionsOf({ ...base, http: true, auth: "basic" }, "pw", undefined), HostCliError);
    expect(error.code).toBe("usage");
    expect(error.message).toMatch(/Basic over plain HTTP .*--allow-unencrypted/);
    expect(
      clientOptionsOf({ ...base, http: true, auth: "basic", allowUnencrypted: true }, "pw", undefined),
    ).toMatchObject({
      endpoint: "http://hv01:5985/wsman",
      auth: { kind: "basic" },
      allowUnencrypted: true,
    });
  });

  it("--allow-unencrypted changes nothing over HTTPS", () => {
    const options = clientOptionsOf({ ...base, allowUnencrypted: true, auth: "basic" }, "pw", "CA PEM");
    expect(options).toEqual({
      endpoint: "https://hv01:5986/wsman",
      auth: { kind: "basic", user: "admin", password: "pw" },
      timeoutMs: 60_000,
      ca: "CA PEM",
    });
    expect(new WsmanClient(options).sealed).toBe(false);
  });
});

describe("clientOptionsOf: the rest of the command line", () => {
  it.each<[string, ConnectionArgs, RegExp]>([
    ["host and endpoint", { ...base, endpoint: "https://x/wsman" }, /--host or --endpoint, not both/],
    ["no host", { user: "admin" }, /no host/],
    ["no user", { host: "hv01" }, /no user/],
    ["an unknown --auth", { ...base, auth: "kerberos" }, /invalid --auth/],
    ["--http with --endpoint", { endpoint: "http://x/wsman", user: "admin", http: true }, /--http goes with --host/],
    ["--insecure with --ca", { ...base, insecure: true }, /--ca or --insecure/],
  ])("refuses %s", (_name, args, message) => {
    const error = thrown(() => clientOptionsOf(args, "pw", args.insecure ? "CA" : undefined), HostCliError);
    expect(error.code).toBe("usage");
    expect(error.message).toMatch(message);
  });

  it("builds endpoints and timeouts", () => {
    expect(endpointOf({ host: "fe80::1" })).toBe("https://[fe80::1]:5986/wsman");
    expect(endpointOf({ host: "hv01", http: true })).toBe("http://hv01:5985/wsman");
    // One colon is a port, as a host is typed everywhere; an IPv6 address has two or more.
    expect(endpointOf({ host: "hv01:15986" })).toBe("https://hv01:15986/wsman");
    expect(endpointOf({ host: "127.0.0.1:8080", http: true })).toBe("http://127.0.0.1:8080/wsman");
    expect(endpointOf({ host: "[fe80::1]" })).toBe("https://[fe80::1]:5986/wsman");
    expect(endpointOf({ host: "[fe80::1]:443" })).toBe("https://[fe80::1]:443/wsman");
    expect(endpointOf({ host: "::1", http: true })).toBe("http://[::1]:5985/wsman");
    for (const host of ["hv01:0", "hv01:65536", "hv01:https", ":5986", "[fe80::1]:x"]) {
      expect(thrown(() => endpointOf({ host }), HostCliError).code).toBe("usage");
    }
    expect(clientOptionsOf(base, "pw", undefined).timeoutMs).toBe(60_000);
    expect(clientOptionsOf({ ...base, timeoutMs: 2500 }, "pw", undefined).timeoutMs).toBe(2500);
  });
});

describe("a user name or password in --endpoint or --host is refused, never printed", () => {
  it.each([
    "http://admin:S3cret!@hv01:5985/wsman",
    "https://CORP%5Cadmin:S3cret!@hv01/wsman",
    "https://admin@hv01:5986/wsman",
    "HTTP://:S3cret!@hv01/wsman",
  ])("--endpoint %s", (endpoint) => {
    const error = thrown(() => clientOptionsOf({ endpoint, user: "admin" }, "pw", undefined), HostCliError);
    expect(error.code).toBe("usage");
    expect(error.message).toMatch(/--endpoint must not carry a user name or password/);
    expect(error.message).not.toContain("S3cret");
  });

  it("--host admin:S3cret!@hv01", () => {
    const error = thrown(() => endpointOf({ host: "admin:S3cret!@hv01" }), HostCliError);
    expect(error.code).toBe("usage");
    expect(error.message).not.toContain("S3cret");
  });
});
