// Shared by the abuse-*.test.ts suites: what a hostile client gets back, and whether the files a
// hostname publishes belong together.
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";

/** The ConnectError a call failed with; fails the test when the call succeeds. */
export async function refusal(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

/**
 * The serial of the certificate published for `hostname` in `certDir`, after checking that the
 * leaf, the chain's first certificate and the key are one certificate and its key.
 */
export function publishedSerial(certDir: string, hostname: string): string {
  const leafPem = readFileSync(join(certDir, `${hostname}.pem`), "utf8");
  const chainPem = readFileSync(join(certDir, `${hostname}.chain.pem`), "utf8");
  const keyPem = readFileSync(join(certDir, `${hostname}.key`), "utf8");
  const leaf = new X509Certificate(leafPem);
  if (!chainPem.startsWith(leafPem.trimEnd())) {
    throw new Error(`${hostname}.chain.pem does not start with ${hostname}.pem`);
  }
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  if (!fromKey.equals(leaf.publicKey.export({ type: "spki", format: "der" }))) {
    throw new Error(`${hostname}.key is not the key of ${hostname}.pem`);
  }
  return leaf.serialNumber.toLowerCase();
}
