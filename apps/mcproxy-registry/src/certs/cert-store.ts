// TLS contexts for L7 routes, loaded from the certificate files and swapped in place on renewal:
// new handshakes get the new context, connections already open keep theirs.

import { X509Certificate } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { createSecureContext, type SecureContext } from "node:tls";
import { type CertificateRef, RouteError } from "../routes/types.js";

export interface LoadedCertificate {
  context: SecureContext;
  /** The leaf, as the files hold it now (its serial is hex, upper case). */
  leaf: X509Certificate;
  /** When the leaf expires, in ms since the epoch (read once: X509Certificate parses per call). */
  notAfter: number;
}

const keyOf = (ref: CertificateRef) => `${ref.certFile}\u0000${ref.keyFile}`;

export class CertStore {
  readonly #loaded = new Map<string, LoadedCertificate>();

  /** The context for a route's certificate, loading it on first use. */
  context(ref: CertificateRef): SecureContext {
    return (this.#loaded.get(keyOf(ref)) ?? this.load(ref)).context;
  }

  /**
   * (Re)reads the files. A failure leaves the previous context serving and is a FAILED_PRECONDITION
   * naming the file: a renewal that wrote a bad pair must not take the site down.
   */
  load(ref: CertificateRef): LoadedCertificate {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readPemFile(ref.certFile);
    } catch (err) {
      throw unreadable(ref.certFile, err);
    }
    try {
      key = readPemFile(ref.keyFile);
    } catch (err) {
      throw unreadable(ref.keyFile, err);
    }
    let loaded: LoadedCertificate;
    try {
      const context = createSecureContext({ cert, key, minVersion: "TLSv1.2" });
      const leaf = new X509Certificate(cert);
      loaded = { context, leaf, notAfter: Date.parse(leaf.validTo) };
    } catch (err) {
      throw new RouteError(
        "FAILED_PRECONDITION",
        `certificate ${ref.certFile} with key ${ref.keyFile} cannot be used: ${(err as Error).message}`,
      );
    }
    this.#loaded.set(keyOf(ref), loaded);
    return loaded;
  }

  /** The certificate loaded for `ref`, if it is (never reads the files). */
  loaded(ref: CertificateRef): LoadedCertificate | undefined {
    return this.#loaded.get(keyOf(ref));
  }

  forget(ref: CertificateRef): void {
    this.#loaded.delete(keyOf(ref));
  }
}

/** The largest certificate or key file read: a long chain is tens of KB. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Reads a certificate or key file, if it is a regular file of at most 1 MiB. Opened non-blocking
 * and checked on the handle: a FIFO would block the event loop (every connection) in the read,
 * and a device such as /dev/zero would be read until memory ran out.
 */
function readPemFile(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error("not a regular file");
    if (stat.size > MAX_PEM_BYTES)
      throw new Error(`${stat.size} bytes, over the ${MAX_PEM_BYTES} a PEM file may have`);
    const data = Buffer.allocUnsafe(stat.size);
    let length = 0;
    while (length < data.length) {
      const n = readSync(fd, data, length, data.length - length, null);
      if (n === 0) break; // shortened while we read
      length += n;
    }
    return data.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function unreadable(file: string, err: unknown): RouteError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOENT"
      ? "no such file"
      : code === "EACCES"
        ? "permission denied"
        : code === "EISDIR"
          ? "a directory"
          : code === undefined
            ? (err as Error).message
            : String(err);
  return new RouteError("FAILED_PRECONDITION", `certificate file ${file} cannot be read: ${reason}`);
}
