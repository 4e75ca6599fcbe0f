// TLS contexts for L7 routes, loaded from the certificate files and swapped in place on renewal:
// new handshakes get the new context, connections already open keep theirs.

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext, type SecureContext } from "node:tls";
import { type CertificateRef, RouteError } from "../routes/types.js";

interface Loaded {
  context: SecureContext;
  /** The leaf's serial, as the files hold it now (hex, upper case). */
  serial: string;
}

const keyOf = (ref: CertificateRef) => `${ref.certFile}\u0000${ref.keyFile}`;

export class CertStore {
  readonly #loaded = new Map<string, Loaded>();

  /** The context for a route's certificate, loading it on first use. */
  context(ref: CertificateRef): SecureContext {
    return (this.#loaded.get(keyOf(ref)) ?? this.load(ref)).context;
  }

  /**
   * (Re)reads the files. A failure leaves the previous context serving and is a FAILED_PRECONDITION
   * naming the file: a renewal that wrote a bad pair must not take the site down.
   */
  load(ref: CertificateRef): Loaded {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(ref.certFile);
    } catch (err) {
      throw unreadable(ref.certFile, err);
    }
    try {
      key = readFileSync(ref.keyFile);
    } catch (err) {
      throw unreadable(ref.keyFile, err);
    }
    let loaded: Loaded;
    try {
      const context = createSecureContext({ cert, key, minVersion: "TLSv1.2" });
      loaded = { context, serial: new X509Certificate(cert).serialNumber };
    } catch (err) {
      throw new RouteError(
        "FAILED_PRECONDITION",
        `certificate ${ref.certFile} with key ${ref.keyFile} cannot be used: ${(err as Error).message}`,
      );
    }
    this.#loaded.set(keyOf(ref), loaded);
    return loaded;
  }

  forget(ref: CertificateRef): void {
    this.#loaded.delete(keyOf(ref));
  }
}

function unreadable(file: string, err: unknown): RouteError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(err);
  return new RouteError("FAILED_PRECONDITION", `certificate file ${file} cannot be read: ${reason}`);
}
