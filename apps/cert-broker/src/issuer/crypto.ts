// Keys and the X.509 toolkit: @peculiar/x509 on Node's WebCrypto (so signing is OpenSSL's, not
// JavaScript's). @peculiar/x509 2.x needs reflect-metadata loaded before it.
import "reflect-metadata";
import { createHash, KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

// The WebCrypto types, from Node's typings (this package does not load the DOM library).
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** The key algorithms a certificate can have; EC P-256 is the default. */
export type KeyType = "ec-p256" | "rsa-2048" | "rsa-3072";

/** The ECDSA parameters the CA keys sign with (the CA keys are always P-256). */
export const CA_SIGNING: webcrypto.EcdsaParams & webcrypto.EcKeyGenParams = {
  name: "ECDSA",
  namedCurve: "P-256",
  hash: "SHA-256",
};

function algorithmOf(keyType: KeyType): webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams {
  switch (keyType) {
    case "ec-p256":
      return { name: "ECDSA", namedCurve: "P-256" };
    case "rsa-2048":
    case "rsa-3072":
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: keyType === "rsa-2048" ? 2048 : 3072,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      };
  }
}

/** A new key pair; RSA generation runs off the main thread (WebCrypto is asynchronous). */
export async function generateKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithmOf(keyType), true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
}

/** PKCS#8 PEM of a private key. */
export function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}

/** Reads a PKCS#8 PEM P-256 key back as a signing CryptoKey. */
export async function importCaKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey("pkcs8", der, CA_SIGNING, false, ["sign"]);
}

/** The key type of a certificate's public key. */
export function keyTypeOf(cert: x509.X509Certificate): KeyType {
  const alg = cert.publicKey.algorithm as webcrypto.RsaHashedKeyAlgorithm & webcrypto.EcKeyAlgorithm;
  if (alg.name === "ECDSA") return "ec-p256";
  return alg.modulusLength === 3072 ? "rsa-3072" : "rsa-2048";
}

/** SHA-256 of the DER certificate, hex, lower case. */
export function fingerprint(cert: x509.X509Certificate): string {
  return createHash("sha256").update(Buffer.from(cert.rawData)).digest("hex");
}

/** A positive 128-bit serial, hex, lower case, with no leading zero byte (so its text is canonical). */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return Buffer.from(bytes).toString("hex");
}
