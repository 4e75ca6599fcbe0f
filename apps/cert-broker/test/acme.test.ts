// The acme issuer end to end: cert-broker orders from a real Pebble, answers dns-01 by creating the
// _acme-challenge TXT record in a real MCNS (apps/mcns, its built binary), and Pebble validates it by
// querying that MCNS. The certificate is then checked with openssl and a TLS handshake against
// Pebble's root, which GetTrustBundle hands out.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, freePort, type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { CertificateStatus } from "@mcp/proto/certbroker/v1/certificate_pb.js";
import { RecordService } from "@mcp/proto/mcns/v1/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerSetup, setupBroker } from "./helpers/broker-process.js";
import { certEvents } from "./helpers/events.js";
import { type Pebble, startPebble } from "./helpers/pebble.js";
import { opensslVerify, tlsHandshake } from "./helpers/pki.js";

const MCNS = new URL("../../mcns/", import.meta.url).pathname;
const MCNS_MAIN = `${MCNS}dist/main.js`;
// MCNS is another app: this test runs its built binary, as the platform would. turbo builds it first
// (turbo.json: @mcp/cert-broker#test depends on @mcp/mcns#build).
function ensureMcnsBuilt(): void {
  if (!existsSync(MCNS_MAIN)) {
    throw new Error(`${MCNS_MAIN} is missing: build it first (pnpm --filter @mcp/mcns build)`);
  }
}

const ZONE = "svc.mcp.metacircular.net";
let dir: string;
let nats: NatsServer;
let mcns: AppProcess;
let mcnsUrl: string;
let mcnsAdmin: string;
let pebble: Pebble;
let broker: BrokerSetup;
let app: AppProcess;

beforeAll(async () => {
  ensureMcnsBuilt();
  dir = mkdtempSync(join(tmpdir(), "cert-broker-acme-"));
  nats = await startNatsServer();
  const tokensFile = join(dir, "mcns-tokens.toml");
  const brokerToken = mintToken("cert-broker", ["agent"]);
  const admin = mintToken("admin", ["admin"]);
  appendTokenEntry(tokensFile, brokerToken.entry);
  appendTokenEntry(tokensFile, admin.entry);
  mcnsAdmin = admin.token;
  const [apiPort, dnsPort] = [await freePort(), await freePort()];
  mcnsUrl = `http://127.0.0.1:${apiPort}`;
  writeFileSync(
    join(dir, "mcns.toml"),
    `[server]\nlisten = "127.0.0.1:${apiPort}"\n[dns]\nlisten = "127.0.0.1:${dnsPort}"\n` +
      `[auth]\ntokens_file = "${tokensFile}"\n[database]\npath = "${dir}/mcns.db"\n` +
      `[events]\nservers = ["${nats.url}"]\nnode = "test-node"\n[log]\nlevel = "warn"\n` +
      `[[zones]]\nname = "${ZONE}"\nprimary_ns = "ns1.${ZONE}"\nadmin_mailbox = "hostmaster.${ZONE}"\n` +
      `writers = ["cert-broker"]\n`,
  );
  mcns = startApp(MCNS_MAIN, ["--config", join(dir, "mcns.toml")]);
  await mcns.waitReady(`${mcnsUrl}/readyz`, 30_000);

  pebble = await startPebble(`127.0.0.1:${dnsPort}`);
  writeFileSync(join(dir, "mcns-token"), brokerToken.token, { mode: 0o600 });
  writeFileSync(join(dir, "pebble-root.pem"), pebble.rootPem);
  broker = await setupBroker({
    natsUrl: nats.url,
    config: {
      issuer: 'type = "acme"',
      acme: [
        `directory_url = "${pebble.directoryUrl}"`,
        `directory_ca_file = "${pebble.tlsCaFile}"`,
        `trust_bundle_file = "${dir}/pebble-root.pem"`,
        `account_key_file = "${dir}/acme-account.key"`,
        `mcns_url = "${mcnsUrl}"`,
        `mcns_token_file = "${dir}/mcns-token"`,
        'email = "ops@example.org"',
      ].join("\n"),
    },
  });
  app = await broker.start();
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await pebble?.stop();
  await mcns?.stop();
  await nats?.stop();
  broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("acme issuer against Pebble and MCNS", () => {
  it("issues through dns-01 with the TXT record in MCNS, removes it, and the chain verifies to Pebble's root", async () => {
    const agent = broker.client(broker.tokens.agent);
    const res = await agent.issueCertificate({ service: "hello", hostnames: [`hello.${ZONE}`] });
    expect(res.certificate).toMatchObject({ hostnames: [`hello.${ZONE}`], status: CertificateStatus.VALID });
    expect(res.certificate?.issuer).toMatch(/Pebble Intermediate CA/);

    const bundle = await broker.client().getTrustBundle({});
    expect(bundle.pem.trim()).toBe(pebble.rootPem.trim());
    expect((await opensslVerify(bundle.pem, res.chainPem, res.certPem)).output).toContain(": OK");
    const { readFileSync } = await import("node:fs");
    const keyPem = readFileSync(res.certificate!.keyFile, "utf8");
    expect(
      await tlsHandshake({ chainPem: res.chainPem, keyPem, caPem: bundle.pem, servername: `hello.${ZONE}` }),
    ).toMatch(/^TLSv1/);

    // MCNS served the challenge record while Pebble validated, and it is gone now.
    const dns = await certEvents(nats.url, "mcp.dns.>");
    const challenge = dns.filter((e) => e.subject === `_acme-challenge.hello.${ZONE}`).map((e) => e.type);
    expect(challenge).toEqual(["mcp.dns.created", "mcp.dns.deleted"]);
    const records = createClient(
      RecordService,
      createConnectTransport({
        baseUrl: mcnsUrl,
        httpVersion: "1.1",
        interceptors: [bearerTokenInterceptor(mcnsAdmin)],
      }),
    );
    expect((await records.listRecords({ zone: ZONE, owner: "cert-broker" })).records).toEqual([]);
  });

  it("revokes at the ACME CA, and refuses clientAuth (the CA picks the usages)", async () => {
    const agent = broker.client(broker.tokens.agent);
    const res = await agent.issueCertificate({ service: "gone", hostnames: [`gone.${ZONE}`] });
    const revoked = await agent.revokeCertificate({ serial: res.certificate!.serial });
    expect(revoked.certificate?.status).toBe(CertificateStatus.REVOKED);
    const err = await agent
      .issueCertificate({ service: "api", hostnames: [`api.${ZONE}`], clientAuth: true })
      .then(() => undefined, ConnectError.from);
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toContain("clientAuth");
  });
});
