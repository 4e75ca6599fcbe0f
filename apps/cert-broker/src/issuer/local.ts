// The `local` issuer: leaves signed by the local CA's intermediate, and its CRL.

import { CA_SIGNING, fingerprint, generateKeyPair, privateKeyPem, randomSerial, x509 } from "./crypto.js";
import type { IssuedCertificate, IssueRequest, Issuer, RevokedEntry } from "./issuer.js";
import type { CaMaterial } from "./local-ca.js";

export interface LocalIssuerOptions {
  /** Put into each leaf's CRL distribution point, when the CRL is served. */
  crlUrl?: string;
  /** How long a CRL is valid; it is re-signed on every request, so this only bounds caching. */
  crlLifetimeMs?: number;
}

/** Backdating covers small clock differences between this node and the clients that check. */
const BACKDATE_MS = 60_000;

export class LocalIssuer implements Issuer {
  readonly kind = "local";

  constructor(
    private readonly ca: CaMaterial,
    private readonly options: LocalIssuerOptions = {},
  ) {}

  async issue(request: IssueRequest): Promise<IssuedCertificate> {
    const keys = await generateKeyPair(request.keyType);
    const rsa = request.keyType !== "ec-p256";
    const usages = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
    const eku = [
      x509.ExtendedKeyUsage.serverAuth,
      ...(request.clientAuth ? [x509.ExtendedKeyUsage.clientAuth] : []),
    ];
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension(eku, false),
      new x509.SubjectAlternativeNameExtension(
        request.hostnames.map((value) => ({ type: "dns" as const, value })),
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(this.ca.intermediate),
    ];
    if (this.options.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([this.options.crlUrl]));
    const notBefore = new Date(request.now.getTime() - BACKDATE_MS);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${request.hostnames[0]}`,
      issuer: this.ca.intermediate.subject,
      notBefore,
      notAfter: new Date(request.now.getTime() + request.lifetimeMs),
      publicKey: keys.publicKey,
      signingKey: this.ca.intermediateKey,
      signingAlgorithm: CA_SIGNING,
      extensions,
    });
    const certPem = `${cert.toString("pem")}\n`;
    return {
      serial: cert.serialNumber.toLowerCase(),
      certPem,
      chainPem: `${certPem}${this.ca.intermediatePem.trimEnd()}\n`,
      keyPem: privateKeyPem(keys.privateKey),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      issuer: cert.issuer,
      fingerprint: fingerprint(cert),
    };
  }

  async trustBundle(): Promise<string[]> {
    return [this.ca.rootPem.trimEnd()];
  }

  /** The broker records revocations itself; the CRL carries them. */
  async revoke(): Promise<void> {}

  async crl(entries: RevokedEntry[], now: Date): Promise<Uint8Array> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.ca.intermediate.subject,
      thisUpdate: new Date(now.getTime() - BACKDATE_MS),
      nextUpdate: new Date(now.getTime() + (this.options.crlLifetimeMs ?? 24 * 3_600_000)),
      entries: entries.map((e) => ({
        serialNumber: e.serial,
        revocationDate: e.revokedAt,
        reason: e.reasonCode as x509.X509CrlReason,
      })),
      signingKey: this.ca.intermediateKey,
      signingAlgorithm: CA_SIGNING,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(this.ca.intermediate)],
    });
    return new Uint8Array(crl.rawData);
  }
}
