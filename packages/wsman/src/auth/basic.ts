/** HTTP Basic authentication (RFC 7617) for WinRM's Basic mode, both sides. */
import { timingSafeEqual } from "node:crypto";
import { WsmanError } from "../errors.js";

/**
 * The `Authorization` header value for `user` and `password` (UTF-8, as WinRM accepts).
 * @throws {WsmanError} `invalid-argument` for a user name with a colon or a control character.
 */
export function buildBasicAuthorization(user: string, password: string): string {
  if (user.includes(":") || /[\x00-\x1f\x7f]/.test(user + password)) {
    throw new WsmanError(
      "invalid-argument",
      "invalid credentials: a user name cannot contain ':' and neither may contain control characters",
    );
  }
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

/** The user and password in a Basic `Authorization` header, or undefined when it is not one. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | undefined {
  const m = header === undefined ? null : /^Basic[ ]+([A-Za-z0-9+/]+=*)[ ]*$/i.exec(header);
  if (m === null || m[1]!.length > 4096) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Compares two strings in time independent of where they differ (length still shows). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  // Compare equal-length buffers so timingSafeEqual never throws; the length check comes last.
  const same = timingSafeEqual(ab, ab.length === bb.length ? bb : ab) && ab.length === bb.length;
  return same;
}

/**
 * Checks a Basic header against `users` (names compared ignoring case, passwords in
 * constant time).
 */
export function verifyBasicAuthorization(
  header: string | undefined,
  users: ReadonlyMap<string, string>,
): { ok: true; user: string } | { ok: false; reason: "missing" | "unknown-user" | "wrong-password"; user?: string } {
  const creds = parseBasicAuthorization(header);
  if (creds === undefined) return { ok: false, reason: "missing" };
  for (const [name, password] of users) {
    if (name.toUpperCase() === creds.user.toUpperCase()) {
      return constantTimeEqual(password, creds.password)
        ? { ok: true, user: name }
        : { ok: false, reason: "wrong-password", user: creds.user };
    }
  }
  return { ok: false, reason: "unknown-user", user: creds.user };
}
