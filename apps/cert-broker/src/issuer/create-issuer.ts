// Builds the issuer the config names.

import { readFileSync } from "node:fs";
import type { Logger } from "@mcp/mcdsl/log";
import { type CertBrokerConfig, ms } from "../config.js";
import { AcmeIssuer } from "./acme.js";
import type { Issuer } from "./issuer.js";
import { LocalIssuer } from "./local.js";
import { loadOrCreateCa } from "./local-ca.js";
import { createMcnsSolver } from "./mcns-dns01.js";

export async function createIssuer(config: CertBrokerConfig, logger: Logger): Promise<Issuer> {
  switch (config.issuer.type) {
    case "local": {
      const ca = await loadOrCreateCa(config.local.ca_dir, {
        rootName: config.local.root_name,
        intermediateName: config.local.intermediate_name,
        rootLifetimeMs: ms(config.local.root_lifetime),
        intermediateLifetimeMs: ms(config.local.intermediate_lifetime),
      });
      logger.info({ root: ca.root.subject, intermediate: ca.intermediate.subject }, "local CA loaded");
      return new LocalIssuer(ca, { crlUrl: config.crl.url });
    }
    case "acme":
      return createAcmeIssuer(config);
  }
}

function createAcmeIssuer(config: CertBrokerConfig): AcmeIssuer {
  const a = config.acme;
  const required = (key: keyof typeof a) => {
    const value = a[key];
    if (!value) throw new Error(`[acme] ${key} is required when [issuer] type = "acme"`);
    return value;
  };
  const read = (key: keyof typeof a) => {
    const path = required(key);
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`[acme] ${key}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const trustBundle = read("trust_bundle_file")
    .split(/(?<=-----END CERTIFICATE-----)/)
    .map((pem) => pem.trim())
    .filter((pem) => pem.startsWith("-----BEGIN CERTIFICATE-----"));
  if (trustBundle.length === 0)
    throw new Error(`[acme] trust_bundle_file ${a.trust_bundle_file} holds no certificate`);
  return new AcmeIssuer({
    directoryUrl: required("directory_url"),
    email: a.email,
    accountKeyFile: a.account_key_file,
    directoryCaPem: a.directory_ca_file ? read("directory_ca_file") : undefined,
    trustBundle,
    dns01: createMcnsSolver({
      url: required("mcns_url"),
      token: read("mcns_token_file").trim(),
      zone: a.mcns_zone,
    }),
  });
}
