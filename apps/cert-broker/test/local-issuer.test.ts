// The local CA and its leaves, checked the way a user would: openssl and a real TLS handshake.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalIssuer } from "../src/issuer/local.js";
import { type CaMaterial, loadOrCreateCa } from "../src/issuer/local-ca.js";
import { openssl, opensslVerify, pemFiles, tlsHandshake } from "./helpers/pki.js";

const names = {
  rootName: "Test Root CA",
  intermediateName: "Test Issuing CA",
  rootLifetimeMs: 10 * 365 * 86_400_000,
  intermediateLifetimeMs: 5 * 365 * 86_400_000,
};
const DAY = 86_400_000;
let dir: string;
let ca: CaMaterial;
let issuer: LocalIssuer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cert-broker-ca-"));
  ca = await loadOrCreateCa(join(dir, "ca"), names);
  issuer = new LocalIssuer(ca);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("local CA", () => {
  it("creates a root and an intermediate with 0600 keys, and loads the same ones again", async () => {
    for (const key of ["root.key", "intermediate.key"]) {
      expect(statSync(join(dir, "ca", key)).mode & 0o777).toBe(0o600);
    }
    const again = await loadOrCreateCa(join(dir, "ca"), names);
    expect(again.rootPem).toBe(ca.rootPem);
    expect(again.intermediatePem).toBe(ca.intermediatePem);
    const f = pemFiles({ root: ca.rootPem, intermediate: ca.intermediatePem });
    try {
      const verified = await openssl("verify", "-CAfile", f.paths.root!, f.paths.intermediate!);
      expect(verified.output).toContain(": OK");
      const text = (await openssl("x509", "-in", f.paths.intermediate!, "-noout", "-text")).output;
      expect(text).toContain("CA:TRUE, pathlen:0");
      expect(text).toContain("Certificate Sign, CRL Sign");
      expect(text).toContain("X509v3 Authority Key Identifier");
    } finally {
      f.cleanup();
    }
  });

  it.each([
    ["ec-p256", "id-ecPublicKey", "256 bit"],
    ["rsa-2048", "rsaEncryption", "2048 bit"],
    ["rsa-3072", "rsaEncryption", "3072 bit"],
  ] as const)("issues %s leaves that openssl and a TLS client accept", async (keyType, algorithm, size) => {
    const leaf = await issuer.issue({
      hostnames: ["web.svc.mcp.metacircular.net", "www.example.org"],
      keyType,
      clientAuth: false,
      lifetimeMs: 30 * DAY,
      now: new Date(),
    });
    expect((await opensslVerify(ca.rootPem, leaf.chainPem, leaf.certPem)).output).toContain(": OK");
    const f = pemFiles({ leaf: leaf.certPem });
    try {
      const text = (await openssl("x509", "-in", f.paths.leaf!, "-noout", "-text")).output;
      expect(text).toContain(algorithm);
      expect(text).toContain(size);
      expect(text).toContain("DNS:web.svc.mcp.metacircular.net, DNS:www.example.org");
      expect(text).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/);
      expect(text).toContain("CA:FALSE");
      expect(text).toContain("X509v3 Subject Key Identifier");
      expect(text).toContain("X509v3 Authority Key Identifier");
      const serial = (await openssl("x509", "-in", f.paths.leaf!, "-noout", "-serial")).output;
      expect(serial.trim().toLowerCase()).toBe(`serial=${leaf.serial}`);
    } finally {
      f.cleanup();
    }
    for (const servername of ["web.svc.mcp.metacircular.net", "www.example.org"]) {
      expect(
        await tlsHandshake({ chainPem: leaf.chainPem, keyPem: leaf.keyPem, caPem: ca.rootPem, servername }),
      ).toBe("TLSv1.3");
    }
    await expect(
      tlsHandshake({
        chainPem: leaf.chainPem,
        keyPem: leaf.keyPem,
        caPem: ca.rootPem,
        servername: "other.example.org",
      }),
    ).rejects.toThrow(/does not match certificate's altnames/);
  });

  it("adds clientAuth on request", async () => {
    const leaf = await issuer.issue({
      hostnames: ["api.svc.mcp.metacircular.net"],
      keyType: "ec-p256",
      clientAuth: true,
      lifetimeMs: DAY,
      now: new Date(),
    });
    const f = pemFiles({ leaf: leaf.certPem, root: ca.rootPem, chain: leaf.chainPem });
    try {
      const text = (await openssl("x509", "-in", f.paths.leaf!, "-noout", "-text")).output;
      expect(text).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
      const asClient = await openssl(
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        f.paths.root!,
        "-untrusted",
        f.paths.chain!,
        f.paths.leaf!,
      );
      expect(asClient.output).toContain(": OK");
    } finally {
      f.cleanup();
    }
  });

  it("signs a CRL that openssl reads and uses to reject a revoked leaf", async () => {
    const leaf = await issuer.issue({
      hostnames: ["gone.svc.mcp.metacircular.net"],
      keyType: "ec-p256",
      clientAuth: false,
      lifetimeMs: DAY,
      now: new Date(),
    });
    const kept = await issuer.issue({
      hostnames: ["kept.svc.mcp.metacircular.net"],
      keyType: "ec-p256",
      clientAuth: false,
      lifetimeMs: DAY,
      now: new Date(),
    });
    const der = await issuer.crl([{ serial: leaf.serial, revokedAt: new Date(), reasonCode: 1 }], new Date());
    const crlPem = `-----BEGIN X509 CRL-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END X509 CRL-----\n`;
    const f = pemFiles({ crl: crlPem, intermediate: ca.intermediatePem });
    try {
      const text = (
        await openssl("crl", "-in", f.paths.crl!, "-noout", "-text", "-CAfile", f.paths.intermediate!)
      ).output;
      expect(text).toContain("verify OK");
      expect(text.toLowerCase()).toContain(leaf.serial);
      expect(text).toContain("Key Compromise");
    } finally {
      f.cleanup();
    }
    const crlArgs = ["-crl_check", "-CRLfile", "@crl"];
    const revoked = await opensslVerify(ca.rootPem, leaf.chainPem, leaf.certPem, crlArgs, { crl: crlPem });
    expect(revoked.ok).toBe(false);
    expect(revoked.output).toContain("certificate revoked");
    const fine = await opensslVerify(ca.rootPem, kept.chainPem, kept.certPem, crlArgs, { crl: crlPem });
    expect(fine.output).toContain(": OK");
  });
});
