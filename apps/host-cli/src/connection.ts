/**
 * Connection options → WsmanClient options, pure (the CLI reads the CA file and the
 * password). The password never comes from the command line: KVP_HOST_PASSWORD or a prompt.
 */
import type { WsmanClientOptions } from "@hyperv-kvp/wsman";
import type { DurationSpec } from "@hyperv-kvp/cli-kit";
import { HostCliError } from "./host-error.js";

/** The environment variable that holds the password. */
export const PASSWORD_ENV = "KVP_HOST_PASSWORD";
/** Default timeout of one WS-Management exchange, seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** Connection options as the command line gives them. */
export interface ConnectionArgs {
  readonly host?: string;
  readonly endpoint?: string;
  readonly user?: string;
  readonly auth?: string;
  readonly ca?: string;
  readonly insecure?: boolean;
  readonly http?: boolean;
  readonly allowUnencrypted?: boolean;
  /** `--timeout`, already read as a duration; default {@link DEFAULT_TIMEOUT_SECONDS}. */
  readonly timeoutMs?: number;
}

function usage(message: string): HostCliError {
  return new HostCliError("usage", message, "kvp-host --help");
}

/** The endpoint URL: `--endpoint`, else `https://HOST:5986/wsman` (`http://HOST:5985/wsman` with `--http`). */
export function endpointOf(args: ConnectionArgs): string {
  if (args.endpoint !== undefined && args.host !== undefined) throw usage("give --host or --endpoint, not both");
  if (args.endpoint !== undefined) {
    // Node would turn user:password@ into a cleartext Basic header on every request (sealed
    // ones too), and the URL is printed in messages: refuse it, without echoing it.
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(args.endpoint))
      throw usage(
        `--endpoint must not carry a user name or password (USER:PASSWORD@ in the URL): give the user with --user and the password in ${PASSWORD_ENV} or at the prompt`,
      );
    return args.endpoint;
  }
  if (args.host === undefined || args.host === "") throw usage("no host: give --host H (or --endpoint URL)");
  if (args.host.includes("@"))
    throw usage(
      `--host must not carry a user name or password (USER@ or USER:PASSWORD@): give the user with --user and the password in ${PASSWORD_ENV} or at the prompt`,
    );
  const scheme = args.http ? "http" : "https";
  return `${scheme}://${hostAndPort(args.host, args.http ? 5985 : 5986)}/wsman`;
}

/**
 * `--host` as the URL's authority: `NAME`, `NAME:PORT`, an IPv6 address (`fe80::1`, written
 * bare or in brackets) or `[IPv6]:PORT`. One colon is a port, as everywhere else a host is
 * typed; an IPv6 address always has two or more.
 */
function hostAndPort(host: string, defaultPort: number): string {
  const bracketed = /^(\[[^\]]*\])(?::(\d+))?$/.exec(host);
  if (bracketed) return `${bracketed[1]}:${portOf(bracketed[2], defaultPort, host)}`;
  if (host.startsWith("[")) throw usage(`--host ${host}: write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT`);
  const colons = host.split(":").length - 1;
  if (colons >= 2) return `[${host}]:${defaultPort}`;
  if (colons === 1) {
    const [name, port] = host.split(":") as [string, string];
    if (name === "") throw usage(`--host ${host}: no host name before the port`);
    return `${name}:${portOf(port, defaultPort, host)}`;
  }
  return `${host}:${defaultPort}`;
}

function portOf(text: string | undefined, defaultPort: number, host: string): number {
  if (text === undefined) return defaultPort;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw usage(`--host ${host}: the port must be a number from 1 to 65535`);
  return port;
}

/** How `--timeout` is read: a duration; a bare number is seconds (deprecated). At most a day. */
export const TIMEOUT_SPEC: DurationSpec = {
  option: "--timeout",
  bareUnit: "s",
  minMs: 1,
  maxMs: 86_400_000,
  hint: "kvp-host --help",
};

/**
 * The WsmanClient options for `args`, with the password and CA text the caller obtained.
 * `DOMAIN\user` sets the NTLM domain. `--http` with NTLM needs nothing more (the client
 * seals); `--allow-unencrypted` is required for Basic over HTTP and, with NTLM over HTTP,
 * sends the SOAP unsealed.
 * @throws {HostCliError} `usage` for contradictory or missing options.
 */
export function clientOptionsOf(args: ConnectionArgs, password: string, ca: string | undefined): WsmanClientOptions {
  const endpoint = endpointOf(args);
  if (args.user === undefined || args.user === "")
    throw usage("no user: give --user U (DOMAIN\\user for a domain account)");
  const given = args.auth ?? "ntlm";
  if (given !== "ntlm" && given !== "basic") throw usage(`invalid --auth ${JSON.stringify(given)}: basic or ntlm`);
  const kind: "ntlm" | "basic" = given;
  const plain = endpoint.toLowerCase().startsWith("http:");
  // NTLM over plain HTTP seals every message, as WinRM requires by default. Basic cannot be
  // sealed: over plain HTTP it shows the password and data to the network.
  if (plain && kind === "basic" && !args.allowUnencrypted) {
    throw usage(
      "Basic over plain HTTP sends the password and data readable (and WinRM refuses it by default): use HTTPS, NTLM (which seals messages over HTTP), or add --allow-unencrypted if the host allows unencrypted traffic",
    );
  }
  if (args.http && args.endpoint !== undefined)
    throw usage("--http goes with --host; write the scheme in --endpoint instead");
  if (args.insecure && ca !== undefined) throw usage("give --ca or --insecure, not both");
  const slash = args.user.indexOf("\\");
  const auth =
    slash > 0
      ? { kind, user: args.user.slice(slash + 1), domain: args.user.slice(0, slash), password }
      : { kind, user: args.user, password };
  return {
    endpoint,
    auth,
    timeoutMs: args.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000,
    ...(ca === undefined ? {} : { ca }),
    ...(args.insecure ? { insecure: true } : {}),
    // Over HTTP with NTLM this turns sealing off, for hosts configured AllowUnencrypted=true.
    ...(plain && args.allowUnencrypted ? { allowUnencrypted: true } : {}),
  };
}
