// The `acme` issuer: RFC 8555 through acme-client against any ACME directory (Metacrypt's, step-ca, a
// public CA), answering dns-01 challenges with TXT records in MCNS. The CA chooses the validity and
// the extended key usages, so clientAuth cannot be promised and is refused.
import { existsSync, readFileSync } from "node:fs";
import { Agent } from "node:https";
import * as acme from "acme-client";
import { BrokerError } from "../broker/errors.js";
import { writeFileAtomic } from "../store/atomic-file.js";
import { fingerprint, generateKeyPair, privateKeyPem, x509 } from "./crypto.js";
import type { IssuedCertificate, IssueRequest, Issuer } from "./issuer.js";
import { IssuerUnavailableError } from "./issuer.js";
import type { Dns01Solver } from "./mcns-dns01.js";

export interface AcmeIssuerOptions {
  directoryUrl: string;
  email?: string;
  /** Created (P-256, 0600) when missing. */
  accountKeyFile: string;
  /** PEM bundle the directory's HTTPS certificate must chain to (a private CA); system roots otherwise. */
  directoryCaPem?: string;
  /** The roots clients should trust for the certificates this CA issues. */
  trustBundle: string[];
  dns01: Dns01Solver;
}

export class AcmeIssuer implements Issuer {
  readonly kind = "acme";
  #client: acme.Client | undefined;

  constructor(private readonly options: AcmeIssuerOptions) {
    if (options.directoryCaPem) {
      // acme-client talks through its own axios instance: trust the private CA there only.
      acme.axios.defaults.httpsAgent = new Agent({ ca: options.directoryCaPem });
    }
  }

  async issue(request: IssueRequest): Promise<IssuedCertificate> {
    if (request.clientAuth) {
      throw new BrokerError(
        "failed-precondition",
        "the acme issuer cannot add clientAuth: the ACME CA chooses the key usages (use the local issuer)",
      );
    }
    const keys = await generateKeyPair(request.keyType);
    const keyPem = privateKeyPem(keys.privateKey);
    const [, csr] = await acme.crypto.createCsr(
      { commonName: request.hostnames[0], altNames: request.hostnames },
      keyPem,
    );
    const client = await this.#account();
    const handles = new Map<string, string>();
    let chainPem: string;
    try {
      chainPem = await client.auto({
        csr,
        email: this.options.email,
        termsOfServiceAgreed: true,
        challengePriority: ["dns-01"],
        // The CA resolves the record through MCNS; this node's resolver may not see MCNS's zones.
        skipChallengeVerification: true,
        challengeCreateFn: async (authz, challenge, value) => {
          if (challenge.type !== "dns-01") throw new Error(`challenge ${challenge.type} is not supported`);
          handles.set(
            `${authz.identifier.value}:${value}`,
            await this.options.dns01.present(authz.identifier.value, value),
          );
        },
        challengeRemoveFn: async (authz, _challenge, value) => {
          await this.options.dns01.remove(handles.get(`${authz.identifier.value}:${value}`) ?? "");
        },
      });
    } catch (err) {
      if (err instanceof IssuerUnavailableError) throw err;
      throw new IssuerUnavailableError(
        `ACME order at ${this.options.directoryUrl} failed: ${messageOf(err)}`,
      );
    }
    const pems = acme.crypto.splitPemChain(chainPem);
    const leaf = new x509.X509Certificate(pems[0] ?? "");
    const certPem = `${leaf.toString("pem")}\n`;
    return {
      serial: leaf.serialNumber.toLowerCase().replace(/^(00)+/, ""),
      certPem,
      chainPem: pems.map((p) => `${p.trim()}\n`).join(""),
      keyPem,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      issuer: leaf.issuer,
      fingerprint: fingerprint(leaf),
    };
  }

  async trustBundle(): Promise<string[]> {
    return this.options.trustBundle;
  }

  async revoke(certPem: string, reasonCode: number): Promise<void> {
    const client = await this.#account();
    try {
      await client.revokeCertificate(certPem, { reason: reasonCode });
    } catch (err) {
      throw new IssuerUnavailableError(`ACME revocation failed: ${messageOf(err)}`);
    }
  }

  async #account(): Promise<acme.Client> {
    if (this.#client) return this.#client;
    const file = this.options.accountKeyFile;
    if (!existsSync(file))
      writeFileAtomic(file, privateKeyPem((await generateKeyPair("ec-p256")).privateKey), 0o600);
    const client = new acme.Client({
      directoryUrl: this.options.directoryUrl,
      accountKey: readFileSync(file),
    });
    try {
      await client.createAccount({
        termsOfServiceAgreed: true,
        contact: this.options.email ? [`mailto:${this.options.email}`] : undefined,
      });
    } catch (err) {
      throw new IssuerUnavailableError(
        `ACME directory ${this.options.directoryUrl} unreachable: ${messageOf(err)}`,
      );
    }
    this.#client = client;
    return client;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
