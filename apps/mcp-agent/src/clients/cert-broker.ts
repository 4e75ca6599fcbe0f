// cert-broker's CertService as the agent uses it: one certificate per service covering every
// hostname its routes serve (cert-broker keeps one current certificate per hostname per service,
// so per-route certificates sharing the default name would supersede each other), and the root
// CA for TLS_CA_FILE. The published files are per hostname under cert-broker's cert_dir.
import { dirname, join } from "node:path";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { CertService } from "@mcp/proto/certbroker/v1/service_pb.js";
import { callPeer } from "./peer-error.js";

export interface IssuedCertificate {
  serial: string;
  notAfter: Date;
  hostnames: string[];
  /** True when cert-broker returned the current certificate instead of issuing one. */
  reused: boolean;
  /** The files of each hostname: leaf, key (0600), leaf + intermediates. */
  files: Record<string, CertificateFiles>;
}

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  chainFile: string;
}

export class CertBrokerClient {
  readonly #client: Client<typeof CertService>;

  constructor(transport: Transport) {
    this.#client = createClient(CertService, transport);
  }

  /** `routeHostnames`: the public names the service's routes declare (the policy's proof). */
  async issue(service: string, hostnames: string[], routeHostnames: string[]): Promise<IssuedCertificate> {
    const res = await callPeer("cert-broker", `certificate for ${hostnames.join(", ")}`, () =>
      this.#client.issueCertificate({ service, hostnames, routeHostnames }),
    );
    const cert = res.certificate;
    if (!cert) throw new Error("cert-broker answered without a certificate");
    const dir = dirname(cert.certFile);
    const files = Object.fromEntries(
      cert.hostnames.map((h) => [
        h,
        {
          certFile: join(dir, `${h}.pem`),
          keyFile: join(dir, `${h}.key`),
          chainFile: join(dir, `${h}.chain.pem`),
        },
      ]),
    );
    return {
      serial: cert.serial,
      notAfter: cert.notAfter ? timestampDate(cert.notAfter) : new Date(0),
      hostnames: cert.hostnames,
      reused: res.reused,
      files,
    };
  }

  /** The PEM roots certificates chain to. */
  async trustBundle(): Promise<string> {
    const res = await callPeer("cert-broker", "trust bundle", () => this.#client.getTrustBundle({}));
    return res.pem;
  }
}
