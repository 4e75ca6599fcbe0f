// The one interface every certificate source implements: the embedded local CA, ACME (Metacrypt,
// step-ca, a public CA), and later a Metacrypt REST issuer. The broker owns policy, storage, files and
// renewal; an issuer only turns a request into a signed certificate.
import type { KeyType } from "./crypto.js";

export interface IssueRequest {
  /** Normalised DNS names (lower-case ASCII, no trailing dot), already allowed by policy. */
  hostnames: string[];
  keyType: KeyType;
  clientAuth: boolean;
  /** Requested validity; an upstream CA may choose its own. */
  lifetimeMs: number;
  /** When the validity starts (the broker's clock). */
  now: Date;
}

export interface IssuedCertificate {
  /** Hex, lower case, no separators. */
  serial: string;
  /** The leaf (PEM). */
  certPem: string;
  /** The leaf followed by the intermediates (PEM). */
  chainPem: string;
  /** The leaf's private key (PKCS#8 PEM). */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  /** The issuer's distinguished name. */
  issuer: string;
  fingerprint: string;
}

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  /** RFC 5280 CRLReason code. */
  reasonCode: number;
}

export interface Issuer {
  /** "local" or "acme": what the README and logs call it. */
  readonly kind: string;
  issue(request: IssueRequest): Promise<IssuedCertificate>;
  /** The root certificates (PEM, one per entry) clients should trust. */
  trustBundle(): Promise<string[]>;
  /** Tells the CA; the broker has recorded the revocation already. */
  revoke(certPem: string, reasonCode: number): Promise<void>;
  /** A DER CRL over these entries, for a CA the broker runs itself; undefined when it has none. */
  crl?(entries: RevokedEntry[], now: Date): Promise<Uint8Array>;
}

/** The issuer could not be reached or failed: the caller may retry later (Connect Unavailable). */
export class IssuerUnavailableError extends Error {
  override name = "IssuerUnavailableError";
}
