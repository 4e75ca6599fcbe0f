// Builds the issuer the config names.
import type { Logger } from "@mcp/mcdsl/log";
import { type CertBrokerConfig, ms } from "../config.js";
import type { Issuer } from "./issuer.js";
import { LocalIssuer } from "./local.js";
import { loadOrCreateCa } from "./local-ca.js";

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
      throw new Error("the acme issuer is not built yet");
  }
}
