// The three apps a deploy calls, made from the agent's config. A peer left unconfigured is
// undefined: the saga skips its steps and says so in the deploy's progress.
import type { AgentConfig } from "../config.js";
import { CertBrokerClient } from "./cert-broker.js";
import { McnsClient } from "./mcns.js";
import { McproxyClient } from "./mcproxy.js";
import { socketTransport, tcpTransport } from "./transport.js";

export interface Peers {
  mcns?: McnsClient;
  certBroker?: CertBrokerClient;
  mcproxy?: McproxyClient;
}

export function peersFromConfig(config: AgentConfig): Peers {
  return {
    mcns: config.mcns.url
      ? new McnsClient(tcpTransport(config.mcns.url, config.mcns.token_file, "[mcns]"))
      : undefined,
    certBroker: config.cert_broker.url
      ? new CertBrokerClient(
          tcpTransport(config.cert_broker.url, config.cert_broker.token_file, "[cert_broker]"),
        )
      : undefined,
    mcproxy: config.mcproxy.socket ? new McproxyClient(socketTransport(config.mcproxy.socket)) : undefined,
  };
}
