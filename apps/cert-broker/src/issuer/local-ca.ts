// The local CA's two certificates and keys: a root (kept offline in spirit: it signs only the
// intermediate and its CRL) and an issuing intermediate that signs leaves. Both are created on first
// start in the CA directory, keys mode 0600, and loaded as they are afterwards.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../store/atomic-file.js";
import {
  CA_SIGNING,
  type CryptoKey,
  generateKeyPair,
  importCaKey,
  privateKeyPem,
  randomSerial,
  x509,
} from "./crypto.js";

export interface CaNames {
  /** Common names, e.g. "Metacircular Local Root CA". */
  rootName: string;
  intermediateName: string;
  /** Validity of newly created CA certificates. */
  rootLifetimeMs: number;
  intermediateLifetimeMs: number;
}

export interface CaMaterial {
  root: x509.X509Certificate;
  rootKey: CryptoKey;
  intermediate: x509.X509Certificate;
  intermediateKey: CryptoKey;
  rootPem: string;
  intermediatePem: string;
}

const FILES = {
  root: "root.pem",
  rootKey: "root.key",
  intermediate: "intermediate.pem",
  intermediateKey: "intermediate.key",
};

/** Loads the CA from `dir`, creating whatever part is missing (a root first, then an intermediate). */
export async function loadOrCreateCa(dir: string, names: CaNames, now = new Date()): Promise<CaMaterial> {
  const path = (name: keyof typeof FILES) => join(dir, FILES[name]);
  // Keys are written before certificates, so a certificate on disk always has its key.
  const newRoot = !existsSync(path("root"));
  if (newRoot) {
    const keys = await generateKeyPair("ec-p256");
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `CN=${names.rootName}`,
      notBefore: now,
      notAfter: new Date(now.getTime() + names.rootLifetimeMs),
      keys,
      signingAlgorithm: CA_SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    writeFileAtomic(path("rootKey"), privateKeyPem(keys.privateKey), 0o600);
    writeFileAtomic(path("root"), `${cert.toString("pem")}\n`);
  }
  const rootPem = readFileSync(path("root"), "utf8");
  const root = new x509.X509Certificate(rootPem);
  const rootKey = await importCaKey(readFileSync(path("rootKey"), "utf8"));

  // A new root makes any old intermediate useless, so it gets a new one too.
  if (newRoot || !existsSync(path("intermediate"))) {
    const keys = await generateKeyPair("ec-p256");
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${names.intermediateName}`,
      issuer: root.subject,
      notBefore: now,
      notAfter: new Date(now.getTime() + names.intermediateLifetimeMs),
      publicKey: keys.publicKey,
      signingKey: rootKey,
      signingAlgorithm: CA_SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(root),
      ],
    });
    writeFileAtomic(path("intermediateKey"), privateKeyPem(keys.privateKey), 0o600);
    writeFileAtomic(path("intermediate"), `${cert.toString("pem")}\n`);
  }
  const intermediatePem = readFileSync(path("intermediate"), "utf8");
  return {
    root,
    rootKey,
    rootPem,
    intermediate: new x509.X509Certificate(intermediatePem),
    intermediateKey: await importCaKey(readFileSync(path("intermediateKey"), "utf8")),
    intermediatePem,
  };
}
