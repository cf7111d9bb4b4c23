import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimError } from "./errors.js";

/** A certificate and its key, as PEM text and as files in `dir` (remove `dir` when done). */
export interface SelfSignedCertificate {
  readonly key: string;
  readonly cert: string;
  /** The certificate's file: what a client trusts (`--ca`). */
  readonly certPath: string;
  readonly dir: string;
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI
 * (node:crypto cannot make X.509 certificates). Used by `hyperv-sim serve --https` and by
 * tests that talk HTTPS to the simulator.
 * @throws {SimError} `invalid-argument` when openssl is missing or fails.
 */
export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), "hyperv-sim-cert-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certPath,
        "-days",
        "30",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "pipe" },
    );
    return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8"), certPath, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new SimError(
      "invalid-argument",
      `a self-signed certificate needs the openssl CLI: ${(error as Error).message}`,
    );
  }
}
